// Elementwise and row-broadcast ops (GELU tanh, SiLU, add, mul, scale, modulate, gated add,
// bias add) against double references on random inputs with odd sizes, known answers (including
// saturation far out in the tails), and in-place calls (bitwise equal to out-of-place).
// Usage: test_ops_elementwise [base_seed]   (case seed = base_seed*1000 + case index)
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ops.h"
#include "tests/test_util.h"

#define U 0x1p-24 // fp32 unit roundoff: one correctly rounded op is within U*|result|

static int bitwise_equal(const float *a, const float *b, int64_t n) { return memcmp(a, b, (size_t)n * sizeof(float)) == 0; }

static double gelu_ref(double x) { return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))); }
static double silu_ref(double x) { return x / (1.0 + exp(-x)); }

static void activations_case(uint64_t seed, int64_t n) {
    vt_rng r;
    vt_rng_seed(&r, seed);
    float *x = malloc((size_t)n * sizeof(float)), *out = malloc((size_t)n * sizeof(float));
    float *inpl = malloc((size_t)n * sizeof(float));
    double *ref = malloc((size_t)n * sizeof(double));
    vt_fill_normal(&r, x, n, 4.0f); // N(0,4): covers both tails of the tanh / sigmoid
    char name[128];

    // GELU: the fp32 inner term and tanhf each carry a few ulp; in the negative tail the result is
    // 0.5*x*(1 + tanh) with 1 + tanh cancelling, so the absolute error is ~0.5*|x|*2u <= 2e-6 for
    // |x| <= 16: atol 2e-6; elsewhere the relative error is a few ulp: rtol 1e-6.
    for (int64_t i = 0; i < n; i++) ref[i] = gelu_ref(x[i]);
    vd_gelu_tanh_cpu(out, x, n);
    snprintf(name, sizeof name, "gelu_tanh n=%lld seed=%llu", (long long)n, (unsigned long long)seed);
    vt_check_d(name, out, ref, n, 2e-6, 1e-6);
    memcpy(inpl, x, (size_t)n * sizeof(float));
    vd_gelu_tanh_cpu(inpl, inpl, n);
    VT_EXPECT(bitwise_equal(inpl, out, n));

    // SiLU: expf (~1 ulp), one add, one divide: relative error <= ~4u everywhere, no cancellation.
    for (int64_t i = 0; i < n; i++) ref[i] = silu_ref(x[i]);
    vd_silu_cpu(out, x, n);
    snprintf(name, sizeof name, "silu n=%lld seed=%llu", (long long)n, (unsigned long long)seed);
    vt_check_d(name, out, ref, n, 1e-30, 8 * U);
    memcpy(inpl, x, (size_t)n * sizeof(float));
    vd_silu_cpu(inpl, inpl, n);
    VT_EXPECT(bitwise_equal(inpl, out, n));
    free(x), free(out), free(inpl), free(ref);
}

// add / mul / scale are single correctly rounded fp32 ops: |got - exact| <= U*|exact| (rtol U).
static void binary_case(uint64_t seed, int64_t n) {
    vt_rng r;
    vt_rng_seed(&r, seed);
    float *a = malloc((size_t)n * sizeof(float)), *b = malloc((size_t)n * sizeof(float));
    float *out = malloc((size_t)n * sizeof(float)), *inpl = malloc((size_t)n * sizeof(float));
    double *ref = malloc((size_t)n * sizeof(double));
    vt_fill_normal(&r, a, n, 2.0f);
    vt_fill_normal(&r, b, n, 2.0f);
    const float s = vt_normal(&r);
    char name[128];

    for (int64_t i = 0; i < n; i++) ref[i] = (double)a[i] + b[i];
    vd_add_cpu(out, a, b, n);
    snprintf(name, sizeof name, "add n=%lld seed=%llu", (long long)n, (unsigned long long)seed);
    vt_check_d(name, out, ref, n, 0, U);
    memcpy(inpl, a, (size_t)n * sizeof(float));
    vd_add_cpu(inpl, inpl, b, n);
    VT_EXPECT(bitwise_equal(inpl, out, n));

    for (int64_t i = 0; i < n; i++) ref[i] = (double)a[i] * b[i];
    vd_mul_cpu(out, a, b, n);
    snprintf(name, sizeof name, "mul n=%lld seed=%llu", (long long)n, (unsigned long long)seed);
    vt_check_d(name, out, ref, n, 0, U);
    memcpy(inpl, b, (size_t)n * sizeof(float));
    vd_mul_cpu(inpl, a, inpl, n); // out aliases the second operand
    VT_EXPECT(bitwise_equal(inpl, out, n));

    for (int64_t i = 0; i < n; i++) ref[i] = (double)a[i] * s;
    vd_scale_cpu(out, a, s, n);
    snprintf(name, sizeof name, "scale n=%lld s=%g seed=%llu", (long long)n, s, (unsigned long long)seed);
    vt_check_d(name, out, ref, n, 0, U);
    memcpy(inpl, a, (size_t)n * sizeof(float));
    vd_scale_cpu(inpl, inpl, s, n);
    VT_EXPECT(bitwise_equal(inpl, out, n));
    free(a), free(b), free(out), free(inpl), free(ref);
}

