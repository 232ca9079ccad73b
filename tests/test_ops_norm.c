// Row reductions: vd_layernorm_cpu (with/without affine), vd_rmsnorm_cpu, vd_softmax_cpu against
// naive double references on random inputs with odd sizes, known answers, large-offset and
// large-logit cases, and in-place calls (bitwise equal to out-of-place).
// Usage: test_ops_norm [base_seed]   (case seed = base_seed*1000 + case index, printed per case)
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ops.h"
#include "tests/test_util.h"

static void ref_layernorm(double *ref, const float *x, const float *w, const float *b, int64_t M, int64_t C,
                          double eps) {
    for (int64_t i = 0; i < M; i++) {
        double mean = 0, var = 0;
        for (int64_t c = 0; c < C; c++) mean += x[i * C + c];
        mean /= C;
        for (int64_t c = 0; c < C; c++) var += (x[i * C + c] - mean) * (x[i * C + c] - mean);
        var /= C;
        for (int64_t c = 0; c < C; c++) {
            double v = (x[i * C + c] - mean) / sqrt(var + eps);
            ref[i * C + c] = v * (w ? w[c] : 1.0) + (b ? b[c] : 0.0);
        }
    }
}

static void ref_rmsnorm(double *ref, const float *x, const float *w, int64_t M, int64_t C, double eps) {
    for (int64_t i = 0; i < M; i++) {
        double ms = 0;
        for (int64_t c = 0; c < C; c++) ms += (double)x[i * C + c] * x[i * C + c];
        ms /= C;
        for (int64_t c = 0; c < C; c++) ref[i * C + c] = x[i * C + c] / sqrt(ms + eps) * (w ? w[c] : 1.0);
    }
}

static void ref_softmax(double *ref, const float *x, int64_t M, int64_t C) {
    for (int64_t i = 0; i < M; i++) {
        double mx = -INFINITY, s = 0;
        for (int64_t c = 0; c < C; c++) mx = fmax(mx, x[i * C + c]);
        for (int64_t c = 0; c < C; c++) s += exp(x[i * C + c] - mx);
        for (int64_t c = 0; c < C; c++) ref[i * C + c] = exp(x[i * C + c] - mx) / s;
    }
}

static int bitwise_equal(const float *a, const float *b, int64_t n) { return memcmp(a, b, (size_t)n * sizeof(float)) == 0; }

// LayerNorm / RMSNorm tolerance: the op accumulates in double and rounds once, so it is within
// half an ulp of the double reference (plus ~1e-15 from the different double evaluation order):
// rtol 2^-23 (one ulp, 2x margin), atol 1e-7 for outputs that cancel to near zero in the affine.
#define NORM_RTOL 0x1p-23
#define NORM_ATOL 1e-7

static void norm_case(uint64_t seed, int64_t M, int64_t C, int affine, float offset) {
    vt_rng r;
    vt_rng_seed(&r, seed);
    const int64_t n = M * C;
    float *x = malloc((size_t)n * sizeof(float)), *out = malloc((size_t)n * sizeof(float));
    float *inpl = malloc((size_t)n * sizeof(float)), *w = malloc((size_t)C * sizeof(float));
    float *b = malloc((size_t)C * sizeof(float));
    double *ref = malloc((size_t)n * sizeof(double));
    vt_fill_normal(&r, x, n, 3.0f);
    for (int64_t i = 0; i < n; i++) x[i] += offset;
    vt_fill_normal(&r, w, C, 1.0f);
    vt_fill_normal(&r, b, C, 1.0f);
    char name[160];
    const float eps = 1e-6f;

    vd_layernorm_cpu(out, x, affine ? w : NULL, affine ? b : NULL, M, C, eps);
    ref_layernorm(ref, x, affine ? w : NULL, affine ? b : NULL, M, C, eps);
    snprintf(name, sizeof name, "layernorm M=%lld C=%lld affine=%d offset=%g seed=%llu", (long long)M, (long long)C,
             affine, offset, (unsigned long long)seed);
    vt_check_d(name, out, ref, n, NORM_ATOL, NORM_RTOL);
    memcpy(inpl, x, (size_t)n * sizeof(float));
    vd_layernorm_cpu(inpl, inpl, affine ? w : NULL, affine ? b : NULL, M, C, eps);
    VT_EXPECT(bitwise_equal(inpl, out, n));

    vd_rmsnorm_cpu(out, x, affine ? w : NULL, M, C, eps);
    ref_rmsnorm(ref, x, affine ? w : NULL, M, C, eps);
    snprintf(name, sizeof name, "rmsnorm M=%lld C=%lld weight=%d offset=%g seed=%llu", (long long)M, (long long)C,
             affine, offset, (unsigned long long)seed);
    vt_check_d(name, out, ref, n, NORM_ATOL, NORM_RTOL);
    memcpy(inpl, x, (size_t)n * sizeof(float));
    vd_rmsnorm_cpu(inpl, inpl, affine ? w : NULL, M, C, eps);
    VT_EXPECT(bitwise_equal(inpl, out, n));

    free(x), free(out), free(inpl), free(w), free(b), free(ref);
}

