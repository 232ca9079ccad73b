// CUDA elementwise, row and data-movement ops against their CPU twins (lib/ops.h) on the same
// inputs. Tolerances, with their reasons:
//  - bf16 <-> f32 conversion, add, mul, modulate, gated_add, patchify, unpatchify, gather,
//    scatter: bit-equal (same IEEE single operations, no FMA on either side; pure copies);
//  - GELU, SiLU: CUDA tanhf/expf are within 2 ulp of libm: atol 1e-6, rtol 1e-6 (a few ulp);
//  - LayerNorm, RMSNorm, softmax: fp32 tree sums vs the reference's double sums; the relative
//    error of a C-term fp32 sum is ~sqrt(C)*2^-24 (1e-5 at C=5120 with margin): atol 1e-5, rtol 1e-5
//    (LayerNorm on a row offset by 100: atol 5e-5, the deviations lose log2(100) bits);
//  - RoPE: both sides compute in double and round once to fp32; CUDA's cos/sin/pow may differ
//    from libm by an ulp of double, which moves a float result by at most 1 ulp: rtol 2^-23.
// Every output buffer has a guard region checked untouched (gpu_util.h). Inputs come from
// vt_rng seeded per case; the case line prints the seed. Sizes mix 1, odd and Wan-sized values.
#include <math.h>
#include <string.h>

#include "gpu_util.h"
#include "lib/dtype.h"
#include "lib/ops.h"
#include "lib/ops_cuda.h"

#define FB(n) ((size_t)(n) * sizeof(float))

static float *rnd(int64_t n, uint64_t seed, float scale) {
    vt_rng r;
    vt_rng_seed(&r, seed);
    float *x = malloc(FB(n) + 4);
    VD_ASSERT(x);
    vt_fill_normal(&r, x, n, scale);
    return x;
}

static void check_bits(const char *name, const void *got, const void *ref, size_t bytes) {
    bool ok = memcmp(got, ref, bytes) == 0;
    printf("%s %s: %zu bytes %s\n", ok ? "ok  " : "FAIL", name, bytes, ok ? "bit-equal" : "differ");
    if (!ok) vt_failures++;
}

static void test_convert(uint64_t seed) {
    const int64_t n = 100003;
    float *x = rnd(n, seed, 10.0f);
    const float specials[] = {NAN, -NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-40f, -1e-45f, 3.4e38f, 1.00390625f,
                              1.01171875f, 1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f}; // ties round to even
    memcpy(x, specials, sizeof specials);
    uint16_t *ref = malloc(n * 2), *got = malloc(n * 2);
    for (int64_t i = 0; i < n; i++) ref[i] = vd_f32_to_bf16(x[i]);
    size_t mark = vd_cuda_arena_mark(&gt.arena);
    float *dx = gt_dev(x, FB(n));
    uint16_t *dq = gt_dev(NULL, n * 2);
    GT_OK(vd_f32_to_bf16_cuda(gt.ctx, dq, dx, n, err));
    gt_get(got, dq, n * 2, "f32_to_bf16");
    check_bits("f32_to_bf16 n=100003 (NaN, Inf, -0, subnormal, ties)", got, ref, n * 2);
    float *back = malloc(FB(n)), *refb = malloc(FB(n));
    for (int64_t i = 0; i < n; i++) refb[i] = vd_bf16_to_f32(ref[i]);
    float *dy = gt_dev(NULL, FB(n));
    GT_OK(vd_bf16_to_f32_cuda(gt.ctx, dy, dq, n, err));
    gt_get(back, dy, FB(n), "bf16_to_f32");
    check_bits("bf16_to_f32 n=100003", back, refb, FB(n));
    vd_cuda_arena_reset(&gt.arena, mark);
    free(x), free(ref), free(got), free(back), free(refb);
}

typedef enum { OP_GELU, OP_SILU, OP_ADD, OP_MUL } flat_op;

