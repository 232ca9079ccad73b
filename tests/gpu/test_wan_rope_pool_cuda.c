// The Wan RMSNorm + RoPE kernel with the tile means of its output (vd_wan_rms_rope_pool_cuda,
// dit/wan_kernels.h), and the dynamic block mask built from those means
// (vd_attn_topk_mask_pooled_cuda, attention/mask_build.h). Per case (random inputs; N multiple of
// the tile, not, below it; 1, 12, 24, 40 and 64 heads, i.e. every pairs-per-thread variant; head
// dim 64 and 128; tiles 1, 64, 128; bf16 and f32 input; with and without RoPE):
//   1. the main output is bit-identical to vd_wan_rms_rope_cuda's (same pairs per thread, same
//      reduction tree);
//   2. it matches the CPU reference vd_rmsnorm_cpu + vd_rope3d_cpu rounded to bf16 within one
//      bf16 ulp (2^-7 relative) + 1e-5 (fp32 vs double before the rounding);
//   3. the tile means equal vd_attn_pool_tiles_cpu of the kernel's own bf16 output up to the fp32
//      summation bound (2 * count * 2^-24 * mean|y| + 2^-22 |mean|);
//   4. and vd_attn_pool_tiles_cpu of the CPU reference output up to that plus one bf16 ulp of the
//      mean |y| (+ 1e-5).
// At the Wan-1.3B shape (N = 32760, 12 x 128, q and k from two calls): the means agree with
// vd_attn_pool_tiles_cuda of the outputs (the fused builder's pooling) to the fp32 bound; the
// CSR of vd_attn_topk_mask_pooled_cuda on them equals the CPU top-k + CSR of the GPU block
// scores of the same means (exact: selection on given floats), and keeps >= 99 % of the tiles
// that the fused builder vd_attn_topk_mask_cuda keeps from the outputs (the means differ only by
// fp32 summation order, so only near-ties may flip). Exit 77 without a GPU.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention/attention.h"
#include "attention/mask_build.h"
#include "dit/wan_kernels.h"
#include "lib/dtype.h"
#include "lib/ops.h"
#include "tests/gpu/gpu_util.h"

#define MAX_POS 1024
#define THETA 10000.0

static void report(bool ok, const char *what) {
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) vt_failures++;
}

// cos/sin f32 [3][MAX_POS][D/2] as vd_wan_cuda_create builds them: entry (a, p, j) is the angle of
// pair j of axis a at position p (0 outside the axis's pairs).
static void rope_tables(float *cs, float *sn, int D) {
    int64_t dt, dh, dw;
    vd_rope3d_split(D, &dt, &dh, &dw);
    const int P = D / 2;
    const int64_t off[3] = {0, dt / 2, (dt + dh) / 2}, width[3] = {dt, dh, dw};
    for (int a = 0; a < 3; a++)
        for (int p = 0; p < MAX_POS; p++)
            for (int j = 0; j < P; j++) {
                const int64_t ja = j - off[a];
                double ang = 0;
                if (ja >= 0 && ja < width[a] / 2) ang = (double)p * pow(THETA, -2.0 * (double)ja / (double)width[a]);
                cs[((int64_t)a * MAX_POS + p) * P + j] = (float)cos(ang);
                sn[((int64_t)a * MAX_POS + p) * P + j] = (float)sin(ang);
            }
}

typedef struct {
    const char *name;
    int F, Hp, Wp, NH, D, tile, x_bf16, rope;
} rp_case;

// One producer call on the device: x [N, C] (f32 values; bf16 on the device when x_bf16) -> out
// bf16 [N, C] and pooled [NH, T, D]. Device buffers stay in the arena (the caller resets it).
typedef struct {
    uint16_t *out_dev, *plain_dev;
    float *pool_dev;
    uint16_t *out;   // host copy of out_dev
    float *pooled;   // host copy of pool_dev
} rp_run;

// Device tables for head dims 64 and 128, uploaded once (before any case's arena mark).
static vd_wan_rope_desc g_rope[2];

