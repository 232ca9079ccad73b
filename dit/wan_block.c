// One Wan transformer block on the CPU, fp32 (wan21.md sec. 1.3):
//   mod = table[6, C] + e6 -> (shift1, scale1, gate1, shift2, scale2, gate2)
//   x += gate1 * Wo SelfAttn(RoPE(RMS(Wq h)), RoPE(RMS(Wk h)), Wv h),   h = LN(x) * (1 + scale1) + shift1
//   x += Wo' CrossAttn(RMS(Wq' LN_affine(x)), RMS(Wk' ctx), Wv' ctx)     (no gate, no modulation)
//   x += gate2 * W2 gelu_tanh(W1 h),                                      h = LN(x) * (1 + scale2) + shift2
// RMSNorm on q and k runs over all C channels before the head split ("rms_norm_across_heads").
#include "dit/wan_cpu.h"
#include "lib/ops.h"
#include "lib/tensor.h"

vd_status vd_wan_block_cpu(const vd_wan_weights *w, int layer, vd_wan_cpu_ws *ws, const vd_wan_attn_call *call,
                           vd_error *err) {
    const vd_wan_config *c = &w->config;
    float *const *bw = w->blocks[layer];
    const int64_t N = ws->N, Lt = ws->Lt, C = c->dim, NH = c->n_heads, D = c->head_dim;
    const float eps = c->eps;
    vd_add_cpu(ws->mod, bw[VD_WAN_B_MOD], ws->e6, 6 * C); // [6, C]
    const float *shift1 = ws->mod, *scale1 = ws->mod + C, *gate1 = ws->mod + 2 * C;
    const float *shift2 = ws->mod + 3 * C, *scale2 = ws->mod + 4 * C, *gate2 = ws->mod + 5 * C;
    vd_wan_attn_call a = *call;
    a.ctx.layer = layer;

    // 1. self-attention
    vd_layernorm_cpu(ws->h, ws->x, NULL, NULL, N, C, eps);
    vd_modulate_cpu(ws->h, ws->h, shift1, scale1, N, C);
    vd_linear_cpu(ws->q, ws->h, bw[VD_WAN_B_SA_QW], bw[VD_WAN_B_SA_QB], N, C, C);
    vd_linear_cpu(ws->k, ws->h, bw[VD_WAN_B_SA_KW], bw[VD_WAN_B_SA_KB], N, C, C);
    vd_linear_cpu(ws->v, ws->h, bw[VD_WAN_B_SA_VW], bw[VD_WAN_B_SA_VB], N, C, C);
    vd_rmsnorm_cpu(ws->q, ws->q, bw[VD_WAN_B_SA_NQ], N, C, eps);
    vd_rmsnorm_cpu(ws->k, ws->k, bw[VD_WAN_B_SA_NK], N, C, eps);
    const vd_attn_ctx *g = &a.ctx;
    VD_TRY(vd_rope3d_cpu(ws->q, g->F, g->Hp, g->Wp, NH, D, c->rope_theta, err)); // q [N, NH, D]
    VD_TRY(vd_rope3d_cpu(ws->k, g->F, g->Hp, g->Wp, NH, D, c->rope_theta, err));
    size_t need = vd_wan_self_attention_ws(&a, VD_DEVICE_CPU, 1, N, NH, D);
    if (need > ws->attn_ws_bytes) {
        vd_host_free(ws->attn_ws);
        ws->attn_ws = vd_host_alloc(need);
        ws->attn_ws_bytes = ws->attn_ws ? need : 0;
        if (!ws->attn_ws)
            return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_block_cpu: %zu bytes of attention workspace (layer %d)", need, layer);
    }
    a.ws = ws->attn_ws;
    a.ws_bytes = ws->attn_ws_bytes;
    VD_TRY(vd_wan_self_attention(&a, VD_DEVICE_CPU, ws->o, ws->q, ws->k, ws->v, 1, N, NH, D, err));
    vd_linear_cpu(ws->h, ws->o, bw[VD_WAN_B_SA_OW], bw[VD_WAN_B_SA_OB], N, C, C);
    vd_gated_add_cpu(ws->x, ws->x, ws->h, gate1, N, C);

    // 2. cross-attention to the text rows
    if (c->cross_attn_norm)
        vd_layernorm_cpu(ws->h, ws->x, bw[VD_WAN_B_CN_W], bw[VD_WAN_B_CN_B], N, C, eps);
    const float *hin = c->cross_attn_norm ? ws->h : ws->x;
    vd_linear_cpu(ws->q, hin, bw[VD_WAN_B_CA_QW], bw[VD_WAN_B_CA_QB], N, C, C);
    vd_linear_cpu(ws->ck, ws->ctx, bw[VD_WAN_B_CA_KW], bw[VD_WAN_B_CA_KB], Lt, C, C);
    vd_linear_cpu(ws->cv, ws->ctx, bw[VD_WAN_B_CA_VW], bw[VD_WAN_B_CA_VB], Lt, C, C);
    vd_rmsnorm_cpu(ws->q, ws->q, bw[VD_WAN_B_CA_NQ], N, C, eps);
    vd_rmsnorm_cpu(ws->ck, ws->ck, bw[VD_WAN_B_CA_NK], Lt, C, eps);
    VD_TRY(vd_wan_cross_attention(&a, VD_DEVICE_CPU, ws->o, ws->q, ws->ck, ws->cv, 1, N, Lt, NH, D, err));
    vd_linear_cpu(ws->h, ws->o, bw[VD_WAN_B_CA_OW], bw[VD_WAN_B_CA_OB], N, C, C);
    vd_add_cpu(ws->x, ws->x, ws->h, N * C);

    // 3. feed-forward
    vd_layernorm_cpu(ws->h, ws->x, NULL, NULL, N, C, eps);
    vd_modulate_cpu(ws->h, ws->h, shift2, scale2, N, C);
    vd_linear_cpu(ws->ffn, ws->h, bw[VD_WAN_B_FF1_W], bw[VD_WAN_B_FF1_B], N, C, c->ffn_dim);
    vd_gelu_tanh_cpu(ws->ffn, ws->ffn, N * c->ffn_dim);
    vd_linear_cpu(ws->h, ws->ffn, bw[VD_WAN_B_FF2_W], bw[VD_WAN_B_FF2_B], N, c->ffn_dim, C);
    vd_gated_add_cpu(ws->x, ws->x, ws->h, gate2, N, C);
    return VD_OK;
}
