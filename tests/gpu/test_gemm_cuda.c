// cuBLASLt GEMM (vd_linear_cuda) and conv3d (vd_conv3d_cuda) against the CPU ops on the same
// bf16-rounded inputs (the GPU's operands are bf16, so the CPU sees exactly the same values).
// Tolerance, per element, earned from the fp32 summation bound rather than guessed: with
// bf16 operands every product is exact in fp32, and any order of K fp32 additions (with or
// without FMA, any split-K) is off from the exact sum by at most gamma_K * sum_k |x_k w_k|,
// gamma_K = K u / (1 - K u), u = 2^-24. Both the CPU and the GPU results obey it, so
//   |gpu - cpu| <= 2 gamma_(K+1) * absref   (absref = the same op on |x|, |w|, |bias|)
// and, for bf16 output, + 2^-8 (|ref| + |bias|) (one rounding to bf16, or two on the
// bias-after-GEMM fallback path). A wrong index or a missing bias breaks this by orders of
// magnitude; fp32 summation noise never does. Guard bytes after every output are checked.
#include <math.h>
#include <string.h>

#include "gpu_util.h"
#include "lib/dtype.h"
#include "lib/ops.h"
#include "lib/ops_cuda.h"

#define FB(n) ((size_t)(n) * sizeof(float))

static float *rnd_bf16(int64_t n, uint64_t seed, float scale, uint16_t **q) {
    vt_rng r;
    vt_rng_seed(&r, seed);
    float *x = malloc(FB(n) + 4);
    VD_ASSERT(x);
    vt_fill_normal(&r, x, n, scale);
    vt_round_bf16(x, n);
    if (q) {
        *q = malloc((size_t)n * 2 + 2);
        for (int64_t i = 0; i < n; i++) (*q)[i] = vd_f32_to_bf16(x[i]);
    }
    return x;
}

static float *absv(const float *x, int64_t n) {
    float *a = malloc(FB(n) + 4);
    for (int64_t i = 0; i < n; i++) a[i] = fabsf(x[i]);
    return a;
}

static double gamma_k(int64_t K) {
    double ku = (double)K * 0x1p-24;
    return ku / (1.0 - ku);
}

// got vs ref with the bound above; bias_of(i) gives |bias| for element i (0 without bias).
static void check_bound(const char *name, const float *got, const float *ref, const float *absref, int64_t n, int64_t K,
                        bool bf16_out, const float *bias, int64_t N) {
    double g = 2.0 * gamma_k(K + 1), worst_ratio = 0;
    int64_t bad = 0, first = -1, nonfinite = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(got[i])) { nonfinite++; continue; }
        double tol = g * absref[i] + 1e-30;
        // bf16 output: one rounding of the result (2^-8 |ref|) plus, with a bias, the bias rounded
        // to bf16 (2^-8 |bias|) and the GEMM part rounded before the bias is added
        // (2^-8 |ref - bias|): the bias-after path (no epilogue) does the latter, and on the H200
        // cuBLASLt's bf16-bias epilogue behaves the same way (seen: 1.58x and then 1.19x over
        // bounds that left one of the two terms out; N = 67, 129).
        if (bf16_out) {
            double b = bias ? fabs(bias[i % N]) + fabs(ref[i] - bias[i % N]) : 0.0;
            tol += 0x1p-8 * (fabs(ref[i]) + b) * (1.0 + g);
        }
        double d = fabs((double)got[i] - ref[i]);
        if (d / tol > worst_ratio) worst_ratio = d / tol;
        if (d > tol) {
            if (first < 0) first = i;
            bad++;
        }
    }
    bool ok = bad == 0 && nonfinite == 0;
    printf("%s %s: n=%lld worst err/bound=%.3g%s\n", ok ? "ok  " : "FAIL", name, (long long)n, worst_ratio,
           bf16_out ? " (bf16 out)" : "");
    if (!ok) {
        printf("     %lld beyond bound, %lld non-finite", (long long)bad, (long long)nonfinite);
        if (first >= 0) printf("; first at %lld: got %.8g ref %.8g absref %.8g", (long long)first, got[first], ref[first], absref[first]);
        printf("\n");
        vt_failures++;
    }
}

// Downloads n outputs of dtype out_t (f32, or bf16 widened to f32) from dout into got and checks
// the guard bytes after them (gt_get).
static void get_out(float *got, const void *dout, vd_dtype out_t, int64_t n, const char *name) {
    const size_t ob = (size_t)n * vd_dtype_size(out_t);
    if (out_t == VD_BF16) {
        uint16_t *h = malloc(ob + 2);
        VD_ASSERT(h);
        gt_get(h, dout, ob, name);
        for (int64_t i = 0; i < n; i++) got[i] = vd_bf16_to_f32(h[i]);
        free(h);
    } else {
        gt_get(got, dout, ob, name);
    }
}

