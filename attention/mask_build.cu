// Mask-building kernels on the GPU, the twins of mask_build.c (same definitions, same tie rules):
// tile pooling, block scores (+ row softmax), per-row top-k, head-global cumulative threshold,
// dense tile mask -> block-CSR, token gather/scatter. Masks that change per layer and step must
// be built here: a CPU-built mask costs milliseconds per call (ARCHITECTURE.md).
// Checked against mask_build.c on whole-number inputs by tests/gpu/test_attn_mask_cuda.c.
// The pooling kernel and the warp top-k live in mask_build.cuh, shared with the fused top-k mask
// of mask_build_fused.cu (mask_build.h), which is what a per-step dynamic mask should call.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "attention/attention.h"
#include "attention/mask_build.cuh"
#include "lib/cuda_check.h"

// ---- device helpers ---------------------------------------------------------------------------

__device__ __forceinline__ float warp_sum(float x) {
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}
__device__ __forceinline__ float warp_max(float x) {
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}
// Block-wide reduction for blockDim.x = 256 (8 warps). red: 8 floats of shared memory.
__device__ float block_reduce(float x, float *red, bool is_max) {
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    x = is_max ? warp_max(x) : warp_sum(x);
    __syncthreads();
    if (lane == 0) red[w] = x;
    __syncthreads();
    float r = red[0];
    for (int i = 1; i < 8; i++) r = is_max ? fmaxf(r, red[i]) : r + red[i];
    return r;
}
// Double sum over a 256-thread block; red: 8 doubles of shared memory.
__device__ double block_sum_d(double x, double *red) {
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    __syncthreads();
    if (lane == 0) red[w] = x;
    __syncthreads();
    double r = 0;
    for (int i = 0; i < 8; i++) r += red[i];
    return r;
}
// ---- kernels ----------------------------------------------------------------------------------

// Block scores as a batched fp32 GEMM: grid (ceil(Tk/64), ceil(Tq/64), B*NH), block 256; each
// thread computes a 4 x 4 patch of the 64 x 64 output tile, D consumed in chunks of 32 through
// shared memory (the 14B 720p case is 40 x 591 x 591 x 128 = 1.8 GFMA: a per-row dot-product
// kernel reading global memory takes milliseconds, this tiling well under one).
__global__ void block_scores_kernel(float *s, const float *qbar, const float *kbar, int NH, int NKV, int Tq, int Tk,
                                    int D, float scale) {
    __shared__ float A[64][33], Bm[64][33];   // +1 column: no bank conflicts on the column reads
    const int bh = blockIdx.z, b = bh / NH, h = bh % NH, g = NH / NKV;
    const int i0 = blockIdx.y * 64, j0 = blockIdx.x * 64;
    const float *qa = qbar + ((int64_t)b * NH + h) * Tq * D;         // [Tq, D]
    const float *kb = kbar + ((int64_t)b * NKV + h / g) * Tk * D;    // [Tk, D]
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;           // output rows ty*4.., cols tx*4..
    float acc[4][4] = {};
    for (int d0 = 0; d0 < D; d0 += 32) {
        for (int e = threadIdx.x; e < 64 * 32; e += 256) {
            const int r = e / 32, c = e % 32;
            A[r][c] = (i0 + r < Tq && d0 + c < D) ? qa[(int64_t)(i0 + r) * D + d0 + c] : 0.f;
            Bm[r][c] = (j0 + r < Tk && d0 + c < D) ? kb[(int64_t)(j0 + r) * D + d0 + c] : 0.f;
        }
        __syncthreads();
#pragma unroll 8
        for (int c = 0; c < 32; c++) {
            float av[4], bv[4];
#pragma unroll
            for (int u = 0; u < 4; u++) { av[u] = A[ty * 4 + u][c]; bv[u] = Bm[tx * 4 + u][c]; }
#pragma unroll
            for (int u = 0; u < 4; u++)
#pragma unroll
                for (int w = 0; w < 4; w++) acc[u][w] = fmaf(av[u], bv[w], acc[u][w]);
        }
        __syncthreads();
    }
    float *out = s + ((int64_t)b * NH + h) * Tq * Tk;
#pragma unroll
    for (int u = 0; u < 4; u++)
#pragma unroll
        for (int w = 0; w < 4; w++) {
            const int i = i0 + ty * 4 + u, j = j0 + tx * 4 + w;
            if (i < Tq && j < Tk) out[(int64_t)i * Tk + j] = acc[u][w] * scale;
        }
}

