// Mask-building references (mask_build.c) against hand-computed answers and brute-force
// definitions: tile pooling, block scores, per-row top-k (tie rule), head-global cumulative
// threshold (O(n^2) brute force over candidate thresholds), head-global top-k, mask -> CSR,
// token permutation.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_attn_common.h"

static void test_pool(void) {
    // One batch item, one head, D = 2, N = 7, tile 3: x[n] = (n, -2n) -> means (1, 4, 6) and (-2, -8, -12).
    float x[14], out[6];
    for (int n = 0; n < 7; n++) { x[2 * n] = (float)n; x[2 * n + 1] = -2.0f * n; }
    vd_attn_pool_tiles_cpu(out, x, 14, 2, 2, 1, 7, 1, 2, 3);
    const float want[6] = {1, -2, 4, -8, 6, -12};
    bool ok = !memcmp(out, want, sizeof want);
    printf("%s pool tiles: N=7 tile=3 partial last tile divides by its count\n", ok ? "ok  " : "FAIL");
    VT_EXPECT(ok);
}

static void test_scores(void) {
    // B=1, NH=2, NKV=1 (GQA), Tq=2, Tk=3, D=2, scale 0.5.
    const float qbar[] = {1, 0, 0, 1, /* head 1 */ 1, 1, 2, 0};
    const float kbar[] = {1, 2, 3, 4, 5, 6};
    float s[12];
    vd_attn_block_scores_cpu(s, qbar, kbar, 1, 2, 1, 2, 3, 2, 0.5f, false);
    const float want[12] = {0.5f, 1.5f, 2.5f, 1, 2, 3, 1.5f, 3.5f, 5.5f, 1, 3, 5};
    bool ok = !memcmp(s, want, sizeof want);
    printf("%s block scores: hand-computed 2x3 maps, GQA head mapping\n", ok ? "ok  " : "FAIL");
    VT_EXPECT(ok);
    vd_attn_block_scores_cpu(s, qbar, kbar, 1, 2, 1, 2, 3, 2, 0.5f, true);
    double worst = 0;
    for (int r = 0; r < 4; r++) {
        double sum = 0;
        for (int j = 0; j < 3; j++) sum += s[r * 3 + j];
        worst = fmax(worst, fabs(sum - 1));
    }
    // row 0 = softmax(0.5, 1.5, 2.5): first entry 1 / (1 + e + e^2)
    double e0 = 1.0 / (1 + exp(1.0) + exp(2.0));
    ok = worst < 1e-6 && fabs(s[0] - e0) < 1e-6;
    printf("%s block scores softmax: rows sum to 1 (%.1g), s[0] = %.6f (want %.6f)\n", ok ? "ok  " : "FAIL", worst, s[0], e0);
    VT_EXPECT(ok);
}

static void test_topk(void) {
    const float row[] = {3, 5, 5, 1, -2, 5};
    uint8_t m[6];
    vd_attn_topk_rows_cpu(m, row, 1, 6, 2);
    const uint8_t want2[] = {0, 1, 1, 0, 0, 0};   // three 5s: the two lowest columns win
    bool ok = !memcmp(m, want2, 6);
    vd_attn_topk_rows_cpu(m, row, 1, 6, 4);
    const uint8_t want4[] = {1, 1, 1, 0, 0, 1};
    ok = ok && !memcmp(m, want4, 6);
    vd_attn_topk_rows_cpu(m, row, 1, 6, 9);   // clamped to C
    for (int i = 0; i < 6; i++) ok = ok && m[i];
    vd_attn_topk_rows_cpu(m, row, 1, 6, 0);
    for (int i = 0; i < 6; i++) ok = ok && !m[i];
    printf("%s top-k: ties to the lower column, k clamped to [0, C]\n", ok ? "ok  " : "FAIL");
    VT_EXPECT(ok);
    // Random whole-number rows: exactly k kept, every kept >= every dropped.
    vt_rng r;
    vt_rng_seed(&r, 5);
    enum { R = 40, C = 37 };
    float sc[R * C];
    uint8_t mk[R * C];
    for (int i = 0; i < R * C; i++) sc[i] = (float)(int)(vt_uniform(&r) * 10);
    vd_attn_topk_rows_cpu(mk, sc, R, C, 11);
    ok = true;
    for (int i = 0; i < R; i++) {
        int cnt = 0;
        float min_kept = INFINITY, max_drop = -INFINITY;
        for (int j = 0; j < C; j++) {
            cnt += mk[i * C + j];
            if (mk[i * C + j]) min_kept = fminf(min_kept, sc[i * C + j]);
            else max_drop = fmaxf(max_drop, sc[i * C + j]);
        }
        ok = ok && cnt == 11 && min_kept >= max_drop;
    }
    printf("%s top-k random: 40 rows keep exactly 11, kept >= dropped\n", ok ? "ok  " : "FAIL");
    VT_EXPECT(ok);
}

// Brute force: t = max{v in x : sum_{y >= v} y >= tau * total}; if none, min(x).
static float brute_thresh(const float *x, int64_t n, float tau) {
    double total = 0;
    for (int64_t i = 0; i < n; i++) total += x[i];
    float best = INFINITY, mn = INFINITY;
    bool found = false;
    for (int64_t i = 0; i < n; i++) {
        mn = fminf(mn, x[i]);
        double s = 0;
        for (int64_t j = 0; j < n; j++) if (x[j] >= x[i]) s += x[j];
        if (s >= (double)tau * total && (!found || x[i] > best)) { best = x[i]; found = true; }
    }
    return found ? best : mn;
}