// x_off: x starts x_off bf16 elements into its buffer (misaligned pointers reach cuBLASLt).
static void test_linear(int64_t M, int64_t K, int64_t N, bool with_bias, vd_dtype out_t, int x_off, uint64_t seed) {
    char name[192];
    snprintf(name, sizeof name, "linear M=%lld K=%lld N=%lld bias=%d out=%s x_off=%d seed=%llu", (long long)M, (long long)K,
             (long long)N, with_bias, vd_dtype_name(out_t), x_off, (unsigned long long)seed);
    uint16_t *xq, *wq;
    float *x = rnd_bf16(M * K, seed, 1.0f, &xq), *w = rnd_bf16(N * K, seed + 1, 0.05f, &wq);
    float *bias = with_bias ? rnd_bf16(N, seed + 2, 0.5f, NULL) : NULL;
    if (bias) for (int64_t i = 0; i < N; i++) bias[i] += 0.001f * (float)i; // not bf16-exact: f32 bias must stay f32
    float *ref = malloc(FB(M * N)), *absref = malloc(FB(M * N)), *got = malloc(FB(M * N));
    float *ax = absv(x, M * K), *aw = absv(w, N * K), *ab = bias ? absv(bias, N) : NULL;
    vd_linear_cpu(ref, x, w, bias, M, K, N);
    vd_linear_cpu(absref, ax, aw, ab, M, K, N);
    size_t mark = vd_cuda_arena_mark(&gt.arena);
    size_t xb = (size_t)(M * K + x_off) * 2;
    uint16_t *xs = calloc(1, xb + 2);
    memcpy(xs + x_off, xq, (size_t)M * K * 2);
    uint16_t *dxb = gt_dev(xs, xb), *dw = gt_dev(wq, (size_t)N * K * 2);
    float *db = bias ? gt_dev(bias, FB(N)) : NULL;
    size_t ob = (size_t)(M * N) * vd_dtype_size(out_t);
    void *dout = gt_dev(NULL, ob);
    GT_OK(vd_linear_cuda(gt.ctx, dout, out_t, dxb + x_off, dw, db, M, K, N, err));
    get_out(got, dout, out_t, M * N, name);
    check_bound(name, got, ref, absref, M * N, K, out_t == VD_BF16, bias, N);
    // Second call: the cached plan (ops_linear.cu) with the bias in a new buffer and the old one
    // zeroed, so a stale bias pointer in the cached plan would show as an error of |bias|.
    float *db2 = bias ? gt_dev(bias, FB(N)) : NULL;
    if (bias) {
        float *zeros = calloc((size_t)N, sizeof(float));
        GT_OK(vd_cuda_upload(gt.ctx, db, zeros, FB(N), err));
        free(zeros);
    }
    GT_OK(vd_linear_cuda(gt.ctx, dout, out_t, dxb + x_off, dw, db2, M, K, N, err));
    get_out(got, dout, out_t, M * N, name);
    char name2[224];
    snprintf(name2, sizeof name2, "  same, cached plan%s", bias ? ", bias moved" : "");
    check_bound(name2, got, ref, absref, M * N, K, out_t == VD_BF16, bias, N);
    vd_cuda_arena_reset(&gt.arena, mark);
    free(x), free(w), free(bias), free(xq), free(wq), free(ref), free(absref), free(got), free(ax), free(aw), free(ab), free(xs);
}

static void test_conv(int64_t cin, int64_t cout, int64_t d, int64_t h, int64_t w, int k0, int k1, int k2, int s0, int s1,
                      int s2, int p0, int p1, int p2, bool with_bias, uint64_t seed) {
    vd_conv3d_shape s = {cin, cout, d, h, w, k0, k1, k2, s0, s1, s2, p0, p1, p2};
    int64_t Do, Ho, Wo;
    vd_conv3d_out_dims(&s, &Do, &Ho, &Wo);
    char name[224];
    snprintf(name, sizeof name, "conv3d cin=%lld cout=%lld in=%lldx%lldx%lld k=(%d,%d,%d) s=(%d,%d,%d) p=(%d,%d,%d) bias=%d seed=%llu",
             (long long)cin, (long long)cout, (long long)d, (long long)h, (long long)w, k0, k1, k2, s0, s1, s2, p0, p1, p2,
             with_bias, (unsigned long long)seed);
    int64_t nx = cin * d * h * w, K = cin * k0 * k1 * k2, nw = cout * K, no = cout * Do * Ho * Wo;
    float *x = rnd_bf16(nx, seed, 1.0f, NULL), *wt = rnd_bf16(nw, seed + 1, 0.1f, NULL);
    float *bias = with_bias ? rnd_bf16(cout, seed + 2, 0.5f, NULL) : NULL;
    float *ref = malloc(FB(no)), *absref = malloc(FB(no)), *got = malloc(FB(no));
    float *ax = absv(x, nx), *aw = absv(wt, nw), *ab = bias ? absv(bias, cout) : NULL;
    vd_error e = {0};
    VT_EXPECT(vd_conv3d_cpu(ref, x, wt, bias, &s, &e) == VD_OK);
    VT_EXPECT(vd_conv3d_cpu(absref, ax, aw, ab, &s, &e) == VD_OK);
    size_t mark = vd_cuda_arena_mark(&gt.arena);
    size_t wsb = vd_conv3d_cuda_workspace(&s);
    VT_EXPECT(wsb > 0);
    float *dx = gt_dev(x, FB(nx)), *dwt = gt_dev(wt, FB(nw)), *db = bias ? gt_dev(bias, FB(cout)) : NULL;
    float *dout = gt_dev(NULL, FB(no));
    void *ws = gt_dev(NULL, wsb);
    GT_OK(vd_conv3d_cuda(gt.ctx, dout, dx, dwt, db, &s, ws, err));
    gt_get(got, dout, FB(no), name);
    check_bound(name, got, ref, absref, no, K, false, NULL, 1);
    vd_cuda_arena_reset(&gt.arena, mark);
    free(x), free(wt), free(bias), free(ref), free(absref), free(got), free(ax), free(aw), free(ab);
}