// Row softmax in place over rows of length C: one block of 256 per row.
__global__ void softmax_rows_kernel(float *s, int C) {
    __shared__ float red[8];
    float *row = s + (int64_t)blockIdx.x * C;
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < C; j += blockDim.x) mx = fmaxf(mx, row[j]);
    mx = block_reduce(mx, red, true);
    float l = 0.f;
    for (int j = threadIdx.x; j < C; j += blockDim.x) l += expf(row[j] - mx);
    l = block_reduce(l, red, false);
    for (int j = threadIdx.x; j < C; j += blockDim.x) row[j] = expf(row[j] - mx) / l;
}

// Per-row top-k: 8 rows per block of 256 threads, one warp per row; the row's keys are staged
// in shared memory (C <= 4096: 16 KB per row) and selected by vd_warp_topk_rows.
enum { TOPK_ROWS_PER_BLOCK = 8 };
__global__ void __launch_bounds__(256) topk_rows_kernel(uint8_t *mask, const float *scores, int64_t R, int C, int k) {
    extern __shared__ uint32_t keys_smem[];   // [TOPK_ROWS_PER_BLOCK][C]
    const int w = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int64_t r = (int64_t)blockIdx.x * TOPK_ROWS_PER_BLOCK + w;
    if (r >= R) return;   // whole warps leave; no block-wide barrier below
    uint32_t *keys = keys_smem + (size_t)w * C;
    const float *row = scores + r * C;
    for (int j = lane; j < C; j += 32) keys[j] = vd_mask_key(row[j]);
    __syncwarp();
    if (k == 0) {
        for (int j = lane; j < C; j += 32) mask[r * C + j] = 0;
        return;
    }
    int32_t *const no_idx[1] = {NULL};
    uint8_t *const m[1] = {mask + r * C};
    vd_warp_topk_rows<1>(keys, C, C, k, 1, no_idx, m);
}

// Per-group radix-select state for the cumulative threshold.
struct cum_state {
    double hist[256];
    unsigned int cnt[256];
    double total, target, above;
    uint32_t prefix, prefix_mask;
};

// grid (blocks, G), block 256: total mass per group.
__global__ void cum_total_kernel(cum_state *st, const float *x, int64_t n) {
    __shared__ double red[8];
    const int g = blockIdx.y;
    const float *xg = x + (int64_t)g * n;
    double s = 0;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) s += xg[i];
    s = block_sum_d(s, red);
    if (threadIdx.x == 0) atomicAdd(&st[g].total, s);
}

__global__ void cum_init_kernel(cum_state *st, int G, float tau) {
    const int g = blockIdx.x * blockDim.x + threadIdx.x;
    if (g >= G) return;
    st[g].target = (double)tau * st[g].total;
    st[g].above = 0;
    st[g].prefix = st[g].prefix_mask = 0;
    for (int d = 0; d < 256; d++) { st[g].hist[d] = 0; st[g].cnt[d] = 0; }
}

// Histogram (mass and count) of digit `shift` over elements matching the prefix.
__global__ void cum_hist_kernel(cum_state *st, const float *x, int64_t n, int shift) {
    __shared__ double hm[256];
    __shared__ unsigned int hc[256];
    const int g = blockIdx.y;
    for (int d = threadIdx.x; d < 256; d += blockDim.x) { hm[d] = 0; hc[d] = 0; }
    __syncthreads();
    const uint32_t pre = st[g].prefix, pm = st[g].prefix_mask;
    const float *xg = x + (int64_t)g * n;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        uint32_t key = __float_as_uint(xg[i]);   // x >= 0: raw bits are ordered
        if ((key & pm) != pre) continue;
        int d = (key >> shift) & 255;
        atomicAdd(&hm[d], (double)xg[i]);
        atomicAdd(&hc[d], 1u);
    }
    __syncthreads();
    for (int d = threadIdx.x; d < 256; d += blockDim.x)
        if (hc[d]) {
            atomicAdd(&st[g].hist[d], hm[d]);
            atomicAdd(&st[g].cnt[d], hc[d]);
        }
}

