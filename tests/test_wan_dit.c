// Wan2.1 DiT, CPU fp32, against diffusers (fixtures from scripts/gen_dit_fixtures.py: tiny random
// configs with perturbed weights; golden output from the diffusers modules in float64).
// Parity metric: max|got - ref| / max|ref| <= 1e-4 (the bound; the fp32 diffusers run
// itself is ~6e-7 from the golden output, printed per case as the baseline).
// Also: both key layouts (and the ComfyUI prefix) give the same result, config detection, and the
// bad-input paths (missing tensor, wrong shape, unknown layout, config/weights mismatch, extra
// tensor, bad latent sizes) return errors naming the tensor and both shapes.
//
// Replay one case: VDIT_SOURCE_DIR=<repo> ./test_wan_dit d32h2l2
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dit/wan_dit.h"
#include "dit/wan_dit_cuda.h"
#include "dit/wan_weights.h"
#include "test_util.h"
#include "wan_test_util.h"

#define PARITY_TOL 1e-4

// Runs one model dir against the io of fixture `io_case`; returns the rel err (or 1e30 on error).
static double run_parity_attn(const char *model_dir, const char *io_case, vd_wan_layout want_layout, const char *label,
                              vd_attn *method) {
    char path[4096];
    snprintf(path, sizeof path, "tests/data/dit/%s/io.safetensors", io_case);
    wt_io io;
    if (!wt_io_load(&io, vt_src_path(path))) {
        VT_EXPECT(!"io fixture loads");
        return 1e30;
    }
    vd_wan_model_files m;
    vd_wan_weights w = {0};
    vd_error err = {0};
    double rel = 1e30;
    if (vd_wan_model_open(&m, model_dir, &err)) {
        printf("FAIL %s: open: %s\n", label, err.msg);
        vt_failures++;
        wt_io_free(&io);
        return rel;
    }
    VT_EXPECT(m.layout == want_layout);
    VT_EXPECT(m.config.in_channels == io.Cin && m.config.out_channels == io.Cout && m.config.text_dim == io.text_dim);
    int64_t n_out = io.B * io.Cout * io.F * io.H * io.W;
    float *out = vd_host_alloc((size_t)n_out * 4);
    vd_wan_run_info info;
    vd_wan_run_info_init(&info);
    info.self_attn = method;
    if (vd_wan_weights_load_cpu(&w, &m, &err) ||
        vd_wan_forward_cpu(&w, io.latent, io.timestep, io.context, io.B, io.F, io.H, io.W, io.Lt, &info, out, &err)) {
        printf("FAIL %s: %s\n", label, err.msg);
        vt_failures++;
    } else {
        rel = wt_rel_err(out, io.expected, n_out);
        bool ok = rel <= PARITY_TOL;
        char cfg[512];
        vd_wan_config_describe(&m.config, cfg, sizeof cfg);
        printf("%s %s [%s layout%s%s]: rel err %.3e (tol %.0e; fp32 diffusers baseline %.3e); %s; B %lld, latent %lldx%lldx%lld, Lt %lld\n",
               ok ? "ok  " : "FAIL", label, vd_wan_layout_name(m.layout), m.prefix[0] ? ", prefix " : "", m.prefix, rel,
               PARITY_TOL, io.fp32_ref_err, cfg, (long long)io.B, (long long)io.F, (long long)io.H, (long long)io.W,
               (long long)io.Lt);
        if (!ok) {
            vt_failures++;
            vt_check(label, out, io.expected, n_out, 0, 0); // prints worst element and pairs
        }
    }
    vd_host_free(out);
    vd_wan_weights_free(&w);
    vd_wan_model_close(&m);
    wt_io_free(&io);
    return rel;
}

static double run_parity(const char *model_dir, const char *io_case, vd_wan_layout want_layout, const char *label) {
    return run_parity_attn(model_dir, io_case, want_layout, label, NULL);
}

