// Stand-ins for dit/wan_kernels.h in builds without CUDA (the gpu tests link them and then skip):
// every entry point returns VD_ERR_UNSUPPORTED saying so.
#include "dit/wan_kernels.h"

#define NO_CUDA(err) \
    vd_error_set(err, VD_ERR_UNSUPPORTED, "%s: this build of vdit has no CUDA (rebuild with -DVDIT_CUDA=ON)", __func__)

vd_status vd_wan_ln_mod_cuda(void *stream, uint16_t *out, const float *x, int64_t M, int64_t C, float eps, const float *w,
                             const float *b, const float *sh_a, const float *sh_b, const float *sc_a, const float *sc_b,
                             vd_error *err) {
    return NO_CUDA(err);
}
vd_status vd_wan_rms_rope_cuda(void *stream, uint16_t *out, const void *x, int x_bf16, int64_t M, int64_t C, float eps,
                               const float *w, const vd_wan_rope_desc *rope, vd_error *err) {
    return NO_CUDA(err);
}
vd_status vd_wan_rms_rope_pool_cuda(void *stream, uint16_t *out, const void *x, int x_bf16, int64_t M, int64_t C, float eps,
                                    const float *w, const vd_wan_rope_desc *rope, const vd_wan_pool_desc *pool,
                                    vd_error *err) {
    return NO_CUDA(err);
}
vd_status vd_wan_gated_add_cuda(void *stream, float *x, const uint16_t *y, const float *g_a, const float *g_b, int64_t M,
                                int64_t C, vd_error *err) {
    return NO_CUDA(err);
}
vd_status vd_wan_gelu_bf16_cuda(void *stream, uint16_t *x, int64_t n, vd_error *err) { return NO_CUDA(err); }
vd_status vd_wan_gelu_f32_to_bf16_cuda(void *stream, uint16_t *out, const float *x, int64_t n, vd_error *err) {
    return NO_CUDA(err);
}
vd_status vd_wan_gemv_f32_cuda(void *stream, float *out, const float *W, const float *b, const float *x, int64_t N, int64_t K,
                               int silu_in, vd_error *err) {
    return NO_CUDA(err);
}
