// Wan2.1 DiT forward on the CPU: input checks, scratch, and the sample loop
// (embed -> blocks -> head). Each sample of the batch runs on its own: the reference engines
// batch CFG, but every op in the DiT is per sample, so results are identical.
#include "dit/wan_dit.h"

#include <string.h>

#include "dit/wan_cpu.h"
#include "lib/tensor.h"

void vd_wan_run_info_init(vd_wan_run_info *r) {
    r->step = 0;
    r->n_steps = 1;
    r->branch = VD_ATTN_COND;
    r->self_attn = NULL;
}

vd_status vd_wan_check_input(const vd_wan_config *c, int64_t B, int64_t F, int64_t H, int64_t W, int64_t Lt, vd_error *err) {
    const char *fn = "vd_wan_check_input";
    if (B < 1 || Lt < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: batch %lld and text length %lld must be >= 1", fn, (long long)B, (long long)Lt);
    const int64_t dims[3] = {F, H, W};
    const char *names[3] = {"frames F", "height H", "width W"};
    for (int i = 0; i < 3; i++) {
        if (dims[i] < c->patch[i] || dims[i] % c->patch[i])
            return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: latent %s = %lld must be a positive multiple of the patch size %d", fn,
                                names[i], (long long)dims[i], c->patch[i]);
        if (dims[i] / c->patch[i] > c->rope_max_seq_len)
            return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: latent %s = %lld gives %lld positions, above rope_max_seq_len %d", fn,
                                names[i], (long long)dims[i], (long long)(dims[i] / c->patch[i]), c->rope_max_seq_len);
    }
    return VD_OK;
}

vd_status vd_wan_cpu_ws_alloc(vd_wan_cpu_ws *ws, const vd_wan_config *c, int64_t N, int64_t Lt, vd_error *err) {
    memset(ws, 0, sizeof *ws);
    const int64_t C = c->dim, P = (int64_t)c->patch[0] * c->patch[1] * c->patch[2];
    int64_t wide = c->ffn_dim;
    if (c->in_channels * P > wide) wide = c->in_channels * P;
    if (c->out_channels * P > wide) wide = c->out_channels * P;
    int64_t vec = c->freq_dim > C ? c->freq_dim : C;
    ws->N = N;
    ws->Lt = Lt;
    float **bufs[] = {&ws->x, &ws->h, &ws->q, &ws->k, &ws->v, &ws->o, &ws->ffn, &ws->ctx, &ws->ctx_h,
                      &ws->ck, &ws->cv, &ws->e, &ws->e6, &ws->mod, &ws->sin, &ws->tmp};
    const int64_t sizes[] = {N * C, N * C, N * C, N * C, N * C, N * C, N * wide, Lt * C, Lt * C,
                             Lt * C, Lt * C, C, 6 * C, 6 * C, vec, C};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *bufs[i] = vd_host_alloc((size_t)sizes[i] * sizeof(float));
        if (!*bufs[i]) {
            vd_wan_cpu_ws_free(ws);
            return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_cpu_ws_alloc: %lld floats for N %lld tokens, Lt %lld",
                                (long long)sizes[i], (long long)N, (long long)Lt);
        }
    }
    return VD_OK;
}

void vd_wan_cpu_ws_free(vd_wan_cpu_ws *ws) {
    float *bufs[] = {ws->x, ws->h, ws->q, ws->k, ws->v, ws->o, ws->ffn, ws->ctx, ws->ctx_h,
                     ws->ck, ws->cv, ws->e, ws->e6, ws->mod, ws->sin, ws->tmp};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) vd_host_free(bufs[i]);
    vd_host_free(ws->attn_ws);
    memset(ws, 0, sizeof *ws);
}

vd_status vd_wan_forward_cpu(const vd_wan_weights *w, const float *latent, const float *timestep, const float *context,
                             int64_t B, int64_t F, int64_t H, int64_t W, int64_t Lt, const vd_wan_run_info *info,
                             float *out, vd_error *err) {
    const vd_wan_config *c = &w->config;
    VD_TRY(vd_wan_check_input(c, B, F, H, W, Lt, err));
    vd_wan_run_info dflt;
    vd_wan_run_info_init(&dflt);
    if (!info) info = &dflt;
    const int64_t Fp = F / c->patch[0], Hp = H / c->patch[1], Wp = W / c->patch[2], N = Fp * Hp * Wp;
    vd_wan_cpu_ws ws;
    VD_TRY(vd_wan_cpu_ws_alloc(&ws, c, N, Lt, err));
    vd_wan_attn_call call = {0};
    call.method = info->self_attn;
    call.ctx.n_layers = c->n_layers;
    call.ctx.step = info->step;
    call.ctx.n_steps = info->n_steps;
    call.ctx.branch = info->branch;
    call.ctx.F = (int)Fp;
    call.ctx.Hp = (int)Hp;
    call.ctx.Wp = (int)Wp;
    vd_status s = VD_OK;
    const int64_t in_n = (int64_t)c->in_channels * F * H * W, out_n = (int64_t)c->out_channels * F * H * W;
    for (int64_t b = 0; b < B && !s; b++) {
        call.ctx.timestep = timestep[b];
        vd_wan_time_embed_cpu(w, timestep[b], &ws);
        vd_wan_text_embed_cpu(w, context + b * Lt * c->text_dim, &ws);
        s = vd_wan_patch_embed_cpu(w, latent + b * in_n, F, H, W, &ws, err);
        for (int l = 0; l < c->n_layers && !s; l++) s = vd_wan_block_cpu(w, l, &ws, &call, err);
        if (!s) vd_wan_head_cpu(w, Fp, Hp, Wp, &ws, out + b * out_n);
    }
    vd_wan_cpu_ws_free(&ws);
    return s;
}
