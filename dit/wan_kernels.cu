// Fused elementwise/norm kernels of the Wan DiT forward (wan_kernels.h). They replace op chains
// that would each make a full pass over [N, C] activations:
//   LN + (table + time) modulation + bf16 cast          (was: layernorm, add, modulate, convert)
//   RMSNorm across heads + 3D RoPE + bf16 cast           (was: rmsnorm, rope, convert)
//   gated residual with (table + time) gate              (was: add, gated_add)
// Rows are reduced by one block each (C <= 8192 in every Wan config: 1536 / 5120).
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <string.h>

#include "dit/wan_kernels.h"
#include "lib/cuda_check.h"

#define ROW_THREADS 256

#define LAUNCH_CHECK(err, name)                                                                              \
    do {                                                                                                     \
        cudaError_t ce_ = cudaGetLastError();                                                                \
        if (ce_ != cudaSuccess)                                                                              \
            return vd_error_set(err, VD_ERR_CUDA, "%s: launch of %s failed: %s", __func__, name, cudaGetErrorString(ce_)); \
    } while (0)

// ---- device helpers ------------------------------------------------------------------------

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Sum over the block; every thread gets the result. sh: 32 floats of shared memory.
__device__ float block_sum(float v, float *sh) {
    const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) sh[wid] = v;
    __syncthreads();
    float t = lane < nw ? sh[lane] : 0.0f;
    return warp_sum(t);
}

// The per-pair arithmetic of RMSNorm + RoPE, shared by rms_rope_kernel and rms_rope_pool_kernel
// so that both produce the same bits: a pair's share of the row's sum of squares, the row's
// inverse RMS, and the rotation of a (normalized, weighted) pair by (cs, sn).
__device__ __forceinline__ float pair_sumsq(float2 v) { return v.x * v.x + v.y * v.y; }
__device__ __forceinline__ float rms_inv(float sumsq, int C, float eps) { return rsqrtf(sumsq / C + eps); }
__device__ __forceinline__ float2 rope_rotate(float a, float bb, float cs, float sn) {
    return make_float2(a * cs - bb * sn, a * sn + bb * cs);
}
// RoPE axis (0 t, 1 h, 2 w) of pair j inside a head.
#define ROPE_AXIS(j, r) ((j) < (r).pairs_t ? 0 : ((j) < (r).pairs_t + (r).pairs_h ? 1 : 2))

__device__ __forceinline__ float gelu_tanh_f(float x) {
    const float k = 0.7978845608028654f; // sqrt(2 / pi)
    return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

// ---- kernels -------------------------------------------------------------------------------

__global__ void ln_mod_kernel(__nv_bfloat16 *out, const float *x, int C, float eps, const float *w, const float *b,
                              const float *sh_a, const float *sh_b, const float *sc_a, const float *sc_b) {
    __shared__ float sh[32];
    const int64_t row = blockIdx.x;
    const float *xr = x + row * C;
    float s = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) s += xr[c];
    const float mean = block_sum(s, sh) / C;
    float v = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float d = xr[c] - mean;
        v += d * d;
    }
    const float rstd = rsqrtf(block_sum(v, sh) / C + eps);
    __nv_bfloat16 *o = out + row * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float y = (xr[c] - mean) * rstd;
        if (w) y = y * w[c] + b[c];
        if (sc_a) {
            float scale = sc_a[c] + (sc_b ? sc_b[c] : 0.0f);
            float shift = sh_a[c] + (sh_b ? sh_b[c] : 0.0f);
            y = y * (1.0f + scale) + shift;
        }
        o[c] = __float2bfloat16_rn(y);
    }
}

__device__ __forceinline__ float2 load2(const float *x, int64_t p) { return reinterpret_cast<const float2 *>(x)[p]; }
__device__ __forceinline__ float2 load2(const __nv_bfloat16 *x, int64_t p) {
    return __bfloat1622float2(reinterpret_cast<const __nv_bfloat162 *>(x)[p]);
}

