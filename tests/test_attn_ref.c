// CPU attention kernels against the fp64 oracle (vd_attn_masked_ref_cpu):
//  1. known answers of the oracle itself (uniform keys, one-hot mask, GQA, row scale, empty rows);
//  2. vd_attn_dense_cpu over odd / aligned / strided / GQA shapes, LSE included;
//  3. vd_attn_block_sparse_cpu with random block-CSR masks (shared, per head, per batch x head;
//     empty rows; odd tiles) and 3D window predicates, against the oracle on the expanded mask.
// Tolerance: max|kernel - oracle| <= 2 * max|naive f32 - oracle| + 1e-6 (style.md 6), per output
// and per LSE. Replay one case: test_attn_ref --case "<name printed below>".
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_attn_common.h"

static const char *g_only;   // --case filter

static bool want(const char *name) { return !g_only || !strcmp(g_only, name); }

static void check_pair(const char *what, const char *name, const float *got, const float *naive, const float *ref,
                       int64_t n) {
    double e_k = at_max_abs(got, ref, n), e_n = at_max_abs(naive, ref, n);
    double tol = 2.0 * e_n + 1e-6;
    bool ok = e_k <= tol;
    printf("%s %-5s %s: err %.3g (naive f32 %.3g, tol %.3g)\n", ok ? "ok  " : "FAIL", what, name, e_k, e_n, tol);
    if (!ok) vt_failures++;
}

// Runs `kernel` (dense or block-sparse CPU) on a case and compares with the oracle.
static void run_case(const at_case *c, const vd_block_csr *m, const vd_attn_window *win, const char *tag) {
    char name[256], cn[200];
    at_case_name(c, cn, sizeof cn);
    snprintf(name, sizeof name, "%s:%s", tag, cn);
    if (!want(name)) return;
    at_inputs in;
    at_inputs_make(&in, c, false);
    const int64_t no = (int64_t)c->B * c->N_q * c->NH * c->D, nl = (int64_t)c->B * c->NH * c->N_q;
    float *o = at_out_alloc(no), *lse = at_out_alloc(nl);
    float *o_ref = malloc(sizeof(float) * no), *lse_ref = malloc(sizeof(float) * nl);
    float *o_nv = malloc(sizeof(float) * no), *lse_nv = malloc(sizeof(float) * nl);
    float *rs = NULL;
    if (c->seed % 3 == 1) {   // every third case also exercises the per-row output scale
        rs = malloc(sizeof(float) * nl);
        vt_rng r;
        vt_rng_seed(&r, c->seed + 99);
        vt_fill_uniform(&r, rs, nl, 0.5f, 1.5f);
    }
    at_csr_mask cm = {.m = m, .win = win, .NH = c->NH};
    vd_attn_mask_fn fn = (m || win) ? at_csr_mask_fn : NULL;
    at_csr full = {0};
    if (win && !m) {   // window alone: wrap in an all-tiles CSR
        vt_rng r;
        vt_rng_seed(&r, 1);
        at_csr_random(&full, &r, 1, c->N_q, c->N_kv, 64, 64, 1.1f, false);
        m = &full.m;
        cm.m = m;
    }
    at_oracle(&in, fn, &cm, o_ref, lse_ref, rs);
    at_naive(&in, fn, &cm, o_nv, lse_nv, rs, false);

    vd_attn_params p = in.p;
    p.o = o;
    p.o_sh = c->D; p.o_sn = (int64_t)c->NH * c->D; p.o_sb = (int64_t)c->N_q * p.o_sn;
    p.lse = lse;
    p.row_scale = rs;
    vd_error err = {0};
    vd_status st = m ? vd_attn_block_sparse_cpu(&p, m, win, &err) : vd_attn_dense_cpu(&p, &err);
    if (st != VD_OK) {
        printf("FAIL %s: %s\n", name, err.msg);
        vt_failures++;
    } else {
        check_pair("out", name, o, o_nv, o_ref, no);
        check_pair("lse", name, lse, lse_nv, lse_ref, nl);
        VT_EXPECT(at_guard_ok(o, no) && at_guard_ok(lse, nl));
    }
    at_csr_free(&full);
    at_out_free(o); at_out_free(lse);
    free(o_ref); free(lse_ref); free(o_nv); free(lse_nv); free(rs);
    at_inputs_free(&in);
}