// The self-attention seam with a configured method: "dense" through vd_attn_run (method table,
// per-call context checks) must give the golden output like the direct dense call.
static void test_attention_method(void) {
    vd_attn *a = NULL;
    vd_error err = {0};
    if (vd_attn_create(&a, "dense", &err)) {
        printf("FAIL attention method: %s\n", err.msg);
        vt_failures++;
        return;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", vt_src_path("tests/data/dit/d32h2l2"));
    run_parity_attn(dir, "d32h2l2", VD_WAN_LAYOUT_DIFFUSERS, "d32h2l2 via method 'dense'", a);
    vd_attn_free(a);
}

static void test_fixtures(const char *only) {
    static const struct { const char *name; vd_wan_layout layout; } cases[] = {
        {"d32h2l2", VD_WAN_LAYOUT_DIFFUSERS}, {"d16h3l3", VD_WAN_LAYOUT_DIFFUSERS}, {"orig_d24h2l1", VD_WAN_LAYOUT_ORIG}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (only && strcmp(only, cases[i].name)) continue;
        char rel[256], dir[4096];
        snprintf(rel, sizeof rel, "tests/data/dit/%s", cases[i].name);
        snprintf(dir, sizeof dir, "%s", vt_src_path(rel)); // vt_src_path's buffer is reused by run_parity
        run_parity(dir, cases[i].name, cases[i].layout, cases[i].name);
    }
}

// Expect `s` to fail with code `code` and a message containing every needle.
static void expect_err(const char *label, vd_status s, vd_status code, const vd_error *err, const char *n1, const char *n2,
                       const char *n3) {
    bool ok = s == code && (!n1 || strstr(err->msg, n1)) && (!n2 || strstr(err->msg, n2)) && (!n3 || strstr(err->msg, n3));
    printf("%s %s: [%s] %s\n", ok ? "ok  " : "FAIL", label, vd_status_str(s), s ? err->msg : "(no error)");
    if (!ok) vt_failures++;
}

// Opens + checks + loads a model dir; returns the first failing status (err filled).
static vd_status open_check_load(const char *dir, vd_error *err) {
    vd_wan_model_files m;
    VD_TRY(vd_wan_model_open(&m, dir, err));
    vd_wan_weights w = {0};
    vd_status s = vd_wan_weights_load_cpu(&w, &m, err);
    vd_wan_weights_free(&w);
    vd_wan_model_close(&m);
    return s;
}

static const char *k_orig_cfg_d32 =
    "{\"_class_name\": \"WanModel\", \"model_type\": \"t2v\", \"dim\": 64, \"num_heads\": 2, \"in_dim\": 4, \"out_dim\": 4,"
    " \"text_dim\": 40, \"freq_dim\": 32, \"ffn_dim\": 96, \"num_layers\": 2, \"eps\": 1e-06, \"text_len\": 512}";

static void test_layouts(void) {
    const char *src = vt_src_path("tests/data/dit/d32h2l2");
    char src_dir[4096];
    snprintf(src_dir, sizeof src_dir, "%s", src);
    // diffusers -> orig names with the ComfyUI prefix and an original-style config.json
    const char *d1 = wt_tmpdir();
    wt_rewrite rw = {.layout = VD_WAN_LAYOUT_ORIG, .prefix = "model.diffusion_model.", .config_json = k_orig_cfg_d32};
    VT_EXPECT(d1 && wt_rewrite_model(src_dir, d1, &rw));
    run_parity(d1, "d32h2l2", VD_WAN_LAYOUT_ORIG, "d32h2l2 as orig+prefix");
    // orig -> diffusers names, keeping the original-style config.json
    char osrc[4096];
    snprintf(osrc, sizeof osrc, "%s", vt_src_path("tests/data/dit/orig_d24h2l1"));
    char cfgp[4200];
    snprintf(cfgp, sizeof cfgp, "%s/config.json", osrc);
    const char *ocfg = wt_read_text(cfgp);
    char ocfg_copy[4096];
    snprintf(ocfg_copy, sizeof ocfg_copy, "%s", ocfg ? ocfg : "{}");
    const char *d2 = wt_tmpdir();
    wt_rewrite rw2 = {.layout = VD_WAN_LAYOUT_DIFFUSERS, .config_json = ocfg_copy};
    VT_EXPECT(d2 && wt_rewrite_model(osrc, d2, &rw2));
    run_parity(d2, "orig_d24h2l1", VD_WAN_LAYOUT_DIFFUSERS, "orig_d24h2l1 as diffusers");
    wt_rmdir(d1);
    wt_rmdir(d2);
}

static void test_bad_inputs(void) {
    char src[4096];
    snprintf(src, sizeof src, "%s", vt_src_path("tests/data/dit/d32h2l2"));
    char cfgp[4200];
    snprintf(cfgp, sizeof cfgp, "%s/config.json", src);
    char cfg[4096];
    snprintf(cfg, sizeof cfg, "%s", wt_read_text(cfgp) ? wt_read_text(cfgp) : "{}");
    vd_error err = {0};
    const char *d = wt_tmpdir();
    VT_EXPECT(d != NULL);

    wt_rewrite rw = {.layout = VD_WAN_LAYOUT_DIFFUSERS, .config_json = cfg, .drop_name = "blocks.1.attn2.to_k.weight"};
    VT_EXPECT(wt_rewrite_model(src, d, &rw));
    expect_err("missing tensor", open_check_load(d, &err), VD_ERR_FORMAT, &err, "missing tensor", "blocks.1.attn2.to_k.weight",
               NULL);

    rw = (wt_rewrite){.layout = VD_WAN_LAYOUT_DIFFUSERS, .config_json = cfg, .shrink_name = "blocks.0.attn1.to_k.weight"};
    VT_EXPECT(wt_rewrite_model(src, d, &rw));
    expect_err("wrong shape", open_check_load(d, &err), VD_ERR_FORMAT, &err, "blocks.0.attn1.to_k.weight", "[64, 64]", "[64, 63]");

    rw = (wt_rewrite){.layout = VD_WAN_LAYOUT_ORIG, .config_json = k_orig_cfg_d32, .shrink_name = "blocks.1.ffn.net.2.weight"};
    VT_EXPECT(wt_rewrite_model(src, d, &rw));
    expect_err("wrong shape (orig names)", open_check_load(d, &err), VD_ERR_FORMAT, &err, "blocks.1.ffn.2.weight", "[64, 96]",
               "[64, 95]");

    rw = (wt_rewrite){.layout = VD_WAN_LAYOUT_DIFFUSERS, .config_json = cfg,
                      .shrink_name = "condition_embedder.text_embedder.linear_1.weight"};
    VT_EXPECT(wt_rewrite_model(src, d, &rw));
    expect_err("config vs weights (text_dim)", open_check_load(d, &err), VD_ERR_INVALID_ARG, &err,
               "condition_embedder.text_embedder.linear_1.weight", "text_dim = 40", "[64, 39]");

    // config says 3 layers, weights hold 2
    char cfg3[4096];
    snprintf(cfg3, sizeof cfg3, "%s", cfg);
    char *p = strstr(cfg3, "\"num_layers\": 2");
    VT_EXPECT(p != NULL);
    if (p) p[14] = '3';
    rw = (wt_rewrite){.layout = VD_WAN_LAYOUT_DIFFUSERS, .config_json = cfg3};
    VT_EXPECT(wt_rewrite_model(src, d, &rw));
    expect_err("config vs weights (layers)", open_check_load(d, &err), VD_ERR_INVALID_ARG, &err, "num_layers = 3", "2 blocks",
               NULL);

    rw = (wt_rewrite){.layout = VD_WAN_LAYOUT_DIFFUSERS, .config_json = cfg, .extra_name = "img_emb.proj.0.weight"};
    VT_EXPECT(wt_rewrite_model(src, d, &rw));
    expect_err("extra tensor", open_check_load(d, &err), VD_ERR_FORMAT, &err, "img_emb.proj.0.weight", NULL, NULL);

    rw = (wt_rewrite){.layout = VD_WAN_LAYOUT_DIFFUSERS, .prefix = "transformer.", .config_json = cfg};
    VT_EXPECT(wt_rewrite_model(src, d, &rw));
    expect_err("unknown layout", open_check_load(d, &err), VD_ERR_FORMAT, &err, "unknown key layout", "transformer.", NULL);

    rw = (wt_rewrite){.layout = VD_WAN_LAYOUT_DIFFUSERS, .config_json = NULL};
    VT_EXPECT(wt_rewrite_model(src, d, &rw));
    expect_err("no config, dim 64 not a multiple of 128", open_check_load(d, &err), VD_ERR_INVALID_ARG, &err, "head_dim 128",
               "config.json", NULL);

    rw = (wt_rewrite){.layout = VD_WAN_LAYOUT_DIFFUSERS, .config_json = "{\"num_attention_heads\": 2, \"attention_head_dim\": "};
    VT_EXPECT(wt_rewrite_model(src, d, &rw));
    expect_err("truncated config.json", open_check_load(d, &err), VD_ERR_FORMAT, &err, "config.json", "not valid JSON", NULL);

    rw = (wt_rewrite){.layout = VD_WAN_LAYOUT_DIFFUSERS, .config_json = "{\"image_dim\": 1280}"};
    VT_EXPECT(wt_rewrite_model(src, d, &rw));
    expect_err("I2V config", open_check_load(d, &err), VD_ERR_UNSUPPORTED, &err, "image_dim", NULL, NULL);
    wt_rmdir(d);

    // Latent sizes: patch (1, 2, 2) needs even H and W.
    vd_wan_config c;
    vd_wan_config_preset(&c, "1.3B", &err);
    expect_err("odd latent width", vd_wan_check_input(&c, 1, 21, 60, 105, 512, &err), VD_ERR_INVALID_ARG, &err, "width W = 105",
               "patch size 2", NULL);
    expect_err("zero text rows", vd_wan_check_input(&c, 1, 21, 60, 104, 0, &err), VD_ERR_INVALID_ARG, &err, "text length 0",
               NULL, NULL);
    VT_EXPECT(vd_wan_check_input(&c, 1, 21, 60, 104, 512, &err) == VD_OK);
}

// The released configs: parameter counts from wan21.md sec. 1.1 (1.419 B and 14.288 B).
static void test_presets(void) {
    vd_wan_config c;
    vd_error err = {0};
    VT_EXPECT(vd_wan_config_preset(&c, "1.3B", &err) == VD_OK);
    int64_t p13 = vd_wan_config_param_count(&c);
    VT_EXPECT(vd_wan_config_preset(&c, "14B", &err) == VD_OK);
    int64_t p14 = vd_wan_config_param_count(&c);
    printf("%s presets: 1.3B %lld params, 14B %lld params (spec: 1.419 B, 14.288 B); 825 tensors for 1.3B: %d\n",
           (p13 / 1000000 == 1418 || p13 / 1000000 == 1419) && p14 / 1000000 == 14288 ? "ok  " : "FAIL", (long long)p13,
           (long long)p14, vd_wan_spec_count(&c) - 10 * 27);
    VT_EXPECT(p13 / 1000000 == 1418 || p13 / 1000000 == 1419);
    VT_EXPECT(p14 / 1000000 == 14288);
    VT_EXPECT(vd_wan_config_preset(&c, "1.3B", &err) == VD_OK && vd_wan_spec_count(&c) == 825);
    VT_EXPECT(vd_wan_config_preset(&c, "7B", &err) == VD_ERR_INVALID_ARG);
    // GPU plan: the 14B model in bf16 at 720x1280x81 (75,600 tokens, 512 text rows) fits one 141 GB GPU.
    VT_EXPECT(vd_wan_config_preset(&c, "14B", &err) == VD_OK);
    vd_wan_cuda_plan plan;
    vd_wan_cuda_plan_for(&c, 75600, 512, &plan);
    double wgb = plan.weight_bytes / 1e9, agb = plan.arena_bytes / 1e9;
    bool fits = wgb > 28.0 && wgb < 30.0 && agb > 5.0 && agb < 8.0;
    printf("%s 14B cuda plan at 75,600 tokens: weights %.2f GB (bf16 GEMM weights, fp32 time MLP and vectors), "
           "activations %.2f GB, total %.2f GB of 141\n", fits ? "ok  " : "FAIL", wgb, agb, wgb + agb);
    VT_EXPECT(fits);
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    test_fixtures(only);
    if (!only) {
        test_layouts();
        test_attention_method();
        test_bad_inputs();
        test_presets();
    }
    return vt_finish("test_wan_dit");
}