// One thread per group: the highest non-empty digit whose suffix mass reaches the target
// (else the lowest non-empty digit: keep everything).
__global__ void cum_select_kernel(cum_state *st, int G, int shift) {
    const int g = blockIdx.x * blockDim.x + threadIdx.x;
    if (g >= G) return;
    cum_state *s = &st[g];
    double acc = s->above;
    int chosen = -1, lowest = -1;
    double acc_chosen = 0;
    for (int d = 255; d >= 0; d--) {
        if (!s->cnt[d]) continue;
        lowest = d;
        if (acc + s->hist[d] >= s->target) { chosen = d; acc_chosen = acc; break; }
        acc += s->hist[d];
    }
    if (chosen < 0) {   // target not reached: descend into the lowest digit
        chosen = lowest < 0 ? 0 : lowest;
        acc_chosen = acc - (lowest < 0 ? 0 : s->hist[chosen]);
    }
    s->above = acc_chosen;
    s->prefix |= (uint32_t)chosen << shift;
    s->prefix_mask |= 255u << shift;
    for (int d = 0; d < 256; d++) { s->hist[d] = 0; s->cnt[d] = 0; }
}

__global__ void cum_mark_kernel(uint8_t *mask, const cum_state *st, const float *x, int64_t n) {
    const int g = blockIdx.y;
    const uint32_t t = st[g].prefix;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        mask[(int64_t)g * n + i] = __float_as_uint(x[(int64_t)g * n + i]) >= t;
}

// Head-global top-k: radix select of the k-th largest orderable key per group, by counts.
struct topk_state {
    unsigned long long cnt[256];
    unsigned long long above, k;
    uint32_t prefix, prefix_mask;
};

__global__ void tk_hist_kernel(topk_state *st, const float *x, int64_t n, int shift) {
    __shared__ unsigned int hc[256];
    const int g = blockIdx.y;
    for (int d = threadIdx.x; d < 256; d += blockDim.x) hc[d] = 0;
    __syncthreads();
    const uint32_t pre = st[g].prefix, pm = st[g].prefix_mask;
    const float *xg = x + (int64_t)g * n;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const uint32_t key = vd_mask_key(xg[i]);
        if ((key & pm) == pre) atomicAdd(&hc[(key >> shift) & 255], 1u);
    }
    __syncthreads();
    for (int d = threadIdx.x; d < 256; d += blockDim.x)
        if (hc[d]) atomicAdd(&st[g].cnt[d], (unsigned long long)hc[d]);
}

// One thread per group: the highest digit whose suffix count reaches k (k <= n, so one exists).
__global__ void tk_select_kernel(topk_state *st, int G, int shift) {
    const int g = blockIdx.x * blockDim.x + threadIdx.x;
    if (g >= G) return;
    topk_state *s = &st[g];
    unsigned long long acc = s->above;
    int chosen = 0;
    for (int d = 255; d >= 0; d--) {
        if (acc + s->cnt[d] >= s->k) { chosen = d; break; }
        acc += s->cnt[d];
    }
    s->above = acc;
    s->prefix |= (uint32_t)chosen << shift;
    s->prefix_mask |= 255u << shift;
    for (int d = 0; d < 256; d++) s->cnt[d] = 0;
}

__global__ void tk_mark_kernel(uint8_t *mask, const topk_state *st, const float *x, int64_t n) {
    const int g = blockIdx.y;
    const uint32_t t = st[g].prefix;
    const bool none = st[g].k == 0;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        mask[(int64_t)g * n + i] = !none && vd_mask_key(x[(int64_t)g * n + i]) >= t;
}

__global__ void tk_init_kernel(topk_state *st, int G, unsigned long long k) {
    const int g = blockIdx.x * blockDim.x + threadIdx.x;
    if (g >= G) return;
    for (int d = 0; d < 256; d++) st[g].cnt[d] = 0;
    st[g].above = 0;
    st[g].k = k;
    st[g].prefix = st[g].prefix_mask = 0;
}

// One warp per row: count of set entries.
__global__ void csr_count_kernel(int32_t *cnt, const uint8_t *mask, int64_t rows, int C) {
    const int64_t r = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (r >= rows) return;
    int c = 0;
    for (int j = lane; j < C; j += 32) c += mask[r * C + j] != 0;
    for (int o = 16; o > 0; o >>= 1) c += __shfl_xor_sync(0xffffffffu, c, o);
    if (lane == 0) cnt[r] = c;
}