static void test_flat(flat_op op, int64_t n, uint64_t seed, bool in_place) {
    static const char *names[] = {"gelu_tanh", "silu", "add", "mul"};
    char name[128];
    snprintf(name, sizeof name, "%s n=%lld seed=%llu%s", names[op], (long long)n, (unsigned long long)seed,
             in_place ? " in-place" : "");
    float *a = rnd(n, seed, 3.0f), *b = rnd(n, seed + 1000, 2.0f), *ref = malloc(FB(n)), *got = malloc(FB(n));
    if (n > 8) { a[0] = 80.0f, a[1] = -80.0f, a[2] = 1e30f, a[3] = -1e30f, a[4] = 0.0f, a[5] = -0.0f; }
    size_t mark = vd_cuda_arena_mark(&gt.arena);
    float *da = gt_dev(a, FB(n)), *db = gt_dev(b, FB(n)), *dout = in_place ? da : gt_dev(NULL, FB(n));
    switch (op) {
    case OP_GELU: vd_gelu_tanh_cpu(ref, a, n); GT_OK(vd_gelu_tanh_cuda(gt.ctx, dout, da, n, err)); break;
    case OP_SILU: vd_silu_cpu(ref, a, n); GT_OK(vd_silu_cuda(gt.ctx, dout, da, n, err)); break;
    case OP_ADD: vd_add_cpu(ref, a, b, n); GT_OK(vd_add_cuda(gt.ctx, dout, da, db, n, err)); break;
    case OP_MUL: vd_mul_cpu(ref, a, b, n); GT_OK(vd_mul_cuda(gt.ctx, dout, da, db, n, err)); break;
    }
    gt_get(got, dout, FB(n), name);
    if (op == OP_ADD || op == OP_MUL) check_bits(name, got, ref, FB(n));
    else vt_check(name, got, ref, n, 1e-6, 1e-6);
    vd_cuda_arena_reset(&gt.arena, mark);
    free(a), free(b), free(ref), free(got);
}

typedef enum { OP_MODULATE, OP_GATED, OP_GATED_NULL } row_op;

static void test_rowop(row_op op, int64_t M, int64_t C, uint64_t seed, bool in_place) {
    static const char *names[] = {"modulate", "gated_add", "gated_add(gate NULL)"};
    char name[160];
    snprintf(name, sizeof name, "%s M=%lld C=%lld seed=%llu%s", names[op], (long long)M, (long long)C,
             (unsigned long long)seed, in_place ? " in-place" : "");
    int64_t n = M * C;
    float *x = rnd(n, seed, 1.0f), *y = rnd(n, seed + 1, 1.0f), *v1 = rnd(C, seed + 2, 0.5f), *v2 = rnd(C, seed + 3, 0.5f);
    float *ref = malloc(FB(n)), *got = malloc(FB(n));
    size_t mark = vd_cuda_arena_mark(&gt.arena);
    float *dx = gt_dev(x, FB(n)), *dy = gt_dev(y, FB(n)), *d1 = gt_dev(v1, FB(C)), *d2 = gt_dev(v2, FB(C));
    float *dout = in_place ? dx : gt_dev(NULL, FB(n));
    if (op == OP_MODULATE) {
        vd_modulate_cpu(ref, x, v1, v2, M, C);
        GT_OK(vd_modulate_cuda(gt.ctx, dout, dx, d1, d2, M, C, err));
    } else {
        vd_gated_add_cpu(ref, x, y, op == OP_GATED ? v1 : NULL, M, C);
        GT_OK(vd_gated_add_cuda(gt.ctx, dout, dx, dy, op == OP_GATED ? d1 : NULL, M, C, err));
    }
    gt_get(got, dout, FB(n), name);
    check_bits(name, got, ref, FB(n));
    vd_cuda_arena_reset(&gt.arena, mark);
    free(x), free(y), free(v1), free(v2), free(ref), free(got);
}

typedef enum { OP_LN, OP_LN_AFFINE, OP_RMS, OP_RMS_W, OP_SOFTMAX } norm_op;

