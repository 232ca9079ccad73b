// Wan2.1 DiT forward on CUDA (wan_dit_cuda.h). Same op order as the CPU reference
// (wan_embed.c, wan_block.c, wan_head.c); numerics of the original Wan code (wan21.md sec. 1.6):
//   GEMMs: bf16 operands, fp32 accumulate (vd_linear_cuda), bf16 outputs (as Linear under orig Wan's
//          bf16 autocast); the norms and residual adds that read them upcast to fp32. f32 outputs only
//          where they feed fp32 math directly: patch embedding (residual init), text MLP, head.
//   fp32: residual stream x, LayerNorm / RMSNorm statistics, modulation (table + e6), gates, RoPE
//          (tables from double angles), the time MLP (GEMVs on fp32 weights)
//   attention: bf16 q/k/v/o through the DiT's attention seam (dense flash kernel or a method).
// Memory: one arena for the weights and one for the activations, sized by vd_wan_cuda_plan_for;
// no allocation inside a forward.
#include <cuda_runtime.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dit/wan_attention.h"
#include "dit/wan_dit_cuda.h"
#include "dit/wan_kernels.h"
#include "lib/cuda_check.h"
#include "lib/ops.h"
#include "lib/ops_cuda.h"
#include "lib/tensor.h"

#define N_EVENTS_PER_LAYER 4

struct vd_wan_cuda {
    vd_cuda_ctx *ctx;
    void *stream;
    vd_wan_config c;
    vd_wan_cuda_plan plan;
    int64_t max_tokens, max_text;
    vd_cuda_arena wts, act;
    vd_cuda_arena attn_ws; // (optional) self-attention method workspace, vd_wan_cuda_reserve_attn_ws
    void *top[VD_WAN_TOP_COUNT];
    void *(*blocks)[VD_WAN_BLOCK_COUNT];
    // activation slices (wan_dit_cuda.h vd_wan_cuda_plan)
    float *x, *tok, *ctx_t, *e, *e6, *sin, *tmp, *rope_cos, *rope_sin;
    uint16_t *tb, *hb, *qb, *kb, *vb, *ob, *ffn, *tokb, *ctx_in, *ctx_eb, *ckb, *cvb;
    int timing;
    cudaEvent_t *ev; // [2 + N_EVENTS_PER_LAYER * L]: start, end, then per layer self (2) and cross (2)
    int n_ev;
};

extern "C" const vd_wan_config *vd_wan_cuda_config(const vd_wan_cuda *w) { return w ? &w->c : NULL; }

// Uploads every tensor of the table: bf16 for GEMM weights (converted on the device from an f32
// staging copy in the activation arena), f32 for the rest.
static vd_status upload_weights(vd_wan_cuda *w, const vd_wan_model_files *m, vd_error *err) {
    const int n = vd_wan_spec_count(&w->c);
    vd_wan_tensor_spec *specs = (vd_wan_tensor_spec *)calloc((size_t)n, sizeof *specs);
    float *host = NULL;
    vd_status s = VD_OK;
    int64_t max_numel = 0;
    if (!specs) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_cuda_create: spec table of %d", n);
    vd_wan_spec_fill(&w->c, m->layout, specs);
    for (int i = 0; i < n; i++) {
        int64_t e = 1;
        for (int d = 0; d < specs[i].ndim; d++) e *= specs[i].shape[d];
        if (e > max_numel) max_numel = e;
    }
    host = (float *)vd_host_alloc((size_t)max_numel * sizeof(float));
    if (!host) {
        s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_cuda_create: host staging of %lld floats", (long long)max_numel);
        goto done;
    }
    for (int i = 0; i < n && !s; i++) {
        const vd_wan_tensor_spec *sp = &specs[i];
        const vd_st_tensor *t = vd_wan_find(m->set, m->prefix, sp->name);
        int64_t e = 1;
        for (int d = 0; d < sp->ndim; d++) e *= sp->shape[d];
        const bool bf = vd_wan_cuda_role_is_bf16(sp);
        void *dst = NULL;
        if ((s = vd_cuda_arena_alloc(&w->wts, (size_t)e * (bf ? 2 : 4), &dst, err))) break;
        if ((s = vd_st_read_f32(t, host, t->ndim, t->shape, err))) break;
        if (bf) {
            float *stage = (float *)w->act.base; // activation arena is idle during loading
            if ((s = vd_cuda_upload(w->ctx, stage, host, (size_t)e * 4, err))) break;
            s = vd_f32_to_bf16_cuda(w->ctx, (uint16_t *)dst, stage, e, err);
            if (!s) s = vd_cuda_sync(w->ctx, err);
        } else {
            s = vd_cuda_upload(w->ctx, dst, host, (size_t)e * 4, err);
        }
        if (sp->block < 0) w->top[sp->role] = dst;
        else w->blocks[sp->block][sp->role] = dst;
    }
done:
    vd_host_free(host);
    free(specs);
    return s;
}