template <typename T>
__global__ void rms_rope_kernel(__nv_bfloat16 *out, const T *x, int C, float eps, const float *w, vd_wan_rope_desc r,
                                int rope) {
    __shared__ float sh[32];
    const int64_t row = blockIdx.x;
    const T *xr = x + row * C;
    const int P = C / 2; // pairs in the row
    float s = 0.0f;
    for (int p = threadIdx.x; p < P; p += blockDim.x) s += pair_sumsq(load2(xr, p));
    const float rn = rms_inv(block_sum(s, sh), C, eps);
    int pos[3] = {0, 0, 0};
    if (rope) {
        const int64_t plane = (int64_t)r.Hp * r.Wp;
        pos[0] = (int)(row / plane);
        pos[1] = (int)((row / r.Wp) % r.Hp);
        pos[2] = (int)(row % r.Wp);
    }
    __nv_bfloat162 *o = reinterpret_cast<__nv_bfloat162 *>(out + row * C);
    for (int p = threadIdx.x; p < P; p += blockDim.x) {
        float2 v = load2(xr, p);
        float a = v.x * rn * w[2 * p], bb = v.y * rn * w[2 * p + 1];
        if (rope) {
            const int j = p % (r.D / 2); // pair inside the head
            const int axis = ROPE_AXIS(j, r);
            const int64_t ti = ((int64_t)axis * r.max_pos + pos[axis]) * (r.D / 2) + j;
            const float2 ab = rope_rotate(a, bb, r.cos_t[ti], r.sin_t[ti]);
            a = ab.x;
            bb = ab.y;
        }
        o[p] = __floats2bfloat162_rn(a, bb);
    }
}

// ---- RMSNorm + RoPE with the tile means of its output (vd_wan_rms_rope_pool_cuda) -------------
//
// One block of ROW_THREADS per tile of `tile` rows. Thread t owns pairs p = t + ROW_THREADS * k
// (k < PPT) of every row, the same pairs as in rms_rope_kernel, so a row's sum of squares is
// added in the same order and reduced through the same shuffle tree: its output is bit-identical.
// The tile's rows go R at a time: the R rows' loads are in flight together, the R block
// reductions share one barrier (partials double-buffered in shared memory, so one barrier per R
// rows instead of two per row), and the next R rows are loaded before that barrier. Each thread
// adds its pairs' bf16-rounded outputs to fp32 registers in row order; at the end of the tile
// it writes sum / count to out [H, T, head_dim] (no atomics: the tile's rows are all in this block).

template <typename T> struct pair_raw;   // one pair of x as loaded: bf16x2 or float2
template <> struct pair_raw<__nv_bfloat16> { typedef __nv_bfloat162 type; };
template <> struct pair_raw<float> { typedef float2 type; };
__device__ __forceinline__ float2 to_f2(__nv_bfloat162 v) { return __bfloat1622float2(v); }   // = load2
__device__ __forceinline__ float2 to_f2(float2 v) { return v; }

// Rows per batch: about 24 registers of raw pairs per batch (two batches live: the one being
// computed and the next one loading); f32 input pairs take two registers each.
template <typename T, int PPT> struct pool_rows {
    static constexpr int bf16 = PPT <= 3 ? 8 : (PPT <= 6 ? 4 : (PPT <= 10 ? 2 : 1));
    static constexpr int value = sizeof(T) == 2 ? bf16 : (bf16 > 1 ? bf16 / 2 : 1);
};