// Row-broadcast ops on x[M, C]. modulate = 3 rounded ops (1+scale, *, +), gated add = 2; the
// rounding of an intermediate term t costs U*|t| absolutely even when the final sum cancels, so
// atol = (ops) * U * max|intermediate| and rtol U for the final rounding.
static void broadcast_case(uint64_t seed, int64_t M, int64_t C) {
    vt_rng r;
    vt_rng_seed(&r, seed);
    const int64_t n = M * C;
    float *x = malloc((size_t)n * sizeof(float)), *y = malloc((size_t)n * sizeof(float));
    float *out = malloc((size_t)n * sizeof(float)), *inpl = malloc((size_t)n * sizeof(float));
    float *shift = malloc((size_t)C * sizeof(float)), *scale = malloc((size_t)C * sizeof(float));
    float *gate = malloc((size_t)C * sizeof(float));
    double *ref = malloc((size_t)n * sizeof(double));
    vt_fill_normal(&r, x, n, 2.0f);
    vt_fill_normal(&r, y, n, 2.0f);
    vt_fill_normal(&r, shift, C, 1.0f);
    vt_fill_normal(&r, scale, C, 0.5f);
    vt_fill_normal(&r, gate, C, 1.0f);
    char name[160];
    double big = 0;

    for (int64_t i = 0; i < M; i++)
        for (int64_t c = 0; c < C; c++) {
            const double t = (double)x[i * C + c] * (1.0 + (double)scale[c]);
            big = fmax(big, fmax(fabs(t), fabs(1.0 + scale[c])));
            ref[i * C + c] = t + shift[c];
        }
    vd_modulate_cpu(out, x, shift, scale, M, C);
    snprintf(name, sizeof name, "modulate M=%lld C=%lld seed=%llu", (long long)M, (long long)C,
             (unsigned long long)seed);
    vt_check_d(name, out, ref, n, 3 * U * big, U);
    memcpy(inpl, x, (size_t)n * sizeof(float));
    vd_modulate_cpu(inpl, inpl, shift, scale, M, C);
    VT_EXPECT(bitwise_equal(inpl, out, n));

    for (int pass = 0; pass < 2; pass++) {
        const float *g = pass ? NULL : gate;
        big = 0;
        for (int64_t i = 0; i < M; i++)
            for (int64_t c = 0; c < C; c++) {
                const double t = (g ? (double)g[c] : 1.0) * y[i * C + c];
                big = fmax(big, fabs(t));
                ref[i * C + c] = x[i * C + c] + t;
            }
        vd_gated_add_cpu(out, x, y, g, M, C);
        snprintf(name, sizeof name, "gated_add gate=%s M=%lld C=%lld seed=%llu", g ? "vec" : "NULL", (long long)M,
                 (long long)C, (unsigned long long)seed);
        vt_check_d(name, out, ref, n, 2 * U * big, U);
        memcpy(inpl, x, (size_t)n * sizeof(float));
        vd_gated_add_cpu(inpl, inpl, y, g, M, C);
        VT_EXPECT(bitwise_equal(inpl, out, n));
    }

    for (int64_t i = 0; i < M; i++)
        for (int64_t c = 0; c < C; c++) ref[i * C + c] = (double)x[i * C + c] + shift[c];
    vd_add_bias_cpu(out, x, shift, M, C);
    snprintf(name, sizeof name, "add_bias M=%lld C=%lld seed=%llu", (long long)M, (long long)C,
             (unsigned long long)seed);
    vt_check_d(name, out, ref, n, 0, U);
    memcpy(inpl, x, (size_t)n * sizeof(float));
    vd_add_bias_cpu(inpl, inpl, shift, M, C);
    VT_EXPECT(bitwise_equal(inpl, out, n));
    free(x), free(y), free(out), free(inpl), free(shift), free(scale), free(gate), free(ref);
}

