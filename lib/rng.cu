// Philox4x32-10 Gaussian noise on the GPU: one thread per block of four elements, the same
// philox_math.h code as rng.c (device side with the _rn intrinsics), so the bits match the CPU.
// fp64 throughput is no concern here: a Wan latent is ~2M elements, ~100 double ops each.
#include "cuda_ctx.h"
#include "philox_math.h"
#include "rng.h"

__global__ void rng_normal_kernel(float *out, int64_t n, uint64_t seed, uint64_t offset) {
    int64_t n_blk = (n + 3) / 4;
    for (int64_t b = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; b < n_blk; b += (int64_t)gridDim.x * blockDim.x) {
        float z[4];
        vd_philox_normal4((uint64_t)b, seed, offset, z);
        int64_t i0 = 4 * b;
        if (i0 + 4 <= n) {
            out[i0] = z[0];
            out[i0 + 1] = z[1];
            out[i0 + 2] = z[2];
            out[i0 + 3] = z[3];
        } else {
            for (int64_t j = 0; i0 + j < n; j++) out[i0 + j] = z[j];
        }
    }
}

extern "C" vd_status vd_rng_normal_cuda(vd_cuda_ctx *ctx, float *out_dev, int64_t n, uint64_t seed, uint64_t offset,
                                        vd_error *err) {
    if (n < 0) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_rng_normal_cuda: n=%lld; allowed >= 0", (long long)n);
    if (n == 0) return VD_OK;
    if (!out_dev) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_rng_normal_cuda: out is NULL for n=%lld", (long long)n);
    rng_normal_kernel<<<vd_cuda_grid((n + 3) / 4, VD_CUDA_BLOCK), VD_CUDA_BLOCK, 0, ctx->stream>>>(out_dev, n, seed, offset);
    VD_CUDA_LAUNCH_CHECK(err, ctx->stream, "rng_normal_kernel");
    return VD_OK;
}
