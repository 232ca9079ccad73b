// Wan output head on the CPU (wan21.md sec. 1.5): (shift, scale) = head table [2, C] + e (the time
// embedding itself, not SiLU(e) and not e6); out = Lin(LN(x) * (1 + scale) + shift) [N, Cout*P];
// unpatchify with the channel fastest inside each token's vector.
#include "dit/wan_cpu.h"
#include "lib/ops.h"

void vd_wan_head_cpu(const vd_wan_weights *w, int64_t Fp, int64_t Hp, int64_t Wp, vd_wan_cpu_ws *ws, float *out) {
    const vd_wan_config *c = &w->config;
    const int64_t N = ws->N, C = c->dim;
    const int64_t P = (int64_t)c->patch[0] * c->patch[1] * c->patch[2];
    float *shift = ws->mod, *scale = ws->mod + C; // [C] each
    vd_add_cpu(shift, w->top[VD_WAN_HEAD_MOD], ws->e, C);
    vd_add_cpu(scale, w->top[VD_WAN_HEAD_MOD] + C, ws->e, C);
    vd_layernorm_cpu(ws->h, ws->x, NULL, NULL, N, C, c->eps);
    vd_modulate_cpu(ws->h, ws->h, shift, scale, N, C);
    vd_linear_cpu(ws->ffn, ws->h, w->top[VD_WAN_HEAD_W], w->top[VD_WAN_HEAD_B], N, C, c->out_channels * P); // [N, Cout*P]
    vd_unpatchify3d_cpu(out, ws->ffn, c->out_channels, Fp, Hp, Wp, c->patch[0], c->patch[1], c->patch[2]);
}
