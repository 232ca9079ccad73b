// The fused top-k mask (mask_build.h) in a build without CUDA: returns VD_ERR_UNSUPPORTED saying
// so (the CPU reference lives in mask_build.c).
#include "attention/mask_build.h"

size_t vd_attn_topk_mask_cuda_ws_bytes(const vd_attn_topk_mask_shape *s) {
    (void)s;
    return 0;
}

vd_status vd_attn_topk_mask_cuda(int32_t *indptr, int32_t *indices, uint8_t *mask, const uint16_t *q,
                                 const uint16_t *k, const vd_attn_topk_mask_shape *s, void *ws, void *stream,
                                 vd_error *err) {
    (void)indptr, (void)indices, (void)mask, (void)q, (void)k, (void)s, (void)ws, (void)stream;
    return vd_error_set(err, VD_ERR_UNSUPPORTED, "%s: this build of vdit has no CUDA (rebuild with -DVDIT_CUDA=ON)",
                        __func__);
}

vd_status vd_attn_topk_mask_pooled_cuda(int32_t *indptr, int32_t *indices, uint8_t *mask, const float *qbar,
                                        const float *kbar, const vd_attn_topk_mask_shape *s, void *stream, vd_error *err) {
    (void)indptr, (void)indices, (void)mask, (void)qbar, (void)kbar, (void)s, (void)stream;
    return vd_error_set(err, VD_ERR_UNSUPPORTED, "%s: this build of vdit has no CUDA (rebuild with -DVDIT_CUDA=ON)",
                        __func__);
}
