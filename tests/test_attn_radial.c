// Radial Attention (radial_mask.c, radial.c) and the method interface (registry, config):
//  1. mask densities against the independent values of design/methods/radial.md c.7;
//  2. the card's worked example (w = 204.8: +1 tile kept, +2 tile dropped), symmetry for
//     i, j >= 1, every diagonal tile kept, the 3x3 frame neighbourhood dense, no empty row for
//     token counts that are not multiples of the tile;
//  3. the method's CPU run against the oracle on the expanded token mask (aligned and unaligned
//     frames, N % tile != 0), the dense schedule (steps and layers), the support check;
//  4. config: JSON preset, key=value overrides, and the errors of bad input.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention/radial.h"
#include "test_attn_common.h"

static vd_radial_cfg cfg_with(float decay, int model, bool d1_half) {
    vd_radial_cfg c;
    vd_radial_cfg_init(&c);
    c.decay = decay;
    c.model = model;
    c.d1_half = d1_half;
    return c;
}

static void test_densities(void) {
    // Card c.7 (values to 0.1 %): kept-tile fractions, tile 128.
    struct { int F, s; float decay; int model; bool d1_half; double want; } k[] = {
        {18, 3840, 0.2f, VD_RADIAL_MODEL_WAN, false, 0.287},
        {18, 3840, 0.01f, VD_RADIAL_MODEL_WAN, false, 0.287},
        {18, 3840, 1.0f, VD_RADIAL_MODEL_WAN, false, 0.431},
        {18, 3840, 0.2f, VD_RADIAL_MODEL_WAN, true, 0.263},
        {21, 1664, 0.2f, VD_RADIAL_MODEL_WAN, false, 0.356},
        {30, 3840, 0.95f, VD_RADIAL_MODEL_HUNYUAN, false, 0.275},
        {128, 3600, 0.95f, VD_RADIAL_MODEL_HUNYUAN, false, 0.107},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        vd_radial_cfg c = cfg_with(k[i].decay, k[i].model, k[i].d1_half);
        double d = vd_radial_density(k[i].F, k[i].s, &c);
        bool ok = fabs(d - k[i].want) <= 0.0005 + 1e-9;
        printf("%s radial density F=%d s=%d decay=%g model=%s d1_half=%d: %.4f (card %.3f)\n", ok ? "ok  " : "FAIL",
               k[i].F, k[i].s, (double)k[i].decay, k[i].model ? "hunyuan" : "wan", (int)k[i].d1_half, d, k[i].want);
        VT_EXPECT(ok);
    }
    // The exact count behind 28.7 %: sink column 18*900 + 50 full pairs * 900 + 256 banded pairs * 88
    // tiles (3 tile diagonals: 30 + 29 + 29) = 83,728 of 540^2.
    vd_radial_cfg c = cfg_with(0.2f, VD_RADIAL_MODEL_WAN, false);
    uint8_t *m = malloc(540 * 540);
    int64_t kept = vd_radial_tile_mask(m, 18, 3840, &c);
    printf("%s radial kept tiles F=18 s=3840: %lld (want 83728)\n", kept == 83728 ? "ok  " : "FAIL", (long long)kept);
    VT_EXPECT(kept == 83728);
    // Worked example, pair (i=5, j=7), d = 2, w = 204.8: the +1 tile keeps (86 of 128 columns pass),
    // the +2 tile drops (34 of 76). Tiles are frame-aligned: frame f starts at tile 30 f.
    int a = 5 * 30 + 3, b = 7 * 30 + 3;
    bool ok = m[a * 540 + b] && m[a * 540 + b + 1] && m[a * 540 + b - 1] && !m[a * 540 + b + 2] && !m[a * 540 + b - 2];
    printf("%s radial worked example: d=2 pair keeps 3 tile diagonals, not the +-2 tiles\n", ok ? "ok  " : "FAIL");
    VT_EXPECT(ok);
    // Symmetry for frames >= 1 (aligned), every diagonal tile, the 3x3 frame neighbourhood dense.
    bool sym = true, diag = true, nb = true;
    for (int i = 0; i < 540; i++) {
        diag = diag && m[i * 540 + i];
        for (int j = 30; j < 540; j++) {
            if (i >= 30) sym = sym && m[i * 540 + j] == m[j * 540 + i];
            if (abs(i / 30 - j / 30) <= 1) nb = nb && m[i * 540 + j];
        }
    }
    printf("%s radial structure: symmetric for frames >= 1 (%d), diagonal kept (%d), |i-j| <= 1 dense (%d)\n",
           sym && diag && nb ? "ok  " : "FAIL", sym, diag, nb);
    VT_EXPECT(sym && diag && nb);
    free(m);
    // Wan 480p (s = 1560, N = 32,760 = 255.9 tiles): every query tile row keeps its diagonal and the
    // sink; density printed for the benchmark notes.
    int T = (21 * 1560 + 127) / 128;
    m = malloc((size_t)T * T);
    kept = vd_radial_tile_mask(m, 21, 1560, &c);
    ok = T == 256;
    for (int i = 0; i < T; i++) ok = ok && m[i * T + i] && m[i * T + 0];
    printf("%s radial Wan 480p (F=21 s=1560, N %% 128 = %d): %d tiles, density %.4f, no empty row\n",
           ok ? "ok  " : "FAIL", 32760 % 128, T, kept / (double)T / T);
    VT_EXPECT(ok);
    free(m);
}

