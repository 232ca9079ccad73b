// Dense attention as a method: no config, no state. CPU: vd_attn_dense_cpu (tiled sgemm);
// CUDA: vd_attn_dense_cuda (flash_dense.cu). The baseline every sparse method is measured against.
#include "attention/attention.h"
#include "attention/radial.h"

static vd_status check(const void *cfg, const vd_attn_params *p, const vd_attn_ctx *c, vd_error *err) {
    (void)cfg; (void)c;
    if (p->NKV <= 0 || p->NH % p->NKV)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "dense: NH=%d must be a multiple of NKV=%d", p->NH, p->NKV);
    if (p->device == VD_DEVICE_CUDA) VD_TRY(vd_attn_flash_supports(p, err));
    return VD_OK;
}

static vd_status run_cpu(const void *cfg, void *state, const vd_attn_params *p, const vd_attn_ctx *c, void *ws,
                         vd_error *err) {
    return vd_attn_dense_cpu(p, err);
}

static vd_status run_cuda(const void *cfg, void *state, const vd_attn_params *p, const vd_attn_ctx *c, void *ws,
                          void *stream, vd_error *err) {
    return vd_attn_dense_cuda(p, stream, err);
}

const vd_attn_method vd_attn_method_dense = {
    .name = "dense",
    .summary = "full softmax attention (flash kernel on CUDA, tiled sgemm on CPU)",
    .cfg_size = 0,
    .params = NULL,
    .n_params = 0,
    .check = check,
    .run_cpu = run_cpu,
    .run_cuda = run_cuda,
};