static void upload_ropes(void) {
    for (int i = 0; i < 2; i++) {
        const int D = i ? 128 : 64;
        const int64_t n = (int64_t)3 * MAX_POS * (D / 2);
        float *cs = malloc(sizeof(float) * n), *sn = malloc(sizeof(float) * n);
        VD_ASSERT(cs && sn);
        rope_tables(cs, sn, D);
        int64_t dt, dh, dw;
        vd_rope3d_split(D, &dt, &dh, &dw);
        g_rope[i] = (vd_wan_rope_desc){gt_dev(cs, sizeof(float) * n), gt_dev(sn, sizeof(float) * n), MAX_POS, D,
                                       (int)(dt / 2), (int)(dh / 2), 0, 0};
        free(cs);
        free(sn);
    }
}

static void run_producer(const rp_case *c, const float *x, const float *w, float eps, rp_run *r) {
    const int64_t N = (int64_t)c->F * c->Hp * c->Wp, C = (int64_t)c->NH * c->D, T = (N + c->tile - 1) / c->tile;
    void *st = vd_cuda_ctx_stream(gt.ctx);
    void *xd;
    if (c->x_bf16) {
        uint16_t *xb = malloc(sizeof(uint16_t) * N * C);
        VD_ASSERT(xb);
        for (int64_t i = 0; i < N * C; i++) xb[i] = vd_f32_to_bf16(x[i]);
        xd = gt_dev(xb, sizeof(uint16_t) * N * C);
        free(xb);
    } else {
        xd = gt_dev(x, sizeof(float) * N * C);
    }
    const float *wd = gt_dev(w, sizeof(float) * C);
    VD_ASSERT(c->D == 64 || c->D == 128);
    vd_wan_rope_desc rope = g_rope[c->D == 128];
    rope.Hp = c->Hp;
    rope.Wp = c->Wp;
    r->plain_dev = gt_dev(NULL, sizeof(uint16_t) * N * C);
    r->out_dev = gt_dev(NULL, sizeof(uint16_t) * N * C);
    r->pool_dev = gt_dev(NULL, sizeof(float) * c->NH * T * c->D);
    const vd_wan_pool_desc pool = {r->pool_dev, c->D, c->tile};
    GT_OK(vd_wan_rms_rope_cuda(st, r->plain_dev, xd, c->x_bf16, N, C, eps, wd, c->rope ? &rope : NULL, err));
    GT_OK(vd_wan_rms_rope_pool_cuda(st, r->out_dev, xd, c->x_bf16, N, C, eps, wd, c->rope ? &rope : NULL, &pool, err));
    r->out = malloc(sizeof(uint16_t) * N * C);
    r->pooled = malloc(sizeof(float) * c->NH * T * c->D);
    VD_ASSERT(r->out && r->pooled);
    gt_get(r->out, r->out_dev, sizeof(uint16_t) * N * C, c->name);
    gt_get(r->pooled, r->pool_dev, sizeof(float) * c->NH * T * c->D, c->name);
}

// Random producer input: N(0, 1) rows scaled by a per-row factor in [0.25, 4) (varied RMS), and
// weights in [0.5, 1.5).
static void make_inputs(vt_rng *g, int64_t N, int64_t C, float *x, float *w) {
    vt_fill_normal(g, x, N * C, 1.0f);
    for (int64_t n = 0; n < N; n++) {
        const float s = 0.25f * powf(16.0f, vt_uniform(g));
        for (int64_t c = 0; c < C; c++) x[n * C + c] *= s;
    }
    vt_fill_uniform(g, w, C, 0.5f, 1.5f);
}

