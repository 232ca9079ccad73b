// Mask-building CUDA kernels (mask_build.cu) against their CPU references (mask_build.c):
// - pooling and block scores on random bf16-valued inputs (fp32 vs double sums: NMSE <= 1e-10,
//   i.e. ~1e-5 relative, the fp32 summation error over <= 128 terms);
// - top-k, cumulative threshold, head-global top-k, mask -> CSR and token permutation exactly, on whole-number
//   inputs (style.md 6: whole numbers for index logic, so every sum is exact).
// - the fused top-k mask (mask_build.h: pool Q and K -> block scores -> per-row top-k -> CSR in
//   two kernels) exactly against the CPU composition, on whole-number inputs built so that every
//   tile mean is a whole number (tile sums made divisible by the tile's token count), at small
//   odd shapes (GQA, tile_q != tile_kv, N_q != N_kv, partial tiles, D = 20 scalar path, packed
//   qkv strides), at the Wan-1.3B shape (12 heads x 256 x 256 tiles) for k = 0, 1, 26, 256, 300
//   and at the Wan-14B token count (591 x 591 tiles) for every block_rows variant;
// - the fused mask bit-identical to the single-step kernels chained on the GPU on real-valued
//   N(0,1) inputs at the 1.3B shape (same arithmetic), and that chain's top-k against the CPU
//   top-k of the same GPU scores.
// The dynamic pipeline is timed by bench/bench_attention. Exit 77 without a GPU.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention/mask_build.h"
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


// Whole-number tokens whose tile means are whole numbers: x = base(b, h, tile, d) in [-6, 6] +
// noise in [-3, 3], the last token of each tile moved so the tile's noise sum is a multiple of its
// token count (|x| <= 73: exact in bf16). x [B, N, H, D] with token stride sn, head stride D.
static void fill_whole_tiles(vt_rng *r, float *x, int64_t sb, int64_t sn, int B, int N, int H, int D, int tile) {
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t0 = 0; t0 < N; t0 += tile) {
                const int t1 = t0 + tile < N ? t0 + tile : N, cnt = t1 - t0;
                for (int d = 0; d < D; d++) {
                    const int base = (int)(vt_uniform(r) * 13) - 6;
                    int sum = 0;
                    for (int n = t0; n < t1 - 1; n++) {
                        const int e = (int)(vt_uniform(r) * 7) - 3;
                        sum += e;
                        x[b * sb + n * sn + (int64_t)h * D + d] = (float)(base + e);
                    }
                    const int m = (int)lround((double)sum / cnt);   // noise sum becomes m * cnt
                    x[b * sb + (int64_t)(t1 - 1) * sn + (int64_t)h * D + d] = (float)(base + m * cnt - sum);
                }
            }
}