// RoPE tables [3][max_pos][D/2]: angle = pos * theta^(-2 j_a / D_a) for the pairs j of axis a,
// computed in double (as vd_rope3d_cpu), stored f32.
static vd_status upload_rope(vd_wan_cuda *w, vd_error *err) {
    const int D = w->c.head_dim, P = D / 2, maxp = w->c.rope_max_seq_len;
    int64_t dt, dh, dw;
    vd_rope3d_split(D, &dt, &dh, &dw);
    const int64_t n = (int64_t)3 * maxp * P;
    float *cs = (float *)vd_host_alloc((size_t)n * 4), *sn = (float *)vd_host_alloc((size_t)n * 4);
    if (!cs || !sn) {
        vd_host_free(cs);
        vd_host_free(sn);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_cuda_create: rope tables of %lld floats", (long long)n);
    }
    const int64_t off[3] = {0, dt / 2, (dt + dh) / 2}, width[3] = {dt, dh, dw};
    for (int a = 0; a < 3; a++)
        for (int p = 0; p < maxp; p++)
            for (int j = 0; j < P; j++) {
                int64_t ja = j - off[a];
                double ang = 0;
                if (ja >= 0 && ja < width[a] / 2) ang = (double)p * pow(w->c.rope_theta, -2.0 * (double)ja / (double)width[a]);
                cs[((int64_t)a * maxp + p) * P + j] = (float)cos(ang);
                sn[((int64_t)a * maxp + p) * P + j] = (float)sin(ang);
            }
    vd_status s = vd_cuda_upload(w->ctx, w->rope_cos, cs, (size_t)n * 4, err);
    if (!s) s = vd_cuda_upload(w->ctx, w->rope_sin, sn, (size_t)n * 4, err);
    vd_host_free(cs);
    vd_host_free(sn);
    return s;
}