// |got - ref| <= bound per pooled element, bound = sum_u * count * mean|y| + abs_u * mean|y| +
// rel_u * |ref| + floor, with mean|y| over the tile's values of that column (y = the pooled
// tensor's source, [N, NH, D]): sum_u * count * mean|y| bounds an fp32 sum of count terms.
static bool check_pooled(const char *what, const float *got, const float *ref, const float *y, int64_t N, int NH, int D,
                         int tile, double sum_u, double abs_u, double rel_u, double floor) {
    const int64_t T = (N + tile - 1) / tile;
    double worst = 0, worst_bound = 0;
    int64_t bad = 0, worst_i = 0;
    for (int h = 0; h < NH; h++)
        for (int64_t t = 0; t < T; t++) {
            const int64_t n0 = t * tile, n1 = n0 + tile < N ? n0 + tile : N, cnt = n1 - n0;
            for (int d = 0; d < D; d++) {
                double mabs = 0;
                for (int64_t n = n0; n < n1; n++) mabs += fabs(y[(n * NH + h) * D + d]);
                mabs /= (double)cnt;
                const int64_t i = ((int64_t)h * T + t) * D + d;
                const double e = fabs((double)got[i] - ref[i]);
                const double bound = sum_u * (double)cnt * mabs + abs_u * mabs + rel_u * fabs(ref[i]) + floor;
                if (!(e <= bound)) bad++;
                if (!(e <= worst)) { worst = e; worst_bound = bound; worst_i = i; }
            }
        }
    char line[256];
    snprintf(line, sizeof line, "%s: %lld of %lld tile means out of bound (worst |err| %.3g at %lld, bound there %.3g)",
             what, (long long)bad, (long long)(NH * T * D), worst, (long long)worst_i, worst_bound);
    report(bad == 0, line);
    return bad == 0;
}

static void run_case(const rp_case *c, uint64_t seed) {
    const size_t mark = vd_cuda_arena_mark(&gt.arena);
    const int64_t N = (int64_t)c->F * c->Hp * c->Wp, C = (int64_t)c->NH * c->D, T = (N + c->tile - 1) / c->tile;
    const float eps = 1e-6f;
    vt_rng g;
    vt_rng_seed(&g, seed);
    float *x = malloc(sizeof(float) * N * C), *w = malloc(sizeof(float) * C), *yref = malloc(sizeof(float) * N * C);
    float *ygot = malloc(sizeof(float) * N * C);
    float *pref = malloc(sizeof(float) * c->NH * T * c->D), *pown = malloc(sizeof(float) * c->NH * T * c->D);
    VD_ASSERT(x && w && yref && ygot && pref && pown);
    make_inputs(&g, N, C, x, w);
    if (c->x_bf16) vt_round_bf16(x, N * C);   // the kernel reads bf16: the reference starts from the same values
    rp_run r;
    run_producer(c, x, w, eps, &r);
    char what[256];

    // 1. bit-identical to the plain kernel
    uint16_t *plain = malloc(sizeof(uint16_t) * N * C);
    VD_ASSERT(plain);
    gt_get(plain, r.plain_dev, sizeof(uint16_t) * N * C, c->name);
    int64_t ndiff = 0;
    for (int64_t i = 0; i < N * C; i++) ndiff += plain[i] != r.out[i];
    snprintf(what, sizeof what, "%s: output bit-identical to vd_wan_rms_rope_cuda (%lld of %lld differ)", c->name,
             (long long)ndiff, (long long)(N * C));
    report(ndiff == 0, what);
    free(plain);

    // 2. against the CPU reference (double RMSNorm + RoPE, rounded to bf16)
    vd_rmsnorm_cpu(yref, x, w, N, C, eps);
    if (c->rope) {
        vd_error e = {0};
        if (vd_rope3d_cpu(yref, c->F, c->Hp, c->Wp, c->NH, c->D, THETA, &e) != VD_OK) gt_die("vd_rope3d_cpu", &e);
    }
    vt_round_bf16(yref, N * C);
    for (int64_t i = 0; i < N * C; i++) ygot[i] = vd_bf16_to_f32(r.out[i]);
    snprintf(what, sizeof what, "%s: output vs CPU RMSNorm + RoPE (one bf16 ulp)", c->name);
    vt_check(what, ygot, yref, N * C, 1e-5, 1.0 / 128);

    // 3. tile means vs the pool of the kernel's own output; 4. vs the pool of the CPU output
    vd_attn_pool_tiles_cpu(pown, ygot, N * C, C, c->D, 1, (int)N, c->NH, c->D, c->tile);
    vd_attn_pool_tiles_cpu(pref, yref, N * C, C, c->D, 1, (int)N, c->NH, c->D, c->tile);
    const double u = 1.0 / 16777216.0;   // 2^-24
    snprintf(what, sizeof what, "%s: tile means vs vd_attn_pool_tiles_cpu of the kernel's output (tile %d, %lld tiles)",
             c->name, c->tile, (long long)T);
    check_pooled(what, r.pooled, pown, ygot, N, c->NH, c->D, c->tile, 2 * u, 0, 4 * u, 1e-12);
    snprintf(what, sizeof what, "%s: tile means vs vd_attn_pool_tiles_cpu of the CPU reference output", c->name);
    // per element one bf16 ulp (<= 2^-7 |y|) + 1e-5, averaged over the tile; plus the fp32 sum bound
    check_pooled(what, r.pooled, pref, yref, N, c->NH, c->D, c->tile, 2 * u, 1.0 / 128, 4 * u, 1e-5);

    free(r.out); free(r.pooled);
    free(x); free(w); free(yref); free(ygot); free(pref); free(pown);
    vd_cuda_arena_reset(&gt.arena, mark);
}

