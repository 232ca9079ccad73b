// Mask-building CUDA kernels (mask_build.cu) against their CPU references (mask_build.c):
// - pooling and block scores on random bf16-valued inputs (fp32 vs double sums: NMSE <= 1e-10,
//   i.e. ~1e-5 relative, the fp32 summation error over <= 128 terms);
// - top-k, cumulative threshold, head-global top-k, mask -> CSR and token permutation exactly, on whole-number
//   inputs (style.md 6: whole numbers for index logic, so every sum is exact).
// The dynamic pipeline (pool -> scores -> top-k -> CSR) is timed by bench/bench_attention.
// Exit 77 without a GPU.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/gpu/test_attn_gpu.h"

static void report(bool ok, const char *what) {
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) vt_failures++;
}

static void test_pool_scores(void) {
    const int B = 2, N = 1000, H = 4, NKV = 2, D = 128, tile = 128, T = (N + tile - 1) / tile;
    const size_t mark = vd_cuda_arena_mark(&gt.arena);
    vt_rng r;
    vt_rng_seed(&r, 3);
    const int64_t nq = (int64_t)B * N * H * D, nk = (int64_t)B * N * NKV * D;
    float *q = malloc(sizeof(float) * nq), *k = malloc(sizeof(float) * nk);
    vt_fill_normal(&r, q, nq, 1);
    vt_fill_normal(&r, k, nk, 1);
    vt_round_bf16(q, nq);
    vt_round_bf16(k, nk);
    float *qb = malloc(sizeof(float) * B * H * T * D), *kb = malloc(sizeof(float) * B * NKV * T * D);
    vd_attn_pool_tiles_cpu(qb, q, (int64_t)N * H * D, H * D, D, B, N, H, D, tile);
    vd_attn_pool_tiles_cpu(kb, k, (int64_t)N * NKV * D, NKV * D, D, B, N, NKV, D, tile);
    float *s_ref = malloc(sizeof(float) * B * H * T * T);
    vd_attn_block_scores_cpu(s_ref, qb, kb, B, H, NKV, T, T, D, 0.088f, true);

    void *dq = ag_dev_bf16(q, nq), *dk = ag_dev_bf16(k, nk);
    float *dqb = gt_dev(NULL, sizeof(float) * B * H * T * D), *dkb = gt_dev(NULL, sizeof(float) * B * NKV * T * D);
    float *ds = gt_dev(NULL, sizeof(float) * B * H * T * T);
    void *st = vd_cuda_ctx_stream(gt.ctx);
    GT_OK(vd_attn_pool_tiles_cuda(dqb, dq, (int64_t)N * H * D, H * D, D, B, N, H, D, tile, st, err));
    GT_OK(vd_attn_pool_tiles_cuda(dkb, dk, (int64_t)N * NKV * D, NKV * D, D, B, N, NKV, D, tile, st, err));
    GT_OK(vd_attn_block_scores_cuda(ds, dqb, dkb, B, H, NKV, T, T, D, 0.088f, true, st, err));
    float *g_qb = malloc(sizeof(float) * B * H * T * D), *g_s = malloc(sizeof(float) * B * H * T * T);
    gt_get(g_qb, dqb, sizeof(float) * B * H * T * D, "pool");
    gt_get(g_s, ds, sizeof(float) * B * H * T * T, "scores");
    VT_EXPECT(vt_check_nmse("pool tiles q (B=2,N=1000,H=4,D=128,tile=128)", g_qb, qb, (int64_t)B * H * T * D, 1e-10));
    VT_EXPECT(vt_check_nmse("block scores + row softmax (GQA 4/2)", g_s, s_ref, (int64_t)B * H * T * T, 1e-10));
    vd_cuda_arena_reset(&gt.arena, mark);
    free(q); free(k); free(qb); free(kb); free(s_ref); free(g_qb); free(g_s);
}