static void known_answers(void) {
    // GELU tanh values from the formula in double (python math), rtol 1e-6 as above.
    const float gx[7] = {0.0f, 1.0f, -1.0f, 3.0f, -3.0f, 0.5f, 2.0f};
    const float gwant[7] = {0.0f, 0.8411919906f, -0.1588080094f, 2.9963626079f, -0.0036373921f, 0.3457140098f,
                            1.9545976941f};
    float out[8];
    vd_gelu_tanh_cpu(out, gx, 7);
    vt_check("gelu_tanh known points", out, gwant, 7, 1e-7, 1e-6);
    // Tails: the cube overflows to +-inf for |x| >= ~1e13 but the result stays finite.
    const float tx[4] = {1e30f, -1e30f, 20.0f, -20.0f};
    vd_gelu_tanh_cpu(out, tx, 4);
    VT_EXPECT(out[0] == 1e30f);
    VT_EXPECT(isfinite(out[1]) && fabsf(out[1]) < 1e-30f);
    VT_EXPECT(out[2] == 20.0f);
    VT_EXPECT(isfinite(out[3]) && fabsf(out[3]) < 1e-30f);

    const float sx[5] = {0.0f, 1.0f, -1.0f, -100.0f, -1e30f};
    vd_silu_cpu(out, sx, 5);
    VT_EXPECT(out[0] == 0.0f);
    VT_EXPECT(fabs(out[1] - 0.7310585786) < 1e-7);
    VT_EXPECT(fabs(out[2] + 0.2689414214) < 1e-7);
    VT_EXPECT(isfinite(out[3]) && fabsf(out[3]) < 1e-30f);
    VT_EXPECT(isfinite(out[4]) && out[4] == 0.0f);

    // modulate: 2 * (1 + 0.5) + 1 = 4;  gated add: 1 + 3 * 2 = 7, gate NULL: 1 + 2 = 3.
    const float x1 = 2, sh = 1, sc = 0.5f, one = 1, two = 2, three = 3;
    vd_modulate_cpu(out, &x1, &sh, &sc, 1, 1);
    VT_EXPECT(out[0] == 4.0f);
    vd_gated_add_cpu(out, &one, &two, &three, 1, 1);
    VT_EXPECT(out[0] == 7.0f);
    vd_gated_add_cpu(out, &one, &two, NULL, 1, 1);
    VT_EXPECT(out[0] == 3.0f);
    // Broadcast direction: vectors index the column, not the row.
    const float xm[6] = {1, 2, 3, 4, 5, 6}, shv[3] = {10, 20, 30}, scv[3] = {0, 1, -1};
    const float mod_want[6] = {11, 24, 30, 14, 30, 30};
    vd_modulate_cpu(out, xm, shv, scv, 2, 3);
    vt_check("modulate 2x3 broadcast (exact)", out, mod_want, 6, 0, 0);
    const float bias_want[6] = {11, 22, 33, 14, 25, 36};
    vd_add_bias_cpu(out, xm, shv, 2, 3);
    vt_check("add_bias 2x3 broadcast (exact)", out, bias_want, 6, 0, 0);
}

int main(int argc, char **argv) {
    const uint64_t base = vt_base_seed(argc, argv, "test_ops_elementwise");
    known_answers();
    const int64_t ns[] = {1, 5, 7, 13, 33, 4097};
    const int64_t Ms[] = {1, 5, 7, 13, 33};
    const int64_t Cs[] = {1, 3, 17, 64, 130};
    uint64_t ci = 0;
    for (int i = 0; i < 6; i++) {
        activations_case(base * 1000 + ci++, ns[i]);
        binary_case(base * 1000 + ci++, ns[i]);
    }
    for (int mi = 0; mi < 5; mi++)
        for (int c = 0; c < 5; c++) broadcast_case(base * 1000 + ci++, Ms[mi], Cs[c]);
    return vt_finish("test_ops_elementwise");
}
