// GEMM ops on the CPU: torch-Linear layout (x @ w^T + bias) and plain row-major matmul, both
// through OpenBLAS cblas_sgemm (fp32 in, fp32 accumulate). These are the references the cuBLASLt
// twins in ops_cuda.h are checked against. OpenBLAS takes int dimensions, so each dimension and
// leading dimension must fit in an int (asserted: callers pass model shapes, not user input).
#include <cblas.h>
#include <limits.h>
#include <string.h>

#include "ops.h"

static void check_blas_dims(int64_t M, int64_t K, int64_t N) {
    VD_ASSERT(M >= 0 && K >= 0 && N >= 0);
    VD_ASSERT(M <= INT_MAX && K <= INT_MAX && N <= INT_MAX);
}

// out[M,N] = x[M,K] @ w[N,K]^T (+ bias[N]).
void vd_linear_cpu(float *out, const float *x, const float *w, const float *bias, int64_t M, int64_t K, int64_t N) {
    check_blas_dims(M, K, N);
    if (M == 0 || N == 0) return;
    // Seed out with the bias rows (or zeros) and accumulate with beta = 1: one pass over out.
    if (bias) {
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < M; i++) memcpy(out + i * N, bias, (size_t)N * sizeof(float));
    } else {
        memset(out, 0, (size_t)(M * N) * sizeof(float));
    }
    if (K == 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0f, x, (int)K, w, (int)K, 1.0f,
                out, (int)N);
}

// out[M,N] = a[M,K] @ b[K,N].
void vd_matmul_cpu(float *out, const float *a, const float *b, int64_t M, int64_t K, int64_t N) {
    check_blas_dims(M, K, N);
    if (M == 0 || N == 0) return;
    if (K == 0) {
        memset(out, 0, (size_t)(M * N) * sizeof(float));
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.0f, a, (int)K, b, (int)N, 0.0f,
                out, (int)N);
}
