// The fused top-k block mask of mask_build.h on the GPU: two launches, no memset, no host sync,
// no allocation.
//   1. vd_pool_tiles_kernel pools Q and K in one launch (mask_build.cuh) into the workspace.
//      This pass reads all of Q and K once (2 x B N H D bf16: 201 MB at the Wan-1.3B shape,
//      1.5 GB at 14B) and is bound by HBM bandwidth: it is the floor of the whole pipeline.
//   2. topk_mask_kernel, per (b, head, RQ = 16 * TR q tiles): the block scores of its RQ rows
//      against all T_kv kv tiles (fp32 FMA over ascending d, scaled once: the same arithmetic as
//      block_scores_kernel, so bit-identical), kept as order keys in shared memory; then one warp
//      per row selects the top k (vd_warp_topk_rows, a warp's rows advanced together) and writes
//      its CSR row at r * k.
// vd_attn_topk_mask_pooled_cuda is kernel 2 alone, on tiles pooled by the producer of Q and K
// (e.g. vd_wan_rms_rope_pool_cuda): the same plan and launch, so given the same qbar / kbar its
// CSR is bit-identical to the fused call's.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "attention/mask_build.cuh"
#include "attention/mask_build.h"
#include "lib/cuda_check.h"

// smem floats: A [RQ][Dp + 1] (the block's pooled q rows), Bs [64][Dp + 1] (a chunk of 64 pooled
// k rows, all of d), keys [RQ][Tk]. Dp = D rounded up to 32 (zero padded). The +1 columns make
// the row-wise stores and the per-thread column reads conflict-free.
static size_t topk_mask_smem_bytes(int RQ, int Dp, int Tk) {
    return sizeof(float) * ((size_t)RQ * (Dp + 1) + (size_t)64 * (Dp + 1) + (size_t)RQ * Tk);
}

