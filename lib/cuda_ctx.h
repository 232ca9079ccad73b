// Internals of vd_cuda_ctx shared by the lib/*.cu files (not a public header: include only from
// .cu files). The public API is device.h and ops_cuda.h.
#pragma once
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "cuda_check.h"
#include "device.h"
#include "dtype.h"

struct vd_cuda_ctx {
    int device;
    cudaStream_t stream;
    cublasLtHandle_t lt;
    void *lt_ws;             // cuBLASLt workspace (device), lt_ws_bytes
    size_t lt_ws_bytes;
    char name[256];          // cudaDeviceProp.name
    int cc_major, cc_minor, n_sm;
    size_t total_mem;
    void *gemm_cache;        // cuBLASLt plans by shape (ops_linear.cu), freed with the context;
                             // like the stream, a context serves one host thread at a time
};

// 32 MiB: the workspace cuBLAS documents for Hopper (sm_90) kernels.
#define VD_CUDA_LT_WORKSPACE_BYTES ((size_t)32 << 20)

// Threads per block for the simple elementwise kernels, and the cap on the grid of the
// grid-stride loops (enough blocks for every SM several times over; indices are int64).
#define VD_CUDA_BLOCK 256
static inline unsigned vd_cuda_grid(int64_t n, int64_t per_block) {
    int64_t b = (n + per_block - 1) / per_block;
    const int64_t cap = 132 * 64;
    if (b < 1) b = 1;
    return (unsigned)(b < cap ? b : cap);
}

// Frees the GEMM plan cache (called by vd_cuda_ctx_free).
void vd_gemm_cache_free(vd_cuda_ctx *ctx);

// Row-major GEMM with leading dimensions (elements):
//   out[m*ldo + n] = sum_k x[m*ldx + k] * w[n*ldw + k] (+ bias[n]),  m < M, n < N, k < K.
// x, w bf16; out f32 or bf16 (out_t); bias f32 or NULL; fp32 accumulate. Used by vd_linear_cuda
// and vd_conv3d_cuda (ops_linear.cu).
vd_status vd_gemm_bf16_cuda(vd_cuda_ctx *ctx, void *out, vd_dtype out_t, int64_t ldo, const uint16_t *x,
                            int64_t ldx, const uint16_t *w, int64_t ldw, const float *bias, int64_t M,
                            int64_t K, int64_t N, vd_error *err);