template <typename T, int PPT>
__global__ void __launch_bounds__(ROW_THREADS, PPT <= 10 ? 2 : 1)
    rms_rope_pool_kernel(__nv_bfloat16 *out, float *pooled, const T *x, int64_t M, int C, float eps, const float *w,
                         vd_wan_rope_desc r, int rope, int hd, int tile, int Tn) {
    typedef typename pair_raw<T>::type raw_t;
    constexpr int R = pool_rows<T, PPT>::value;
    __shared__ float sh[2][R][32];
    const int P = C / 2, lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    const int t = blockIdx.x;
    const int64_t n0 = (int64_t)t * tile, n1 = min(n0 + (int64_t)tile, M);
    const raw_t *xp = reinterpret_cast<const raw_t *>(x);
    __nv_bfloat162 *op = reinterpret_cast<__nv_bfloat162 *>(out);
    float2 wk[PPT], acc[PPT];
    int jk[PPT];   // pair inside the head (RoPE table column)
#pragma unroll
    for (int k = 0; k < PPT; k++) {
        const int p = threadIdx.x + k * ROW_THREADS;
        acc[k] = make_float2(0.0f, 0.0f);
        wk[k] = p < P ? make_float2(w[2 * p], w[2 * p + 1]) : make_float2(0.0f, 0.0f);
        jk[k] = rope ? p % (r.D / 2) : 0;
    }
    raw_t cur[R][PPT], nxt[R][PPT];
#pragma unroll
    for (int i = 0; i < R; i++)
#pragma unroll
        for (int k = 0; k < PPT; k++) {
            const int p = threadIdx.x + k * ROW_THREADS;
            if (n0 + i < n1 && p < P) cur[i][k] = xp[(n0 + i) * P + p];
        }
    int buf = 0;
    for (int64_t b0 = n0; b0 < n1; b0 += R, buf ^= 1) {
        // 1. this thread's share of each row's sum of squares; warp sums to shared memory
#pragma unroll
        for (int i = 0; i < R; i++) {
            float s = 0.0f;
#pragma unroll
            for (int k = 0; k < PPT; k++)
                if (b0 + i < n1 && threadIdx.x + k * ROW_THREADS < P) s += pair_sumsq(to_f2(cur[i][k]));
            s = warp_sum(s);
            if (lane == 0) sh[buf][i][wid] = s;
        }
        // 2. the next R rows' loads, issued before the barrier
#pragma unroll
        for (int i = 0; i < R; i++)
#pragma unroll
            for (int k = 0; k < PPT; k++) {
                const int p = threadIdx.x + k * ROW_THREADS;
                if (b0 + R + i < n1 && p < P) nxt[i][k] = xp[(b0 + R + i) * P + p];
            }
        __syncthreads();
        // 3. outputs of the R rows, added to the running sums after bf16 rounding
#pragma unroll
        for (int i = 0; i < R; i++) {
            const int64_t row = b0 + i;
            const float rn = rms_inv(warp_sum(lane < nw ? sh[buf][i][lane] : 0.0f), C, eps);
            if (row >= n1) continue;   // uniform over the block
            int pos0 = 0, pos1 = 0, pos2 = 0;
            if (rope) {
                const int64_t plane = (int64_t)r.Hp * r.Wp;
                pos0 = (int)(row / plane);
                pos1 = (int)((row / r.Wp) % r.Hp);
                pos2 = (int)(row % r.Wp);
            }
#pragma unroll
            for (int k = 0; k < PPT; k++) {
                const int p = threadIdx.x + k * ROW_THREADS;
                if (p >= P) continue;
                const float2 v = to_f2(cur[i][k]);
                float a = v.x * rn * wk[k].x, bb = v.y * rn * wk[k].y;
                if (rope) {
                    const int j = jk[k], axis = ROPE_AXIS(j, r);
                    const int pa = axis == 0 ? pos0 : (axis == 1 ? pos1 : pos2);
                    const int64_t ti = ((int64_t)axis * r.max_pos + pa) * (r.D / 2) + j;
                    const float2 ab = rope_rotate(a, bb, r.cos_t[ti], r.sin_t[ti]);
                    a = ab.x;
                    bb = ab.y;
                }
                const __nv_bfloat162 o = __floats2bfloat162_rn(a, bb);
                op[row * P + p] = o;
                const float2 of = __bfloat1622float2(o);
                acc[k].x += of.x;
                acc[k].y += of.y;
            }
        }
#pragma unroll
        for (int i = 0; i < R; i++)
#pragma unroll
            for (int k = 0; k < PPT; k++) cur[i][k] = nxt[i][k];
    }
    // 4. tile means: channel c = 2p (and 2p + 1, the same head since hd is even) -> [h, t, d]
    const float cnt = (float)(n1 - n0);
#pragma unroll
    for (int k = 0; k < PPT; k++) {
        const int p = threadIdx.x + k * ROW_THREADS;
        if (p >= P) continue;
        const int c = 2 * p, h = c / hd, d = c - h * hd;
        float *po = pooled + ((int64_t)h * Tn + t) * hd + d;
        po[0] = acc[k].x / cnt;
        po[1] = acc[k].y / cnt;
    }
}

