// Wan2.1 DiT on CUDA (bf16 GEMM/attention operands, fp32 residual/norms/modulation) against the
// CPU fp32 forward on the same random weights (written to a temp model dir in both layouts).
// Head dims 64 and 128 (the dense flash kernel's sizes), odd token grids, B = 2 with different
// timesteps, text rows not a multiple of any tile.
//
// Tolerance (bf16-sized, earned from an emulation): scripts/emulate_dit_bf16.py rounds to bf16 at
// exactly the points where the CUDA path does, on configs like these, and sees
// max|bf16 - fp32| / max|fp32| = 2.2e-3 .. 3.5e-3 and NMSE 6.7e-6 .. 9.5e-6. Bounds here:
// rel <= 1.5e-2 and NMSE <= 1e-4 (~4x and ~10x: the flash kernel's bf16 P and other accumulation
// orders); an indexing, layout or RoPE bug gives O(1e-1 .. 1).
// Replay: VDIT_SOURCE_DIR=<repo> ./test_wan_dit_cuda
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dit/wan_dit.h"
#include "dit/wan_dit_cuda.h"
#include "dit/wan_weights.h"
#include "lib/safetensors.h"
#include "lib/tensor.h"
#include "tests/test_util.h"
#include "tests/wan_test_util.h"

typedef struct {
    const char *name;
    int heads, head_dim, ffn, layers, in_ch, out_ch, text_dim, freq_dim;
    bool cross_norm;
    vd_wan_layout layout;
    int64_t B, F, H, W, Lt;
    uint64_t seed;
} gcase;

static const gcase k_cases[] = {
    {"h2d64l2", 2, 64, 256, 2, 16, 16, 64, 256, true, VD_WAN_LAYOUT_DIFFUSERS, 2, 3, 10, 14, 19, 11},
    {"h3d128l2_orig", 3, 128, 512, 2, 16, 16, 96, 256, true, VD_WAN_LAYOUT_ORIG, 1, 2, 6, 8, 33, 12},
    {"h4d64l3_nocrossnorm", 4, 64, 320, 3, 8, 12, 48, 64, false, VD_WAN_LAYOUT_DIFFUSERS, 1, 5, 4, 18, 7, 13},
};

// Writes a random model (weights scaled like trained ones: matrices N(0, 1/fan_in), norm weights
// 1 + N(0, 0.1^2), tables N(0, 1/C), biases N(0, 0.05^2); all rounded to bf16-representable
// values) with its diffusers config.json.
static bool write_model(const gcase *g, const char *dir) {
    vd_wan_config c;
    vd_wan_config_init(&c);
    c.n_heads = g->heads, c.head_dim = g->head_dim, c.dim = g->heads * g->head_dim, c.ffn_dim = g->ffn;
    c.n_layers = g->layers, c.in_channels = g->in_ch, c.out_channels = g->out_ch, c.text_dim = g->text_dim;
    c.freq_dim = g->freq_dim, c.cross_attn_norm = g->cross_norm;
    int n = vd_wan_spec_count(&c);
    vd_wan_tensor_spec *sp = calloc((size_t)n, sizeof *sp);
    vd_st_write_entry *e = calloc((size_t)n, sizeof *e);
    float **data = calloc((size_t)n, sizeof *data);
    vt_rng r;
    vt_rng_seed(&r, g->seed);
    vd_wan_spec_fill(&c, g->layout, sp);
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        int64_t numel = 1;
        for (int d = 0; d < sp[i].ndim; d++) numel *= sp[i].shape[d];
        data[i] = malloc((size_t)numel * 4);
        ok = data[i] != NULL;
        if (!ok) break;
        const char *nm = sp[i].name;
        bool is_norm = strstr(nm, "norm") != NULL && strstr(nm, ".weight");
        bool is_table = strstr(nm, "scale_shift_table") || strstr(nm, "modulation");
        if (sp[i].gemm) {
            int64_t fan_in = numel / sp[i].shape[0];
            vt_fill_normal(&r, data[i], numel, 1.0f / sqrtf((float)fan_in));
        } else if (is_norm) {
            vt_fill_normal(&r, data[i], numel, 0.1f);
            for (int64_t k = 0; k < numel; k++) data[i][k] += 1.0f;
        } else if (is_table) {
            vt_fill_normal(&r, data[i], numel, 1.0f / sqrtf((float)c.dim));
        } else {
            vt_fill_normal(&r, data[i], numel, 0.05f);
        }
        // bf16-representable values: the CUDA path's weight cast is then exact and the measured error
        // is the activations' bf16 rounding alone.
        vt_round_bf16(data[i], numel);
        e[i] = (vd_st_write_entry){sp[i].name, VD_F32, sp[i].ndim, sp[i].shape, data[i]};
    }
    vd_error err = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/diffusion_pytorch_model.safetensors", dir);
    if (ok && vd_st_write(path, e, (size_t)n, NULL, &err)) {
        fprintf(stderr, "write_model: %s\n", err.msg);
        ok = false;
    }
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = ok ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f,
                "{\"_class_name\": \"WanTransformer3DModel\", \"num_attention_heads\": %d, \"attention_head_dim\": %d, "
                "\"in_channels\": %d, \"out_channels\": %d, \"text_dim\": %d, \"freq_dim\": %d, \"ffn_dim\": %d, "
                "\"num_layers\": %d, \"cross_attn_norm\": %s, \"qk_norm\": \"rms_norm_across_heads\", \"eps\": 1e-06, "
                "\"patch_size\": [1, 2, 2], \"rope_max_seq_len\": 1024}",
                c.n_heads, c.head_dim, c.in_channels, c.out_channels, c.text_dim, c.freq_dim, c.ffn_dim, c.n_layers,
                c.cross_attn_norm ? "true" : "false");
        fclose(f);
    } else {
        ok = false;
    }
    for (int i = 0; i < n; i++) free(data[i]);
    free(data);
    free(e);
    free(sp);
    return ok;
}