// Single block of 1024 threads: exclusive scan of cnt into indptr (indptr[rows] = nnz).
__global__ void csr_scan_kernel(int32_t *indptr, const int32_t *cnt, int64_t rows) {
    __shared__ int32_t part[1024];
    const int t = threadIdx.x;
    const int64_t per = (rows + 1023) / 1024, a = t * per, b = min(rows, a + per);
    int32_t s = 0;
    for (int64_t r = a; r < b; r++) s += cnt[r];
    part[t] = s;
    __syncthreads();
    for (int off = 1; off < 1024; off <<= 1) {   // Hillis-Steele inclusive scan
        int32_t v = t >= off ? part[t - off] : 0;
        __syncthreads();
        part[t] += v;
        __syncthreads();
    }
    int32_t run = t ? part[t - 1] : 0;
    for (int64_t r = a; r < b; r++) {
        indptr[r] = run;
        run += cnt[r];
    }
    if (t == 1023) indptr[rows] = part[1023];
}

// One warp per row: ascending column ids by ballot compaction.
__global__ void csr_fill_kernel(int32_t *indices, const int32_t *indptr, const uint8_t *mask, int64_t rows, int C) {
    const int64_t r = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (r >= rows) return;
    int32_t at = indptr[r];
    for (int j0 = 0; j0 < C; j0 += 32) {
        const int j = j0 + lane;
        const bool on = j < C && mask[r * C + j];
        const unsigned bal = __ballot_sync(0xffffffffu, on);
        if (on) indices[at + __popc(bal & ((1u << lane) - 1u))] = j;
        at += __popc(bal);
    }
}

// out row i <- x row idx[i] (gather) or out row idx[i] <- x row i (scatter); uint16 elements.
__global__ void permute_tokens_kernel(uint16_t *out, const uint16_t *x, const int32_t *idx, int64_t N, int64_t row,
                                      int64_t total_rows, int scatter) {
    for (int64_t r = blockIdx.x; r < total_rows; r += gridDim.x) {
        const int64_t b = r / N, i = r % N;
        const int64_t src = scatter ? i : idx[i], dst = scatter ? idx[i] : i;
        const uint16_t *xs = x + (b * N + src) * row;
        uint16_t *od = out + (b * N + dst) * row;
        if ((row & 7) == 0 && (((uintptr_t)xs | (uintptr_t)od) & 15) == 0) {
            for (int64_t e = threadIdx.x; e < row / 8; e += blockDim.x)
                reinterpret_cast<uint4 *>(od)[e] = reinterpret_cast<const uint4 *>(xs)[e];
        } else {
            for (int64_t e = threadIdx.x; e < row; e += blockDim.x) od[e] = xs[e];
        }
    }
}

// ---- launchers / entry points ----------------------------------------------------------------

static int grid_for(int64_t n, int per_block, int cap) {
    int64_t g = (n + per_block - 1) / per_block;
    return (int)(g < 1 ? 1 : (g > cap ? cap : g));
}

extern "C" vd_status vd_attn_pool_tiles_cuda(float *out, const uint16_t *x_bf16, int64_t sb, int64_t sn, int64_t sh,
                                             int B, int N, int H, int D, int tile, void *stream, vd_error *err) {
    if (B <= 0 || N <= 0 || H <= 0 || D <= 0 || tile <= 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_attn_pool_tiles_cuda: B=%d N=%d H=%d D=%d tile=%d (all must be > 0)",
                            B, N, H, D, tile);
    cudaStream_t st = static_cast<cudaStream_t>(stream);
    const int T = (N + tile - 1) / tile;
    const vd_pool_src src = {reinterpret_cast<const __nv_bfloat16 *>(x_bf16), out, sb, sn, sh, H, N, tile, T};
    const int64_t items = (int64_t)B * H * T;
    if (items > 2147483647LL)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_attn_pool_tiles_cuda: B*H*T = %lld tiles (max 2^31 - 1)", (long long)items);
    if (vd_pool_vec_ok(x_bf16, sb, sn, sh, D))
        vd_pool_tiles_kernel<true><<<(unsigned)items, VD_POOL_THREADS, 0, st>>>(src, src, items, D);
    else
        vd_pool_tiles_kernel<false><<<(unsigned)items, VD_POOL_THREADS, 0, st>>>(src, src, items, D);
    VD_CUDA_LAUNCH_CHECK(err, st, "vd_pool_tiles_kernel");
    return VD_OK;
}