// Two channels per thread: x f32 pairs, y bf16 pairs, gate (g_a + g_b) pairs; C2 = C / 2.
__global__ void gated_add_kernel(float2 *x, const __nv_bfloat162 *y, const float2 *g_a, const float2 *g_b, int64_t n2,
                                 int C2) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n2; i += (int64_t)gridDim.x * blockDim.x) {
        const int c = (int)(i % C2);
        float2 g = make_float2(1.0f, 1.0f);
        if (g_a) {
            g = g_a[c];
            if (g_b) {
                float2 t = g_b[c];
                g.x += t.x;
                g.y += t.y;
            }
        }
        float2 a = x[i], b = __bfloat1622float2(y[i]);
        a.x += g.x * b.x;
        a.y += g.y * b.y;
        x[i] = a;
    }
}

__global__ void gelu_bf16_kernel(__nv_bfloat162 *x, int64_t n2) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n2; i += (int64_t)gridDim.x * blockDim.x) {
        float2 v = __bfloat1622float2(x[i]);
        x[i] = __floats2bfloat162_rn(gelu_tanh_f(v.x), gelu_tanh_f(v.y));
    }
}

__global__ void gelu_bf16_tail_kernel(__nv_bfloat16 *x, int64_t n) {
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i < n) x[i] = __float2bfloat16_rn(gelu_tanh_f(__bfloat162float(x[i])));
}

__global__ void gelu_f32_bf16_kernel(__nv_bfloat16 *out, const float *x, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = __float2bfloat16_rn(gelu_tanh_f(x[i]));
}

// One warp per output row; x (after the optional SiLU) staged in shared memory once per block.
__global__ void gemv_kernel(float *out, const float *W, const float *b, const float *x, int N, int K, int silu_in) {
    extern __shared__ float xs[];
    for (int k = threadIdx.x; k < K; k += blockDim.x) {
        float v = x[k];
        xs[k] = silu_in ? v / (1.0f + expf(-v)) : v;
    }
    __syncthreads();
    const int warps = blockDim.x >> 5, lane = threadIdx.x & 31;
    const int row = blockIdx.x * warps + (threadIdx.x >> 5);
    if (row >= N) return;
    const float *wr = W + (int64_t)row * K;
    float acc = 0.0f;
    for (int k = lane; k < K; k += 32) acc += wr[k] * xs[k];
    acc = warp_sum(acc);
    if (lane == 0) out[row] = acc + (b ? b[row] : 0.0f);
}

// ---- launchers -----------------------------------------------------------------------------

static unsigned grid_for(int64_t n) {
    int64_t g = (n + 255) / 256;
    if (g > 132 * 32) g = 132 * 32; // grid-stride loops: a few waves on 132 SMs
    return (unsigned)(g < 1 ? 1 : g);
}