// Expanded token mask of a radial tile mask (shared by every head).
typedef struct { const uint8_t *m; int T, tile; } tile_mask;
static bool tile_mask_fn(const void *ctx, int b, int h, int64_t i, int64_t j) {
    const tile_mask *t = ctx;
    return t->m[(i / t->tile) * t->T + j / t->tile];
}

static void run_radial_case(int F, int Hp, int Wp, int tile, uint64_t seed) {
    vd_error err = {0};
    vd_attn *a = NULL;
    VT_EXPECT(vd_attn_create(&a, "radial", &err) == VD_OK);
    char kv[32];
    snprintf(kv, sizeof kv, "tile=%d", tile);
    VT_EXPECT(vd_attn_set(a, kv, &err) == VD_OK);
    const vd_radial_cfg *rc = vd_attn_get_cfg(a);
    const int s = Hp * Wp, N = F * s, T = (N + tile - 1) / tile;
    at_case c = {.B = 1, .N_q = N, .N_kv = N, .NH = 2, .NKV = 1, .D = 64, .seed = seed};
    at_inputs in;
    at_inputs_make(&in, &c, false);
    const int64_t no = (int64_t)N * 2 * 64, nl = 2 * (int64_t)N;
    float *o = at_out_alloc(no), *lse = at_out_alloc(nl), *o_ref = malloc(sizeof(float) * no),
          *lse_ref = malloc(sizeof(float) * nl), *o_nv = malloc(sizeof(float) * no), *lse_nv = malloc(sizeof(float) * nl);
    uint8_t *m = malloc((size_t)T * T);
    int64_t kept = vd_radial_tile_mask(m, F, s, rc);
    tile_mask tm = {m, T, tile};
    at_oracle(&in, tile_mask_fn, &tm, o_ref, lse_ref, NULL);
    at_naive(&in, tile_mask_fn, &tm, o_nv, lse_nv, NULL, false);
    vd_attn_params p = in.p;
    p.o = o;
    p.o_sh = 64; p.o_sn = 128; p.o_sb = (int64_t)N * 128;
    p.lse = lse;
    vd_attn_ctx ctx = {.layer = 3, .n_layers = 30, .step = 20, .n_steps = 50, .timestep = 500, .F = F, .Hp = Hp, .Wp = Wp};
    vd_status st = vd_attn_run(a, &p, &ctx, NULL, NULL, &err);
    double e_k = at_max_abs(o, o_ref, no), e_n = at_max_abs(o_nv, o_ref, no);
    double l_k = at_max_abs(lse, lse_ref, nl), l_n = at_max_abs(lse_nv, lse_ref, nl);
    bool ok = st == VD_OK && e_k <= 2 * e_n + 1e-6 && l_k <= 2 * l_n + 1e-6 && at_guard_ok(o, no);
    printf("%s radial run_cpu F=%d Hp=%d Wp=%d tile=%d (density %.3f): out err %.2g (naive %.2g), lse err %.2g (naive %.2g) %s\n",
           ok ? "ok  " : "FAIL", F, Hp, Wp, tile, kept / (double)T / T, e_k, e_n, l_k, l_n, st == VD_OK ? "" : err.msg);
    VT_EXPECT(ok);
    VT_EXPECT(kept < (int64_t)T * T);   // the case must actually be sparse

    // Dense schedule: step < dense_steps or layer < dense_layers -> exactly the dense kernel.
    float *o_dense = malloc(sizeof(float) * no);
    vd_attn_params pd = p;
    pd.o = o_dense;
    pd.lse = NULL;
    VT_EXPECT(vd_attn_dense_cpu(&pd, &err) == VD_OK);
    vd_attn_ctx early = ctx, first = ctx;
    early.step = rc->dense_steps - 1;
    first.layer = 0;
    p.lse = NULL;
    bool dense_ok = true;
    for (int k = 0; k < 2; k++) {
        VT_EXPECT(vd_attn_run(a, &p, k ? &first : &early, NULL, NULL, &err) == VD_OK);
        dense_ok = dense_ok && !memcmp(o, o_dense, sizeof(float) * no);
    }
    printf("%s radial dense schedule: step %d (< %d) and layer 0 (< %d) equal the dense kernel\n",
           dense_ok ? "ok  " : "FAIL", early.step, rc->dense_steps, rc->dense_layers);
    VT_EXPECT(dense_ok);

    // Support check: a grid that does not match N.
    vd_attn_ctx bad = ctx;
    bad.Wp = Wp + 1;
    st = vd_attn_run(a, &p, &bad, NULL, NULL, &err);
    printf("%s radial check: wrong grid -> %s: %s\n", st == VD_ERR_UNSUPPORTED ? "ok  " : "FAIL", vd_status_str(st), err.msg);
    VT_EXPECT(st == VD_ERR_UNSUPPORTED);

    free(o_dense);
    free(m);
    at_out_free(o); at_out_free(lse);
    free(o_ref); free(lse_ref); free(o_nv); free(lse_nv);
    at_inputs_free(&in);
    vd_attn_free(a);
}

