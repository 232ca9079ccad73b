// CUDA context (device, stream, cuBLASLt handle + workspace), the device arena, and host <->
// device copies. The twin of device_nocuda.c (the stand-ins used when CUDA is off).
//
// Memory accounting: vd_cuda_peak_bytes reports the bytes vdit itself holds on the device at its
// peak as far as this file can see it: the context's cuBLASLt workspace plus the high-water mark
// (peak) of every live arena. Memory taken by cuBLASLt, the CUDA runtime or other libraries is
// not counted (cudaMemGetInfo gives that, but only as a current value, not a peak).
#include <stdio.h>
#include <string.h>

#include "cuda_ctx.h"

// Live arenas, so that the peak can be summed over them (an engine holds one or two).
#define VD_MAX_ARENAS 64
static vd_cuda_arena *g_arenas[VD_MAX_ARENAS];

static void arena_register(vd_cuda_arena *a) {
    for (int i = 0; i < VD_MAX_ARENAS; i++)
        if (!g_arenas[i]) { g_arenas[i] = a; return; }
}
static void arena_unregister(vd_cuda_arena *a) {
    for (int i = 0; i < VD_MAX_ARENAS; i++)
        if (g_arenas[i] == a) g_arenas[i] = NULL;
}

extern "C" bool vd_cuda_available(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError(); // clear the error: "no device" is an answer here, not a failure
        return false;
    }
    return n > 0;
}

extern "C" vd_status vd_cuda_ctx_create(vd_cuda_ctx **out, int device_id, vd_error *err) {
    *out = NULL;
    int n = 0;
    cudaError_t ce = cudaGetDeviceCount(&n);
    if (ce != cudaSuccess || n == 0) {
        cudaGetLastError();
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_cuda_ctx_create: no CUDA device is visible (%s)",
                            ce != cudaSuccess ? cudaGetErrorString(ce) : "device count 0");
    }
    if (device_id < 0 || device_id >= n)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_cuda_ctx_create: device %d does not exist; allowed 0..%d",
                            device_id, n - 1);
    vd_status st = VD_OK;
    vd_cuda_ctx *c = (vd_cuda_ctx *)calloc(1, sizeof *c);
    if (!c) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_cuda_ctx_create: host allocation failed");
    c->device = device_id;
    cudaDeviceProp p;
    VD_CUDA_TRY_GOTO(err, st, fail, cudaSetDevice(device_id));
    VD_CUDA_TRY_GOTO(err, st, fail, cudaGetDeviceProperties(&p, device_id));
    snprintf(c->name, sizeof c->name, "%s", p.name);
    c->cc_major = p.major;
    c->cc_minor = p.minor;
    c->n_sm = p.multiProcessorCount;
    c->total_mem = p.totalGlobalMem;
    VD_CUDA_TRY_GOTO(err, st, fail, cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    VD_CUBLAS_TRY_GOTO(err, st, fail, cublasLtCreate(&c->lt));
    c->lt_ws_bytes = VD_CUDA_LT_WORKSPACE_BYTES;
    VD_CUDA_TRY_GOTO(err, st, fail, cudaMalloc(&c->lt_ws, c->lt_ws_bytes));
    *out = c;
    return VD_OK;
fail:
    vd_cuda_ctx_free(c);
    return st;
}

extern "C" void vd_cuda_ctx_free(vd_cuda_ctx *c) {
    if (!c) return;
    vd_gemm_cache_free(c);
    if (c->lt_ws) cudaFree(c->lt_ws);
    if (c->lt) cublasLtDestroy(c->lt);
    if (c->stream) cudaStreamDestroy(c->stream);
    free(c);
}

extern "C" void *vd_cuda_ctx_stream(vd_cuda_ctx *c) { return c ? (void *)c->stream : NULL; }

extern "C" vd_status vd_cuda_sync(vd_cuda_ctx *c, vd_error *err) {
    VD_CUDA_TRY(err, cudaStreamSynchronize(c->stream));
    return VD_OK;
}

