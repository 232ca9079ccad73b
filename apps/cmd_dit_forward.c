// vdit dit-forward: one Wan DiT forward on tensors from a safetensors file.
//   vdit dit-forward --model DIR --input IN.safetensors --out OUT.safetensors [--device cpu|cuda]
// IN holds latent [B, C, F, H, W], timestep [B] (or a scalar) and context [B, L, text_dim]
// (or [L, text_dim] for B = 1), any float dtype; OUT gets `output` f32 [B, Cout, F, H, W].
// Users check their weights with it; the tests check parity on any config with it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/commands.h"
#include "dit/wan_dit.h"
#include "dit/wan_dit_cuda.h"
#include "dit/wan_weights.h"
#include "lib/safetensors.h"
#include "lib/tensor.h"

#define MAX_ATTN_SETS 16

typedef struct {
    const char *model, *input, *out, *device;
    int step, n_steps;
    const char *attention;               // self-attention method name (NULL: dense)
    const char *attn_sets[MAX_ATTN_SETS]; // "key=value" overrides of the method config
    int n_attn_sets;
} fwd_opts;

static void fwd_usage(FILE *f) {
    fprintf(f,
            "usage: vdit dit-forward --model DIR --input IN.safetensors --out OUT.safetensors [--device cpu|cuda]\n"
            "  --model DIR      Wan2.1 transformer: a directory (config.json + safetensors or index), or one .safetensors file\n"
            "                   (diffusers or original/ComfyUI key names)\n"
            "  --input FILE     tensors latent [B, C, F, H, W], timestep [B], context [B, L, text_dim]\n"
            "  --out FILE       writes output f32 [B, Cout, F, H, W]\n"
            "  --device NAME    cpu (fp32 reference, default) or cuda (bf16 GEMMs, fp32 residual)\n"
            "  --step I --steps N  denoising step passed to the attention layer (default 0 of 1)\n"
            "  --attention NAME self-attention method of the attention layer (default: dense)\n"
            "  --attention-set KEY=VALUE  override one field of the method's config (repeatable)\n");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && len < cap; i++) len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
}

// Finds tensor `name` in the input file with one of the allowed ranks; message names both shapes.
static const vd_st_tensor *input_tensor(vd_st_file *f, const char *name, int rank_a, int rank_b, const char *want,
                                        vd_error *err) {
    const vd_st_tensor *t = vd_st_find(f, name);
    if (!t) {
        vd_error_set(err, VD_ERR_FORMAT, "dit-forward: input file has no tensor '%s' (expected %s)", name, want);
        return NULL;
    }
    if (t->ndim != rank_a && t->ndim != rank_b) {
        char s[96];
        shape_str(s, sizeof s, t->ndim, t->shape);
        vd_error_set(err, VD_ERR_INVALID_ARG, "dit-forward: input tensor '%s' has shape %s, expected %s", name, s, want);
        return NULL;
    }
    return t;
}