extern "C" vd_status vd_attn_block_scores_cuda(float *s, const float *qbar, const float *kbar, int B, int NH, int NKV,
                                               int Tq, int Tk, int D, float scale, bool softmax_rows, void *stream,
                                               vd_error *err) {
    if (B <= 0 || NH <= 0 || NKV <= 0 || NH % NKV || Tq <= 0 || Tk <= 0 || D <= 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_attn_block_scores_cuda: B=%d NH=%d NKV=%d Tq=%d Tk=%d D=%d", B, NH,
                            NKV, Tq, Tk, D);
    if ((int64_t)B * NH > 65535 || (Tq + 63) / 64 > 65535)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_attn_block_scores_cuda: B*NH=%d and Tq/64 must be <= 65535", B * NH);
    cudaStream_t st = static_cast<cudaStream_t>(stream);
    dim3 grid((unsigned)((Tk + 63) / 64), (unsigned)((Tq + 63) / 64), (unsigned)(B * NH));
    block_scores_kernel<<<grid, 256, 0, st>>>(s, qbar, kbar, NH, NKV, Tq, Tk, D, scale);
    VD_CUDA_LAUNCH_CHECK(err, st, "block_scores_kernel");
    if (softmax_rows) {
        softmax_rows_kernel<<<(unsigned)((int64_t)B * NH * Tq), 256, 0, st>>>(s, Tk);
        VD_CUDA_LAUNCH_CHECK(err, st, "softmax_rows_kernel");
    }
    return VD_OK;
}

extern "C" vd_status vd_attn_topk_rows_cuda(uint8_t *mask, const float *scores, int64_t R, int C, int k, void *stream,
                                            vd_error *err) {
    if (C <= 0 || C > 4096 || R <= 0 || R > 2147483647LL)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_attn_topk_rows_cuda: C=%d (supported 1..4096), R=%lld", C,
                            (long long)R);
    if (k < 0) k = 0;
    if (k > C) k = C;
    cudaStream_t st = static_cast<cudaStream_t>(stream);
    const size_t smem = sizeof(uint32_t) * TOPK_ROWS_PER_BLOCK * (size_t)C;   // <= 128 KB
    if (smem > 48 * 1024)
        VD_CUDA_TRY(err, cudaFuncSetAttribute(topk_rows_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    const int64_t blocks = (R + TOPK_ROWS_PER_BLOCK - 1) / TOPK_ROWS_PER_BLOCK;
    topk_rows_kernel<<<(unsigned)blocks, 256, smem, st>>>(mask, scores, R, C, k);
    VD_CUDA_LAUNCH_CHECK(err, st, "topk_rows_kernel");
    return VD_OK;
}

extern "C" size_t vd_attn_cumthresh_cuda_ws_bytes(int G) { return sizeof(cum_state) * (size_t)(G > 0 ? G : 1); }

extern "C" vd_status vd_attn_cumthresh_cuda(uint8_t *mask, const float *scores, int G, int64_t R, int64_t C, float tau,
                                            void *ws, void *stream, vd_error *err) {
    if (G <= 0 || G > 65535 || R <= 0 || C <= 0 || !(tau >= 0.f && tau <= 1.f) || !ws)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_attn_cumthresh_cuda: G=%d R=%lld C=%lld tau=%g ws=%p (need tau in [0,1], ws)",
                            G, (long long)R, (long long)C, (double)tau, ws);
    cudaStream_t st = static_cast<cudaStream_t>(stream);
    cum_state *s = static_cast<cum_state *>(ws);
    const int64_t n = R * C;
    dim3 grid((unsigned)grid_for(n, 256 * 8, 1024), (unsigned)G);
    VD_CUDA_TRY(err, cudaMemsetAsync(s, 0, sizeof(cum_state) * (size_t)G, st));
    cum_total_kernel<<<grid, 256, 0, st>>>(s, scores, n);
    VD_CUDA_LAUNCH_CHECK(err, st, "cum_total_kernel");
    cum_init_kernel<<<(G + 127) / 128, 128, 0, st>>>(s, G, tau);
    VD_CUDA_LAUNCH_CHECK(err, st, "cum_init_kernel");
    for (int shift = 24; shift >= 0; shift -= 8) {
        cum_hist_kernel<<<grid, 256, 0, st>>>(s, scores, n, shift);
        VD_CUDA_LAUNCH_CHECK(err, st, "cum_hist_kernel");
        cum_select_kernel<<<(G + 127) / 128, 128, 0, st>>>(s, G, shift);
        VD_CUDA_LAUNCH_CHECK(err, st, "cum_select_kernel");
    }
    cum_mark_kernel<<<grid, 256, 0, st>>>(mask, s, scores, n);
    VD_CUDA_LAUNCH_CHECK(err, st, "cum_mark_kernel");
    return VD_OK;
}

extern "C" size_t vd_attn_topk_global_cuda_ws_bytes(int G) { return sizeof(topk_state) * (size_t)(G > 0 ? G : 1); }

