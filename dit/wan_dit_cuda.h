// Wan2.1 DiT forward on CUDA. Numerics as the original Wan code (wan21.md sec. 1.6): bf16 GEMM
// weights and GEMM/attention operands with fp32 accumulation; fp32 residual stream, modulation,
// LayerNorm/RMSNorm, RoPE math, time/text embeddings' nonlinearities and the head modulation.
//
// Memory is planned once from the config and the largest call (max tokens N, max text rows Lt):
//   weights   bf16 GEMM weights + fp32 vectors, loaded once (1.3B: 2.8 GB, 14B: 28.6 GB)
//   arena     per-forward activations, sized by vd_wan_cuda_plan (14B at N = 75,600, Lt = 512:
//             x fp32 [N, C] + GEMM-out, h/o bf16 [N, C] + q/k/v or FFN hidden bf16 ~ 5.4 GB)
// No cudaMalloc happens inside a forward.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dit/wan_dit.h"
#include "dit/wan_weights.h"
#include "lib/device.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vd_wan_cuda vd_wan_cuda;

// Device memory plan for one config and the largest call (N tokens, Lt text rows): the weights
// (bf16 GEMM weights; fp32 for the time MLP, whose 1-row GEMVs run in fp32, and for every vector)
// and the per-forward activation arena, as byte offsets (each 256-byte aligned).
typedef struct {
    size_t weight_bytes;
    size_t x;             // f32 [N, C]: residual stream
    size_t tb;            // bf16 [N, C]: output of the q/k/o/FFN-down GEMMs (read by a norm or a residual add)
    size_t hb, qb, kb, vb, ob; // bf16 [N, C]: GEMM input, attention q/k/v/o (ob aliases hb)
    size_t ffn;           // bf16 [N, ffn_dim] (aliases qb..vb)
    size_t tok;           // f32 [N, max(Cin, Cout) * P]: patch tokens / head output
    size_t tokb;          // bf16 [N, Cin * P]
    size_t ctx_in;        // bf16 [Lt, text_dim]
    size_t ctx_t;         // f32 [Lt, C]
    size_t ctx_eb, ckb, cvb; // bf16 [Lt, C]
    size_t vec;           // f32 e [C], e6 [6C], sinusoid [freq_dim], tmp [C]
    size_t rope;          // f32 cos/sin tables [3 axes][rope_max_seq_len][D/2] x 2
    size_t arena_bytes;   // total activation bytes
} vd_wan_cuda_plan;
void vd_wan_cuda_plan_for(const vd_wan_config *c, int64_t max_tokens, int64_t max_text, vd_wan_cuda_plan *plan);
// True when a weight role is stored bf16 on the device (GEMM weights except the time MLP's).
bool vd_wan_cuda_role_is_bf16(const vd_wan_tensor_spec *s);

// Loads and uploads the weights (checked with vd_wan_model_check) and reserves the arena.
vd_status vd_wan_cuda_create(vd_wan_cuda **out, vd_cuda_ctx *ctx, const vd_wan_model_files *m, int64_t max_tokens,
                             int64_t max_text, vd_error *err);
void vd_wan_cuda_free(vd_wan_cuda *w);
const vd_wan_config *vd_wan_cuda_config(const vd_wan_cuda *w);

// One sample on the device: latent_d f32 [Cin, F, H, W], context_d f32 [Lt, text_dim] (device),
// t on the host; out_d f32 [Cout, F, H, W] (device). Asynchronous on the context's stream.
vd_status vd_wan_cuda_forward(vd_wan_cuda *w, const float *latent_d, float t, const float *context_d, int64_t F,
                              int64_t H, int64_t W, int64_t Lt, const vd_wan_run_info *info, float *out_d, vd_error *err);
// Host convenience: the same shapes as vd_wan_forward_cpu (batch B, host buffers); uploads,
// runs each sample, downloads, synchronizes.
vd_status vd_wan_cuda_forward_host(vd_wan_cuda *w, const float *latent, const float *timestep, const float *context,
                                   int64_t B, int64_t F, int64_t H, int64_t W, int64_t Lt, const vd_wan_run_info *info,
                                   float *out, vd_error *err);

// Device workspace for a self-attention method (run_info.self_attn): reserves `bytes` in a separate
// arena once, before the forwards (a forward never allocates). Dense attention needs none. A
// forward whose method asks for more returns VD_ERR_INVALID_ARG naming both sizes.
vd_status vd_wan_cuda_reserve_attn_ws(vd_wan_cuda *w, size_t bytes, vd_error *err);

// Per-forward time split, filled when timing is on (vd_wan_cuda_set_timing): milliseconds of
// self-attention, cross-attention and everything else, from CUDA events around each section.
typedef struct {
    double self_attn_ms, cross_attn_ms, other_ms, total_ms;
} vd_wan_cuda_timing;
void vd_wan_cuda_set_timing(vd_wan_cuda *w, int on);
void vd_wan_cuda_get_timing(const vd_wan_cuda *w, vd_wan_cuda_timing *t);

#ifdef __cplusplus
}
#endif