static void test_norm(norm_op op, int64_t M, int64_t C, uint64_t seed, float offset) {
    static const char *names[] = {"layernorm", "layernorm(affine)", "rmsnorm", "rmsnorm(w)", "softmax"};
    char name[160];
    snprintf(name, sizeof name, "%s M=%lld C=%lld seed=%llu offset=%g", names[op], (long long)M, (long long)C,
             (unsigned long long)seed, offset);
    int64_t n = M * C;
    float *x = rnd(n, seed, op == OP_SOFTMAX ? 4.0f : 1.0f), *w = rnd(C, seed + 1, 1.0f), *b = rnd(C, seed + 2, 1.0f);
    for (int64_t i = 0; i < n; i++) x[i] += offset;
    if (op == OP_SOFTMAX && M >= 3 && C >= 2) {
        x[C] = -INFINITY;                                    // a masked entry: exactly 0
        for (int64_t c = 0; c < C; c++) x[2 * C + c] = -INFINITY; // an all-masked row: NaN on both sides
    }
    float *ref = malloc(FB(n)), *got = malloc(FB(n));
    size_t mark = vd_cuda_arena_mark(&gt.arena);
    float *dx = gt_dev(x, FB(n)), *dw = gt_dev(w, FB(C)), *db = gt_dev(b, FB(C)), *dout = gt_dev(NULL, FB(n));
    const float eps = 1e-6f;
    switch (op) {
    case OP_LN: vd_layernorm_cpu(ref, x, NULL, NULL, M, C, eps); GT_OK(vd_layernorm_cuda(gt.ctx, dout, dx, NULL, NULL, M, C, eps, err)); break;
    case OP_LN_AFFINE: vd_layernorm_cpu(ref, x, w, b, M, C, eps); GT_OK(vd_layernorm_cuda(gt.ctx, dout, dx, dw, db, M, C, eps, err)); break;
    case OP_RMS: vd_rmsnorm_cpu(ref, x, NULL, M, C, eps); GT_OK(vd_rmsnorm_cuda(gt.ctx, dout, dx, NULL, M, C, eps, err)); break;
    case OP_RMS_W: vd_rmsnorm_cpu(ref, x, w, M, C, eps); GT_OK(vd_rmsnorm_cuda(gt.ctx, dout, dx, dw, M, C, eps, err)); break;
    case OP_SOFTMAX: vd_softmax_cpu(ref, x, M, C); GT_OK(vd_softmax_cuda(gt.ctx, dout, dx, M, C, err)); break;
    }
    gt_get(got, dout, FB(n), name);
    vt_check(name, got, ref, n, offset != 0.0f ? 5e-5 : 1e-5, 1e-5);
    // in place (out == x) must give the same result
    GT_OK(vd_cuda_upload(gt.ctx, dout, x, FB(n), err));
    if (op == OP_LN_AFFINE) GT_OK(vd_layernorm_cuda(gt.ctx, dout, dout, dw, db, M, C, eps, err));
    else if (op == OP_RMS_W) GT_OK(vd_rmsnorm_cuda(gt.ctx, dout, dout, dw, M, C, eps, err));
    else if (op == OP_SOFTMAX) GT_OK(vd_softmax_cuda(gt.ctx, dout, dout, M, C, err));
    if (op == OP_LN_AFFINE || op == OP_RMS_W || op == OP_SOFTMAX) {
        float *got2 = malloc(FB(n));
        gt_get(got2, dout, FB(n), name);
        char n2[200];
        snprintf(n2, sizeof n2, "%s in-place", name);
        check_bits(n2, got2, got, FB(n));
        free(got2);
    }
    vd_cuda_arena_reset(&gt.arena, mark);
    free(x), free(w), free(b), free(ref), free(got);
}

