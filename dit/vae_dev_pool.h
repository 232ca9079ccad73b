// Stream-ordered device buffers of the CUDA VAE runners (vae_cuda.cu, vae_cudnn_dev.cu): sizes
// rounded to 256 bytes, taken from the stream's memory pool, with the live / peak byte counts the
// runners report as their peak memory.
#pragma once
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cuda_check.h"
#include "lib/status.h"

typedef struct {
    float *p;
    size_t bytes;
} vd_vae_dbuf;

static inline vd_status vd_vae_dbuf_alloc(cudaStream_t st, size_t *live, size_t *peak, vd_vae_dbuf *b, size_t bytes,
                                          const char *who, vd_error *err) {
    b->bytes = (bytes + 255) & ~(size_t)255;
    b->p = NULL;
    cudaError_t ce = cudaMallocAsync((void **)&b->p, b->bytes, st);
    if (ce != cudaSuccess) {
        b->p = NULL;
        return vd_error_set(err, ce == cudaErrorMemoryAllocation ? VD_ERR_OUT_OF_MEMORY : VD_ERR_CUDA,
                            "%s: cudaMallocAsync(%zu) failed: %s (live %zu bytes)", who, b->bytes,
                            cudaGetErrorString(ce), *live);
    }
    *live += b->bytes;
    if (*live > *peak) *peak = *live;
    return VD_OK;
}

static inline void vd_vae_dbuf_free(cudaStream_t st, size_t *live, vd_vae_dbuf *b) {
    if (!b->p) return;
    cudaFreeAsync(b->p, st);
    *live -= b->bytes;
    b->p = NULL;
}

// Keeps freed blocks in the device's default stream-ordered pool instead of returning them to the
// OS: the runners free and re-allocate the same sizes every chunk.
static inline vd_status vd_vae_pool_keep_freed(int device, vd_error *err) {
    cudaMemPool_t pool;
    VD_CUDA_TRY(err, cudaDeviceGetDefaultMemPool(&pool, device));
    uint64_t thr = UINT64_MAX;
    VD_CUDA_TRY(err, cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &thr));
    return VD_OK;
}