extern "C" vd_status vd_wan_cuda_create(vd_wan_cuda **out, vd_cuda_ctx *ctx, const vd_wan_model_files *m, int64_t max_tokens,
                                        int64_t max_text, vd_error *err) {
    *out = NULL;
    if (max_tokens < 1 || max_text < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_cuda_create: max_tokens %lld and max_text %lld must be >= 1",
                            (long long)max_tokens, (long long)max_text);
    VD_TRY(vd_wan_model_check(m, err));
    vd_wan_cuda *w = (vd_wan_cuda *)calloc(1, sizeof *w);
    if (!w) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_cuda_create: %zu bytes", sizeof *w);
    vd_status s = VD_OK;
    w->ctx = ctx;
    w->stream = vd_cuda_ctx_stream(ctx);
    w->c = m->config;
    w->max_tokens = max_tokens;
    w->max_text = max_text;
    w->blocks = (void *(*)[VD_WAN_BLOCK_COUNT])calloc((size_t)w->c.n_layers, sizeof *w->blocks);
    w->n_ev = 2 + N_EVENTS_PER_LAYER * w->c.n_layers;
    w->ev = (cudaEvent_t *)calloc((size_t)w->n_ev, sizeof(cudaEvent_t));
    if (!w->blocks || !w->ev) {
        s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_cuda_create: tables for %d layers", w->c.n_layers);
        goto fail;
    }
    vd_wan_cuda_plan_for(&w->c, max_tokens, max_text, &w->plan);
    {
        // The activation arena doubles as the f32 staging buffer of the weight upload.
        size_t stage = (size_t)6 * w->c.dim * w->c.dim * 4;
        if ((size_t)w->c.ffn_dim * w->c.dim * 4 > stage) stage = (size_t)w->c.ffn_dim * w->c.dim * 4;
        if ((size_t)w->c.text_dim * w->c.dim * 4 > stage) stage = (size_t)w->c.text_dim * w->c.dim * 4;
        size_t act_bytes = w->plan.arena_bytes > stage ? w->plan.arena_bytes : stage;
        if ((s = vd_cuda_arena_init(&w->wts, w->plan.weight_bytes, err))) goto fail;
        if ((s = vd_cuda_arena_init(&w->act, act_bytes, err))) goto fail;
    }
    {
        char *b = w->act.base;
        const vd_wan_cuda_plan *p = &w->plan;
        w->x = (float *)(b + p->x);
        w->tb = (uint16_t *)(b + p->tb);
        w->hb = (uint16_t *)(b + p->hb);
        w->qb = (uint16_t *)(b + p->qb);
        w->kb = (uint16_t *)(b + p->kb);
        w->vb = (uint16_t *)(b + p->vb);
        w->ob = (uint16_t *)(b + p->ob);
        w->ffn = (uint16_t *)(b + p->ffn);
        w->tok = (float *)(b + p->tok);
        w->tokb = (uint16_t *)(b + p->tokb);
        w->ctx_in = (uint16_t *)(b + p->ctx_in);
        w->ctx_t = (float *)(b + p->ctx_t);
        w->ctx_eb = (uint16_t *)(b + p->ctx_eb);
        w->ckb = (uint16_t *)(b + p->ckb);
        w->cvb = (uint16_t *)(b + p->cvb);
        w->e = (float *)(b + p->vec);
        w->e6 = w->e + w->c.dim;
        w->sin = w->e6 + 6 * w->c.dim;
        w->tmp = w->sin + w->c.freq_dim;
        w->rope_cos = (float *)(b + p->rope);
        w->rope_sin = w->rope_cos + (size_t)3 * w->c.rope_max_seq_len * (w->c.head_dim / 2);
        w->act.top = w->act.peak = w->plan.arena_bytes; // the planned slices are all in use
    }
    if ((s = upload_weights(w, m, err))) goto fail;
    if ((s = upload_rope(w, err))) goto fail; // after the weights: the staging copy overlapped the tables
    for (int i = 0; i < w->n_ev; i++) VD_CUDA_TRY_GOTO(err, s, fail, cudaEventCreate(&w->ev[i]));
    *out = w;
    return VD_OK;
fail:
    vd_wan_cuda_free(w);
    return s;
}

extern "C" void vd_wan_cuda_free(vd_wan_cuda *w) {
    if (!w) return;
    if (w->ev)
        for (int i = 0; i < w->n_ev; i++)
            if (w->ev[i]) cudaEventDestroy(w->ev[i]);
    free(w->ev);
    vd_cuda_arena_free(&w->attn_ws);
    vd_cuda_arena_free(&w->act);
    vd_cuda_arena_free(&w->wts);
    free(w->blocks);
    free(w);
}