static void test_rope(int64_t Fp, int64_t Hp, int64_t Wp, int64_t NH, int64_t D, uint64_t seed) {
    char name[160];
    snprintf(name, sizeof name, "rope3d Fp=%lld Hp=%lld Wp=%lld NH=%lld D=%lld seed=%llu", (long long)Fp, (long long)Hp,
             (long long)Wp, (long long)NH, (long long)D, (unsigned long long)seed);
    int64_t n = Fp * Hp * Wp * NH * D;
    float *x = rnd(n, seed, 1.0f), *got = malloc(FB(n));
    size_t mark = vd_cuda_arena_mark(&gt.arena);
    float *dx = gt_dev(x, FB(n));
    vd_error e = {0};
    VT_EXPECT(vd_rope3d_cpu(x, Fp, Hp, Wp, NH, D, 10000.0, &e) == VD_OK);
    GT_OK(vd_rope3d_cuda(gt.ctx, dx, Fp, Hp, Wp, NH, D, 10000.0, err));
    gt_get(got, dx, FB(n), name);
    vt_check(name, got, x, n, 1e-30, 0x1p-23);
    vd_cuda_arena_reset(&gt.arena, mark);
    free(x), free(got);
}

static void test_patch(int64_t C, int64_t F, int64_t H, int64_t W, int pt, int ph, int pw, uint64_t seed) {
    char name[160];
    snprintf(name, sizeof name, "patchify/unpatchify C=%lld F=%lld H=%lld W=%lld patch=(%d,%d,%d) seed=%llu", (long long)C,
             (long long)F, (long long)H, (long long)W, pt, ph, pw, (unsigned long long)seed);
    int64_t n = C * F * H * W, Fp = F / pt, Hp = H / ph, Wp = W / pw;
    float *x = rnd(n, seed, 1.0f), *ref = malloc(FB(n)), *got = malloc(FB(n)), *ref2 = malloc(FB(n));
    vd_error e = {0};
    VT_EXPECT(vd_patchify3d_cpu(ref, x, C, F, H, W, pt, ph, pw, &e) == VD_OK);
    size_t mark = vd_cuda_arena_mark(&gt.arena);
    float *dx = gt_dev(x, FB(n)), *dt = gt_dev(NULL, FB(n)), *dy = gt_dev(NULL, FB(n));
    GT_OK(vd_patchify3d_cuda(gt.ctx, dt, dx, C, F, H, W, pt, ph, pw, err));
    gt_get(got, dt, FB(n), name);
    check_bits(name, got, ref, FB(n));
    // unpatchify the random x viewed as tokens [N, pt*ph*pw*C]
    vd_unpatchify3d_cpu(ref2, x, C, Fp, Hp, Wp, pt, ph, pw);
    GT_OK(vd_unpatchify3d_cuda(gt.ctx, dy, dx, C, Fp, Hp, Wp, pt, ph, pw, err));
    gt_get(got, dy, FB(n), name);
    check_bits("  unpatchify", got, ref2, FB(n));
    vd_cuda_arena_reset(&gt.arena, mark);
    free(x), free(ref), free(got), free(ref2);
}