extern "C" vd_status vd_wan_ln_mod_cuda(void *stream, uint16_t *out, const float *x, int64_t M, int64_t C, float eps,
                                        const float *w, const float *b, const float *sh_a, const float *sh_b,
                                        const float *sc_a, const float *sc_b, vd_error *err) {
    if (M <= 0) return VD_OK;
    ln_mod_kernel<<<(unsigned)M, ROW_THREADS, 0, (cudaStream_t)stream>>>((__nv_bfloat16 *)out, x, (int)C, eps, w, b, sh_a,
                                                                         sh_b, sc_a, sc_b);
    LAUNCH_CHECK(err, "ln_mod_kernel");
    return VD_OK;
}

extern "C" vd_status vd_wan_rms_rope_cuda(void *stream, uint16_t *out, const void *x, int x_bf16, int64_t M, int64_t C,
                                          float eps, const float *w, const vd_wan_rope_desc *rope, vd_error *err) {
    if (M <= 0) return VD_OK;
    if (C % 2) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_rms_rope_cuda: C %lld must be even", (long long)C);
    vd_wan_rope_desc r;
    memset(&r, 0, sizeof r);
    if (rope) r = *rope;
    if (x_bf16)
        rms_rope_kernel<__nv_bfloat16><<<(unsigned)M, ROW_THREADS, 0, (cudaStream_t)stream>>>(
            (__nv_bfloat16 *)out, (const __nv_bfloat16 *)x, (int)C, eps, w, r, rope != NULL);
    else
        rms_rope_kernel<float><<<(unsigned)M, ROW_THREADS, 0, (cudaStream_t)stream>>>((__nv_bfloat16 *)out, (const float *)x,
                                                                                     (int)C, eps, w, r, rope != NULL);
    LAUNCH_CHECK(err, "rms_rope_kernel");
    return VD_OK;
}

template <typename T, int PPT>
static void rms_rope_pool_launch(cudaStream_t st, uint16_t *out, const void *x, int64_t M, int C, float eps, const float *w,
                                 const vd_wan_rope_desc &r, int rope, const vd_wan_pool_desc *pool, int Tn) {
    rms_rope_pool_kernel<T, PPT><<<(unsigned)Tn, ROW_THREADS, 0, st>>>((__nv_bfloat16 *)out, pool->out, (const T *)x, M, C,
                                                                      eps, w, r, rope, pool->head_dim, pool->tile, Tn);
}

template <typename T>
static vd_status rms_rope_pool_dispatch(cudaStream_t st, uint16_t *out, const void *x, int64_t M, int C, float eps,
                                        const float *w, const vd_wan_rope_desc &r, int rope, const vd_wan_pool_desc *pool,
                                        int Tn, vd_error *err) {
    const int need = (C / 2 + ROW_THREADS - 1) / ROW_THREADS;   // pairs per thread
    if (need <= 1) rms_rope_pool_launch<T, 1>(st, out, x, M, C, eps, w, r, rope, pool, Tn);
    else if (need <= 3) rms_rope_pool_launch<T, 3>(st, out, x, M, C, eps, w, r, rope, pool, Tn);       // Wan 1.3B: C 1536
    else if (need <= 6) rms_rope_pool_launch<T, 6>(st, out, x, M, C, eps, w, r, rope, pool, Tn);
    else if (need <= 10) rms_rope_pool_launch<T, 10>(st, out, x, M, C, eps, w, r, rope, pool, Tn);     // Wan 14B: C 5120
    else rms_rope_pool_launch<T, 16>(st, out, x, M, C, eps, w, r, rope, pool, Tn);
    LAUNCH_CHECK(err, "rms_rope_pool_kernel");
    return VD_OK;
}

