// Stand-ins for lib/device.h when the build has no CUDA: every call says so.
#include "device.h"

#define NO_CUDA(err) vd_error_set(err, VD_ERR_UNSUPPORTED, "%s: this build of vdit has no CUDA (rebuild with -DVDIT_CUDA=ON on a machine with the CUDA toolkit)", __func__)

bool vd_cuda_available(void) { return false; }
vd_status vd_cuda_ctx_create(vd_cuda_ctx **out, int device_id, vd_error *err) { *out = NULL; return NO_CUDA(err); }
void vd_cuda_ctx_free(vd_cuda_ctx *ctx) { (void)ctx; }
void *vd_cuda_ctx_stream(vd_cuda_ctx *ctx) { return NULL; }
vd_status vd_cuda_sync(vd_cuda_ctx *ctx, vd_error *err) { return NO_CUDA(err); }
void vd_cuda_describe(vd_cuda_ctx *ctx, char *buf, size_t cap) { if (cap) snprintf(buf, cap, "no CUDA in this build"); }
size_t vd_cuda_peak_bytes(vd_cuda_ctx *ctx) { return 0; }
vd_status vd_cuda_arena_init(vd_cuda_arena *a, size_t bytes, vd_error *err) { a->base = NULL; a->cap = a->top = a->peak = 0; return NO_CUDA(err); }
void vd_cuda_arena_free(vd_cuda_arena *a) { (void)a; }
vd_status vd_cuda_arena_alloc(vd_cuda_arena *a, size_t bytes, void **out, vd_error *err) { *out = NULL; return NO_CUDA(err); }
vd_status vd_cuda_upload(vd_cuda_ctx *ctx, void *d, const void *s, size_t n, vd_error *err) { return NO_CUDA(err); }
vd_status vd_cuda_download(vd_cuda_ctx *ctx, void *d, const void *s, size_t n, vd_error *err) { return NO_CUDA(err); }