extern "C" void vd_cuda_describe(vd_cuda_ctx *c, char *buf, size_t cap) {
    if (!cap) return;
    if (!c) { snprintf(buf, cap, "no CUDA context"); return; }
    snprintf(buf, cap, "%s (sm_%d%d, %.1f GiB)", c->name, c->cc_major, c->cc_minor,
             (double)c->total_mem / (1024.0 * 1024.0 * 1024.0));
}

extern "C" size_t vd_cuda_peak_bytes(vd_cuda_ctx *c) {
    size_t s = c ? c->lt_ws_bytes : 0;
    for (int i = 0; i < VD_MAX_ARENAS; i++)
        if (g_arenas[i]) s += g_arenas[i]->peak;
    return s;
}

extern "C" vd_status vd_cuda_arena_init(vd_cuda_arena *a, size_t bytes, vd_error *err) {
    a->base = NULL;
    a->cap = a->top = a->peak = 0;
    if (bytes == 0) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_cuda_arena_init: size 0; allowed >= 1 byte");
    cudaError_t ce = cudaMalloc((void **)&a->base, bytes);
    if (ce != cudaSuccess) {
        cudaGetLastError();
        size_t fr = 0, tot = 0;
        cudaMemGetInfo(&fr, &tot);
        a->base = NULL;
        return vd_error_set(err, ce == cudaErrorMemoryAllocation ? VD_ERR_OUT_OF_MEMORY : VD_ERR_CUDA,
                            "vd_cuda_arena_init: cudaMalloc of %zu bytes (%.2f GiB) failed on device %d: %s; "
                            "device has %.2f GiB free of %.2f GiB",
                            bytes, bytes / 1073741824.0, vd_cuda_current_device(), cudaGetErrorString(ce),
                            fr / 1073741824.0, tot / 1073741824.0);
    }
    a->cap = bytes;
    arena_register(a);
    return VD_OK;
}

extern "C" void vd_cuda_arena_free(vd_cuda_arena *a) {
    if (!a) return;
    arena_unregister(a);
    if (a->base) cudaFree(a->base);
    a->base = NULL;
    a->cap = a->top = a->peak = 0;
}

extern "C" vd_status vd_cuda_arena_alloc(vd_cuda_arena *a, size_t bytes, void **out, vd_error *err) {
    *out = NULL;
    if (!a->base) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_cuda_arena_alloc: arena is not initialized");
    size_t start = (a->top + 255) & ~(size_t)255;
    if (start > a->cap || bytes > a->cap - start)
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY,
                            "vd_cuda_arena_alloc: %zu bytes do not fit: arena holds %zu of %zu bytes in use "
                            "(%zu free after alignment)",
                            bytes, a->top, a->cap, start > a->cap ? (size_t)0 : a->cap - start);
    a->top = start + bytes;
    if (a->top > a->peak) a->peak = a->top;
    *out = a->base + start;
    return VD_OK;
}

extern "C" vd_status vd_cuda_upload(vd_cuda_ctx *c, void *dst_dev, const void *src_host, size_t bytes, vd_error *err) {
    if (bytes == 0) return VD_OK;
    VD_CUDA_TRY(err, cudaMemcpyAsync(dst_dev, src_host, bytes, cudaMemcpyHostToDevice, c->stream));
    VD_CUDA_TRY(err, cudaStreamSynchronize(c->stream));
    return VD_OK;
}

extern "C" vd_status vd_cuda_download(vd_cuda_ctx *c, void *dst_host, const void *src_dev, size_t bytes, vd_error *err) {
    if (bytes == 0) return VD_OK;
    VD_CUDA_TRY(err, cudaMemcpyAsync(dst_host, src_dev, bytes, cudaMemcpyDeviceToHost, c->stream));
    VD_CUDA_TRY(err, cudaStreamSynchronize(c->stream));
    return VD_OK;
}