extern "C" vd_status vd_wan_rms_rope_pool_cuda(void *stream, uint16_t *out, const void *x, int x_bf16, int64_t M, int64_t C,
                                               float eps, const float *w, const vd_wan_rope_desc *rope,
                                               const vd_wan_pool_desc *pool, vd_error *err) {
    if (!pool) return vd_wan_rms_rope_cuda(stream, out, x, x_bf16, M, C, eps, w, rope, err);
    if (M <= 0) return VD_OK;
    if (C % 2 || C > 8192)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_rms_rope_pool_cuda: C %lld must be even and <= 8192", (long long)C);
    if (!pool->out || pool->head_dim <= 0 || pool->head_dim % 2 || C % pool->head_dim || pool->tile < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_wan_rms_rope_pool_cuda: pool out=%p head_dim=%d tile=%d (out needed, head_dim even and "
                            "dividing C = %lld, tile >= 1)",
                            (void *)pool->out, pool->head_dim, pool->tile, (long long)C);
    const int64_t Tn = (M + pool->tile - 1) / pool->tile;
    if (Tn > 2147483647LL)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_wan_rms_rope_pool_cuda: %lld tiles (max 2^31 - 1)", (long long)Tn);
    vd_wan_rope_desc r;
    memset(&r, 0, sizeof r);
    if (rope) r = *rope;
    cudaStream_t st = (cudaStream_t)stream;
    if (x_bf16) return rms_rope_pool_dispatch<__nv_bfloat16>(st, out, x, M, (int)C, eps, w, r, rope != NULL, pool, (int)Tn, err);
    return rms_rope_pool_dispatch<float>(st, out, x, M, (int)C, eps, w, r, rope != NULL, pool, (int)Tn, err);
}

extern "C" vd_status vd_wan_gated_add_cuda(void *stream, float *x, const uint16_t *y, const float *g_a, const float *g_b,
                                           int64_t M, int64_t C, vd_error *err) {
    const int64_t n = M * C;
    if (n <= 0) return VD_OK;
    if (C % 2) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_gated_add_cuda: C %lld must be even", (long long)C);
    gated_add_kernel<<<grid_for(n / 2), 256, 0, (cudaStream_t)stream>>>((float2 *)x, (const __nv_bfloat162 *)y,
                                                                        (const float2 *)g_a, (const float2 *)g_b, n / 2,
                                                                        (int)(C / 2));
    LAUNCH_CHECK(err, "gated_add_kernel");
    return VD_OK;
}

extern "C" vd_status vd_wan_gelu_bf16_cuda(void *stream, uint16_t *x, int64_t n, vd_error *err) {
    if (n <= 0) return VD_OK;
    gelu_bf16_kernel<<<grid_for(n / 2 + 1), 256, 0, (cudaStream_t)stream>>>((__nv_bfloat162 *)x, n / 2);
    if (n % 2) gelu_bf16_tail_kernel<<<1, 1, 0, (cudaStream_t)stream>>>((__nv_bfloat16 *)x + (n - 1), 1);
    LAUNCH_CHECK(err, "gelu_bf16_kernel");
    return VD_OK;
}

extern "C" vd_status vd_wan_gelu_f32_to_bf16_cuda(void *stream, uint16_t *out, const float *x, int64_t n, vd_error *err) {
    if (n <= 0) return VD_OK;
    gelu_f32_bf16_kernel<<<grid_for(n), 256, 0, (cudaStream_t)stream>>>((__nv_bfloat16 *)out, x, n);
    LAUNCH_CHECK(err, "gelu_f32_bf16_kernel");
    return VD_OK;
}

extern "C" vd_status vd_wan_gemv_f32_cuda(void *stream, float *out, const float *W, const float *b, const float *x, int64_t N,
                                          int64_t K, int silu_in, vd_error *err) {
    if (K > 12288 || K < 1 || N < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_gemv_f32_cuda: K %lld must be in [1, 12288], N %lld >= 1",
                            (long long)K, (long long)N);
    const int warps = 8;
    gemv_kernel<<<(unsigned)((N + warps - 1) / warps), warps * 32, (size_t)K * sizeof(float), (cudaStream_t)stream>>>(
        out, W, b, x, (int)N, (int)K, silu_in);
    LAUNCH_CHECK(err, "gemv_kernel");
    return VD_OK;
}