static void test_cases(void) {
    static const rp_case cases[] = {
        {"N=180 (1 + partial 52-row tile) NH=12 D=128 bf16 rope", 3, 6, 10, 12, 128, 128, 1, 1},
        {"N=35 < tile NH=12 D=128", 1, 5, 7, 12, 128, 128, 1, 1},
        {"N=256 = 2 tiles NH=12 D=128", 1, 16, 16, 12, 128, 128, 1, 1},
        {"N=288 NH=1 D=64 (C=64: one pair per thread, most threads idle)", 2, 9, 16, 1, 64, 128, 1, 1},
        {"N=200 NH=1 D=128 tile 64", 2, 10, 10, 1, 128, 64, 1, 1},
        {"N=300 NH=12 D=64 tile 64 (C=768)", 3, 10, 10, 12, 64, 64, 1, 1},
        {"N=180 NH=12 D=128 f32 input", 3, 6, 10, 12, 128, 128, 0, 1},
        {"N=257 NH=12 D=128 no rope", 1, 1, 257, 12, 128, 128, 1, 0},
        {"N=40 NH=12 D=128 tile 1 (means = the rows)", 1, 5, 8, 12, 128, 1, 1, 1},
        {"N=150 NH=24 D=128 (C=3072: 6 pairs per thread)", 1, 10, 15, 24, 128, 128, 1, 1},
        {"N=150 NH=40 D=128 (Wan-14B width C=5120: 10 pairs per thread)", 1, 10, 15, 40, 128, 128, 1, 1},
        {"N=150 NH=40 D=128 f32 input", 1, 10, 15, 40, 128, 128, 0, 1},
        {"N=130 NH=64 D=128 (C=8192: 16 pairs per thread)", 1, 10, 13, 64, 128, 128, 1, 1},
        {"Wan-1.3B N=32760 (21x30x52) NH=12 D=128 tile 128", 21, 30, 52, 12, 128, 128, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i], 100 + i);
}