// Softmax tolerance: expf is within ~1 ulp, but x - max is rounded in fp32 (error up to
// u*|x - max| ~ 6e-8 * 40 for these N(0,4) logits), which becomes a relative error of ~2.4e-6 in
// the smallest probabilities; rtol 5e-6. atol 1e-12: every probability is relatively accurate.
static void softmax_case(uint64_t seed, int64_t M, int64_t C, float scale) {
    vt_rng r;
    vt_rng_seed(&r, seed);
    const int64_t n = M * C;
    float *x = malloc((size_t)n * sizeof(float)), *out = malloc((size_t)n * sizeof(float));
    float *inpl = malloc((size_t)n * sizeof(float));
    double *ref = malloc((size_t)n * sizeof(double));
    vt_fill_normal(&r, x, n, scale);
    vd_softmax_cpu(out, x, M, C);
    ref_softmax(ref, x, M, C);
    char name[160];
    snprintf(name, sizeof name, "softmax M=%lld C=%lld scale=%g seed=%llu", (long long)M, (long long)C, scale,
             (unsigned long long)seed);
    vt_check_d(name, out, ref, n, 1e-12, 5e-6);
    // Rows sum to 1: C probabilities, each within ~3 ulp of its value, sum within C*3u of 1.
    for (int64_t i = 0; i < M; i++) {
        double s = 0;
        for (int64_t c = 0; c < C; c++) s += out[i * C + c];
        VT_EXPECT(fabs(s - 1.0) <= 3.0 * 0x1p-24 * (double)C + 1e-7);
    }
    memcpy(inpl, x, (size_t)n * sizeof(float));
    vd_softmax_cpu(inpl, inpl, M, C);
    VT_EXPECT(bitwise_equal(inpl, out, n));
    free(x), free(out), free(inpl), free(ref);
}