extern "C" vd_status vd_wan_cuda_reserve_attn_ws(vd_wan_cuda *w, size_t bytes, vd_error *err) {
    if (bytes <= w->attn_ws.cap) return VD_OK;
    vd_cuda_arena_free(&w->attn_ws);
    return vd_cuda_arena_init(&w->attn_ws, bytes, err);
}

extern "C" void vd_wan_cuda_set_timing(vd_wan_cuda *w, int on) { w->timing = on; }

static void record(vd_wan_cuda *w, int i) {
    if (w->timing) cudaEventRecord(w->ev[i], (cudaStream_t)w->stream);
}

extern "C" void vd_wan_cuda_get_timing(const vd_wan_cuda *w, vd_wan_cuda_timing *t) {
    memset(t, 0, sizeof *t);
    if (!w->timing) return;
    cudaEventSynchronize(w->ev[1]);
    float ms = 0;
    cudaEventElapsedTime(&ms, w->ev[0], w->ev[1]);
    t->total_ms = ms;
    for (int l = 0; l < w->c.n_layers; l++) {
        const cudaEvent_t *e = w->ev + 2 + N_EVENTS_PER_LAYER * l;
        if (cudaEventElapsedTime(&ms, e[0], e[1]) == cudaSuccess) t->self_attn_ms += ms;
        if (cudaEventElapsedTime(&ms, e[2], e[3]) == cudaSuccess) t->cross_attn_ms += ms;
    }
    t->other_ms = t->total_ms - t->self_attn_ms - t->cross_attn_ms;
    cudaGetLastError(); // an event never recorded leaves a (non-sticky) error that a later launch check would report
}

#define GEMM(out, out_t, x, wt, bias, M, K, N) \
    VD_TRY(vd_linear_cuda(w->ctx, (out), (out_t), (x), (const uint16_t *)(wt), (const float *)(bias), (M), (K), (N), err))
#define F(p) ((const float *)(p))

