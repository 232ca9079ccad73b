// Elementwise CUDA ops, fp32 (twins of lib/ops_elementwise.c and the row ops of ops.h):
// f32 <-> bf16 conversion (same bit recipe as vd_f32_to_bf16: round to nearest even, NaN kept
// quiet), GELU (tanh), SiLU, add, mul, adaLN modulate, gated residual, row gather/scatter.
// add / mul / modulate / gated_add use the _rn intrinsics so that nothing is fused into an FMA:
// they round exactly like the C reference (bit-equal in tests/gpu/test_ops_cuda.c). GELU and
// SiLU use CUDA's tanhf/expf (max 2 ulp), so they match within a few ulp.
// Memory-bound: grid-stride loops with int64 indices; row ops give a block a row at a time.
#include "cuda_ctx.h"
#include "ops_cuda.h"

static vd_status check_n(const char *fn, int64_t n, const void *out, const void *in, vd_error *err) {
    if (n < 0) return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: n=%lld; allowed >= 0", fn, (long long)n);
    if (n > 0 && (!out || !in)) return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: NULL buffer for n=%lld", fn, (long long)n);
    return VD_OK;
}
static vd_status check_mc(const char *fn, int64_t M, int64_t C, vd_error *err) {
    if (M < 0 || C < 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: M=%lld C=%lld; allowed >= 0", fn, (long long)M, (long long)C);
    return VD_OK;
}

#define GRID_STRIDE(i, n) \
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

__device__ __forceinline__ uint16_t f32_to_bf16_dev(float f) {
    uint32_t u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

__global__ void f32_to_bf16_kernel(uint16_t *out, const float *x, int64_t n) {
    GRID_STRIDE(i, n) out[i] = f32_to_bf16_dev(x[i]);
}
__global__ void bf16_to_f32_kernel(float *out, const uint16_t *x, int64_t n) {
    GRID_STRIDE(i, n) out[i] = __uint_as_float((uint32_t)x[i] << 16);
}
__global__ void gelu_tanh_kernel(float *out, const float *x, int64_t n) {
    const float k = 0.7978845608028654f; // sqrt(2/pi)
    GRID_STRIDE(i, n) {
        float v = x[i];
        float inner = k * (v + 0.044715f * v * v * v);
        out[i] = 0.5f * v * (1.0f + tanhf(inner));
    }
}
__global__ void silu_kernel(float *out, const float *x, int64_t n) {
    GRID_STRIDE(i, n) out[i] = x[i] / (1.0f + expf(-x[i]));
}
__global__ void add_kernel(float *out, const float *a, const float *b, int64_t n) {
    GRID_STRIDE(i, n) out[i] = __fadd_rn(a[i], b[i]);
}
__global__ void mul_kernel(float *out, const float *a, const float *b, int64_t n) {
    GRID_STRIDE(i, n) out[i] = __fmul_rn(a[i], b[i]);
}
// One block per row (grid-stride over rows), threads over the C columns.
__global__ void modulate_kernel(float *out, const float *x, const float *shift, const float *scale, int64_t M, int64_t C) {
    for (int64_t m = blockIdx.x; m < M; m += gridDim.x)
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
            out[m * C + c] = __fadd_rn(__fmul_rn(x[m * C + c], __fadd_rn(1.0f, scale[c])), shift[c]);
}
__global__ void gated_add_kernel(float *out, const float *x, const float *y, const float *gate, int64_t M, int64_t C) {
    for (int64_t m = blockIdx.x; m < M; m += gridDim.x)
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
            float g = y[m * C + c];
            if (gate) g = __fmul_rn(gate[c], g);
            out[m * C + c] = __fadd_rn(x[m * C + c], g);
        }
}
__global__ void gather_rows_kernel(float *out, const float *x, const int32_t *idx, int64_t n_idx, int64_t C) {
    for (int64_t i = blockIdx.x; i < n_idx; i += gridDim.x) {
        const float *src = x + (int64_t)idx[i] * C;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) out[i * C + c] = src[c];
    }
}
__global__ void scatter_rows_kernel(float *out, const float *x, const int32_t *idx, int64_t n_idx, int64_t C) {
    for (int64_t i = blockIdx.x; i < n_idx; i += gridDim.x) {
        float *dst = out + (int64_t)idx[i] * C;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) dst[c] = x[i * C + c];
    }
}

