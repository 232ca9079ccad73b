// Philox4x32-10 counter-based Gaussian noise, bit-identical on CPU and GPU for the same seed
// and shape. Element i of a tensor (flat row-major index) takes counter (i/4, offset lo, offset hi, 0)
// under key (seed lo, seed hi); the four 32-bit outputs become two Box-Muller pairs, giving
// the normals of elements 4*(i/4) .. 4*(i/4)+3. The transcendental math is vdit's own
// (range reduction + polynomials in double, no FMA contraction), so CPU libm and CUDA
// intrinsics play no part and both sides round the same way.
#pragma once
#include <stdint.h>

#include "device.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

// out[n] = standard normal samples for elements [0, n) of stream (seed, offset).
void vd_rng_normal_cpu(float *out, int64_t n, uint64_t seed, uint64_t offset);
// Same values, written to device memory out_dev on ctx's stream.
vd_status vd_rng_normal_cuda(vd_cuda_ctx *ctx, float *out_dev, int64_t n, uint64_t seed, uint64_t offset, vd_error *err);
// One Philox4x32-10 block (exposed for tests against the Random123 known-answer vectors).
void vd_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

#ifdef __cplusplus
}
#endif
