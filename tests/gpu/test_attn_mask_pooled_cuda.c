// The block mask from pre-pooled tiles (vd_attn_topk_mask_pooled_cuda, attention/mask_build.h):
// - bit-identical to the fused builder vd_attn_topk_mask_cuda given the same pooled inputs (the
//   tiles pooled by vd_attn_pool_tiles_cuda, the fused builder's own pooling kernel), CSR and
//   dense mask, for k = 0, 1, a few, T_kv and > T_kv and every block_rows variant, on random
//   N(0, 1) bf16 inputs: GQA, B = 2, N_q != N_kv, tile_q != tile_kv, partial tiles, one tile,
//   D = 20 (scalar pooling path), and the Wan-1.3B shape (12 heads x 256 x 256 tiles);
// - exactly the CPU reference vd_attn_topk_mask_pooled_cpu on whole-number pooled tiles (every
//   score exact in fp32, so the comparison is exact and independent of the fused path);
// - argument errors (NULL pooled input, bad block_rows) as VD_ERR_INVALID_ARG.
// Exit 77 without a GPU.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention/attention.h"
#include "attention/mask_build.h"
#include "lib/dtype.h"
#include "tests/gpu/gpu_util.h"

static void report(bool ok, const char *what) {
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) vt_failures++;
}

static void *dev_bf16(vt_rng *g, int64_t n) {
    float *x = malloc(sizeof(float) * n);
    uint16_t *h = malloc(sizeof(uint16_t) * n);
    VD_ASSERT(x && h);
    vt_fill_normal(g, x, n, 1.0f);
    for (int64_t i = 0; i < n; i++) h[i] = vd_f32_to_bf16(x[i]);
    void *d = gt_dev(h, sizeof(uint16_t) * n);
    free(x);
    free(h);
    return d;
}

// CSR (and mask when both given) of two runs equal; rows * k indices.
static bool same_csr(const int32_t *dip_a, const int32_t *dix_a, const uint8_t *dm_a, const int32_t *dip_b,
                     const int32_t *dix_b, const uint8_t *dm_b, int64_t rows, int k, int Tk, const char *name) {
    int32_t *a = malloc(sizeof(int32_t) * (rows + 1 + rows * k) + 4), *b = malloc(sizeof(int32_t) * (rows + 1 + rows * k) + 4);
    VD_ASSERT(a && b);
    gt_get(a, dip_a, sizeof(int32_t) * (rows + 1), name);
    gt_get(b, dip_b, sizeof(int32_t) * (rows + 1), name);
    if (k > 0) {
        gt_get(a + rows + 1, dix_a, sizeof(int32_t) * rows * k, name);
        gt_get(b + rows + 1, dix_b, sizeof(int32_t) * rows * k, name);
    }
    bool ok = a[rows] == (int32_t)(rows * k) && !memcmp(a, b, sizeof(int32_t) * (rows + 1 + rows * k));
    if (dm_a && dm_b) {
        uint8_t *ma = malloc((size_t)(rows * Tk)), *mb = malloc((size_t)(rows * Tk));
        VD_ASSERT(ma && mb);
        gt_get(ma, dm_a, (size_t)(rows * Tk), name);
        gt_get(mb, dm_b, (size_t)(rows * Tk), name);
        ok = ok && !memcmp(ma, mb, (size_t)(rows * Tk));
        free(ma);
        free(mb);
    }
    free(a);
    free(b);
    return ok;
}