static void test_gather_scatter(int64_t rows, int64_t n_idx, int64_t C, uint64_t seed) {
    char name[160];
    snprintf(name, sizeof name, "gather/scatter rows=%lld n_idx=%lld C=%lld seed=%llu", (long long)rows, (long long)n_idx,
             (long long)C, (unsigned long long)seed);
    vt_rng r;
    vt_rng_seed(&r, seed);
    int32_t *perm = malloc(sizeof(int32_t) * rows);
    for (int64_t i = 0; i < rows; i++) perm[i] = (int32_t)i;
    for (int64_t i = rows - 1; i > 0; i--) { // Fisher-Yates; the first n_idx are distinct indices
        int64_t j = (int64_t)(vt_uniform(&r) * (float)(i + 1));
        if (j > i) j = i;
        int32_t t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
    float *x = rnd(rows * C, seed + 1, 1.0f), *base = rnd(rows * C, seed + 2, 1.0f);
    float *ref = malloc(FB(rows * C)), *got = malloc(FB(rows * C));
    size_t mark = vd_cuda_arena_mark(&gt.arena);
    int32_t *didx = gt_dev(perm, sizeof(int32_t) * n_idx);
    float *dx = gt_dev(x, FB(rows * C)), *dg = gt_dev(NULL, FB(n_idx * C)), *dout = gt_dev(base, FB(rows * C));
    vd_gather_rows_cpu(ref, x, perm, n_idx, C);
    GT_OK(vd_gather_rows_cuda(gt.ctx, dg, dx, didx, n_idx, C, err));
    gt_get(got, dg, FB(n_idx * C), name);
    check_bits(name, got, ref, FB(n_idx * C));
    memcpy(ref, base, FB(rows * C)); // scatter into a filled buffer: untouched rows keep their values
    vd_scatter_rows_cpu(ref, x, perm, n_idx, C);
    GT_OK(vd_scatter_rows_cuda(gt.ctx, dout, dx, didx, n_idx, C, err));
    gt_get(got, dout, FB(rows * C), name);
    check_bits("  scatter", got, ref, FB(rows * C));
    vd_cuda_arena_reset(&gt.arena, mark);
    free(perm), free(x), free(base), free(ref), free(got);
}

static void test_errors(void) {
    vd_error e = {0};
    VT_EXPECT(vd_rope3d_cuda(gt.ctx, NULL, 1, 1, 1, 1, 7, 10000.0, &e) == VD_ERR_INVALID_ARG);
    printf("     rope D=7: %s\n", e.msg);
    VT_EXPECT(vd_patchify3d_cuda(gt.ctx, NULL, NULL, 16, 3, 5, 8, 1, 2, 2, &e) == VD_ERR_INVALID_ARG);
    printf("     patchify H=5: %s\n", e.msg);
    VT_EXPECT(vd_add_cuda(gt.ctx, NULL, NULL, NULL, -1, &e) == VD_ERR_INVALID_ARG);
    VT_EXPECT(vd_layernorm_cuda(gt.ctx, NULL, NULL, NULL, NULL, -2, 4, 1e-6f, &e) == VD_ERR_INVALID_ARG);
    VT_EXPECT(vd_add_cuda(gt.ctx, NULL, NULL, NULL, 0, &e) == VD_OK); // empty: nothing to do
}

int main(void) {
    if (!vt_have_gpu()) {
        printf("test_ops_cuda: no CUDA device, skipped\n");
        return VD_TEST_SKIP;
    }
    gt_init((size_t)2 << 30);
    test_convert(1);
    const int64_t flat_n[] = {1, 7, 33, 100003, 20000001}; // the last runs the grid-stride loop
    for (int op = 0; op < 4; op++)
        for (int i = 0; i < 5; i++) test_flat((flat_op)op, flat_n[i], 10 + i, false);
    test_flat(OP_ADD, 1001, 99, true);
    test_flat(OP_GELU, 1001, 98, true);
    for (int op = 0; op < 3; op++) {
        test_rowop((row_op)op, 1, 1, 20, false);
        test_rowop((row_op)op, 37, 1539, 21, false);
        test_rowop((row_op)op, 70001, 3, 22, false); // more rows than one grid
        test_rowop((row_op)op, 13, 1536, 23, true);
    }
    const int64_t norm_mc[][2] = {{1, 1}, {3, 7}, {37, 1536}, {5, 5123}, {70001, 5}};
    for (int op = 0; op < 5; op++)
        for (int i = 0; i < 5; i++) test_norm((norm_op)op, norm_mc[i][0], norm_mc[i][1], 30 + i, 0.0f);
    test_norm(OP_LN, 17, 1536, 40, 100.0f);
    test_norm(OP_LN_AFFINE, 17, 5120, 41, 100.0f);
    test_rope(3, 5, 7, 3, 128, 50);
    test_rope(1, 4, 9, 2, 64, 51);
    test_rope(21, 30, 52, 1, 128, 52); // Wan 1.3B 480p grid, one head
    test_rope(2, 3, 3, 5, 12, 53);
    test_patch(16, 3, 10, 14, 1, 2, 2, 60);
    test_patch(5, 4, 6, 9, 2, 3, 3, 61);
    test_patch(16, 21, 60, 104, 1, 2, 2, 62);
    test_patch(1, 1, 1, 1, 1, 1, 1, 63);
    test_gather_scatter(1000, 1000, 37, 70);
    test_gather_scatter(70001, 65537, 5, 71);
    test_gather_scatter(1, 1, 1, 72);
    test_errors();
    gt_free();
    return vt_finish("test_ops_cuda");
}
