// Fused dynamic block mask: per-row top-k of pooled block scores, straight to block-CSR.
//
// Definition (the CPU reference vd_attn_topk_mask_cpu composes exactly these, see attention.h):
//   qbar = vd_attn_pool_tiles(q, tile_q)    [B, NH,  T_q,  D]   T_q  = ceil(N_q / tile_q)
//   kbar = vd_attn_pool_tiles(k, tile_kv)   [B, NKV, T_kv, D]   T_kv = ceil(N_kv / tile_kv)
//   s    = vd_attn_block_scores(qbar, kbar, scale, no softmax)  [B, NH, T_q, T_kv]
//   mask = vd_attn_topk_rows(s, k)          (k clamped to [0, T_kv]; ties: the lower column)
//   csr  = vd_attn_mask_to_csr(mask)        rows B * NH * T_q, i.e. a vd_block_csr with
//                                           n_groups = B * NH; every row holds exactly k tiles,
//                                           so indptr[r] = r * k.
// The CUDA path is two kernels and nothing else (no memset, no host sync, no allocation):
//   1. pool Q and K together (one block of 256 threads per (tensor, b, head, tile), 16-byte
//      loads, fp32 sums) into the caller's workspace;
//   2. per (b, head, 16/32/64 q tiles): block scores (fp32 FMA in ascending d, as
//      vd_attn_block_scores_cuda) into shared memory, per-row top-k (one warp per row, bitwise
//      radix select of the k-th largest key, then ties by column), CSR write.
// Its results are bit-identical to vd_attn_pool_tiles_cuda -> vd_attn_block_scores_cuda ->
// vd_attn_topk_rows_cuda -> vd_attn_mask_to_csr_cuda, and equal to the CPU reference whenever
// the fp32 sums are exact (tests/gpu/test_attn_mask_cuda.c).
#pragma once
#include <stdint.h>

#include "attention/attention.h"

#ifdef __cplusplus
extern "C" {
#endif

// Shape of one fused call. q [B, N_q, NH, D], k [B, N_kv, NKV, D], strides in elements.
typedef struct {
    int64_t q_sb, q_sn, q_sh;
    int64_t k_sb, k_sn, k_sh;
    int B, N_q, N_kv, NH, NKV, D;
    int tile_q, tile_kv;        // tokens per tile (any positive value; flash wants 64 or 128)
    float scale;                // block-score scale, usually 1/sqrt(D)
    int k;                      // kv tiles kept per q tile, clamped to [0, T_kv]
    int block_rows;             // CUDA tuning: q tiles per block, 16, 32 or 64; 0 = automatic
} vd_attn_topk_mask_shape;

// The shape of p (strides, sizes, scale) with the given tiles and k.
vd_attn_topk_mask_shape vd_attn_topk_mask_shape_of(const vd_attn_params *p, int tile_q, int tile_kv, int k);
int vd_attn_topk_mask_rows(const vd_attn_topk_mask_shape *s);    // B * NH * T_q (CSR rows)
int vd_attn_topk_mask_k(const vd_attn_topk_mask_shape *s);       // k clamped to [0, T_kv]

// Argument and int32-limit check shared by the CPU and CUDA entry points (fn names the caller).
vd_status vd_attn_topk_mask_check(const vd_attn_topk_mask_shape *s, const char *fn, vd_error *err);

// CPU reference: f32 q, k. indptr [rows + 1], indices [rows * k]; mask [rows, T_kv] (optional,
// NULL: not written). Returns VD_ERR_INVALID_ARG for bad shapes.
vd_status vd_attn_topk_mask_cpu(int32_t *indptr, int32_t *indices, uint8_t *mask, const float *q, const float *k,
                                const vd_attn_topk_mask_shape *s, vd_error *err);

// CUDA: bf16 q, k on the device; outputs as above (device memory). ws: device scratch of
// vd_attn_topk_mask_cuda_ws_bytes(s) bytes (the pooled Q and K, f32), 16-byte aligned.
// VD_ERR_UNSUPPORTED (with the reason) when a row of scores does not fit in shared memory
// (T_kv above ~3000 at D = 128) or rows * k >= 2^31.
size_t vd_attn_topk_mask_cuda_ws_bytes(const vd_attn_topk_mask_shape *s);
vd_status vd_attn_topk_mask_cuda(int32_t *indptr, int32_t *indices, uint8_t *mask, const uint16_t *q,
                                 const uint16_t *k, const vd_attn_topk_mask_shape *s, void *ws, void *stream,
                                 vd_error *err);

// The same mask from tiles pooled elsewhere (the producer of Q and K pools them in its epilogue,
// e.g. vd_wan_rms_rope_pool_cuda in dit/wan_kernels.h, so that the builder does not read Q and K
// again): qbar f32 [B, NH, T_q, D], kbar f32 [B, NKV, T_kv, D] (contiguous, the layout of
// vd_attn_pool_tiles); s gives the sizes, tiles, scale and k (its strides are not used).
// CUDA: kernel 2 of vd_attn_topk_mask_cuda alone (one launch, no workspace): given the qbar / kbar
// that vd_attn_topk_mask_cuda pools (= vd_attn_pool_tiles_cuda of q and k) it writes the same
// bits. Errors as vd_attn_topk_mask_cuda. CPU: the reference from the pooled tiles on.
vd_status vd_attn_topk_mask_pooled_cpu(int32_t *indptr, int32_t *indices, uint8_t *mask, const float *qbar,
                                       const float *kbar, const vd_attn_topk_mask_shape *s, vd_error *err);
vd_status vd_attn_topk_mask_pooled_cuda(int32_t *indptr, int32_t *indices, uint8_t *mask, const float *qbar,
                                        const float *kbar, const vd_attn_topk_mask_shape *s, void *stream, vd_error *err);

#ifdef __cplusplus
}
#endif
