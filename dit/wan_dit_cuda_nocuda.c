// Stand-ins for dit/wan_dit_cuda.h in builds without CUDA: every entry point says so.
#include "dit/wan_dit_cuda.h"

#define NO_CUDA(err) \
    vd_error_set(err, VD_ERR_UNSUPPORTED, "%s: this build of vdit has no CUDA (rebuild with -DVDIT_CUDA=ON)", __func__)

vd_status vd_wan_cuda_create(vd_wan_cuda **out, vd_cuda_ctx *ctx, const vd_wan_model_files *m, int64_t max_tokens,
                             int64_t max_text, vd_error *err) {
    *out = NULL;
    return NO_CUDA(err);
}
void vd_wan_cuda_free(vd_wan_cuda *w) { (void)w; }
const vd_wan_config *vd_wan_cuda_config(const vd_wan_cuda *w) { return NULL; }
vd_status vd_wan_cuda_forward(vd_wan_cuda *w, const float *latent_d, float t, const float *context_d, int64_t F,
                              int64_t H, int64_t W, int64_t Lt, const vd_wan_run_info *info, float *out_d, vd_error *err) {
    return NO_CUDA(err);
}
vd_status vd_wan_cuda_forward_host(vd_wan_cuda *w, const float *latent, const float *timestep, const float *context,
                                   int64_t B, int64_t F, int64_t H, int64_t W, int64_t Lt, const vd_wan_run_info *info,
                                   float *out, vd_error *err) {
    return NO_CUDA(err);
}
vd_status vd_wan_cuda_reserve_attn_ws(vd_wan_cuda *w, size_t bytes, vd_error *err) { return NO_CUDA(err); }
void vd_wan_cuda_set_timing(vd_wan_cuda *w, int on) { (void)w; (void)on; }
void vd_wan_cuda_get_timing(const vd_wan_cuda *w, vd_wan_cuda_timing *t) { (void)w; *t = (vd_wan_cuda_timing){0}; }