// grid (ceil(Tq / RQ), B * NH), block 256 = 16 x 16 threads: thread (tx, ty) computes rows
// ty + 16 u (u < TR) and columns j0 + tx + 16 w (w < 4) of each 64-column chunk.
template <int TR>
__global__ void __launch_bounds__(256) topk_mask_kernel(int32_t *indptr, int32_t *indices, uint8_t *mask,
                                                        const float *qbar, const float *kbar, int NH, int NKV, int Tq,
                                                        int Tk, int D, int Dp, float scale, int k) {
    constexpr int RQ = 16 * TR;
    extern __shared__ float smem[];
    const int ld = Dp + 1;
    float *A = smem;                                              // [RQ][ld]
    float *Bs = A + RQ * ld;                                      // [64][ld]
    uint32_t *keys = reinterpret_cast<uint32_t *>(Bs + 64 * ld);  // [RQ][Tk]
    const int bh = blockIdx.y, b = bh / NH, h = bh % NH, i0 = blockIdx.x * RQ;
    const float *qa = qbar + (int64_t)bh * Tq * D;                          // [Tq, D]
    const float *kb = kbar + ((int64_t)b * NKV + h / (NH / NKV)) * Tk * D;  // [Tk, D]
    const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;

    // Row-wise copies: each warp reads 32 consecutive d of one row (coalesced), stores them to
    // 32 consecutive banks.
    for (int r = tid >> 5; r < RQ; r += 8)
        for (int d = tid & 31; d < Dp; d += 32) A[r * ld + d] = (i0 + r < Tq && d < D) ? qa[(int64_t)(i0 + r) * D + d] : 0.f;
    for (int j0 = 0; j0 < Tk; j0 += 64) {
        __syncthreads();   // A stored (first chunk); Bs no longer read (later chunks)
#pragma unroll 4
        for (int r = tid >> 5; r < 64; r += 8)
            for (int d = tid & 31; d < Dp; d += 32)
                Bs[r * ld + d] = (j0 + r < Tk && d < D) ? kb[(int64_t)(j0 + r) * D + d] : 0.f;
        __syncthreads();
        float acc[TR][4];
#pragma unroll
        for (int u = 0; u < TR; u++)
#pragma unroll
            for (int w = 0; w < 4; w++) acc[u][w] = 0.f;
#pragma unroll 4
        for (int d = 0; d < Dp; d++) {
            float av[TR], bv[4];
#pragma unroll
            for (int u = 0; u < TR; u++) av[u] = A[(ty + 16 * u) * ld + d];
#pragma unroll
            for (int w = 0; w < 4; w++) bv[w] = Bs[(tx + 16 * w) * ld + d];
#pragma unroll
            for (int u = 0; u < TR; u++)
#pragma unroll
                for (int w = 0; w < 4; w++) acc[u][w] = fmaf(av[u], bv[w], acc[u][w]);
        }
#pragma unroll
        for (int u = 0; u < TR; u++)
#pragma unroll
            for (int w = 0; w < 4; w++) {
                const int j = j0 + tx + 16 * w;
                if (j < Tk) keys[(ty + 16 * u) * Tk + j] = vd_mask_key(acc[u][w] * scale);
            }
    }
    __syncthreads();
    const int warp = tid >> 5, lane = tid & 31;
    if (blockIdx.x == 0 && blockIdx.y == 0 && tid == 0) indptr[(int64_t)gridDim.y * Tq] = (int32_t)((int64_t)gridDim.y * Tq * k);
    // Warp w selects rows w, w + 8, ... (NR = RQ / 8 of them, advanced together).
    constexpr int NR = RQ / 8;
    int32_t *idx[NR];
    uint8_t *mrow[NR];
    int n_valid = 0;
#pragma unroll
    for (int i = 0; i < NR; i++) {
        const int qi = i0 + warp + 8 * i;
        const int64_t row = (int64_t)bh * Tq + qi;
        idx[i] = qi < Tq ? indices + row * k : NULL;
        mrow[i] = qi < Tq && mask ? mask + row * Tk : NULL;
        n_valid += qi < Tq;
        if (qi < Tq && lane == 0) indptr[row] = (int32_t)(row * k);
        if (qi < Tq && k == 0 && mask)
            for (int j = lane; j < Tk; j += 32) mask[row * Tk + j] = 0;
    }
    if (k > 0 && n_valid > 0) vd_warp_topk_rows<NR>(keys + warp * Tk, 8 * (int64_t)Tk, Tk, k, n_valid, idx, mrow);
}

// Modelled cycles of kernel 2's block-score part with TR rows per thread: waves of blocks times
// the per-block shared-memory loads (TR + 4 per TR * 4 FMA, one load instruction per cycle per
// SM, 32 lanes). Picks TR = 2 at the Wan-1.3B shape (96 blocks, one wave) and TR = 4 at 14B.
static double topk_mask_cost(int TR, int Tq, int Tk, int Dp, int BH, int sms) {
    const int64_t blocks = (int64_t)((Tq + 16 * TR - 1) / (16 * TR)) * BH;
    const double per_block = (double)16 * TR * Tk * Dp / (32.0 * (4.0 * TR / (TR + 4)));
    return (double)((blocks + sms - 1) / sms) * per_block;
}

