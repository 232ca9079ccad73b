// Part of scripts/vae_cuda_emu (see run.sh): host emulation for checking dit/vae_cuda.cu without a GPU.
#include "cuda_runtime.h"
#include <math.h>
dim3s blockIdx, threadIdx, blockDim, gridDim;
#include "lib/cuda_ctx.h"
#include "lib/device.h"
#include "lib/ops_cuda.h"
extern "C" {
bool vd_cuda_available(void) { return true; }
vd_status vd_cuda_ctx_create(vd_cuda_ctx **out, int device_id, vd_error *err) {
    *out = (vd_cuda_ctx *)calloc(1, sizeof(vd_cuda_ctx));
    return VD_OK;
}
void vd_cuda_ctx_free(vd_cuda_ctx *ctx) { free(ctx); }
void *vd_cuda_ctx_stream(vd_cuda_ctx *ctx) { return NULL; }
vd_status vd_cuda_sync(vd_cuda_ctx *, vd_error *) { return VD_OK; }
// the arena and copies of lib/device.h (test_vae_direct_conv): host memory, NaN-poisoned
vd_status vd_cuda_arena_init(vd_cuda_arena *a, size_t bytes, vd_error *err) {
    a->base = (char *)malloc(bytes), a->cap = bytes, a->top = a->peak = 0;
    if (!a->base) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "emu arena: out of host memory");
    memset(a->base, 0xff, bytes);
    return VD_OK;
}
void vd_cuda_arena_free(vd_cuda_arena *a) { free(a->base), a->base = NULL; }
vd_status vd_cuda_arena_alloc(vd_cuda_arena *a, size_t bytes, void **out, vd_error *err) {
    const size_t off = (a->top + 255) & ~(size_t)255;
    if (off + bytes > a->cap) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "emu arena: %zu bytes do not fit", bytes);
    *out = a->base + off, a->top = off + bytes;
    return VD_OK;
}
vd_status vd_cuda_upload(vd_cuda_ctx *, void *d, const void *s, size_t n, vd_error *) { memcpy(d, s, n); return VD_OK; }
// lib/ops_norm.cu's row softmax (x == out allowed)
vd_status vd_softmax_cuda(vd_cuda_ctx *, float *out, const float *x, int64_t M, int64_t C, vd_error *) {
    for (int64_t r = 0; r < M; r++) {
        const float *xr = x + r * C;
        float *yr = out + r * C, m = -INFINITY, sum = 0;
        for (int64_t j = 0; j < C; j++) m = fmaxf(m, xr[j]);
        for (int64_t j = 0; j < C; j++) sum += (yr[j] = expf(xr[j] - m));
        for (int64_t j = 0; j < C; j++) yr[j] /= sum;
    }
    return VD_OK;
}
vd_status vd_cuda_download(vd_cuda_ctx *, void *d, const void *s, size_t n, vd_error *) { memcpy(d, s, n); return VD_OK; }
}
