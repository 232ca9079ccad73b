// Core ops on CUDA: the twins of ops.h. bf16 GEMM operands with fp32 accumulation through
// cuBLASLt; elementwise, norms, softmax, RoPE and the rest in fp32. All pointers are device
// pointers; all calls are asynchronous on ctx's stream and return VD_ERR_CUDA with the failing
// call, file:line and the CUDA message when a launch fails. Shapes exactly as in ops.h.
// Without CUDA in the build, each returns VD_ERR_UNSUPPORTED.
#pragma once
#include <stdint.h>

#include "device.h"
#include "dtype.h"
#include "ops.h"

#ifdef __cplusplus
extern "C" {
#endif

// out[M,N] (f32 or bf16, out_t) = x[M,K] bf16 @ w[N,K]^T bf16 (+ bias[N] f32, may be NULL); fp32 accumulate.
vd_status vd_linear_cuda(vd_cuda_ctx *ctx, void *out, vd_dtype out_t, const uint16_t *x_bf16, const uint16_t *w_bf16,
                         const float *bias, int64_t M, int64_t K, int64_t N, vd_error *err);
// Conversions f32 <-> bf16 on the device, round to nearest even (same as vd_f32_to_bf16).
vd_status vd_f32_to_bf16_cuda(vd_cuda_ctx *ctx, uint16_t *out, const float *x, int64_t n, vd_error *err);
vd_status vd_bf16_to_f32_cuda(vd_cuda_ctx *ctx, float *out, const uint16_t *x, int64_t n, vd_error *err);

vd_status vd_layernorm_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *w, const float *b, int64_t M, int64_t C, float eps, vd_error *err);
vd_status vd_rmsnorm_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *w, int64_t M, int64_t C, float eps, vd_error *err);
vd_status vd_gelu_tanh_cuda(vd_cuda_ctx *ctx, float *out, const float *x, int64_t n, vd_error *err);
vd_status vd_silu_cuda(vd_cuda_ctx *ctx, float *out, const float *x, int64_t n, vd_error *err);
vd_status vd_add_cuda(vd_cuda_ctx *ctx, float *out, const float *a, const float *b, int64_t n, vd_error *err);
vd_status vd_mul_cuda(vd_cuda_ctx *ctx, float *out, const float *a, const float *b, int64_t n, vd_error *err);
vd_status vd_modulate_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *shift, const float *scale, int64_t M, int64_t C, vd_error *err);
vd_status vd_gated_add_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *y, const float *gate, int64_t M, int64_t C, vd_error *err);
vd_status vd_softmax_cuda(vd_cuda_ctx *ctx, float *out, const float *x, int64_t M, int64_t C, vd_error *err);
vd_status vd_rope3d_cuda(vd_cuda_ctx *ctx, float *x, int64_t Fp, int64_t Hp, int64_t Wp, int64_t NH, int64_t D, double theta, vd_error *err);
vd_status vd_patchify3d_cuda(vd_cuda_ctx *ctx, float *tokens, const float *x, int64_t C, int64_t F, int64_t H, int64_t W, int pt, int ph, int pw, vd_error *err);
vd_status vd_unpatchify3d_cuda(vd_cuda_ctx *ctx, float *y, const float *tokens, int64_t C, int64_t Fp, int64_t Hp, int64_t Wp, int pt, int ph, int pw, vd_error *err);
vd_status vd_gather_rows_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const int32_t *idx, int64_t n_idx, int64_t C, vd_error *err);
vd_status vd_scatter_rows_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const int32_t *idx, int64_t n_idx, int64_t C, vd_error *err);
// conv3d: f32 in/out, bf16 operands inside (implicit GEMM or im2col + cuBLASLt), fp32 accumulate.
// ws: device scratch of vd_conv3d_cuda_workspace(s) bytes (from the arena).
size_t vd_conv3d_cuda_workspace(const vd_conv3d_shape *s);
vd_status vd_conv3d_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *weight, const float *bias,
                         const vd_conv3d_shape *s, void *ws, vd_error *err);

#ifdef __cplusplus
}
#endif