static void test_cumthresh(void) {
    const float x[] = {4, 3, 2, 1};
    uint8_t m[4];
    struct { float tau; uint8_t want[4]; } cases[] = {
        {0.5f, {1, 1, 0, 0}}, {0.0f, {1, 0, 0, 0}}, {1.0f, {1, 1, 1, 1}}, {0.375f, {1, 0, 0, 0}}, {0.71f, {1, 1, 1, 0}},
    };
    bool ok = true;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        vd_attn_cumthresh_cpu(m, x, 1, 1, 4, cases[c].tau);
        ok = ok && !memcmp(m, cases[c].want, 4);
    }
    const float ties[] = {2, 1, 2};
    vd_attn_cumthresh_cpu(m, ties, 1, 1, 3, 0.5f);
    ok = ok && m[0] && m[2] && !m[1];
    printf("%s cumulative threshold: hand cases (tau 0, 0.375, 0.5, 0.71, 1; ties kept together)\n", ok ? "ok  " : "FAIL");
    VT_EXPECT(ok);
    // Random groups vs brute force.
    vt_rng r;
    vt_rng_seed(&r, 9);
    enum { G = 3, R = 6, C = 9 };
    float sc[G * R * C];
    uint8_t mk[G * R * C];
    for (int i = 0; i < G * R * C; i++) sc[i] = (float)(int)(vt_uniform(&r) * 20);
    ok = true;
    for (int t = 0; t <= 10; t++) {
        float tau = t / 10.0f;
        vd_attn_cumthresh_cpu(mk, sc, G, R, C, tau);
        for (int g = 0; g < G; g++) {
            float th = brute_thresh(sc + g * R * C, R * C, tau);
            for (int i = 0; i < R * C; i++) ok = ok && mk[g * R * C + i] == (sc[g * R * C + i] >= th);
        }
    }
    printf("%s cumulative threshold: 3 groups x 11 taus match the brute force\n", ok ? "ok  " : "FAIL");
    VT_EXPECT(ok);
}

static void test_topk_global(void) {
    const float x[] = {-1, 5, 3, 5, 0, -7};
    uint8_t m[6];
    struct { int64_t k; uint8_t want[6]; } cases[] = {
        {0, {0, 0, 0, 0, 0, 0}}, {1, {0, 1, 0, 1, 0, 0}},   // the 1st largest is 5: both 5s (ties)
        {3, {0, 1, 1, 1, 0, 0}}, {5, {1, 1, 1, 1, 1, 0}}, {9, {1, 1, 1, 1, 1, 1}},
    };
    bool ok = true;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        vd_attn_topk_global_cpu(m, x, 1, 6, cases[c].k);
        ok = ok && !memcmp(m, cases[c].want, 6);
    }
    // Random groups (negative values, ties) vs counting: kept = {x >= v} with v the smallest value
    // such that #{y >= v} >= k, i.e. the k-th largest.
    vt_rng r;
    vt_rng_seed(&r, 13);
    enum { G = 3, n = 50 };
    float sc[G * n];
    uint8_t mk[G * n];
    for (int i = 0; i < G * n; i++) sc[i] = (float)((int)(vt_uniform(&r) * 30) - 15);
    for (int64_t k = 1; k <= n; k += 7) {
        vd_attn_topk_global_cpu(mk, sc, G, n, k);
        for (int g = 0; g < G; g++) {
            float kth = INFINITY;
            for (int i = 0; i < n; i++) {   // largest v with #{y >= v} >= k
                int cnt = 0;
                for (int j = 0; j < n; j++) cnt += sc[g * n + j] >= sc[g * n + i];
                if (cnt >= k && (kth == INFINITY || sc[g * n + i] > kth)) kth = sc[g * n + i];
            }
            for (int i = 0; i < n; i++) ok = ok && mk[g * n + i] == (sc[g * n + i] >= kth);
        }
    }
    printf("%s head-global top-k: hand cases (k 0, 1 with ties, 3, 5, > n) and 3 groups x 8 k vs counting\n",
           ok ? "ok  " : "FAIL");
    VT_EXPECT(ok);
}

static void test_csr_and_permute(void) {
    const uint8_t m[] = {0, 1, 1, 0, /**/ 0, 0, 0, 0, /**/ 1, 0, 0, 1};
    int32_t indptr[4], idx[12];
    int64_t nnz = vd_attn_mask_to_csr_cpu(indptr, idx, m, 3, 4);
    bool ok = nnz == 4 && indptr[0] == 0 && indptr[1] == 2 && indptr[2] == 2 && indptr[3] == 4 && idx[0] == 1 &&
              idx[1] == 2 && idx[2] == 0 && idx[3] == 3;
    printf("%s mask -> CSR: hand case with an empty row\n", ok ? "ok  " : "FAIL");
    VT_EXPECT(ok);
    enum { B = 2, N = 5, ROW = 3 };
    const int32_t perm[N] = {3, 0, 4, 1, 2};
    float x[B * N * ROW], g[B * N * ROW], back[B * N * ROW];
    for (int i = 0; i < B * N * ROW; i++) x[i] = (float)i;
    vd_attn_gather_tokens_cpu(g, x, perm, B, N, ROW);
    vd_attn_scatter_tokens_cpu(back, g, perm, B, N, ROW);
    ok = !memcmp(back, x, sizeof x) && g[0] == x[3 * ROW] && g[(N + 1) * ROW] == x[(N + 0) * ROW];
    printf("%s token gather/scatter: known rows, round trip is the identity\n", ok ? "ok  " : "FAIL");
    VT_EXPECT(ok);
}

int main(void) {
    test_pool();
    test_scores();
    test_topk();
    test_cumthresh();
    test_topk_global();
    test_csr_and_permute();
    return vt_finish("test_attn_mask");
}