// One fused case: CPU reference vs vd_attn_topk_mask_cuda for each k and block_rows in the lists.
// packed: q and k live in one [B, N, 2, H, D] buffer (token stride 2 H D; needs N_q == N_kv,
// NH == NKV), else separate contiguous tensors.
static void fused_case(const char *name, int B, int N_q, int N_kv, int NH, int NKV, int D, int tile_q, int tile_kv,
                       bool packed, const int *ks, int nk, const int *brs, int nbr, uint64_t seed) {
    const size_t mark = vd_cuda_arena_mark(&gt.arena);
    void *st = vd_cuda_ctx_stream(gt.ctx);
    vt_rng r;
    vt_rng_seed(&r, seed);
    vd_attn_topk_mask_shape s = {.B = B, .N_q = N_q, .N_kv = N_kv, .NH = NH, .NKV = NKV, .D = D, .tile_q = tile_q,
                                 .tile_kv = tile_kv, .scale = 0.088f};
    float *qh, *kh;
    int64_t nq, nkv;
    if (packed) {
        VD_ASSERT(N_q == N_kv && NH == NKV);
        s.q_sn = s.k_sn = 2LL * NH * D;
        s.q_sb = s.k_sb = (int64_t)N_q * s.q_sn;
        s.q_sh = s.k_sh = D;
        nq = (int64_t)B * s.q_sb;
        nkv = 0;
        qh = malloc(sizeof(float) * nq);
        kh = qh + NH * D;   // the k half of each token
    } else {
        s.q_sh = D, s.q_sn = (int64_t)NH * D, s.q_sb = (int64_t)N_q * s.q_sn;
        s.k_sh = D, s.k_sn = (int64_t)NKV * D, s.k_sb = (int64_t)N_kv * s.k_sn;
        nq = (int64_t)B * s.q_sb;
        nkv = (int64_t)B * s.k_sb;
        qh = malloc(sizeof(float) * nq);
        kh = malloc(sizeof(float) * nkv);
    }
    VD_ASSERT(qh && kh);
    fill_whole_tiles(&r, qh, s.q_sb, s.q_sn, B, N_q, NH, D, tile_q);
    fill_whole_tiles(&r, kh, s.k_sb, s.k_sn, B, N_kv, NKV, D, tile_kv);
    const uint16_t *dq = ag_dev_bf16(qh, nq);
    const uint16_t *dk = packed ? dq + NH * D : (const uint16_t *)ag_dev_bf16(kh, nkv);
    const int Tk = (N_kv + tile_kv - 1) / tile_kv, rows = vd_attn_topk_mask_rows(&s);
    void *ws = gt_dev(NULL, vd_attn_topk_mask_cuda_ws_bytes(&s));
    int32_t *ip = malloc(sizeof(int32_t) * (rows + 1)), *gip = malloc(sizeof(int32_t) * (rows + 1));
    int32_t *ix = malloc(sizeof(int32_t) * (size_t)rows * Tk + 1), *gix = malloc(sizeof(int32_t) * (size_t)rows * Tk + 1);
    uint8_t *m = malloc((size_t)rows * Tk), *gm = malloc((size_t)rows * Tk);
    for (int a = 0; a < nk; a++) {
        s.k = ks[a];
        const int kk = vd_attn_topk_mask_k(&s);
        GT_OK(vd_attn_topk_mask_cpu(ip, ix, m, qh, kh, &s, err));
        bool ref_ok = ip[rows] == rows * kk;   // the reference itself: exactly k per row
        for (int i = 0; i < rows; i++) ref_ok = ref_ok && ip[i] == i * kk;
        for (int b = 0; b < nbr; b++) {
            s.block_rows = brs[b];
            const size_t m2 = vd_cuda_arena_mark(&gt.arena);
            int32_t *dip = gt_dev(NULL, sizeof(int32_t) * (rows + 1)), *dix = gt_dev(NULL, sizeof(int32_t) * (size_t)rows * kk);
            uint8_t *dm = (b & 1) ? NULL : gt_dev(NULL, (size_t)rows * Tk);   // mask output on every other variant
            GT_OK(vd_attn_topk_mask_cuda(dip, dix, dm, dq, dk, &s, ws, st, err));
            gt_get(gip, dip, sizeof(int32_t) * (rows + 1), name);
            gt_get(gix, dix, sizeof(int32_t) * (size_t)rows * kk, name);
            bool ok = ref_ok && !memcmp(gip, ip, sizeof(int32_t) * (rows + 1)) &&
                      !memcmp(gix, ix, sizeof(int32_t) * (size_t)rows * kk);
            if (dm) {
                gt_get(gm, dm, (size_t)rows * Tk, name);
                ok = ok && !memcmp(gm, m, (size_t)rows * Tk);
            }
            char what[192];
            snprintf(what, sizeof what, "fused top-k mask %s k=%d block_rows=%d%s equals the CPU CSR (%d rows x %d kv tiles)",
                     name, s.k, s.block_rows, dm ? " (+mask)" : "", rows, Tk);
            report(ok, what);
            vd_cuda_arena_reset(&gt.arena, m2);
        }
    }
    vd_cuda_arena_reset(&gt.arena, mark);
    free(qh);
    if (!packed) free(kh);
    free(ip); free(gip); free(ix); free(gix); free(m); free(gm);
}