static void test_select_exact(void) {
    const size_t mark = vd_cuda_arena_mark(&gt.arena);
    void *st = vd_cuda_ctx_stream(gt.ctx);
    vt_rng r;
    vt_rng_seed(&r, 11);
    // Top-k: R rows of C whole-number scores in [0, 20) (many ties), several C incl. non powers of 2.
    const int Cs[] = {1, 7, 256, 591, 4096};
    for (size_t ci = 0; ci < sizeof Cs / sizeof Cs[0]; ci++) {
        const int C = Cs[ci], R = 37, k = C / 3 + 1;
        float *sc = malloc(sizeof(float) * R * C);
        for (int i = 0; i < R * C; i++) sc[i] = (float)(int)(vt_uniform(&r) * 20);
        uint8_t *m_ref = malloc((size_t)R * C), *m_got = malloc((size_t)R * C);
        vd_attn_topk_rows_cpu(m_ref, sc, R, C, k);
        float *dsc = gt_dev(sc, sizeof(float) * R * C);
        uint8_t *dm = gt_dev(NULL, (size_t)R * C);
        GT_OK(vd_attn_topk_rows_cuda(dm, dsc, R, C, k, st, err));
        gt_get(m_got, dm, (size_t)R * C, "topk");
        char what[96];
        snprintf(what, sizeof what, "top-k rows R=%d C=%d k=%d equals the CPU mask (ties included)", R, C, k);
        report(!memcmp(m_got, m_ref, (size_t)R * C), what);
        free(sc); free(m_ref); free(m_got);
    }
    // Cumulative threshold: G groups of R x C whole numbers, several tau.
    {
        const int G = 5, R = 64, C = 300;
        const int64_t n = (int64_t)G * R * C;
        float *sc = malloc(sizeof(float) * n);
        for (int64_t i = 0; i < n; i++) sc[i] = (float)(int)(vt_uniform(&r) * (vt_uniform(&r) < 0.1f ? 1000 : 10));
        float *dsc = gt_dev(sc, sizeof(float) * n);
        uint8_t *dm = gt_dev(NULL, (size_t)n);
        void *ws = gt_dev(NULL, vd_attn_cumthresh_cuda_ws_bytes(G));
        uint8_t *m_ref = malloc((size_t)n), *m_got = malloc((size_t)n);
        const float taus[] = {0.0f, 0.25f, 0.5f, 0.9f, 1.0f};
        for (size_t t = 0; t < sizeof taus / sizeof taus[0]; t++) {
            vd_attn_cumthresh_cpu(m_ref, sc, G, R, C, taus[t]);
            GT_OK(vd_attn_cumthresh_cuda(dm, dsc, G, R, C, taus[t], ws, st, err));
            gt_get(m_got, dm, (size_t)n, "cumthresh");
            int64_t kept = 0;
            for (int64_t i = 0; i < n; i++) kept += m_ref[i];
            char what[128];
            snprintf(what, sizeof what, "cumulative threshold G=%d R=%d C=%d tau=%.2f equals the CPU mask (%lld kept)", G, R, C,
                     (double)taus[t], (long long)kept);
            report(!memcmp(m_got, m_ref, (size_t)n), what);
        }
        free(sc); free(m_ref); free(m_got);
    }
    // Head-global top-k (DraftAttention's per-head select): whole numbers with negatives and ties.
    {
        const int G = 4;
        const int64_t n = 630 * 630;   // the Wan 768p draft map
        float *sc = malloc(sizeof(float) * G * n);
        for (int64_t i = 0; i < G * n; i++) sc[i] = (float)((int)(vt_uniform(&r) * 2000) - 1000);
        float *dsc = gt_dev(sc, sizeof(float) * G * n);
        uint8_t *dm = gt_dev(NULL, (size_t)(G * n));
        void *ws = gt_dev(NULL, vd_attn_topk_global_cuda_ws_bytes(G));
        uint8_t *m_ref = malloc((size_t)(G * n)), *m_got = malloc((size_t)(G * n));
        const int64_t ks[] = {0, 1, n / 4, n - 1, n};
        for (int t = 0; t < 5; t++) {
            vd_attn_topk_global_cpu(m_ref, sc, G, n, ks[t]);
            GT_OK(vd_attn_topk_global_cuda(dm, dsc, G, n, ks[t], ws, st, err));
            gt_get(m_got, dm, (size_t)(G * n), "topk_global");
            char what[128];
            snprintf(what, sizeof what, "head-global top-k G=%d n=%lld k=%lld equals the CPU mask", G, (long long)n, (long long)ks[t]);
            report(!memcmp(m_got, m_ref, (size_t)(G * n)), what);
        }
        free(sc); free(m_ref); free(m_got);
    }
    // Mask -> CSR.
    {
        const int64_t rows = 3000;
        const int C = 257;
        uint8_t *m = malloc((size_t)rows * C);
        for (int64_t i = 0; i < rows * C; i++) m[i] = vt_uniform(&r) < (i / C % 10 == 0 ? 0.0f : 0.3f);
        int32_t *ip = malloc(sizeof(int32_t) * (rows + 1)), *ix = malloc(sizeof(int32_t) * rows * C);
        int64_t nnz = vd_attn_mask_to_csr_cpu(ip, ix, m, rows, C);
        uint8_t *dm = gt_dev(m, (size_t)rows * C);
        int32_t *dip = gt_dev(NULL, sizeof(int32_t) * (rows + 1)), *dix = gt_dev(NULL, sizeof(int32_t) * rows * C);
        void *ws = gt_dev(NULL, vd_attn_mask_to_csr_cuda_ws_bytes(rows));
        GT_OK(vd_attn_mask_to_csr_cuda(dip, dix, dm, rows, C, ws, st, err));
        int32_t *gip = malloc(sizeof(int32_t) * (rows + 1)), *gix = malloc(sizeof(int32_t) * rows * C);
        gt_get(gip, dip, sizeof(int32_t) * (rows + 1), "csr indptr");
        gt_get(gix, dix, sizeof(int32_t) * rows * C, "csr indices");
        report(!memcmp(gip, ip, sizeof(int32_t) * (rows + 1)) && !memcmp(gix, ix, sizeof(int32_t) * nnz),
               "mask -> CSR rows=3000 C=257 (empty rows every 10th) equals the CPU CSR");
        free(m); free(ip); free(ix); free(gip); free(gix);
    }
    // Token gather / scatter (bf16 bits copied exactly), row not a multiple of 8 and one that is.
    const int64_t rows_el[] = {12 * 128, 13};
    for (int t = 0; t < 2; t++) {
        const int B = 2;
        const int64_t N = 1001, row = rows_el[t];
        int32_t *perm = malloc(sizeof(int32_t) * N);
        for (int64_t i = 0; i < N; i++) perm[i] = (int32_t)i;
        for (int64_t i = N - 1; i > 0; i--) {
            int64_t j = (int64_t)(vt_uniform(&r) * (i + 1));
            int32_t tmp = perm[i]; perm[i] = perm[j]; perm[j] = tmp;
        }
        uint16_t *x = malloc(sizeof(uint16_t) * B * N * row), *g = malloc(sizeof(uint16_t) * B * N * row);
        for (int64_t i = 0; i < B * N * row; i++) x[i] = (uint16_t)(i * 2654435761u >> 16);
        uint16_t *dx = gt_dev(x, sizeof(uint16_t) * B * N * row), *dg = gt_dev(NULL, sizeof(uint16_t) * B * N * row),
                 *db = gt_dev(NULL, sizeof(uint16_t) * B * N * row);
        int32_t *dp = gt_dev(perm, sizeof(int32_t) * N);
        GT_OK(vd_attn_gather_tokens_cuda(dg, dx, dp, B, N, row, st, err));
        GT_OK(vd_attn_scatter_tokens_cuda(db, dg, dp, B, N, row, st, err));
        gt_get(g, dg, sizeof(uint16_t) * B * N * row, "gather");
        bool ok = true;
        for (int b = 0; b < B && ok; b++)
            for (int64_t i = 0; i < N && ok; i++) ok = !memcmp(g + (b * N + i) * row, x + (b * N + perm[i]) * row, 2 * row);
        gt_get(g, db, sizeof(uint16_t) * B * N * row, "scatter");
        ok = ok && !memcmp(g, x, sizeof(uint16_t) * B * N * row);
        char what[96];
        snprintf(what, sizeof what, "token gather/scatter B=2 N=1001 row=%lld: rows moved, round trip identity", (long long)row);
        report(ok, what);
        free(perm); free(x); free(g);
    }
    vd_cuda_arena_reset(&gt.arena, mark);
}

int main(void) {
    if (!vt_have_gpu()) return VD_TEST_SKIP;
    gt_init((size_t)1 << 30);
    test_pool_scores();
    test_select_exact();
    gt_free();
    return vt_finish("test_attn_mask_cuda");
}