static void expect_err(vd_status got, vd_status want, const char *what, const vd_error *err) {
    bool ok = got == want;
    printf("%s config: %s -> %s: %s\n", ok ? "ok  " : "FAIL", what, vd_status_str(got), err->msg);
    VT_EXPECT(ok);
}

static void test_config(void) {
    vd_error err = {0};
    vd_attn *a = NULL;
    VT_EXPECT(vd_attn_create(&a, "radial", &err) == VD_OK);
    const vd_radial_cfg *c = vd_attn_get_cfg(a);
    VT_EXPECT(c->dense_steps == 12 && c->dense_layers == 1 && fabsf(c->decay - 0.2f) < 1e-7f && c->tile == 128);
    vd_status st = vd_attn_load_preset(a, vt_src_path("configs/attention/radial.json"), &err);
    printf("%s config: configs/attention/radial.json loads (%s)\n", st == VD_OK ? "ok  " : "FAIL", st == VD_OK ? "" : err.msg);
    VT_EXPECT(st == VD_OK);
    VT_EXPECT(vd_attn_load_json(a, "{\"method\":\"radial\",\"params\":{\"decay\":1.0,\"model\":\"hunyuan\"},\"dense_steps\":2}",
                                "inline", &err) == VD_OK);
    VT_EXPECT(fabsf(c->decay - 1.0f) < 1e-7f && c->model == VD_RADIAL_MODEL_HUNYUAN && c->dense_steps == 2);
    VT_EXPECT(vd_attn_set(a, "d1_half=true", &err) == VD_OK && c->d1_half);
    VT_EXPECT(vd_attn_set(a, "dense_layers=2", &err) == VD_OK && c->dense_layers == 2);
    expect_err(vd_attn_set(a, "tile=96", &err), VD_ERR_INVALID_ARG, "tile=96", &err);
    expect_err(vd_attn_set(a, "decay=-1", &err), VD_ERR_INVALID_ARG, "decay=-1", &err);
    expect_err(vd_attn_set(a, "dense_steps=abc", &err), VD_ERR_INVALID_ARG, "dense_steps=abc", &err);
    expect_err(vd_attn_set(a, "model=mochi", &err), VD_ERR_INVALID_ARG, "model=mochi", &err);
    expect_err(vd_attn_set(a, "windw=3", &err), VD_ERR_INVALID_ARG, "unknown key", &err);
    expect_err(vd_attn_set(a, "decay", &err), VD_ERR_INVALID_ARG, "no '='", &err);
    expect_err(vd_attn_load_json(a, "{\"method\":\"dense\"}", "inline", &err), VD_ERR_INVALID_ARG, "preset of another method", &err);
    expect_err(vd_attn_load_json(a, "{\"decay\": 0.2,", "inline", &err), VD_ERR_FORMAT, "truncated JSON", &err);
    expect_err(vd_attn_load_json(a, "{\"dense_steps\": 1.5}", "inline", &err), VD_ERR_INVALID_ARG, "non-integer int", &err);
    expect_err(vd_attn_load_json(a, "{\"d1_half\": 1}", "inline", &err), VD_ERR_INVALID_ARG, "number for a bool", &err);
    expect_err(vd_attn_load_preset(a, "/nonexistent/radial.json", &err), VD_ERR_IO, "missing preset file", &err);
    vd_attn_free(a);
    expect_err(vd_attn_create(&a, "nope", &err), VD_ERR_INVALID_ARG, "unknown method", &err);
    const vd_attn_method *m = NULL;
    VT_EXPECT(vd_attn_select("auto", NULL, NULL, &m, &err) == VD_OK && m && !strcmp(m->name, "dense"));
    VT_EXPECT(vd_attn_method_find("radial") == &vd_attn_method_radial);
    // Every method in the registry has its preset, and the preset loads.
    for (int i = 0; i < vd_attn_method_count(); i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "configs/attention/%s.json", vd_attn_method_at(i)->name);
        VT_EXPECT(vd_attn_create(&a, vd_attn_method_at(i)->name, &err) == VD_OK);
        st = vd_attn_load_preset(a, vt_src_path(rel), &err);
        printf("%s config: %s loads (%s)\n", st == VD_OK ? "ok  " : "FAIL", rel, st == VD_OK ? "" : err.msg);
        VT_EXPECT(st == VD_OK);
        vd_attn_free(a);
    }
}

int main(void) {
    test_densities();
    run_radial_case(9, 4, 16, 64, 1);    // s = 64: frames aligned to 64-token tiles, frequency cut active (d = 3 dropped)
    run_radial_case(7, 5, 13, 64, 2);    // s = 65, N = 455: frames straddle tiles, partial last tile
    test_config();
    return vt_finish("test_attn_radial");
}