int main(void) {
    if (!vt_have_gpu()) {
        printf("test_gemm_cuda: no CUDA device, skipped\n");
        return VD_TEST_SKIP;
    }
    gt_init((size_t)4 << 30);
    const int64_t shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {37, 129, 67}, {128, 256, 192}, {257, 1536, 129}, {1000, 1536, 1536}};
    for (int i = 0; i < 6; i++) {
        uint64_t seed = 100 + 10 * i;
        test_linear(shapes[i][0], shapes[i][1], shapes[i][2], false, VD_F32, 0, seed);
        test_linear(shapes[i][0], shapes[i][1], shapes[i][2], true, VD_F32, 0, seed + 1);
        test_linear(shapes[i][0], shapes[i][1], shapes[i][2], true, VD_BF16, 0, seed + 2);
        test_linear(shapes[i][0], shapes[i][1], shapes[i][2], false, VD_BF16, 0, seed + 3);
    }
    test_linear(33, 70, 45, true, VD_F32, 1, 200);   // x 2 bytes off alignment
    test_linear(64, 64, 64, true, VD_F32, 3, 201);
    test_linear(512, 8960, 1536, true, VD_F32, 0, 202); // Wan FFN down-projection shape (K = 8960)
    setenv("VDIT_GEMM_FORCE_FALLBACK", "1", 1); // the tiled kernel used when cuBLASLt has no algorithm
    printf("     (fallback kernel forced)\n");
    test_linear(37, 129, 67, true, VD_F32, 1, 210);
    test_linear(37, 129, 67, true, VD_BF16, 0, 211);
    test_linear(300, 1536, 65, false, VD_F32, 0, 212);
    unsetenv("VDIT_GEMM_FORCE_FALLBACK");
    vd_error e = {0};
    VT_EXPECT(vd_linear_cuda(gt.ctx, NULL, VD_F16, NULL, NULL, NULL, 4, 4, 4, &e) == VD_ERR_INVALID_ARG);
    printf("     linear f16 out: %s\n", e.msg);
    VT_EXPECT(vd_linear_cuda(gt.ctx, NULL, VD_F32, NULL, NULL, NULL, 4, 0, 4, &e) == VD_ERR_INVALID_ARG);

    test_conv(3, 5, 4, 7, 9, 3, 3, 3, 1, 1, 1, 1, 1, 1, true, 300);
    test_conv(16, 8, 3, 10, 12, 3, 3, 3, 1, 2, 2, 0, 1, 1, true, 301);
    test_conv(37, 19, 2, 5, 6, 1, 1, 1, 1, 1, 1, 0, 0, 0, false, 302);
    test_conv(12, 24, 5, 9, 11, 1, 3, 3, 1, 1, 1, 0, 1, 1, true, 303);
    test_conv(4, 3, 6, 6, 6, 3, 1, 1, 2, 1, 1, 1, 0, 0, true, 304);
    test_conv(64, 16, 8, 128, 256, 3, 3, 3, 1, 1, 1, 1, 1, 1, true, 305); // col > 256 MiB: 4 chunks
    vd_conv3d_shape bad = {4, 4, 2, 2, 2, 3, 3, 3, 1, 1, 1, 0, 0, 0};
    VT_EXPECT(vd_conv3d_cuda_workspace(&bad) == 0);
    VT_EXPECT(vd_conv3d_cuda(gt.ctx, NULL, NULL, NULL, NULL, &bad, NULL, &e) == VD_ERR_INVALID_ARG);
    printf("     conv kernel > input: %s\n", e.msg);
    gt_free();
    return vt_finish("test_gemm_cuda");
}