// One block, in place on w->x (wan_block.c is the reference).
static vd_status block_forward(vd_wan_cuda *w, int l, int64_t N, int64_t Lt, const vd_wan_rope_desc *rope,
                               vd_wan_attn_call *call, vd_error *err) {
    void *const *bw = w->blocks[l];
    const vd_wan_config *c = &w->c;
    const int64_t C = c->dim, NH = c->n_heads, D = c->head_dim;
    const float eps = c->eps;
    const float *tab = F(bw[VD_WAN_B_MOD]);
    void *st = w->stream;
    call->ctx.layer = l;
    cudaEvent_t *ev = w->ev + 2 + N_EVENTS_PER_LAYER * l;

    // 1. self-attention
    VD_TRY(vd_wan_ln_mod_cuda(st, w->hb, w->x, N, C, eps, NULL, NULL, tab, w->e6, tab + C, w->e6 + C, err));
    GEMM(w->tb, VD_BF16, w->hb, bw[VD_WAN_B_SA_QW], bw[VD_WAN_B_SA_QB], N, C, C);
    VD_TRY(vd_wan_rms_rope_cuda(st, w->qb, w->tb, 1, N, C, eps, F(bw[VD_WAN_B_SA_NQ]), rope, err));
    GEMM(w->tb, VD_BF16, w->hb, bw[VD_WAN_B_SA_KW], bw[VD_WAN_B_SA_KB], N, C, C);
    VD_TRY(vd_wan_rms_rope_cuda(st, w->kb, w->tb, 1, N, C, eps, F(bw[VD_WAN_B_SA_NK]), rope, err));
    GEMM(w->vb, VD_BF16, w->hb, bw[VD_WAN_B_SA_VW], bw[VD_WAN_B_SA_VB], N, C, C);
    if (w->timing) cudaEventRecord(ev[0], (cudaStream_t)st);
    VD_TRY(vd_wan_self_attention(call, VD_DEVICE_CUDA, w->ob, w->qb, w->kb, w->vb, 1, N, NH, D, err));
    if (w->timing) cudaEventRecord(ev[1], (cudaStream_t)st);
    GEMM(w->tb, VD_BF16, w->ob, bw[VD_WAN_B_SA_OW], bw[VD_WAN_B_SA_OB], N, C, C);
    VD_TRY(vd_wan_gated_add_cuda(st, w->x, w->tb, tab + 2 * C, w->e6 + 2 * C, N, C, err));

    // 2. cross-attention (text K/V projected per layer)
    if (c->cross_attn_norm)
        VD_TRY(vd_wan_ln_mod_cuda(st, w->hb, w->x, N, C, eps, F(bw[VD_WAN_B_CN_W]), F(bw[VD_WAN_B_CN_B]), NULL, NULL, NULL,
                                  NULL, err));
    else
        VD_TRY(vd_f32_to_bf16_cuda(w->ctx, w->hb, w->x, N * C, err));
    GEMM(w->tb, VD_BF16, w->hb, bw[VD_WAN_B_CA_QW], bw[VD_WAN_B_CA_QB], N, C, C);
    VD_TRY(vd_wan_rms_rope_cuda(st, w->qb, w->tb, 1, N, C, eps, F(bw[VD_WAN_B_CA_NQ]), NULL, err));
    GEMM(w->ctx_t, VD_F32, w->ctx_eb, bw[VD_WAN_B_CA_KW], bw[VD_WAN_B_CA_KB], Lt, C, C);
    VD_TRY(vd_wan_rms_rope_cuda(st, w->ckb, w->ctx_t, 0, Lt, C, eps, F(bw[VD_WAN_B_CA_NK]), NULL, err));
    GEMM(w->cvb, VD_BF16, w->ctx_eb, bw[VD_WAN_B_CA_VW], bw[VD_WAN_B_CA_VB], Lt, C, C);
    if (w->timing) cudaEventRecord(ev[2], (cudaStream_t)st);
    VD_TRY(vd_wan_cross_attention(call, VD_DEVICE_CUDA, w->ob, w->qb, w->ckb, w->cvb, 1, N, Lt, NH, D, err));
    if (w->timing) cudaEventRecord(ev[3], (cudaStream_t)st);
    GEMM(w->tb, VD_BF16, w->ob, bw[VD_WAN_B_CA_OW], bw[VD_WAN_B_CA_OB], N, C, C);
    VD_TRY(vd_wan_gated_add_cuda(st, w->x, w->tb, NULL, NULL, N, C, err));

    // 3. feed-forward
    VD_TRY(vd_wan_ln_mod_cuda(st, w->hb, w->x, N, C, eps, NULL, NULL, tab + 3 * C, w->e6 + 3 * C, tab + 4 * C, w->e6 + 4 * C,
                              err));
    GEMM(w->ffn, VD_BF16, w->hb, bw[VD_WAN_B_FF1_W], bw[VD_WAN_B_FF1_B], N, C, c->ffn_dim);
    VD_TRY(vd_wan_gelu_bf16_cuda(st, w->ffn, N * c->ffn_dim, err));
    GEMM(w->tb, VD_BF16, w->ffn, bw[VD_WAN_B_FF2_W], bw[VD_WAN_B_FF2_B], N, c->ffn_dim, C);
    VD_TRY(vd_wan_gated_add_cuda(st, w->x, w->tb, tab + 5 * C, w->e6 + 5 * C, N, C, err));
    return VD_OK;
}