static void known_answers(void) {
    // LayerNorm of [1,2,3,4], eps 0: mean 2.5, var 1.25 -> (x-2.5)/sqrt(1.25).
    const float x4[4] = {1, 2, 3, 4};
    const float ln_want[4] = {-1.3416407865f, -0.4472135955f, 0.4472135955f, 1.3416407865f};
    float out[8]; // largest known-answer row has 5 values
    vd_layernorm_cpu(out, x4, NULL, NULL, 1, 4, 0.0f);
    vt_check("layernorm [1,2,3,4] no affine", out, ln_want, 4, 0, 0x1p-23);
    // Same row shifted by 1e4 (exact in fp32): a one-pass E[x^2]-E[x]^2 in fp32 loses everything here.
    const float xbig[4] = {10001, 10002, 10003, 10004};
    vd_layernorm_cpu(out, xbig, NULL, NULL, 1, 4, 0.0f);
    vt_check("layernorm [1,2,3,4]+1e4 (large offset)", out, ln_want, 4, 0, 0x1p-23);
    // Affine: w = [2, -1, 0.5, 2], b = [1, 2, 3, 4] (per-column, so a broadcast slip shows).
    const float w2[4] = {2, -1, 0.5f, 2}, b1[4] = {1, 2, 3, 4};
    const float ln_aff[4] = {(float)(1 - 2.6832815730), (float)(2 + 0.4472135955), (float)(3 + 0.2236067977),
                             (float)(4 + 2.6832815730)};
    vd_layernorm_cpu(out, x4, w2, b1, 1, 4, 0.0f);
    vt_check("layernorm [1,2,3,4] affine w=[2,-1,.5,2] b=[1,2,3,4]", out, ln_aff, 4, 1e-7, 0x1p-23);
    // Constant row: var 0, output 0 (eps keeps it finite).
    const float xc[3] = {5, 5, 5}, zeros[3] = {0, 0, 0};
    vd_layernorm_cpu(out, xc, NULL, NULL, 1, 3, 1e-6f);
    vt_check("layernorm constant row -> 0", out, zeros, 3, 0, 0);

    // RMSNorm of [3,4]: rms = sqrt(12.5).
    const float x2[2] = {3, 4}, w[2] = {2.0f, 0.5f};
    const float rms_want[2] = {0.8485281374f, 1.1313708499f};
    const float rms_w_want[2] = {1.6970562748f, 0.5656854249f};
    vd_rmsnorm_cpu(out, x2, NULL, 1, 2, 0.0f);
    vt_check("rmsnorm [3,4]", out, rms_want, 2, 0, 0x1p-23);
    vd_rmsnorm_cpu(out, x2, w, 1, 2, 0.0f);
    vt_check("rmsnorm [3,4] w=[2,0.5]", out, rms_w_want, 2, 0, 0x1p-23);

    // Softmax: large logits must not overflow (exp(1002) is inf in fp32 and fp64).
    const float big[3] = {1000, 1001, 1002}, nbig[3] = {-1002, -1001, -1000};
    const float sm_want[3] = {0.09003057317f, 0.2447284711f, 0.6652409558f};
    vd_softmax_cpu(out, big, 1, 3);
    vt_check("softmax [1000,1001,1002] (no overflow)", out, sm_want, 3, 1e-7, 1e-6);
    vd_softmax_cpu(out, nbig, 1, 3);
    vt_check("softmax [-1002,-1001,-1000] (no underflow to 0/0)", out, sm_want, 3, 1e-7, 1e-6);
    // Beyond fp32 exp range on both sides, and a -inf entry (masked logit) -> exactly 0.
    const float wide[4] = {-INFINITY, 3e38f, 100.0f, -3e38f};
    const float wide_want[4] = {0, 1, 0, 0};
    vd_softmax_cpu(out, wide, 1, 4);
    vt_check("softmax [-inf, 3e38, 100, -3e38]", out, wide_want, 4, 0, 0);
    // Uniform row and a single-column row.
    const float u5[5] = {7, 7, 7, 7, 7}, u5_want[5] = {0.2f, 0.2f, 0.2f, 0.2f, 0.2f};
    vd_softmax_cpu(out, u5, 1, 5);
    vt_check("softmax uniform row of 5", out, u5_want, 5, 0, 0x1p-23);
    const float one = -42.0f, one_want = 1.0f;
    vd_softmax_cpu(out, &one, 1, 1);
    vt_check("softmax C=1", out, &one_want, 1, 0, 0);
}

int main(int argc, char **argv) {
    const uint64_t base = vt_base_seed(argc, argv, "test_ops_norm");
    known_answers();
    const int64_t Ms[] = {1, 5, 7, 13, 33};
    const int64_t Cs[] = {1, 3, 17, 64, 130, 1536};
    uint64_t ci = 0;
    for (int mi = 0; mi < 5; mi++)
        for (int c = 0; c < 6; c++) {
            // affine on/off alternates over (M, C) pairs; a 100 offset on every third pair
            norm_case(base * 1000 + ci, Ms[mi], Cs[c], (mi + c) & 1, (mi + c) % 3 == 2 ? 100.0f : 0.0f);
            ci++;
            softmax_case(base * 1000 + ci, Ms[mi], Cs[c], (ci & 1) ? 4.0f : 1.0f);
            ci++;
        }
    return vt_finish("test_ops_norm");
}