static void test_fused_exact(void) {
    const int k_small[] = {3, 0, 1, 100}, br_all[] = {0, 16, 32, 64};
    fused_case("B=2 NH=4 NKV=2 Nq=1000 Nkv=777 D=64 tiles 64/128", 2, 1000, 777, 4, 2, 64, 64, 128, false, k_small, 4, br_all,
               4, 21);
    fused_case("B=1 NH=3 N=300 D=20 (scalar pooling) tiles 128", 1, 300, 300, 3, 3, 20, 128, 128, false, k_small, 4, br_all, 2, 22);
    fused_case("B=1 NH=2 N=50 D=128 one tile", 1, 50, 50, 2, 2, 128, 128, 128, true, k_small, 3, br_all, 2, 23);
    fused_case("B=1 NH=1 N=5000 D=72 tiles 64/64 (D/8 = 9 columns of loads)", 1, 5000, 5000, 1, 1, 72, 64, 64, false, k_small, 4,
               br_all, 4, 24);
    const int k_13b[] = {26, 0, 1, 256, 300}, br_13b[] = {0, 16, 64};
    fused_case("Wan-1.3B B=1 NH=12 N=32760 D=128 (packed qkv strides)", 1, 32760, 32760, 12, 12, 128, 128, 128, true, k_13b, 5,
               br_13b, 3, 25);
    const int k_14b[] = {59};
    fused_case("Wan-14B tokens B=1 NH=2 N=75600 D=128", 1, 75600, 75600, 2, 2, 128, 128, 128, false, k_14b, 1, br_all, 4, 26);
}

