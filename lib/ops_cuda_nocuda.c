// Stand-ins for ops_cuda.h and vd_rng_normal_cuda (rng.h) when the build has no CUDA: every
// call returns VD_ERR_UNSUPPORTED saying so, so callers and CLIs need no #ifdefs.
#include "ops_cuda.h"
#include "rng.h"

#define NO_CUDA(err) vd_error_set(err, VD_ERR_UNSUPPORTED, "%s: this build of vdit has no CUDA (rebuild with -DVDIT_CUDA=ON on a machine with the CUDA toolkit)", __func__)

vd_status vd_linear_cuda(vd_cuda_ctx *ctx, void *out, vd_dtype out_t, const uint16_t *x_bf16, const uint16_t *w_bf16,
                         const float *bias, int64_t M, int64_t K, int64_t N, vd_error *err) { return NO_CUDA(err); }
vd_status vd_f32_to_bf16_cuda(vd_cuda_ctx *ctx, uint16_t *out, const float *x, int64_t n, vd_error *err) { return NO_CUDA(err); }
vd_status vd_bf16_to_f32_cuda(vd_cuda_ctx *ctx, float *out, const uint16_t *x, int64_t n, vd_error *err) { return NO_CUDA(err); }
vd_status vd_layernorm_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *w, const float *b, int64_t M, int64_t C,
                            float eps, vd_error *err) { return NO_CUDA(err); }
vd_status vd_rmsnorm_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *w, int64_t M, int64_t C, float eps,
                          vd_error *err) { return NO_CUDA(err); }
vd_status vd_gelu_tanh_cuda(vd_cuda_ctx *ctx, float *out, const float *x, int64_t n, vd_error *err) { return NO_CUDA(err); }
vd_status vd_silu_cuda(vd_cuda_ctx *ctx, float *out, const float *x, int64_t n, vd_error *err) { return NO_CUDA(err); }
vd_status vd_add_cuda(vd_cuda_ctx *ctx, float *out, const float *a, const float *b, int64_t n, vd_error *err) { return NO_CUDA(err); }
vd_status vd_mul_cuda(vd_cuda_ctx *ctx, float *out, const float *a, const float *b, int64_t n, vd_error *err) { return NO_CUDA(err); }
vd_status vd_modulate_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *shift, const float *scale, int64_t M,
                           int64_t C, vd_error *err) { return NO_CUDA(err); }
vd_status vd_gated_add_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *y, const float *gate, int64_t M,
                            int64_t C, vd_error *err) { return NO_CUDA(err); }
vd_status vd_softmax_cuda(vd_cuda_ctx *ctx, float *out, const float *x, int64_t M, int64_t C, vd_error *err) { return NO_CUDA(err); }
vd_status vd_rope3d_cuda(vd_cuda_ctx *ctx, float *x, int64_t Fp, int64_t Hp, int64_t Wp, int64_t NH, int64_t D, double theta,
                         vd_error *err) { return NO_CUDA(err); }
vd_status vd_patchify3d_cuda(vd_cuda_ctx *ctx, float *tokens, const float *x, int64_t C, int64_t F, int64_t H, int64_t W, int pt,
                             int ph, int pw, vd_error *err) { return NO_CUDA(err); }
vd_status vd_unpatchify3d_cuda(vd_cuda_ctx *ctx, float *y, const float *tokens, int64_t C, int64_t Fp, int64_t Hp, int64_t Wp,
                               int pt, int ph, int pw, vd_error *err) { return NO_CUDA(err); }
vd_status vd_gather_rows_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const int32_t *idx, int64_t n_idx, int64_t C,
                              vd_error *err) { return NO_CUDA(err); }
vd_status vd_scatter_rows_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const int32_t *idx, int64_t n_idx, int64_t C,
                               vd_error *err) { return NO_CUDA(err); }
size_t vd_conv3d_cuda_workspace(const vd_conv3d_shape *s) { return 0; }
vd_status vd_conv3d_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *weight, const float *bias,
                         const vd_conv3d_shape *s, void *ws, vd_error *err) { return NO_CUDA(err); }
vd_status vd_rng_normal_cuda(vd_cuda_ctx *ctx, float *out_dev, int64_t n, uint64_t seed, uint64_t offset, vd_error *err) {
    return NO_CUDA(err);
}
