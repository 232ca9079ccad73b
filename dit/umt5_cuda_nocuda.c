// Stand-ins for the UMT5 CUDA path in builds without CUDA (umt5_cuda.cu otherwise).
#include "dit/umt5_model.h"

vd_status vd_umt5_cuda_upload(vd_umt5 *m, int device_id, vd_error *err) {
    (void)m;
    (void)device_id;
    return vd_error_set(err, VD_ERR_UNSUPPORTED, "umt5: this build has no CUDA; run the text encoder on the CPU");
}

vd_status vd_umt5_forward_cuda(vd_umt5 *m, const int32_t *ids, int n, float *out, vd_error *err) {
    (void)m;
    (void)ids;
    (void)n;
    (void)out;
    return vd_error_set(err, VD_ERR_UNSUPPORTED, "umt5: this build has no CUDA; run the text encoder on the CPU");
}

void vd_umt5_cuda_release(vd_umt5 *m) { (void)m; }