static vd_status run(const fwd_opts *o, vd_error *err) {
    vd_wan_model_files m;
    vd_st_file *in = NULL;
    float *latent = NULL, *ts = NULL, *ctx = NULL, *out = NULL;
    vd_wan_weights w = {0};
    vd_wan_cuda *wc = NULL;
    vd_cuda_ctx *cu = NULL;
    vd_attn *attn = NULL;
    vd_status s = vd_wan_model_open(&m, o->model, err);
    if (s) return vd_error_prefix(err, "loading model '%s'", o->model);
    const vd_wan_config *c = &m.config;
    char desc[512];
    vd_wan_config_describe(c, desc, sizeof desc);
    fprintf(stderr, "dit-forward: %s; layout %s\n", desc, vd_wan_layout_name(m.layout));
    if ((s = vd_st_open(&in, o->input, err))) goto done;
    const vd_st_tensor *tl, *tt, *tc;
    char want[160];
    snprintf(want, sizeof want, "[B, %d, F, H, W]", c->in_channels);
    if (!(tl = input_tensor(in, "latent", 5, 5, want, err))) { s = err->code; goto done; }
    const int64_t B = tl->shape[0], F = tl->shape[2], H = tl->shape[3], W = tl->shape[4];
    if (tl->shape[1] != c->in_channels) {
        char sh[96];
        shape_str(sh, sizeof sh, tl->ndim, tl->shape);
        s = vd_error_set(err, VD_ERR_INVALID_ARG, "dit-forward: input tensor 'latent' has shape %s, expected %s (model in_channels %d)",
                         sh, want, c->in_channels);
        goto done;
    }
    snprintf(want, sizeof want, "[%lld] or a scalar", (long long)B);
    if (!(tt = input_tensor(in, "timestep", 0, 1, want, err))) { s = err->code; goto done; }
    if ((tt->ndim == 1 && tt->shape[0] != B) || (tt->ndim == 0 && B != 1)) {
        s = vd_error_set(err, VD_ERR_INVALID_ARG, "dit-forward: input tensor 'timestep' has %lld values, expected %s",
                         (long long)(tt->ndim ? tt->shape[0] : 1), want);
        goto done;
    }
    snprintf(want, sizeof want, "[%lld, L, %d]%s", (long long)B, c->text_dim, B == 1 ? " or [L, text_dim]" : "");
    if (!(tc = input_tensor(in, "context", 3, 2, want, err))) { s = err->code; goto done; }
    const int64_t Lt = tc->ndim == 3 ? tc->shape[1] : tc->shape[0];
    if ((tc->ndim == 3 && tc->shape[0] != B) || (tc->ndim == 2 && B != 1) || tc->shape[tc->ndim - 1] != c->text_dim) {
        char sh[96];
        shape_str(sh, sizeof sh, tc->ndim, tc->shape);
        s = vd_error_set(err, VD_ERR_INVALID_ARG, "dit-forward: input tensor 'context' has shape %s, expected %s", sh, want);
        goto done;
    }
    if ((s = vd_wan_check_input(c, B, F, H, W, Lt, err))) goto done;
    const int64_t n_lat = B * c->in_channels * F * H * W, n_out = B * c->out_channels * F * H * W;
    latent = vd_host_alloc((size_t)n_lat * 4);
    ts = vd_host_alloc((size_t)B * 4);
    ctx = vd_host_alloc((size_t)(B * Lt * c->text_dim) * 4);
    out = vd_host_alloc((size_t)n_out * 4);
    if (!latent || !ts || !ctx || !out) {
        s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "dit-forward: input/output buffers (%lld + %lld floats)", (long long)n_lat,
                         (long long)n_out);
        goto done;
    }
    if ((s = vd_st_read_f32(tl, latent, tl->ndim, tl->shape, err)) || (s = vd_st_read_f32(tt, ts, tt->ndim, tt->shape, err)) ||
        (s = vd_st_read_f32(tc, ctx, tc->ndim, tc->shape, err)))
        goto done;
    vd_wan_run_info info;
    vd_wan_run_info_init(&info);
    info.step = o->step;
    info.n_steps = o->n_steps;
    if (o->attention) {
        if ((s = vd_attn_create(&attn, o->attention, err))) goto done;
        for (int i = 0; i < o->n_attn_sets; i++)
            if ((s = vd_attn_set(attn, o->attn_sets[i], err))) goto done;
        info.self_attn = attn;
    }
    double t0 = now_s(), t1, t2;
    if (!strcmp(o->device, "cpu")) {
        if ((s = vd_wan_weights_load_cpu(&w, &m, err))) goto done;
        t1 = now_s();
        s = vd_wan_forward_cpu(&w, latent, ts, ctx, B, F, H, W, Lt, &info, out, err);
    } else {
        if ((s = vd_cuda_ctx_create(&cu, 0, err))) goto done;
        const int64_t N = (F / c->patch[0]) * (H / c->patch[1]) * (W / c->patch[2]);
        if ((s = vd_wan_cuda_create(&wc, cu, &m, N, Lt, err))) goto done;
        if (attn) { // reserve the method's largest per-layer workspace before the forward
            vd_wan_attn_call call = {0};
            call.method = attn;
            call.ctx.n_layers = c->n_layers;
            call.ctx.step = o->step;
            call.ctx.n_steps = o->n_steps;
            call.ctx.F = (int)(F / c->patch[0]);
            call.ctx.Hp = (int)(H / c->patch[1]);
            call.ctx.Wp = (int)(W / c->patch[2]);
            size_t ws = 0;
            for (int l = 0; l < c->n_layers; l++) {
                call.ctx.layer = l;
                size_t b = vd_wan_self_attention_ws(&call, VD_DEVICE_CUDA, 1, N, c->n_heads, c->head_dim);
                if (b > ws) ws = b;
            }
            if (ws && (s = vd_wan_cuda_reserve_attn_ws(wc, ws, err))) goto done;
        }
        t1 = now_s();
        s = vd_wan_cuda_forward_host(wc, latent, ts, ctx, B, F, H, W, Lt, &info, out, err);
    }
    if (s) goto done;
    t2 = now_s();
    fprintf(stderr, "dit-forward: load %.2f s, forward %.3f s (%s, B %lld, tokens %lld, text rows %lld)\n", t1 - t0, t2 - t1,
            o->device, (long long)B, (long long)((F / c->patch[0]) * (H / c->patch[1]) * (W / c->patch[2])), (long long)Lt);
    int64_t oshape[5] = {B, c->out_channels, F, H, W};
    vd_st_write_entry e = {"output", VD_F32, 5, oshape, out};
    char meta[256];
    snprintf(meta, sizeof meta, "{\"producer\": \"vdit dit-forward\", \"device\": \"%s\", \"layout\": \"%s\"}", o->device,
             vd_wan_layout_name(m.layout));
    s = vd_st_write(o->out, &e, 1, meta, err);
