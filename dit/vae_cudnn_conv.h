// cuDNN 3D convolution for the Wan VAE's CUDA runner (dit/vae_cudnn.cu): channels-last tensors,
// batch 1, stride 1, zero padding in space only (the time context comes from the caller's
// feature cache, written in front of the input frames).
//
//   y[To, Ho, Wo, Cout] (=, or += with accumulate) sum over (a, b, c, ci) of
//       x[d + a, y + b - kh/2, x + c - kw/2, ci] * w[co, a, b, c, ci]
//   To = Ti - kt + 1, Ho = H + 2 (kh/2) - kh + 1 (H for odd kh, H + 1 for even), Wo likewise
//
// No bias: the runner adds each conv's bias in the kernel that next reads the output.
// Precision: fp32 tensors with TF32 tensor-core math permitted (what torch uses for cuDNN convs by
// default) or strict fp32 (FMA math only). The algorithm is chosen once per shape by timing
// every applicable one (cudnnFindConvolutionForwardAlgorithmEx, workspace <= the limit) and
// cached with its descriptors; workspace comes from the caller's allocator (the VAE's pool).
// Fallback: a channels-last shape for which cuDNN runs no algorithm (every timed or heuristic
// candidate fails or needs too much workspace; cuDNN 9.19 on the H200 had none in TF32 for the VAE's
// 96 -> 8 output conv at 480x832) is planned, at its first call, to run the direct CUDA kernel of
// vae_cudnn_direct.h (fp32 FMA accumulation, same semantics), with a warning; later calls never
// ask cuDNN again. VDIT_VAE_CUDNN_DIRECT=1 (or all) plans every channels-last shape direct,
// VDIT_VAE_CUDNN_DIRECT=small those with cout <= 8 (read at vd_cudnn_conv_create; for tests and
// measurements). NCDHW shapes (bench_vae_conv) keep the error.
// Include from .cu files only (C++ linkage of the stream type is not needed: the stream is void *).
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vd_cudnn_conv vd_cudnn_conv;

// Device memory from the caller (stream-ordered pool with live-byte accounting).
typedef struct {
    vd_status (*alloc)(void *user, void **p, size_t bytes, vd_error *err);
    void (*release)(void *user, void *p, size_t bytes);
    void *user;
} vd_cudnn_allocator;

typedef struct {
    int cin, cout, kt, kh, kw;
    int ti, h, w;     // input frames (cache frames included), height, width
    int ncdhw;        // 0: the channels-last layouts above (the runner); 1: NCDHW tensors and
                      // [cout, cin, kt, kh, kw] weights (PyTorch's layouts; bench_vae_conv compares)
    int bf16;         // 1: x, w, y bf16 (uint16 bit patterns), fp32 accumulation, tensor-core math
} vd_cudnn_conv_shape;

static inline int vd_cudnn_conv_out_dim(int n, int k) { return n + 2 * (k / 2) - k + 1; }

// stream: cudaStream_t. ws_limit: the most workspace bytes an algorithm may use.
vd_status vd_cudnn_conv_create(vd_cudnn_conv **out, void *stream, const vd_cudnn_allocator *a, size_t ws_limit,
                               bool strict_fp32, vd_error *err);
void vd_cudnn_conv_free(vd_cudnn_conv *c);
// Strict fp32 (FMA math) or TF32 permitted; clears the plan cache when it changes.
void vd_cudnn_conv_set_strict_fp32(vd_cudnn_conv *c, bool strict_fp32);

// x, w, y: device f32 (bf16 with s->bf16) in the layouts above; y must not overlap x.
vd_status vd_cudnn_conv_run(vd_cudnn_conv *c, const vd_cudnn_conv_shape *s, const void *x, const void *w, void *y,
                            bool accumulate, vd_error *err);

// One line per cached plan (shape, algorithm, math, workspace, measured ms) to the log at info level.
void vd_cudnn_conv_log_plans(const vd_cudnn_conv *c);

#ifdef __cplusplus
}
#endif