// Argument checks and the pool == NULL path.
static void test_args(void) {
    const size_t mark = vd_cuda_arena_mark(&gt.arena);
    void *st = vd_cuda_ctx_stream(gt.ctx);
    const int64_t N = 10, C = 96;
    float *x = gt_dev(NULL, sizeof(float) * N * 8192 * 2), *w = gt_dev(NULL, sizeof(float) * 8194);
    uint16_t *o = gt_dev(NULL, sizeof(uint16_t) * N * 8194);
    float *pd = gt_dev(NULL, sizeof(float) * N * 8194);
    vd_error e = {0};
    vd_wan_pool_desc p = {pd, 64, 4};   // 64 does not divide 96
    report(vd_wan_rms_rope_pool_cuda(st, o, x, 0, N, C, 1e-6f, w, NULL, &p, &e) == VD_ERR_INVALID_ARG,
           "head_dim not dividing C is VD_ERR_INVALID_ARG");
    p.head_dim = 48;
    p.tile = 0;
    report(vd_wan_rms_rope_pool_cuda(st, o, x, 0, N, C, 1e-6f, w, NULL, &p, &e) == VD_ERR_INVALID_ARG,
           "tile 0 is VD_ERR_INVALID_ARG");
    p.tile = 4;
    p.out = NULL;
    report(vd_wan_rms_rope_pool_cuda(st, o, x, 0, N, C, 1e-6f, w, NULL, &p, &e) == VD_ERR_INVALID_ARG,
           "pool out NULL is VD_ERR_INVALID_ARG");
    p.out = pd;
    p.head_dim = 2;
    report(vd_wan_rms_rope_pool_cuda(st, o, x, 0, N, 8194, 1e-6f, w, NULL, &p, &e) == VD_ERR_INVALID_ARG,
           "C = 8194 > 8192 is VD_ERR_INVALID_ARG");
    vd_cuda_arena_reset(&gt.arena, mark);
}

