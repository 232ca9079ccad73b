// Direct channels-last causal conv3d on CUDA cores: the fallback of vd_cudnn_conv (vae_cudnn_conv.cu)
// for shapes where cuDNN runs no algorithm (cuDNN 9.19 on the H200 had no NDHWC TF32 engine for
// the Wan VAE's output conv, 96 -> 3 (padded 8) channels at 480x832), or when forced
// (VDIT_VAE_CUDNN_DIRECT, see vae_cudnn_conv.h).
//
// Same contract as vd_cudnn_conv_run for an NDHWC shape (s->ncdhw = 0): x [ti, H, W, cin], weights
// [cout, kt, kh, kw, cin], y [ti - kt + 1, Ho, Wo, cout] with Ho = H + 2 (kh/2) - kh + 1 (likewise
// Wo); spatial zero padding kh/2, kw/2; no temporal padding (the caller prepends the cache frames);
// y = conv (or y += conv with accumulate); no bias. f32 tensors, or bf16 ones with s->bf16 (x, w, y
// bf16, read exactly, y rounded to nearest even). Accumulation: fp32 FMA in every mode (so strict
// fp32 and TF32 both hold). One thread computes 8 output channels of 2 output pixels; the block's
// threads share the weights of the current tap (shared memory); the cin vector of a tap is read in
// 16-byte loads when cin and x allow.
#pragma once
#include <stdbool.h>

#include "dit/vae_cudnn_conv.h"
#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// stream: cudaStream_t. Launches and returns (stream-ordered); errors are launch errors and bad shapes.
vd_status vd_cudnn_direct_run(const vd_cudnn_conv_shape *s, const void *x, const void *w, void *y, bool accumulate,
                              void *stream, vd_error *err);

#ifdef __cplusplus
}
#endif