// ---- 1. oracle known answers ----------------------------------------------------------------

static bool diag_only(const void *ctx, int b, int h, int64_t i, int64_t j) { return i == j; }
static bool none_for_row0(const void *ctx, int b, int h, int64_t i, int64_t j) { return i != 0; }

static void oracle_known_answers(void) {
    // Uniform keys: every score equal -> output = mean of v, lse = s + log(N).
    at_case c = {.B = 1, .N_q = 5, .N_kv = 7, .NH = 2, .NKV = 1, .D = 64, .seed = 3};
    at_inputs in;
    at_inputs_make(&in, &c, false);
    float *k = in.kbuf;
    for (int j = 1; j < c.N_kv; j++) memcpy(k + j * in.p.k_sn, k, sizeof(float) * c.D);
    float o[5 * 2 * 64], lse[2 * 5];
    at_oracle(&in, NULL, NULL, o, lse, NULL);
    double worst = 0, worst_l = 0;
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < 5; i++) {
            double dot = 0;
            for (int d = 0; d < 64; d++) dot += (double)in.qbuf[i * in.p.q_sn + h * in.p.q_sh + d] * k[d];
            double want_lse = dot * in.p.scale + log(7.0);
            worst_l = fmax(worst_l, fabs(lse[h * 5 + i] - want_lse));
            for (int d = 0; d < 64; d++) {
                double mean = 0;
                for (int j = 0; j < 7; j++) mean += in.vbuf[j * in.p.v_sn + d];
                worst = fmax(worst, fabs(o[(i * 2 + h) * 64 + d] - mean / 7));
            }
        }
    printf("%s oracle uniform keys: |o - mean v| %.2g, |lse - (s + log N)| %.2g\n",
           worst < 1e-6 && worst_l < 1e-5 ? "ok  " : "FAIL", worst, worst_l);
    VT_EXPECT(worst < 1e-6 && worst_l < 1e-5);
    // One-hot mask (only j == i): o = v_i (GQA: kv head 0 for both query heads).
    at_oracle(&in, diag_only, NULL, o, lse, NULL);
    worst = 0;
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < 5; i++)
            for (int d = 0; d < 64; d++) worst = fmax(worst, fabs(o[(i * 2 + h) * 64 + d] - in.vbuf[i * in.p.v_sn + d]));
    printf("%s oracle one-hot mask: |o - v_i| %.2g\n", worst == 0 ? "ok  " : "FAIL", worst);
    VT_EXPECT(worst == 0);
    // Empty row -> 0 and -inf; row scale multiplies.
    float rs[10];
    for (int i = 0; i < 10; i++) rs[i] = 2.0f;
    float o2[5 * 2 * 64];
    at_oracle(&in, none_for_row0, NULL, o, lse, NULL);
    at_oracle(&in, none_for_row0, NULL, o2, NULL, rs);
    bool ok = isinf(lse[0]) && lse[0] < 0 && o[0] == 0 && o[64] == 0;
    for (int e = 2 * 64; e < 5 * 2 * 64; e++) ok = ok && fabsf(o2[e] - 2 * o[e]) <= 1e-6f * fabsf(o[e]) + 1e-7f;
    printf("%s oracle empty row (0, -inf) and row scale\n", ok ? "ok  " : "FAIL");
    VT_EXPECT(ok);
    at_inputs_free(&in);
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--case")) g_only = argv[2];
    oracle_known_answers();

    // ---- 2. dense ----
    const at_case dense_cases[] = {
        {1, 1, 1, 1, 1, 64, 1, false, 1},      {1, 113, 203, 2, 1, 64, 2, false, 1},
        {2, 130, 130, 3, 3, 128, 4, true, 1},  {1, 257, 257, 1, 1, 128, 5, false, 2},
        {1, 64, 300, 4, 2, 64, 7, true, 1},    {2, 31, 17, 2, 2, 128, 8, false, 3},
    };
    int nd = vt_sweeps(0) > 0 ? 6 : 6;
    for (int i = 0; i < nd; i++) run_case(&dense_cases[i], NULL, NULL, "dense");

    // ---- 3. block-sparse: group layouts, tiles, empty rows ----
    struct { at_case c; int groups; int tq, tk; float dens; } sp[] = {
        {{1, 300, 300, 2, 1, 64, 10, false, 1}, 1, 64, 64, 0.5f},
        {{2, 257, 257, 3, 3, 128, 11, true, 1}, 3, 128, 128, 0.4f},
        {{2, 200, 333, 2, 2, 64, 12, false, 1}, 4, 64, 128, 0.6f},
        {{1, 97, 150, 1, 1, 128, 13, false, 2}, 1, 32, 48, 0.3f},
    };
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        vt_rng r;
        vt_rng_seed(&r, sp[i].c.seed);
        at_csr csr;
        at_csr_random(&csr, &r, sp[i].groups, sp[i].c.N_q, sp[i].c.N_kv, sp[i].tq, sp[i].tk, sp[i].dens, true);
        char tag[64];
        snprintf(tag, sizeof tag, "sparse(groups=%d,tiles=%dx%d)", sp[i].groups, sp[i].tq, sp[i].tk);
        run_case(&sp[i].c, &csr.m, NULL, tag);
        at_csr_free(&csr);
    }

    // ---- 3b. windows: one frame, H != W, inward and truncated, with and without a tile mask ----
    struct { int F, Hp, Wp; vd_attn_window w; } wc[] = {
        {3, 5, 7, {{3, 5, 7}, {3, 3, 5}, true}},
        {1, 9, 13, {{1, 9, 13}, {1, 5, 4}, false}},
        {4, 6, 10, {{4, 6, 10}, {2, 7, 11}, true}},
        {4, 6, 10, {{4, 1, 60}, {4, 1, 11}, false}},   // per-frame raster band (Re-ttention style)
    };
    for (size_t i = 0; i < sizeof wc / sizeof wc[0]; i++) {
        int N = wc[i].F * wc[i].Hp * wc[i].Wp;
        at_case c = {1, N, N, 2, 1, 64, 20 + i, i % 2 == 1, 1};
        char tag[96];
        snprintf(tag, sizeof tag, "window(%dx%dx%d,size=%d/%d/%d,inward=%d)", wc[i].F, wc[i].Hp, wc[i].Wp,
                 wc[i].w.size[0], wc[i].w.size[1], wc[i].w.size[2], (int)wc[i].w.inward);
        run_case(&c, NULL, &wc[i].w, tag);
        vt_rng r;
        vt_rng_seed(&r, 40 + i);
        at_csr csr;
        at_csr_random(&csr, &r, 2, N, N, 64, 64, 0.6f, false);
        strncat(tag, "+csr", sizeof tag - strlen(tag) - 1);
        run_case(&c, &csr.m, &wc[i].w, tag);
        at_csr_free(&csr);
    }

    // NA property: inward windows give every query exactly prod(size) keys.
    {
        vd_attn_window w = {{3, 6, 8}, {2, 3, 5}, true};
        int N = 3 * 6 * 8;
        bool ok = true;
        for (int i = 0; i < N && ok; i++) {
            int cnt = 0;
            for (int j = 0; j < N; j++) cnt += vd_attn_window_allows(&w, i, j);
            ok = cnt == 2 * 3 * 5;
        }
        printf("%s window inward: every query sees exactly 30 keys\n", ok ? "ok  " : "FAIL");
        VT_EXPECT(ok);
        w.inward = false;   // truncated: the corner token (0,0,0) sees (1+1)*(1+1)*(1+2)... left=size/2
        int cnt = 0;
        for (int j = 0; j < N; j++) cnt += vd_attn_window_allows(&w, 0, j);
        // size 2: left 1, right 0 -> t in [-1, 0] -> 1; size 3: y in [-1, 1] -> 2; size 5: x in [-2, 2] -> 3
        printf("%s window truncated: corner query sees %d keys (want 6)\n", cnt == 6 ? "ok  " : "FAIL", cnt);
        VT_EXPECT(cnt == 6);
    }
    return vt_finish("test_attn_ref");
}