extern "C" vd_status vd_wan_cuda_forward(vd_wan_cuda *w, const float *latent_d, float t, const float *context_d, int64_t F_,
                                         int64_t H, int64_t W, int64_t Lt, const vd_wan_run_info *info, float *out_d,
                                         vd_error *err) {
    const vd_wan_config *c = &w->c;
    VD_TRY(vd_wan_check_input(c, 1, F_, H, W, Lt, err));
    const int64_t Fp = F_ / c->patch[0], Hp = H / c->patch[1], Wp = W / c->patch[2], N = Fp * Hp * Wp;
    if (N > w->max_tokens || Lt > w->max_text)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_wan_cuda_forward: %lld tokens and %lld text rows exceed the planned maximum %lld / %lld "
                            "(create the engine with larger max_tokens / max_text)",
                            (long long)N, (long long)Lt, (long long)w->max_tokens, (long long)w->max_text);
    vd_wan_run_info dflt;
    vd_wan_run_info_init(&dflt);
    if (!info) info = &dflt;
    const int64_t C = c->dim, P = (int64_t)c->patch[0] * c->patch[1] * c->patch[2];
    void *st = w->stream;
    record(w, 0);

    // Time embedding: sinusoid on the host (double angles, vd_timestep_embedding_cpu), fp32 GEMVs.
    float sinus[4096];
    if (c->freq_dim > 4096) return vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_wan_cuda_forward: freq_dim %d > 4096", c->freq_dim);
    vd_timestep_embedding_cpu(sinus, t, c->freq_dim);
    VD_CUDA_TRY(err, cudaMemcpyAsync(w->sin, sinus, (size_t)c->freq_dim * 4, cudaMemcpyHostToDevice, (cudaStream_t)st));
    VD_TRY(vd_wan_gemv_f32_cuda(st, w->tmp, F(w->top[VD_WAN_TIME1_W]), F(w->top[VD_WAN_TIME1_B]), w->sin, C, c->freq_dim, 0, err));
    VD_TRY(vd_wan_gemv_f32_cuda(st, w->e, F(w->top[VD_WAN_TIME2_W]), F(w->top[VD_WAN_TIME2_B]), w->tmp, C, C, 1, err));
    VD_TRY(vd_wan_gemv_f32_cuda(st, w->e6, F(w->top[VD_WAN_TPROJ_W]), F(w->top[VD_WAN_TPROJ_B]), w->e, 6 * C, C, 1, err));

    // Text embedding: bf16 GEMMs, GELU in fp32.
    VD_TRY(vd_f32_to_bf16_cuda(w->ctx, w->ctx_in, context_d, Lt * c->text_dim, err));
    GEMM(w->ctx_t, VD_F32, w->ctx_in, w->top[VD_WAN_TEXT1_W], w->top[VD_WAN_TEXT1_B], Lt, c->text_dim, C);
    VD_TRY(vd_wan_gelu_f32_to_bf16_cuda(st, w->ctx_eb, w->ctx_t, Lt * C, err));
    GEMM(w->ctx_t, VD_F32, w->ctx_eb, w->top[VD_WAN_TEXT2_W], w->top[VD_WAN_TEXT2_B], Lt, C, C);
    VD_TRY(vd_f32_to_bf16_cuda(w->ctx, w->ctx_eb, w->ctx_t, Lt * C, err));

    // Patch embedding: patchify (f32) -> bf16 -> GEMM into the fp32 residual stream.
    VD_TRY(vd_patchify3d_cuda(w->ctx, w->tok, latent_d, c->in_channels, F_, H, W, c->patch[0], c->patch[1], c->patch[2], err));
    VD_TRY(vd_f32_to_bf16_cuda(w->ctx, w->tokb, w->tok, N * c->in_channels * P, err));
    GEMM(w->x, VD_F32, w->tokb, w->top[VD_WAN_PATCH_W], w->top[VD_WAN_PATCH_B], N, c->in_channels * P, C);

    int64_t dt, dh, dw;
    vd_rope3d_split(c->head_dim, &dt, &dh, &dw);
    vd_wan_rope_desc rope = {w->rope_cos, w->rope_sin, c->rope_max_seq_len, c->head_dim, (int)(dt / 2), (int)(dh / 2),
                             (int)Hp, (int)Wp};
    vd_wan_attn_call call;
    memset(&call, 0, sizeof call);
    call.method = info->self_attn;
    call.stream = st;
    call.ctx.n_layers = c->n_layers;
    call.ctx.step = info->step;
    call.ctx.n_steps = info->n_steps;
    call.ctx.timestep = t;
    call.ctx.branch = info->branch;
    call.ctx.F = (int)Fp;
    call.ctx.Hp = (int)Hp;
    call.ctx.Wp = (int)Wp;
    call.ws = w->attn_ws.base;
    call.ws_bytes = w->attn_ws.cap;
    for (int l = 0; l < c->n_layers; l++) {
        call.ctx.layer = l;
        size_t need = vd_wan_self_attention_ws(&call, VD_DEVICE_CUDA, 1, N, c->n_heads, c->head_dim);
        if (need > call.ws_bytes)
            return vd_error_set(err, VD_ERR_INVALID_ARG,
                                "vd_wan_cuda_forward: attention method '%s' needs %zu workspace bytes at layer %d, %zu reserved "
                                "(call vd_wan_cuda_reserve_attn_ws first)",
                                vd_attn_get_method(call.method)->name, need, l, call.ws_bytes);
        VD_TRY(block_forward(w, l, N, Lt, &rope, &call, err));
    }

    // Head: (shift, scale) = table [2, C] + e; LN + modulation (fp32) -> bf16 GEMM -> unpatchify.
    const float *hm = F(w->top[VD_WAN_HEAD_MOD]);
    VD_TRY(vd_wan_ln_mod_cuda(st, w->hb, w->x, N, C, c->eps, NULL, NULL, hm, w->e, hm + C, w->e, err));
    GEMM(w->tok, VD_F32, w->hb, w->top[VD_WAN_HEAD_W], w->top[VD_WAN_HEAD_B], N, C, c->out_channels * P);
    VD_TRY(vd_unpatchify3d_cuda(w->ctx, out_d, w->tok, c->out_channels, Fp, Hp, Wp, c->patch[0], c->patch[1], c->patch[2], err));
    record(w, 1);
    return VD_OK;
}

