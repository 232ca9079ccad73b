// Row reductions on CUDA (twins of lib/ops_norm.c): LayerNorm (affine optional), RMSNorm and
// softmax over the last dim of x[M, C], fp32. One block of 256 threads per row (grid-stride over
// rows); statistics in fp32 with a warp-shuffle tree, LayerNorm in two passes (mean, then mean of
// squared deviations) like the reference, which accumulates in double: the gpu test bounds the
// difference at 1e-5 relative for C up to 5120. The row is re-read from global memory per pass
// (a 5120-float row is 20 KB and stays in L1/L2).
#include "cuda_ctx.h"
#include "ops_cuda.h"

#define NORM_THREADS 256

enum { RED_SUM = 0, RED_MAX = 1 };

// Block-wide reduction; every thread gets the result. sh holds 32 floats.
template <int OP> __device__ __forceinline__ float block_reduce(float v, float *sh) {
    for (int o = 16; o > 0; o >>= 1) {
        float u = __shfl_xor_sync(0xffffffffu, v, o);
        v = OP == RED_SUM ? v + u : fmaxf(v, u);
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = (blockDim.x + 31) >> 5;
    __syncthreads(); // sh may still be read by a previous reduction
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    v = lane < n_warps ? sh[lane] : (OP == RED_SUM ? 0.0f : -INFINITY);
    for (int o = 16; o > 0; o >>= 1) {
        float u = __shfl_xor_sync(0xffffffffu, v, o);
        v = OP == RED_SUM ? v + u : fmaxf(v, u);
    }
    return v;
}

__global__ void layernorm_kernel(float *out, const float *x, const float *w, const float *b, int64_t M, int64_t C, float eps) {
    __shared__ float sh[32];
    for (int64_t m = blockIdx.x; m < M; m += gridDim.x) {
        const float *xr = x + m * C;
        // Sum deviations from the row's first value: rows with |mean| >> std (e.g. 100 +- 1)
        // then lose nothing to the magnitude of the running sum.
        const float x0 = xr[0];
        float s = 0.0f;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) s += xr[c] - x0;
        float mean = x0 + block_reduce<RED_SUM>(s, sh) / (float)C;
        float ss = 0.0f;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
            float d = xr[c] - mean;
            ss += d * d;
        }
        float rstd = 1.0f / sqrtf(block_reduce<RED_SUM>(ss, sh) / (float)C + eps);
        float *yr = out + m * C;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
            float v = (xr[c] - mean) * rstd;
            if (w) v *= w[c];
            if (b) v += b[c];
            yr[c] = v;
        }
        __syncthreads(); // in place: every thread has read the row before the next row's pass
    }
}

__global__ void rmsnorm_kernel(float *out, const float *x, const float *w, int64_t M, int64_t C, float eps) {
    __shared__ float sh[32];
    for (int64_t m = blockIdx.x; m < M; m += gridDim.x) {
        const float *xr = x + m * C;
        float ss = 0.0f;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) ss += xr[c] * xr[c];
        float r = 1.0f / sqrtf(block_reduce<RED_SUM>(ss, sh) / (float)C + eps);
        float *yr = out + m * C;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
            float v = xr[c] * r;
            if (w) v *= w[c];
            yr[c] = v;
        }
    }
}

// exp(x - max) / sum; a row with NaN or all -inf gives NaN, as the reference and torch do.
__global__ void softmax_kernel(float *out, const float *x, int64_t M, int64_t C) {
    __shared__ float sh[32];
    for (int64_t m = blockIdx.x; m < M; m += gridDim.x) {
        const float *xr = x + m * C;
        float mx = -INFINITY; // fmaxf skips NaN; a NaN entry still makes the sum, hence the row, NaN
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) mx = fmaxf(mx, xr[c]);
        mx = block_reduce<RED_MAX>(mx, sh);
        float s = 0.0f;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) s += expf(xr[c] - mx);
        float inv = 1.0f / block_reduce<RED_SUM>(s, sh);
        float *yr = out + m * C;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) yr[c] = expf(xr[c] - mx) * inv;
        __syncthreads();
    }
}

static vd_status check_rows(const char *fn, int64_t M, int64_t C, const void *out, const void *x, vd_error *err) {
    if (M < 0 || C < 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: M=%lld C=%lld; allowed >= 0", fn, (long long)M, (long long)C);
    if (M > 0 && C > 0 && (!out || !x))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: NULL buffer for M=%lld C=%lld", fn, (long long)M, (long long)C);
    return VD_OK;
}

static unsigned row_grid(int64_t M) { return (unsigned)(M < 65535 ? M : 65535); }

extern "C" vd_status vd_layernorm_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *w, const float *b,
                                       int64_t M, int64_t C, float eps, vd_error *err) {
    VD_TRY(check_rows(__func__, M, C, out, x, err));
    if (M == 0 || C == 0) return VD_OK;
    layernorm_kernel<<<row_grid(M), NORM_THREADS, 0, ctx->stream>>>(out, x, w, b, M, C, eps);
    VD_CUDA_LAUNCH_CHECK(err, ctx->stream, "layernorm_kernel");
    return VD_OK;
}

extern "C" vd_status vd_rmsnorm_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *w, int64_t M, int64_t C,
                                     float eps, vd_error *err) {
    VD_TRY(check_rows(__func__, M, C, out, x, err));
    if (M == 0 || C == 0) return VD_OK;
    rmsnorm_kernel<<<row_grid(M), NORM_THREADS, 0, ctx->stream>>>(out, x, w, M, C, eps);
    VD_CUDA_LAUNCH_CHECK(err, ctx->stream, "rmsnorm_kernel");
    return VD_OK;
}

extern "C" vd_status vd_softmax_cuda(vd_cuda_ctx *ctx, float *out, const float *x, int64_t M, int64_t C, vd_error *err) {
    VD_TRY(check_rows(__func__, M, C, out, x, err));
    if (M == 0 || C == 0) return VD_OK;
    softmax_kernel<<<row_grid(M), NORM_THREADS, 0, ctx->stream>>>(out, x, M, C);
    VD_CUDA_LAUNCH_CHECK(err, ctx->stream, "softmax_kernel");
    return VD_OK;
}