#define LAUNCH_FLAT(kernel, n, ...)                                                                   \
    do {                                                                                              \
        if ((n) > 0) {                                                                                \
            kernel<<<vd_cuda_grid((n), VD_CUDA_BLOCK), VD_CUDA_BLOCK, 0, ctx->stream>>>(__VA_ARGS__); \
            VD_CUDA_LAUNCH_CHECK(err, ctx->stream, #kernel);                                          \
        }                                                                                             \
    } while (0)

// Rows: one block of 256 threads per row up to 65535 blocks (grid-stride beyond).
#define LAUNCH_ROWS(kernel, rows, ...)                                                                \
    do {                                                                                              \
        if ((rows) > 0) {                                                                             \
            unsigned g_ = (unsigned)((rows) < 65535 ? (rows) : 65535);                                \
            kernel<<<g_, VD_CUDA_BLOCK, 0, ctx->stream>>>(__VA_ARGS__);                               \
            VD_CUDA_LAUNCH_CHECK(err, ctx->stream, #kernel);                                          \
        }                                                                                             \
    } while (0)

extern "C" vd_status vd_f32_to_bf16_cuda(vd_cuda_ctx *ctx, uint16_t *out, const float *x, int64_t n, vd_error *err) {
    VD_TRY(check_n(__func__, n, out, x, err));
    LAUNCH_FLAT(f32_to_bf16_kernel, n, out, x, n);
    return VD_OK;
}
extern "C" vd_status vd_bf16_to_f32_cuda(vd_cuda_ctx *ctx, float *out, const uint16_t *x, int64_t n, vd_error *err) {
    VD_TRY(check_n(__func__, n, out, x, err));
    LAUNCH_FLAT(bf16_to_f32_kernel, n, out, x, n);
    return VD_OK;
}
extern "C" vd_status vd_gelu_tanh_cuda(vd_cuda_ctx *ctx, float *out, const float *x, int64_t n, vd_error *err) {
    VD_TRY(check_n(__func__, n, out, x, err));
    LAUNCH_FLAT(gelu_tanh_kernel, n, out, x, n);
    return VD_OK;
}
extern "C" vd_status vd_silu_cuda(vd_cuda_ctx *ctx, float *out, const float *x, int64_t n, vd_error *err) {
    VD_TRY(check_n(__func__, n, out, x, err));
    LAUNCH_FLAT(silu_kernel, n, out, x, n);
    return VD_OK;
}
extern "C" vd_status vd_add_cuda(vd_cuda_ctx *ctx, float *out, const float *a, const float *b, int64_t n, vd_error *err) {
    VD_TRY(check_n(__func__, n, out, a, err));
    VD_TRY(check_n(__func__, n, out, b, err));
    LAUNCH_FLAT(add_kernel, n, out, a, b, n);
    return VD_OK;
}
extern "C" vd_status vd_mul_cuda(vd_cuda_ctx *ctx, float *out, const float *a, const float *b, int64_t n, vd_error *err) {
    VD_TRY(check_n(__func__, n, out, a, err));
    VD_TRY(check_n(__func__, n, out, b, err));
    LAUNCH_FLAT(mul_kernel, n, out, a, b, n);
    return VD_OK;
}
extern "C" vd_status vd_modulate_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *shift, const float *scale,
                                      int64_t M, int64_t C, vd_error *err) {
    VD_TRY(check_mc(__func__, M, C, err));
    if (M * C > 0 && (!out || !x || !shift || !scale))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_modulate_cuda: NULL buffer for M=%lld C=%lld", (long long)M, (long long)C);
    if (C > 0) LAUNCH_ROWS(modulate_kernel, M, out, x, shift, scale, M, C);
    return VD_OK;
}
extern "C" vd_status vd_gated_add_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *y, const float *gate,
                                       int64_t M, int64_t C, vd_error *err) {
    VD_TRY(check_mc(__func__, M, C, err));
    if (M * C > 0 && (!out || !x || !y))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_gated_add_cuda: NULL buffer for M=%lld C=%lld", (long long)M, (long long)C);
    if (C > 0) LAUNCH_ROWS(gated_add_kernel, M, out, x, y, gate, M, C);
    return VD_OK;
}
// Indices are trusted (ops.h): callers validate them against the row count.
extern "C" vd_status vd_gather_rows_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const int32_t *idx, int64_t n_idx,
                                         int64_t C, vd_error *err) {
    VD_TRY(check_mc(__func__, n_idx, C, err));
    if (C > 0) LAUNCH_ROWS(gather_rows_kernel, n_idx, out, x, idx, n_idx, C);
    return VD_OK;
}
extern "C" vd_status vd_scatter_rows_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const int32_t *idx, int64_t n_idx,
                                          int64_t C, vd_error *err) {
    VD_TRY(check_mc(__func__, n_idx, C, err));
    if (C > 0) LAUNCH_ROWS(scatter_rows_kernel, n_idx, out, x, idx, n_idx, C);
    return VD_OK;
}