// Real-valued inputs at the 1.3B shape: the fused mask is bit-identical to the single-step
// kernels chained (pool q, pool k, block scores, top-k rows, mask -> CSR), and that chain's top-k
// equals the CPU top-k of the GPU's own scores (selection is exact on given floats).
static void test_fused_vs_chain(void) {
    const int B = 1, N = 32760, H = 12, D = 128, tile = 128, T = (N + tile - 1) / tile, k = 26;
    const size_t mark = vd_cuda_arena_mark(&gt.arena);
    void *st = vd_cuda_ctx_stream(gt.ctx);
    vt_rng r;
    vt_rng_seed(&r, 31);
    const int64_t n = (int64_t)B * N * H * D, rows = (int64_t)B * H * T;
    float *x = malloc(sizeof(float) * n);
    vt_fill_normal(&r, x, n, 1);
    const uint16_t *dq = ag_dev_bf16(x, n);
    vt_fill_normal(&r, x, n, 1);
    const uint16_t *dk = ag_dev_bf16(x, n);
    free(x);
    vd_attn_topk_mask_shape s = {.q_sb = (int64_t)N * H * D, .q_sn = H * D, .q_sh = D, .k_sb = (int64_t)N * H * D,
                                 .k_sn = H * D, .k_sh = D, .B = B, .N_q = N, .N_kv = N, .NH = H, .NKV = H, .D = D,
                                 .tile_q = tile, .tile_kv = tile, .scale = 1.0f / sqrtf((float)D), .k = k};
    float *qb = gt_dev(NULL, sizeof(float) * rows * D), *kb = gt_dev(NULL, sizeof(float) * rows * D);
    float *sc = gt_dev(NULL, sizeof(float) * rows * T);
    uint8_t *dm = gt_dev(NULL, (size_t)(rows * T));
    int32_t *cip = gt_dev(NULL, sizeof(int32_t) * (rows + 1)), *cix = gt_dev(NULL, sizeof(int32_t) * rows * T);
    void *cws = gt_dev(NULL, vd_attn_mask_to_csr_cuda_ws_bytes(rows));
    GT_OK(vd_attn_pool_tiles_cuda(qb, dq, s.q_sb, s.q_sn, s.q_sh, B, N, H, D, tile, st, err));
    GT_OK(vd_attn_pool_tiles_cuda(kb, dk, s.k_sb, s.k_sn, s.k_sh, B, N, H, D, tile, st, err));
    GT_OK(vd_attn_block_scores_cuda(sc, qb, kb, B, H, H, T, T, D, s.scale, false, st, err));
    GT_OK(vd_attn_topk_rows_cuda(dm, sc, rows, T, k, st, err));
    GT_OK(vd_attn_mask_to_csr_cuda(cip, cix, dm, rows, T, cws, st, err));
    void *ws = gt_dev(NULL, vd_attn_topk_mask_cuda_ws_bytes(&s));
    int32_t *fip = gt_dev(NULL, sizeof(int32_t) * (rows + 1)), *fix = gt_dev(NULL, sizeof(int32_t) * rows * k);
    GT_OK(vd_attn_topk_mask_cuda(fip, fix, NULL, dq, dk, &s, ws, st, err));

    float *h_sc = malloc(sizeof(float) * rows * T);
    uint8_t *h_m = malloc((size_t)(rows * T)), *ref_m = malloc((size_t)(rows * T));
    int32_t *a = malloc(sizeof(int32_t) * (rows + 1)), *b = malloc(sizeof(int32_t) * (rows + 1));
    int32_t *ai = malloc(sizeof(int32_t) * rows * k), *bi = malloc(sizeof(int32_t) * rows * k);
    gt_get(h_sc, sc, sizeof(float) * rows * T, "chain scores");
    gt_get(h_m, dm, (size_t)(rows * T), "chain mask");
    vd_attn_topk_rows_cpu(ref_m, h_sc, rows, T, k);
    report(!memcmp(h_m, ref_m, (size_t)(rows * T)), "top-k rows (GPU) on real-valued 1.3B scores equals the CPU top-k of the same scores");
    gt_get(a, cip, sizeof(int32_t) * (rows + 1), "chain indptr");
    gt_get(ai, cix, sizeof(int32_t) * rows * k, "chain indices");
    gt_get(b, fip, sizeof(int32_t) * (rows + 1), "fused indptr");
    gt_get(bi, fix, sizeof(int32_t) * rows * k, "fused indices");
    report(a[rows] == rows * k && !memcmp(a, b, sizeof(int32_t) * (rows + 1)) && !memcmp(ai, bi, sizeof(int32_t) * rows * k),
           "fused top-k mask on real-valued 1.3B inputs (k=26) is bit-identical to the chained single-step kernels");
    free(h_sc); free(h_m); free(ref_m); free(a); free(b); free(ai); free(bi);
    vd_cuda_arena_reset(&gt.arena, mark);
}

// Signed zeros tie (the CPU compares floats): a row of +-0 keeps the lowest columns.
static void test_topk_signed_zero(void) {
    const size_t mark = vd_cuda_arena_mark(&gt.arena);
    void *st = vd_cuda_ctx_stream(gt.ctx);
    enum { R = 4, C = 70, K = 9 };
    float sc[R * C];
    for (int i = 0; i < R * C; i++) sc[i] = (i * 7 % 3 == 0) ? -0.0f : (i % 11 == 0 ? -1.0f : 0.0f);
    uint8_t m_ref[R * C], m_got[R * C];
    vd_attn_topk_rows_cpu(m_ref, sc, R, C, K);
    float *dsc = gt_dev(sc, sizeof sc);
    uint8_t *dm = gt_dev(NULL, sizeof m_got);
    GT_OK(vd_attn_topk_rows_cuda(dm, dsc, R, C, K, st, err));
    gt_get(m_got, dm, sizeof m_got, "topk signed zeros");
    report(!memcmp(m_got, m_ref, sizeof m_ref), "top-k rows: -0 and +0 tie as on the CPU (lowest columns kept)");
    vd_cuda_arena_reset(&gt.arena, mark);
}

int main(void) {
    if (!vt_have_gpu()) return VD_TEST_SKIP;
    gt_init((size_t)1 << 30);
    test_pool_scores();
    test_select_exact();
    test_topk_signed_zero();
    test_fused_exact();
    test_fused_vs_chain();
    gt_free();
    return vt_finish("test_attn_mask_cuda");
}
