// Fused CUDA kernels of the Wan DiT forward (wan_kernels.cu), used only by wan_dit_cuda.cu.
// All pointers are device pointers; bf16 buffers are uint16_t bit patterns. Each launcher checks
// its launch and returns VD_ERR_CUDA naming the kernel. Numerics: fp32 math inside; the CPU
// reference of each is the op sequence named in its comment (lib/ops.h).
#pragma once
#include <stdint.h>

#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// out bf16 [M, C] = LN(x [M, C]) (eps; affine with w, b when w != NULL), then, when sc_a != NULL,
// * (1 + sc_a + sc_b) + (sh_a + sh_b)  (sc_b / sh_b may be NULL: a table row plus a time row).
// CPU: vd_layernorm_cpu + vd_add_cpu + vd_modulate_cpu, rounded to bf16.
vd_status vd_wan_ln_mod_cuda(void *stream, uint16_t *out, const float *x, int64_t M, int64_t C, float eps, const float *w,
                             const float *b, const float *sh_a, const float *sh_b, const float *sc_a, const float *sc_b,
                             vd_error *err);

// 3D RoPE tables: cos/sin f32 [3][max_pos][D/2]; entry (a, p, j) is valid for pairs j of axis a.
typedef struct {
    const float *cos_t, *sin_t;
    int max_pos, D;
    int pairs_t, pairs_h;   // pairs of the t and h parts (w takes the rest)
    int Hp, Wp;             // token grid (rows are tokens n = (f*Hp + h)*Wp + w)
} vd_wan_rope_desc;

// out bf16 [M, C] = RMSNorm(x [M, C]) * w (across all C channels, statistics in fp32), then RoPE
// per head of D when rope != NULL. x is bf16 when x_bf16 (a GEMM output, as in orig Wan where the
// q/k Linear returns bf16 under autocast and WanRMSNorm upcasts), else f32. C even.
// CPU: vd_rmsnorm_cpu + vd_rope3d_cpu, rounded to bf16.
vd_status vd_wan_rms_rope_cuda(void *stream, uint16_t *out, const void *x, int x_bf16, int64_t M, int64_t C, float eps,
                               const float *w, const vd_wan_rope_desc *rope, vd_error *err);

// Tile means of a producer's bf16 output for a block-sparse mask builder: out f32 [H, T, head_dim]
// with H = C / head_dim heads and T = ceil(M / tile) tiles of `tile` consecutive rows (tokens),
// out[h, t, d] = mean over the rows n of tile t (a partial last tile divides by its real count) of
// the bf16-rounded output channel h * head_dim + d. This is vd_attn_pool_tiles (attention.h) of
// the output viewed as [B = 1, M, H, head_dim], the qbar / kbar layout that
// vd_attn_topk_mask_pooled_cuda (attention/mask_build.h) takes.
typedef struct {
    float *out;      // device, H * T * head_dim floats
    int head_dim;    // even, divides C
    int tile;        // rows per tile, >= 1
} vd_wan_pool_desc;

// vd_wan_rms_rope_cuda plus the tile means of its output (pool != NULL). One block per tile: the
// block's threads own the same channel pairs of every row as in vd_wan_rms_rope_cuda (so `out` is
// bit-identical to it) and keep their pairs' running sums in registers over the tile's rows in
// row order (fp32), then write sum / count: no atomics, no workspace, no memset. C <= 8192.
// pool == NULL: exactly vd_wan_rms_rope_cuda (same kernel, same speed).
vd_status vd_wan_rms_rope_pool_cuda(void *stream, uint16_t *out, const void *x, int x_bf16, int64_t M, int64_t C, float eps,
                                    const float *w, const vd_wan_rope_desc *rope, const vd_wan_pool_desc *pool,
                                    vd_error *err);

// x f32 [M, C] += (g_a + g_b) * y, y bf16 [M, C] (a GEMM output); g_a NULL: plain residual add;
// g_b may be NULL. C even. CPU: vd_gated_add_cpu.
vd_status vd_wan_gated_add_cuda(void *stream, float *x, const uint16_t *y, const float *g_a, const float *g_b, int64_t M,
                                int64_t C, vd_error *err);

// In place tanh-GELU on bf16 [n] (math in fp32). CPU: vd_gelu_tanh_cpu.
vd_status vd_wan_gelu_bf16_cuda(void *stream, uint16_t *x, int64_t n, vd_error *err);
// out bf16 [n] = gelu_tanh(x f32 [n]).
vd_status vd_wan_gelu_f32_to_bf16_cuda(void *stream, uint16_t *out, const float *x, int64_t n, vd_error *err);

// fp32 GEMV: out [N] = W [N, K] @ act(x [K]) + b [N] (b may be NULL); act = SiLU when silu_in.
// K <= 12288 (x is staged in 48 KiB of shared memory). CPU: vd_silu_cpu + vd_linear_cpu with M = 1.
vd_status vd_wan_gemv_f32_cuda(void *stream, float *out, const float *W, const float *b, const float *x, int64_t N, int64_t K,
                               int silu_in, vd_error *err);

#ifdef __cplusplus
}
#endif