// Fused builder on q, k vs the pooled entry point on vd_attn_pool_tiles_cuda(q), (k).
static void vs_fused(const char *name, int B, int N_q, int N_kv, int NH, int NKV, int D, int tile_q, int tile_kv,
                     const int *ks, int nk, const int *brs, int nbr, uint64_t seed) {
    const size_t mark = vd_cuda_arena_mark(&gt.arena);
    void *st = vd_cuda_ctx_stream(gt.ctx);
    vt_rng g;
    vt_rng_seed(&g, seed);
    vd_attn_topk_mask_shape s = {.q_sh = D, .q_sn = (int64_t)NH * D, .q_sb = (int64_t)N_q * NH * D, .k_sh = D,
                                 .k_sn = (int64_t)NKV * D, .k_sb = (int64_t)N_kv * NKV * D, .B = B, .N_q = N_q,
                                 .N_kv = N_kv, .NH = NH, .NKV = NKV, .D = D, .tile_q = tile_q, .tile_kv = tile_kv,
                                 .scale = 1.0f / sqrtf((float)D)};
    const uint16_t *dq = dev_bf16(&g, (int64_t)B * s.q_sb), *dk = dev_bf16(&g, (int64_t)B * s.k_sb);
    const int Tq = (N_q + tile_q - 1) / tile_q, Tk = (N_kv + tile_kv - 1) / tile_kv;
    const int64_t rows = vd_attn_topk_mask_rows(&s);
    float *qbar = gt_dev(NULL, sizeof(float) * (size_t)B * NH * Tq * D), *kbar = gt_dev(NULL, sizeof(float) * (size_t)B * NKV * Tk * D);
    GT_OK(vd_attn_pool_tiles_cuda(qbar, dq, s.q_sb, s.q_sn, s.q_sh, B, N_q, NH, D, tile_q, st, err));
    GT_OK(vd_attn_pool_tiles_cuda(kbar, dk, s.k_sb, s.k_sn, s.k_sh, B, N_kv, NKV, D, tile_kv, st, err));
    void *ws = gt_dev(NULL, vd_attn_topk_mask_cuda_ws_bytes(&s));
    for (int a = 0; a < nk; a++)
        for (int b = 0; b < nbr; b++) {
            s.k = ks[a];
            s.block_rows = brs[b];
            const int kk = vd_attn_topk_mask_k(&s);
            const size_t m2 = vd_cuda_arena_mark(&gt.arena);
            const bool with_mask = (a + b) % 2 == 0;
            int32_t *fip = gt_dev(NULL, sizeof(int32_t) * (rows + 1)), *fix = gt_dev(NULL, sizeof(int32_t) * rows * kk + 4);
            int32_t *pip = gt_dev(NULL, sizeof(int32_t) * (rows + 1)), *pix = gt_dev(NULL, sizeof(int32_t) * rows * kk + 4);
            uint8_t *fm = with_mask ? gt_dev(NULL, (size_t)(rows * Tk)) : NULL;
            uint8_t *pm = with_mask ? gt_dev(NULL, (size_t)(rows * Tk)) : NULL;
            GT_OK(vd_attn_topk_mask_cuda(fip, fix, fm, dq, dk, &s, ws, st, err));
            GT_OK(vd_attn_topk_mask_pooled_cuda(pip, pix, pm, qbar, kbar, &s, st, err));
            char what[256];
            snprintf(what, sizeof what, "%s k=%d block_rows=%d%s: pooled entry == fused builder (%lld rows x %d kv tiles)",
                     name, s.k, s.block_rows, with_mask ? " (+mask)" : "", (long long)rows, Tk);
            report(same_csr(fip, fix, fm, pip, pix, pm, rows, kk, Tk, name), what);
            vd_cuda_arena_reset(&gt.arena, m2);
        }
    vd_cuda_arena_reset(&gt.arena, mark);
}

// Whole-number pooled tiles in [-4, 4]: every dot product is an exact integer (|.| < 2^24), so the
// GPU's fp32 and the CPU's double scores round identically after the scale.
static void vs_cpu_exact(const char *name, int B, int Tq, int Tk, int NH, int NKV, int D, const int *ks, int nk, uint64_t seed) {
    const size_t mark = vd_cuda_arena_mark(&gt.arena);
    void *st = vd_cuda_ctx_stream(gt.ctx);
    vt_rng g;
    vt_rng_seed(&g, seed);
    const int tile = 64;
    vd_attn_topk_mask_shape s = {.B = B, .N_q = Tq * tile - 5, .N_kv = Tk * tile - 11, .NH = NH, .NKV = NKV, .D = D,
                                 .tile_q = tile, .tile_kv = tile, .scale = 0.088f};
    const int64_t nq = (int64_t)B * NH * Tq * D, nk_ = (int64_t)B * NKV * Tk * D, rows = (int64_t)B * NH * Tq;
    float *qh = malloc(sizeof(float) * nq), *kh = malloc(sizeof(float) * nk_);
    VD_ASSERT(qh && kh);
    for (int64_t i = 0; i < nq; i++) qh[i] = (float)((int)(vt_uniform(&g) * 9) - 4);
    for (int64_t i = 0; i < nk_; i++) kh[i] = (float)((int)(vt_uniform(&g) * 9) - 4);
    float *dq = gt_dev(qh, sizeof(float) * nq), *dk = gt_dev(kh, sizeof(float) * nk_);
    int32_t *ip = malloc(sizeof(int32_t) * (rows + 1)), *ix = malloc(sizeof(int32_t) * rows * Tk + 4);
    int32_t *gip = malloc(sizeof(int32_t) * (rows + 1)), *gix = malloc(sizeof(int32_t) * rows * Tk + 4);
    uint8_t *m = malloc((size_t)(rows * Tk)), *gm = malloc((size_t)(rows * Tk));
    VD_ASSERT(ip && ix && gip && gix && m && gm);
    for (int a = 0; a < nk; a++) {
        s.k = ks[a];
        const int kk = vd_attn_topk_mask_k(&s);
        const size_t m2 = vd_cuda_arena_mark(&gt.arena);
        GT_OK(vd_attn_topk_mask_pooled_cpu(ip, ix, m, qh, kh, &s, err));
        int32_t *dip = gt_dev(NULL, sizeof(int32_t) * (rows + 1)), *dix = gt_dev(NULL, sizeof(int32_t) * rows * kk + 4);
        uint8_t *dm = gt_dev(NULL, (size_t)(rows * Tk));
        GT_OK(vd_attn_topk_mask_pooled_cuda(dip, dix, dm, dq, dk, &s, st, err));
        gt_get(gip, dip, sizeof(int32_t) * (rows + 1), name);
        if (kk > 0) gt_get(gix, dix, sizeof(int32_t) * rows * kk, name);
        gt_get(gm, dm, (size_t)(rows * Tk), name);
        const bool ok = ip[rows] == rows * kk && !memcmp(ip, gip, sizeof(int32_t) * (rows + 1)) &&
                        !memcmp(ix, gix, sizeof(int32_t) * rows * kk) && !memcmp(m, gm, (size_t)(rows * Tk));
        char what[256];
        snprintf(what, sizeof what, "%s k=%d: pooled entry == CPU reference on whole-number tiles (%lld rows x %d)", name,
                 s.k, (long long)rows, Tk);
        report(ok, what);
        vd_cuda_arena_reset(&gt.arena, m2);
    }
    free(qh); free(kh); free(ip); free(ix); free(gip); free(gix); free(m); free(gm);
    vd_cuda_arena_reset(&gt.arena, mark);
}

