// CUDA device handle and memory arena. Everything here compiles without CUDA: when the build
// has no CUDA (VDIT_HAVE_CUDA undefined) the functions return VD_ERR_UNSUPPORTED with a message
// saying the build lacks CUDA, so callers and CLIs need no #ifdefs.
//
// The arena is one cudaMalloc made up front; ops and layers take slices from it with a bump
// pointer and release them with mark/reset, so no op calls cudaMalloc (allocation is
// synchronous and costs milliseconds at the 14B model's sizes).
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vd_cuda_ctx vd_cuda_ctx; // opaque: device id, stream, cuBLASLt handle, workspace

// True when this build has CUDA and at least one device is visible.
bool vd_cuda_available(void);
// Creates a context on device `device_id` (stream, cuBLASLt handle, GEMM workspace).
vd_status vd_cuda_ctx_create(vd_cuda_ctx **out, int device_id, vd_error *err);
void vd_cuda_ctx_free(vd_cuda_ctx *ctx);
void *vd_cuda_ctx_stream(vd_cuda_ctx *ctx);   // cudaStream_t as void*
vd_status vd_cuda_sync(vd_cuda_ctx *ctx, vd_error *err);
// "NVIDIA H200 (sm_90, 139.8 GiB)"
void vd_cuda_describe(vd_cuda_ctx *ctx, char *buf, size_t cap);
// Peak device memory in bytes observed by the arena plus any other tracked allocations.
size_t vd_cuda_peak_bytes(vd_cuda_ctx *ctx);

typedef struct {
    char *base;
    size_t cap, top, peak;
} vd_cuda_arena;

vd_status vd_cuda_arena_init(vd_cuda_arena *a, size_t bytes, vd_error *err);
void vd_cuda_arena_free(vd_cuda_arena *a);
// 256-byte aligned slice; VD_ERR_OUT_OF_MEMORY with the sizes when it does not fit.
vd_status vd_cuda_arena_alloc(vd_cuda_arena *a, size_t bytes, void **out, vd_error *err);
static inline size_t vd_cuda_arena_mark(const vd_cuda_arena *a) { return a->top; }
static inline void vd_cuda_arena_reset(vd_cuda_arena *a, size_t mark) { a->top = mark; }

// Copies between host and device (synchronous on the context's stream).
vd_status vd_cuda_upload(vd_cuda_ctx *ctx, void *dst_dev, const void *src_host, size_t bytes, vd_error *err);
vd_status vd_cuda_download(vd_cuda_ctx *ctx, void *dst_host, const void *src_dev, size_t bytes, vd_error *err);

#ifdef __cplusplus
}
#endif
