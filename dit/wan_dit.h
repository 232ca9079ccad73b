// Wan2.1 DiT forward (wan21.md sec. 1.2-1.5): patch embedding, time and text embeddings, blocks
// (modulated LN, self-attention with RMSNorm(q,k) across heads and 3D RoPE, cross-attention to the
// text, tanh-GELU FFN, gates), output head with its modulation, unpatchify.
//
// CPU path: fp32 everywhere; the reference the CUDA path (wan_dit_cuda) is checked against.
// Inputs, per batch B (each sample runs independently; CFG = two samples or two calls):
//   latent  [B, Cin, F, H, W]   F % pt == H % ph == W % pw == 0
//   timestep[B]                 t = sigma * 1000 as the scheduler gives it
//   context [B, Lt, text_dim]   Lt text rows (512 in the released pipelines; any Lt >= 1 here)
// Output: [B, Cout, F, H, W] (velocity prediction).
#pragma once
#include <stdint.h>

#include "dit/wan_attention.h"
#include "dit/wan_config.h"
#include "dit/wan_weights.h"
#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// Per-call facts the attention layer receives (the rest of vd_wan_attn_ctx is filled per layer).
typedef struct {
    int step, n_steps;      // denoising step (0-based) and count; 0 / 1 for a single forward
    vd_attn_branch branch;  // CFG branch of this call
    vd_attn *self_attn;     // borrowed; the self-attention method, NULL = dense
} vd_wan_run_info;
void vd_wan_run_info_init(vd_wan_run_info *r);

// Checks input sizes against the config: VD_ERR_INVALID_ARG naming the value and the rule.
vd_status vd_wan_check_input(const vd_wan_config *c, int64_t B, int64_t F, int64_t H, int64_t W, int64_t Lt, vd_error *err);

vd_status vd_wan_forward_cpu(const vd_wan_weights *w, const float *latent, const float *timestep, const float *context,
                             int64_t B, int64_t F, int64_t H, int64_t W, int64_t Lt, const vd_wan_run_info *info,
                             float *out, vd_error *err);

#ifdef __cplusplus
}
#endif