extern "C" vd_status vd_attn_topk_global_cuda(uint8_t *mask, const float *scores, int G, int64_t n, int64_t k, void *ws,
                                              void *stream, vd_error *err) {
    if (G <= 0 || G > 65535 || n <= 0 || !ws)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_attn_topk_global_cuda: G=%d n=%lld ws=%p (need G in [1, 65535], n > 0, ws)",
                            G, (long long)n, ws);
    if (k < 0) k = 0;
    if (k > n) k = n;
    cudaStream_t st = static_cast<cudaStream_t>(stream);
    topk_state *s = static_cast<topk_state *>(ws);
    dim3 grid((unsigned)grid_for(n, 256 * 8, 1024), (unsigned)G);
    tk_init_kernel<<<(G + 127) / 128, 128, 0, st>>>(s, G, (unsigned long long)k);
    VD_CUDA_LAUNCH_CHECK(err, st, "tk_init_kernel");
    if (k > 0)
        for (int shift = 24; shift >= 0; shift -= 8) {
            tk_hist_kernel<<<grid, 256, 0, st>>>(s, scores, n, shift);
            VD_CUDA_LAUNCH_CHECK(err, st, "tk_hist_kernel");
            tk_select_kernel<<<(G + 127) / 128, 128, 0, st>>>(s, G, shift);
            VD_CUDA_LAUNCH_CHECK(err, st, "tk_select_kernel");
        }
    tk_mark_kernel<<<grid, 256, 0, st>>>(mask, s, scores, n);
    VD_CUDA_LAUNCH_CHECK(err, st, "tk_mark_kernel");
    return VD_OK;
}

extern "C" size_t vd_attn_mask_to_csr_cuda_ws_bytes(int64_t rows) { return sizeof(int32_t) * (size_t)(rows > 0 ? rows : 1); }

extern "C" vd_status vd_attn_mask_to_csr_cuda(int32_t *indptr, int32_t *indices, const uint8_t *mask, int64_t rows, int C,
                                              void *ws, void *stream, vd_error *err) {
    if (rows <= 0 || C <= 0 || rows * (int64_t)C > 2147483647 || !ws)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_attn_mask_to_csr_cuda: rows=%lld C=%d (rows*C < 2^31, ws needed)",
                            (long long)rows, C);
    cudaStream_t st = static_cast<cudaStream_t>(stream);
    int32_t *cnt = static_cast<int32_t *>(ws);
    const int blocks = (int)((rows * 32 + 255) / 256);
    csr_count_kernel<<<blocks, 256, 0, st>>>(cnt, mask, rows, C);
    VD_CUDA_LAUNCH_CHECK(err, st, "csr_count_kernel");
    csr_scan_kernel<<<1, 1024, 0, st>>>(indptr, cnt, rows);
    VD_CUDA_LAUNCH_CHECK(err, st, "csr_scan_kernel");
    csr_fill_kernel<<<blocks, 256, 0, st>>>(indices, indptr, mask, rows, C);
    VD_CUDA_LAUNCH_CHECK(err, st, "csr_fill_kernel");
    return VD_OK;
}

static vd_status permute(uint16_t *out, const uint16_t *x, const int32_t *idx, int B, int64_t N, int64_t row,
                         void *stream, int scatter, vd_error *err) {
    if (B <= 0 || N <= 0 || row <= 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_attn_%s_tokens_cuda: B=%d N=%lld row=%lld", scatter ? "scatter" : "gather",
                            B, (long long)N, (long long)row);
    cudaStream_t st = static_cast<cudaStream_t>(stream);
    permute_tokens_kernel<<<grid_for(B * N, 1, 65535), 128, 0, st>>>(out, x, idx, N, row, B * N, scatter);
    VD_CUDA_LAUNCH_CHECK(err, st, "permute_tokens_kernel");
    return VD_OK;
}

extern "C" vd_status vd_attn_gather_tokens_cuda(uint16_t *out, const uint16_t *x, const int32_t *idx, int B, int64_t N,
                                                int64_t row, void *stream, vd_error *err) {
    return permute(out, x, idx, B, N, row, stream, 0, err);
}

extern "C" vd_status vd_attn_scatter_tokens_cuda(uint16_t *out, const uint16_t *x, const int32_t *idx, int B, int64_t N,
                                                 int64_t row, void *stream, vd_error *err) {
    return permute(out, x, idx, B, N, row, stream, 1, err);
}