// The Wan-1.3B shape end to end: q and k from the producer, the mask from their means.
static void test_mask_from_producer(void) {
    const size_t mark = vd_cuda_arena_mark(&gt.arena);
    void *st = vd_cuda_ctx_stream(gt.ctx);
    const rp_case cq = {"1.3B q", 21, 30, 52, 12, 128, 128, 1, 1}, ck = {"1.3B k", 21, 30, 52, 12, 128, 128, 1, 1};
    const int NH = 12, D = 128, tile = 128;
    const int64_t N = 32760, C = NH * D, T = (N + tile - 1) / tile, rows = NH * T;
    vt_rng g;
    vt_rng_seed(&g, 500);
    float *x = malloc(sizeof(float) * N * C), *w = malloc(sizeof(float) * C);
    VD_ASSERT(x && w);
    rp_run rq, rk;
    make_inputs(&g, N, C, x, w);
    run_producer(&cq, x, w, 1e-6f, &rq);
    make_inputs(&g, N, C, x, w);
    run_producer(&ck, x, w, 1e-6f, &rk);
    free(x);
    free(w);

    // the means vs the fused builder's pooling of the same outputs (vd_attn_pool_tiles_cuda)
    float *fq = gt_dev(NULL, sizeof(float) * rows * D);
    GT_OK(vd_attn_pool_tiles_cuda(fq, rq.out_dev, N * C, C, D, 1, (int)N, NH, D, tile, st, err));
    float *hq = malloc(sizeof(float) * rows * D), *y = malloc(sizeof(float) * N * C);
    VD_ASSERT(hq && y);
    gt_get(hq, fq, sizeof(float) * rows * D, "pool q");
    for (int64_t i = 0; i < N * C; i++) y[i] = vd_bf16_to_f32(rq.out[i]);
    const double u = 1.0 / 16777216.0;
    check_pooled("1.3B q: producer means vs vd_attn_pool_tiles_cuda (the fused builder's pooling)", rq.pooled, hq, y, N, NH,
                 D, tile, 4 * u, 0, 4 * u, 1e-12);
    free(y);
    free(hq);

    vd_attn_topk_mask_shape s = {.q_sb = N * C, .q_sn = C, .q_sh = D, .k_sb = N * C, .k_sn = C, .k_sh = D, .B = 1,
                                 .N_q = (int)N, .N_kv = (int)N, .NH = NH, .NKV = NH, .D = D, .tile_q = tile,
                                 .tile_kv = tile, .scale = 1.0f / sqrtf((float)D), .k = (int)lround(0.1 * T)};
    const int k = s.k;
    int32_t *pip = gt_dev(NULL, sizeof(int32_t) * (rows + 1)), *pix = gt_dev(NULL, sizeof(int32_t) * rows * k);
    GT_OK(vd_attn_topk_mask_pooled_cuda(pip, pix, NULL, rq.pool_dev, rk.pool_dev, &s, st, err));
    // reference: GPU block scores of the same means -> CPU top-k -> CSR
    float *sc = gt_dev(NULL, sizeof(float) * rows * T);
    GT_OK(vd_attn_block_scores_cuda(sc, rq.pool_dev, rk.pool_dev, 1, NH, NH, (int)T, (int)T, D, s.scale, false, st, err));
    float *hsc = malloc(sizeof(float) * rows * T);
    uint8_t *m = malloc((size_t)(rows * T));
    int32_t *rip = malloc(sizeof(int32_t) * (rows + 1)), *rix = malloc(sizeof(int32_t) * rows * T);
    int32_t *gip = malloc(sizeof(int32_t) * (rows + 1)), *gix = malloc(sizeof(int32_t) * rows * k);
    int32_t *fip_h = malloc(sizeof(int32_t) * (rows + 1)), *fix_h = malloc(sizeof(int32_t) * rows * k);
    VD_ASSERT(hsc && m && rip && rix && gip && gix && fip_h && fix_h);
    gt_get(hsc, sc, sizeof(float) * rows * T, "scores");
    vd_attn_topk_rows_cpu(m, hsc, rows, (int)T, k);
    vd_attn_mask_to_csr_cpu(rip, rix, m, rows, (int)T);
    gt_get(gip, pip, sizeof(int32_t) * (rows + 1), "pooled-mask indptr");
    gt_get(gix, pix, sizeof(int32_t) * rows * k, "pooled-mask indices");
    report(rip[rows] == rows * k && !memcmp(rip, gip, sizeof(int32_t) * (rows + 1)) &&
               !memcmp(rix, gix, sizeof(int32_t) * rows * k),
           "1.3B mask from the producer's means (k=26) equals the CPU top-k + CSR of the GPU block scores of those means");

    // against the fused builder on the outputs themselves
    void *ws = gt_dev(NULL, vd_attn_topk_mask_cuda_ws_bytes(&s));
    int32_t *fip = gt_dev(NULL, sizeof(int32_t) * (rows + 1)), *fix = gt_dev(NULL, sizeof(int32_t) * rows * k);
    GT_OK(vd_attn_topk_mask_cuda(fip, fix, NULL, rq.out_dev, rk.out_dev, &s, ws, st, err));
    gt_get(fip_h, fip, sizeof(int32_t) * (rows + 1), "fused indptr");
    gt_get(fix_h, fix, sizeof(int32_t) * rows * k, "fused indices");
    int64_t common = 0, rows_same = 0;
    for (int64_t r = 0; r < rows; r++) {   // both rows ascending: merge count
        const int32_t *a = gix + r * k, *b = fix_h + r * k;
        int i = 0, j = 0, same = 0;
        while (i < k && j < k) {
            if (a[i] == b[j]) { same++; i++; j++; }
            else if (a[i] < b[j]) i++;
            else j++;
        }
        common += same;
        rows_same += same == k;
    }
    const double frac = (double)common / (double)(rows * k);
    char what[256];
    snprintf(what, sizeof what,
             "1.3B mask from the producer's means keeps %.5f of the fused builder's tiles (%lld of %lld rows identical; "
             ">= 0.99 required)",
             frac, (long long)rows_same, (long long)rows);
    report(frac >= 0.99 && !memcmp(fip_h, gip, sizeof(int32_t) * (rows + 1)), what);

    free(hsc); free(m); free(rip); free(rix); free(gip); free(gix); free(fip_h); free(fix_h);
    free(rq.out); free(rq.pooled); free(rk.out); free(rk.pooled);
    vd_cuda_arena_reset(&gt.arena, mark);
}

int main(void) {
    if (!vt_have_gpu()) return VD_TEST_SKIP;
    gt_init((size_t)2 << 30);
    upload_ropes();
    test_args();
    test_cases();
    test_mask_from_producer();
    gt_free();
    return vt_finish("test_wan_rope_pool_cuda");
}