extern "C" vd_status vd_wan_cuda_forward_host(vd_wan_cuda *w, const float *latent, const float *timestep, const float *context,
                                              int64_t B, int64_t F_, int64_t H, int64_t W, int64_t Lt,
                                              const vd_wan_run_info *info, float *out, vd_error *err) {
    const vd_wan_config *c = &w->c;
    VD_TRY(vd_wan_check_input(c, B, F_, H, W, Lt, err));
    const int64_t n_in = (int64_t)c->in_channels * F_ * H * W, n_out = (int64_t)c->out_channels * F_ * H * W,
                  n_ctx = Lt * c->text_dim;
    float *d_in = NULL, *d_out = NULL, *d_ctx = NULL;
    vd_status s = VD_OK;
    VD_CUDA_TRY_GOTO(err, s, done, cudaMalloc((void **)&d_in, (size_t)n_in * 4));
    VD_CUDA_TRY_GOTO(err, s, done, cudaMalloc((void **)&d_out, (size_t)n_out * 4));
    VD_CUDA_TRY_GOTO(err, s, done, cudaMalloc((void **)&d_ctx, (size_t)n_ctx * 4));
    for (int64_t b = 0; b < B && !s; b++) {
        if ((s = vd_cuda_upload(w->ctx, d_in, latent + b * n_in, (size_t)n_in * 4, err))) break;
        if ((s = vd_cuda_upload(w->ctx, d_ctx, context + b * n_ctx, (size_t)n_ctx * 4, err))) break;
        if ((s = vd_wan_cuda_forward(w, d_in, timestep[b], d_ctx, F_, H, W, Lt, info, d_out, err))) break;
        s = vd_cuda_download(w->ctx, out + b * n_out, d_out, (size_t)n_out * 4, err);
    }
done:
    cudaFree(d_in);
    cudaFree(d_out);
    cudaFree(d_ctx);
    return s;
}