static void test_args(void) {
    const size_t mark = vd_cuda_arena_mark(&gt.arena);
    void *st = vd_cuda_ctx_stream(gt.ctx);
    vd_attn_topk_mask_shape s = {.B = 1, .N_q = 256, .N_kv = 256, .NH = 2, .NKV = 2, .D = 64, .tile_q = 128,
                                 .tile_kv = 128, .scale = 0.125f, .k = 1};
    float *qb = gt_dev(NULL, sizeof(float) * 2 * 2 * 64);
    int32_t *ip = gt_dev(NULL, sizeof(int32_t) * 5), *ix = gt_dev(NULL, sizeof(int32_t) * 4);
    vd_error e = {0};
    report(vd_attn_topk_mask_pooled_cuda(ip, ix, NULL, qb, NULL, &s, st, &e) == VD_ERR_INVALID_ARG,
           "pooled entry: kbar NULL is VD_ERR_INVALID_ARG");
    s.block_rows = 48;
    report(vd_attn_topk_mask_pooled_cuda(ip, ix, NULL, qb, qb, &s, st, &e) == VD_ERR_INVALID_ARG,
           "pooled entry: block_rows 48 is VD_ERR_INVALID_ARG");
    vd_cuda_arena_reset(&gt.arena, mark);
}

int main(void) {
    if (!vt_have_gpu()) return VD_TEST_SKIP;
    gt_init((size_t)1 << 30);
    test_args();
    const int k_small[] = {3, 0, 1, 100}, br_all[] = {0, 16, 32, 64};
    vs_fused("B=2 NH=4 NKV=2 Nq=1000 Nkv=777 D=64 tiles 64/128", 2, 1000, 777, 4, 2, 64, 64, 128, k_small, 4, br_all, 4, 41);
    vs_fused("B=1 NH=3 N=300 D=20 (scalar pooling)", 1, 300, 300, 3, 3, 20, 128, 128, k_small, 4, br_all, 4, 42);
    vs_fused("B=1 NH=2 N=50 D=128 one tile", 1, 50, 50, 2, 2, 128, 128, 128, k_small, 4, br_all, 2, 43);
    const int k_13b[] = {26, 0, 1, 256, 300}, br_13b[] = {0, 16, 64};
    vs_fused("Wan-1.3B B=1 NH=12 N=32760 D=128", 1, 32760, 32760, 12, 12, 128, 128, 128, k_13b, 5, br_13b, 3, 44);
    const int k_ex[] = {5, 0, 1, 40, 50};
    vs_cpu_exact("B=2 NH=4 NKV=2 Tq=17 Tk=40 D=64", 2, 17, 40, 4, 2, 64, k_ex, 5, 45);
    vs_cpu_exact("B=1 NH=3 Tq=33 Tk=9 D=128", 1, 33, 9, 3, 3, 128, k_ex, 5, 46);
    gt_free();
    return vt_finish("test_attn_mask_pooled_cuda");
}