template <int TR>
static vd_status topk_mask_launch(int32_t *indptr, int32_t *indices, uint8_t *mask, const float *qbar, const float *kbar,
                                  const vd_attn_topk_mask_shape *s, int Tq, int Tk, int Dp, int k, size_t smem,
                                  cudaStream_t st, vd_error *err) {
    if (smem > 48 * 1024)
        VD_CUDA_TRY(err, cudaFuncSetAttribute(topk_mask_kernel<TR>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    dim3 grid((unsigned)((Tq + 16 * TR - 1) / (16 * TR)), (unsigned)(s->B * s->NH));
    topk_mask_kernel<TR><<<grid, 256, smem, st>>>(indptr, indices, mask, qbar, kbar, s->NH, s->NKV, Tq, Tk, s->D, Dp,
                                                   s->scale, k);
    VD_CUDA_LAUNCH_CHECK(err, st, "topk_mask_kernel");
    return VD_OK;
}

static size_t align256(size_t x) { return (x + 255) & ~(size_t)255; }

extern "C" size_t vd_attn_topk_mask_cuda_ws_bytes(const vd_attn_topk_mask_shape *s) {
    if (s->B <= 0 || s->NH <= 0 || s->NKV <= 0 || s->D <= 0 || s->tile_q <= 0 || s->tile_kv <= 0) return 0;
    const size_t Tq = (size_t)((s->N_q + s->tile_q - 1) / s->tile_q), Tk = (size_t)((s->N_kv + s->tile_kv - 1) / s->tile_kv);
    return align256(sizeof(float) * (size_t)s->B * s->NH * Tq * s->D) + sizeof(float) * (size_t)s->B * s->NKV * Tk * s->D;
}

// Kernel 2's plan for a shape: tile counts, clamped k, padded D, rows per thread (TR) and shared
// memory; VD_ERR_UNSUPPORTED (naming fn) when no TR fits.
typedef struct {
    int Tq, Tk, kk, Dp, TR;
    size_t smem;
} topk_mask_plan;

static vd_status topk_mask_make_plan(topk_mask_plan *pl, const vd_attn_topk_mask_shape *s, const char *fn, vd_error *err) {
    pl->Tq = (s->N_q + s->tile_q - 1) / s->tile_q;
    pl->Tk = (s->N_kv + s->tile_kv - 1) / s->tile_kv;
    pl->kk = vd_attn_topk_mask_k(s);
    pl->Dp = (s->D + 31) / 32 * 32;
    if ((int64_t)s->B * s->NH > 65535)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "%s: B*NH = %d (max 65535)", fn, s->B * s->NH);
    int dev = 0, sms = 0, smem_max = 0;
    VD_CUDA_TRY(err, cudaGetDevice(&dev));
    VD_CUDA_TRY(err, cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    VD_CUDA_TRY(err, cudaDeviceGetAttribute(&smem_max, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));

    // Rows per thread: the requested one, else the cheapest by the cost model among those whose
    // shared memory fits.
    int TR = s->block_rows / 16;
    if (TR == 0) {
        double best = 0;
        for (int t = 1; t <= 4; t *= 2)
            if (topk_mask_smem_bytes(16 * t, pl->Dp, pl->Tk) <= (size_t)smem_max) {
                const double c = topk_mask_cost(t, pl->Tq, pl->Tk, pl->Dp, s->B * s->NH, sms);
                if (TR == 0 || c < best) { TR = t; best = c; }
            }
    }
    pl->TR = TR;
    pl->smem = topk_mask_smem_bytes(16 * (TR ? TR : 1), pl->Dp, pl->Tk);
    if (TR == 0 || pl->smem > (size_t)smem_max)
        return vd_error_set(err, VD_ERR_UNSUPPORTED,
                            "%s: T_kv=%d kv tiles at D=%d need %zu bytes of shared memory per block (device max %d); "
                            "hint: use larger tiles",
                            fn, pl->Tk, s->D, pl->smem, smem_max);
    return VD_OK;
}

// Kernel 2 (scores + per-row top-k + CSR) from pooled qbar [B, NH, Tq, D], kbar [B, NKV, Tk, D].
static vd_status topk_mask_stage2(int32_t *indptr, int32_t *indices, uint8_t *mask, const float *qbar, const float *kbar,
                                  const vd_attn_topk_mask_shape *s, const topk_mask_plan *pl, cudaStream_t st,
                                  vd_error *err) {
    switch (pl->TR) {
    case 1: return topk_mask_launch<1>(indptr, indices, mask, qbar, kbar, s, pl->Tq, pl->Tk, pl->Dp, pl->kk, pl->smem, st, err);
    case 2: return topk_mask_launch<2>(indptr, indices, mask, qbar, kbar, s, pl->Tq, pl->Tk, pl->Dp, pl->kk, pl->smem, st, err);
    default: return topk_mask_launch<4>(indptr, indices, mask, qbar, kbar, s, pl->Tq, pl->Tk, pl->Dp, pl->kk, pl->smem, st, err);
    }
}

extern "C" vd_status vd_attn_topk_mask_cuda(int32_t *indptr, int32_t *indices, uint8_t *mask, const uint16_t *q,
                                            const uint16_t *k, const vd_attn_topk_mask_shape *s, void *ws, void *stream,
                                            vd_error *err) {
    VD_TRY(vd_attn_topk_mask_check(s, __func__, err));
    if (!indptr || !indices || !q || !k || !ws || ((uintptr_t)ws & 15))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: indptr=%p indices=%p q=%p k=%p ws=%p (all needed, ws 16-byte aligned)",
                            __func__, (void *)indptr, (void *)indices, (const void *)q, (const void *)k, ws);
    topk_mask_plan pl;
    VD_TRY(topk_mask_make_plan(&pl, s, __func__, err));
    const int Tq = pl.Tq, Tk = pl.Tk;
    cudaStream_t st = static_cast<cudaStream_t>(stream);

    // 1. pool Q and K (one launch), into the workspace.
    float *qbar = static_cast<float *>(ws);
    float *kbar = reinterpret_cast<float *>(static_cast<char *>(ws) +
                                            align256(sizeof(float) * (size_t)s->B * s->NH * Tq * s->D));
    const vd_pool_src sq = {reinterpret_cast<const __nv_bfloat16 *>(q), qbar, s->q_sb, s->q_sn, s->q_sh, s->NH, s->N_q,
                            s->tile_q, Tq};
    const vd_pool_src sk = {reinterpret_cast<const __nv_bfloat16 *>(k), kbar, s->k_sb, s->k_sn, s->k_sh, s->NKV, s->N_kv,
                            s->tile_kv, Tk};
    const int64_t nq = (int64_t)s->B * s->NH * Tq, items = nq + (int64_t)s->B * s->NKV * Tk;
    if (items > 2147483647LL)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "%s: %lld tiles to pool (max 2^31 - 1)", __func__, (long long)items);
    if (vd_pool_vec_ok(q, s->q_sb, s->q_sn, s->q_sh, s->D) && vd_pool_vec_ok(k, s->k_sb, s->k_sn, s->k_sh, s->D))
        vd_pool_tiles_kernel<true><<<(unsigned)items, VD_POOL_THREADS, 0, st>>>(sq, sk, nq, s->D);
    else
        vd_pool_tiles_kernel<false><<<(unsigned)items, VD_POOL_THREADS, 0, st>>>(sq, sk, nq, s->D);
    VD_CUDA_LAUNCH_CHECK(err, st, "vd_pool_tiles_kernel");

    // 2. scores + per-row top-k + CSR.
    return topk_mask_stage2(indptr, indices, mask, qbar, kbar, s, &pl, st, err);
}

extern "C" vd_status vd_attn_topk_mask_pooled_cuda(int32_t *indptr, int32_t *indices, uint8_t *mask, const float *qbar,
                                                   const float *kbar, const vd_attn_topk_mask_shape *s, void *stream,
                                                   vd_error *err) {
    VD_TRY(vd_attn_topk_mask_check(s, __func__, err));
    if (!indptr || !indices || !qbar || !kbar)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: indptr=%p indices=%p qbar=%p kbar=%p (all needed)", __func__,
                            (void *)indptr, (void *)indices, (const void *)qbar, (const void *)kbar);
    topk_mask_plan pl;
    VD_TRY(topk_mask_make_plan(&pl, s, __func__, err));
    return topk_mask_stage2(indptr, indices, mask, qbar, kbar, s, &pl, static_cast<cudaStream_t>(stream), err);
}
