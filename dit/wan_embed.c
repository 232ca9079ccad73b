// Wan input embeddings on the CPU (wan21.md sec. 1.2 steps 1-3): timestep sinusoid -> MLP -> 6C
// projection, text MLP (tanh GELU), and the patch embedding (Conv3d with kernel = stride = patch,
// done as patchify + GEMM: the conv weight [C, Cin, pt, ph, pw] is a [C, Cin*pt*ph*pw] matrix whose
// column order (c, dt, dh, dw) matches vd_patchify3d_cpu's token layout).
#include <string.h>

#include "dit/wan_cpu.h"
#include "lib/ops.h"

void vd_wan_time_embed_cpu(const vd_wan_weights *w, float t, vd_wan_cpu_ws *ws) {
    const vd_wan_config *c = &w->config;
    const int64_t C = c->dim;
    vd_timestep_embedding_cpu(ws->sin, t, c->freq_dim);                                    // [freq] = [cos | sin]
    vd_linear_cpu(ws->tmp, ws->sin, w->top[VD_WAN_TIME1_W], w->top[VD_WAN_TIME1_B], 1, c->freq_dim, C);
    vd_silu_cpu(ws->tmp, ws->tmp, C);
    vd_linear_cpu(ws->e, ws->tmp, w->top[VD_WAN_TIME2_W], w->top[VD_WAN_TIME2_B], 1, C, C); // e [C]
    vd_silu_cpu(ws->tmp, ws->e, C);
    vd_linear_cpu(ws->e6, ws->tmp, w->top[VD_WAN_TPROJ_W], w->top[VD_WAN_TPROJ_B], 1, C, 6 * C); // e6 [6C]
}

void vd_wan_text_embed_cpu(const vd_wan_weights *w, const float *context, vd_wan_cpu_ws *ws) {
    const vd_wan_config *c = &w->config;
    const int64_t C = c->dim, Lt = ws->Lt;
    vd_linear_cpu(ws->ctx_h, context, w->top[VD_WAN_TEXT1_W], w->top[VD_WAN_TEXT1_B], Lt, c->text_dim, C);
    vd_gelu_tanh_cpu(ws->ctx_h, ws->ctx_h, Lt * C);
    vd_linear_cpu(ws->ctx, ws->ctx_h, w->top[VD_WAN_TEXT2_W], w->top[VD_WAN_TEXT2_B], Lt, C, C); // [Lt, C]
}

vd_status vd_wan_patch_embed_cpu(const vd_wan_weights *w, const float *latent, int64_t F, int64_t H, int64_t W,
                                 vd_wan_cpu_ws *ws, vd_error *err) {
    const vd_wan_config *c = &w->config;
    const int64_t K = (int64_t)c->in_channels * c->patch[0] * c->patch[1] * c->patch[2];
    // tokens [N, Cin*pt*ph*pw] in ws->ffn (sized for the largest of these uses)
    VD_TRY(vd_patchify3d_cpu(ws->ffn, latent, c->in_channels, F, H, W, c->patch[0], c->patch[1], c->patch[2], err));
    vd_linear_cpu(ws->x, ws->ffn, w->top[VD_WAN_PATCH_W], w->top[VD_WAN_PATCH_B], ws->N, K, c->dim); // [N, C]
    return VD_OK;
}