done:
    vd_attn_free(attn);
    vd_wan_cuda_free(wc);
    vd_cuda_ctx_free(cu);
    vd_wan_weights_free(&w);
    vd_host_free(latent);
    vd_host_free(ts);
    vd_host_free(ctx);
    vd_host_free(out);
    if (in) vd_st_close(in);
    vd_wan_model_close(&m);
    return s;
}

int cmd_dit_forward(int argc, char **argv) {
    fwd_opts o = {.device = "cpu", .step = 0, .n_steps = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fwd_usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "vdit dit-forward: option '%s' needs a value (or is unknown)\n\n", a);
            fwd_usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--model")) o.model = v;
        else if (!strcmp(a, "--input")) o.input = v;
        else if (!strcmp(a, "--out")) o.out = v;
        else if (!strcmp(a, "--device")) o.device = v;
        else if (!strcmp(a, "--step")) o.step = atoi(v);
        else if (!strcmp(a, "--steps")) o.n_steps = atoi(v);
        else if (!strcmp(a, "--attention")) o.attention = v;
        else if (!strcmp(a, "--attention-set")) {
            if (o.n_attn_sets == MAX_ATTN_SETS) {
                fprintf(stderr, "vdit dit-forward: at most %d --attention-set options\n", MAX_ATTN_SETS);
                return 2;
            }
            o.attn_sets[o.n_attn_sets++] = v;
        }
        else {
            fprintf(stderr, "vdit dit-forward: unknown option '%s'\n\n", a);
            fwd_usage(stderr);
            return 2;
        }
    }
    if (!o.model || !o.input || !o.out) {
        fprintf(stderr, "vdit dit-forward: --model, --input and --out are required\n\n");
        fwd_usage(stderr);
        return 2;
    }
    if (strcmp(o.device, "cpu") && strcmp(o.device, "cuda")) {
        fprintf(stderr, "vdit dit-forward: --device '%s' is not one of: cpu, cuda\n", o.device);
        return 2;
    }
    if (o.n_steps < 1 || o.step < 0 || o.step >= o.n_steps) {
        fprintf(stderr, "vdit dit-forward: --step %d must be in [0, --steps %d)\n", o.step, o.n_steps);
        return 2;
    }
    vd_error err = {0};
    if (run(&o, &err)) {
        fprintf(stderr, "vdit dit-forward: error: %s\n", err.msg);
        return 1;
    }
    fprintf(stderr, "dit-forward: wrote %s\n", o.out);
    return 0;
}
