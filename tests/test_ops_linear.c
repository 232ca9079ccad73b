// vd_linear_cpu / vd_matmul_cpu against a naive double-precision GEMM on random N(0,1) inputs
// with odd sizes, plus an integer known-answer case and guard regions around every output.
// Usage: test_ops_linear [base_seed]   (case seed = base_seed*1000 + case index, printed per case)
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ops.h"
#include "tests/test_util.h"

// ref[M,N] = sum_k x[m,k] * w[n,k] (+ bias[n]) in double. w_is_kn: w stored [K,N] (matmul) instead of [N,K].
// Returns the largest sum_k |x[m,k] w[n,k]| + |bias[n]| over the outputs (the scale of the tolerance).
static double ref_gemm(double *ref, const float *x, const float *w, const float *bias, int64_t M, int64_t K, int64_t N,
                       int w_is_kn) {
    double max_abs_sum = 0;
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double acc = bias ? bias[n] : 0.0, abs_sum = bias ? fabs(bias[n]) : 0.0;
            for (int64_t k = 0; k < K; k++) {
                const double t = (double)x[m * K + k] * (w_is_kn ? w[k * N + n] : w[n * K + k]);
                acc += t;
                abs_sum += fabs(t);
            }
            ref[m * N + n] = acc;
            max_abs_sum = fmax(max_abs_sum, abs_sum);
        }
    return max_abs_sum;
}

// Tolerance: an fp32 sum of n = K+1 terms (products and bias) has rounding error
// <= n*u*sum|terms| in the worst case and ~sqrt(n)*u*sum|terms| for independent roundings
// (u = 2^-24; Higham & Mary's probabilistic bound). atol = 4*sqrt(n)*u*max(sum|terms|): ~2e-3
// at K=515, where the observed error is ~5e-5, and still 300x below dropping a single N(0,1)
// product term (~0.6), the smallest indexing bug. rtol 1e-6 covers the last ulp of large outputs.
static double gemm_atol(int64_t K, double max_abs_sum) { return 4.0 * sqrt((double)(K + 1)) * 0x1p-24 * max_abs_sum; }

static void run_case(uint64_t seed, int64_t M, int64_t K, int64_t N, int with_bias, int matmul) {
    vt_rng r;
    vt_rng_seed(&r, seed);
    float *x = malloc((size_t)(M * K) * sizeof(float)), *w = malloc((size_t)(N * K) * sizeof(float));
    float *bias = malloc((size_t)N * sizeof(float));
    float *out = vt_guarded_alloc(M * N);
    double *ref = malloc((size_t)(M * N) * sizeof(double));
    vt_fill_normal(&r, x, M * K, 1.0f);
    vt_fill_normal(&r, w, N * K, 1.0f);
    vt_fill_normal(&r, bias, N, 1.0f);
    for (int64_t i = 0; i < M * N; i++) out[i] = NAN; // anything not written shows up as NaN
    char name[160];
    double abs_sum;
    if (matmul) {
        vd_matmul_cpu(out, x, w, M, K, N);
        abs_sum = ref_gemm(ref, x, w, NULL, M, K, N, 1);
        snprintf(name, sizeof name, "matmul M=%lld K=%lld N=%lld seed=%llu", (long long)M, (long long)K, (long long)N,
                 (unsigned long long)seed);
    } else {
        vd_linear_cpu(out, x, w, with_bias ? bias : NULL, M, K, N);
        abs_sum = ref_gemm(ref, x, w, with_bias ? bias : NULL, M, K, N, 0);
        snprintf(name, sizeof name, "linear M=%lld K=%lld N=%lld bias=%d seed=%llu", (long long)M, (long long)K,
                 (long long)N, with_bias, (unsigned long long)seed);
    }
    vt_check_d(name, out, ref, M * N, gemm_atol(K, abs_sum), 1e-6);
    // Aggregate check, tighter than the elementwise bound: fp32 GEMM NMSE is ~u^2*K ~ 1e-14..1e-12
    // here (observed <= 1e-13); 1e-10 still flags one dropped term among all outputs.
    const vt_diff d = vt_compare_d(out, ref, M * N);
    VT_EXPECT(d.nmse <= 1e-10);
    VT_EXPECT(vt_guards_ok(out, M * N));
    free(x), free(w), free(bias), free(ref);
    vt_guarded_free(out);
}

// Integer known answer: exact in fp32.
static void known_answer(void) {
    const float x[6] = {1, 2, 3, 4, 5, 6};       // [2,3]
    const float w[6] = {1, 0, -1, 2, 1, 0};      // [2,3] (torch Linear [N,K])
    const float wt[6] = {1, 2, 0, 1, -1, 0};     // w^T as [3,2] for matmul
    const float bias[2] = {0.5f, -1.0f};
    const float want_lin[4] = {-1.5f, 3.0f, -1.5f, 12.0f};
    const float want_mm[4] = {-2.0f, 4.0f, -2.0f, 13.0f};
    float out[4];
    vd_linear_cpu(out, x, w, bias, 2, 3, 2);
    vt_check("linear known answer 2x3x2 (exact)", out, want_lin, 4, 0, 0);
    vd_matmul_cpu(out, x, wt, 2, 3, 2);
    vt_check("matmul known answer 2x3x2 (exact)", out, want_mm, 4, 0, 0);
    // K = 0: out is the bias (linear) or zero (matmul).
    float o2[2] = {NAN, NAN};
    vd_linear_cpu(o2, x, w, bias, 1, 0, 2);
    vt_check("linear K=0 gives bias", o2, bias, 2, 0, 0);
    const float zeros[2] = {0, 0};
    vd_matmul_cpu(o2, x, wt, 1, 0, 2);
    vt_check("matmul K=0 gives zeros", o2, zeros, 2, 0, 0);
}

int main(int argc, char **argv) {
    const uint64_t base = vt_base_seed(argc, argv, "test_ops_linear");
    known_answer();
    const int64_t Ms[] = {1, 5, 7, 13, 33};
    const int64_t KN[][2] = {{1, 1}, {3, 17}, {17, 3}, {64, 130}, {130, 64}, {257, 33}};
    uint64_t ci = 0;
    for (int mi = 0; mi < 5; mi++)
        for (int k = 0; k < 6; k++) {
            run_case(base * 1000 + ci, Ms[mi], KN[k][0], KN[k][1], (mi + k) & 1, 0); // bias on alternate shapes
            ci++;
            run_case(base * 1000 + ci, Ms[mi], KN[k][0], KN[k][1], 0, 1);
            ci++;
        }
    // Shapes where OpenBLAS takes its multithreaded blocked path.
    run_case(base * 1000 + ci++, 301, 515, 263, 1, 0);
    run_case(base * 1000 + ci++, 263, 515, 301, 0, 1);
    return vt_finish("test_ops_linear");
}