static void run_case(const gcase *g, vd_cuda_ctx *cu) {
    const char *dir = wt_tmpdir();
    char d[64];
    snprintf(d, sizeof d, "%s", dir ? dir : "");
    if (!dir || !write_model(g, d)) {
        printf("FAIL %s: could not write the model\n", g->name);
        vt_failures++;
        return;
    }
    vd_wan_model_files m;
    vd_wan_weights w = {0};
    vd_wan_cuda *wc = NULL;
    vd_error err = {0};
    float *lat = NULL, *ts = NULL, *ctx = NULL, *ref = NULL, *got = NULL;
    if (vd_wan_model_open(&m, d, &err)) {
        printf("FAIL %s: open: %s\n", g->name, err.msg);
        vt_failures++;
        wt_rmdir(d);
        return;
    }
    const vd_wan_config *c = &m.config;
    const int64_t n_in = g->B * c->in_channels * g->F * g->H * g->W, n_out = g->B * c->out_channels * g->F * g->H * g->W;
    const int64_t N = g->F * (g->H / 2) * (g->W / 2);
    lat = malloc((size_t)n_in * 4), ts = malloc((size_t)g->B * 4), ctx = malloc((size_t)(g->B * g->Lt * c->text_dim) * 4);
    ref = malloc((size_t)n_out * 4), got = malloc((size_t)n_out * 4);
    vt_rng r;
    vt_rng_seed(&r, g->seed + 1000);
    vt_fill_normal(&r, lat, n_in, 1.0f);
    vt_fill_normal(&r, ctx, g->B * g->Lt * c->text_dim, 1.0f);
    for (int64_t b = 0; b < g->B; b++) ts[b] = b == 0 ? 999.0f : 412.0f;
    if (vd_wan_weights_load_cpu(&w, &m, &err) ||
        vd_wan_forward_cpu(&w, lat, ts, ctx, g->B, g->F, g->H, g->W, g->Lt, NULL, ref, &err)) {
        printf("FAIL %s: cpu: %s\n", g->name, err.msg);
        vt_failures++;
        goto done;
    }
    if (vd_wan_cuda_create(&wc, cu, &m, N, g->Lt, &err)) {
        printf("FAIL %s: vd_wan_cuda_create: %s\n", g->name, err.msg);
        vt_failures++;
        goto done;
    }
    vd_wan_cuda_set_timing(wc, 1);
    if (vd_wan_cuda_forward_host(wc, lat, ts, ctx, g->B, g->F, g->H, g->W, g->Lt, NULL, got, &err)) {
        printf("FAIL %s: cuda forward: %s\n", g->name, err.msg);
        vt_failures++;
        goto done;
    }
    vd_wan_cuda_timing tm;
    vd_wan_cuda_get_timing(wc, &tm);
    double rel = wt_rel_err(got, ref, n_out);
    vt_diff df = vt_compare(got, ref, n_out);
    bool ok = rel <= 1.5e-2 && df.nmse <= 1e-4 && df.n_nonfinite_mismatch == 0;
    printf("%s %s [%s, seed %llu]: cuda vs cpu rel err %.3e (tol 1.5e-2), nmse %.3e (tol 1e-4); B %lld, %lld tokens, Lt %lld; "
           "last sample %.3f ms (self-attn %.3f, cross %.3f)\n",
           ok ? "ok  " : "FAIL", g->name, vd_wan_layout_name(m.layout), (unsigned long long)g->seed, rel, df.nmse,
           (long long)g->B, (long long)N, (long long)g->Lt, tm.total_ms, tm.self_attn_ms, tm.cross_attn_ms);
    if (!ok) {
        vt_failures++;
        vt_check(g->name, got, ref, n_out, 0, 1.5e-2);
    }
    VT_EXPECT(tm.total_ms > 0 && tm.self_attn_ms >= 0 && tm.self_attn_ms + tm.cross_attn_ms <= tm.total_ms);
    // A call larger than the plan is refused with the sizes named.
    vd_status s = vd_wan_cuda_forward_host(wc, lat, ts, ctx, 1, g->F, g->H + 2, g->W, g->Lt, NULL, got, &err);
    VT_EXPECT(s == VD_ERR_INVALID_ARG && strstr(err.msg, "planned maximum"));
done:
    vd_wan_cuda_free(wc);
    vd_wan_weights_free(&w);
    vd_wan_model_close(&m);
    free(lat), free(ts), free(ctx), free(ref), free(got);
    wt_rmdir(d);
}

int main(void) {
    if (!vt_have_gpu()) {
        printf("test_wan_dit_cuda: no CUDA device, skipped\n");
        return VD_TEST_SKIP;
    }
    vd_cuda_ctx *cu = NULL;
    vd_error err = {0};
    if (vd_cuda_ctx_create(&cu, 0, &err)) {
        printf("FAIL ctx: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) run_case(&k_cases[i], cu);
    vd_cuda_ctx_free(cu);
    return vt_finish("test_wan_dit_cuda");
}
