// Part of scripts/vae_cuda_emu (see run.sh): host emulation for checking dit/vae_cuda.cu without a GPU.
#include "cuda_runtime.h"
dim3s blockIdx, threadIdx, blockDim, gridDim;
#include "lib/cuda_ctx.h"
extern "C" {
bool vd_cuda_available(void) { return true; }
vd_status vd_cuda_ctx_create(vd_cuda_ctx **out, int device_id, vd_error *err) {
    *out = (vd_cuda_ctx *)calloc(1, sizeof(vd_cuda_ctx));
    return VD_OK;
}
void vd_cuda_ctx_free(vd_cuda_ctx *ctx) { free(ctx); }
void *vd_cuda_ctx_stream(vd_cuda_ctx *ctx) { return NULL; }
}
