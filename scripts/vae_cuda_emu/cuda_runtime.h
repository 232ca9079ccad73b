// Part of scripts/vae_cuda_emu (see run.sh): host emulation for checking dit/vae_cuda.cu without a GPU.
// host emulation of the CUDA runtime subset used by dit/vae_cuda.cu
#pragma once
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
typedef int cudaError_t;
typedef void *cudaStream_t;
typedef void *cudaMemPool_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2 };
enum cudaMemcpyKind { cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
enum { cudaMemPoolAttrReleaseThreshold = 1, cudaMemPoolAttrReservedMemHigh = 2 };
struct dim3s { unsigned x, y, z; };
extern dim3s blockIdx, threadIdx, blockDim, gridDim;
#define __global__ static
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __syncthreads() ((void)0)
#define __expf expf
static inline float __shfl_xor_sync(unsigned, float v, int) { return v; }
static inline const char *cudaGetErrorString(cudaError_t) { return "emu"; }
static inline const char *cudaGetErrorName(cudaError_t) { return "emu"; }
static inline cudaError_t cudaGetLastError(void) { return 0; }
static inline cudaError_t cudaGetDevice(int *d) { *d = 0; return 0; }
static inline cudaError_t cudaMallocAsync(void **p, size_t n, cudaStream_t) {
    *p = malloc(n);
    // poison: NaN bytes so reads of unwritten memory show up
    memset(*p, 0xff, n);
    return *p ? 0 : 2;
}
static inline cudaError_t cudaFreeAsync(void *p, cudaStream_t) { free(p); return 0; }
static inline cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, int, cudaStream_t) { memcpy(d, s, n); return 0; }
static inline cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t) { memset(d, v, n); return 0; }
static inline cudaError_t cudaMemcpy2DAsync(void *d, size_t dp, const void *s, size_t sp, size_t w, size_t h, int, cudaStream_t) {
    for (size_t r = 0; r < h; r++) memcpy((char *)d + r * dp, (const char *)s + r * sp, w);
    return 0;
}
static inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return 0; }
static inline cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t *, int) { return 0; }
static inline cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t, int, void *) { return 0; }
typedef void *cudaEvent_t;
static inline cudaError_t cudaEventCreate(cudaEvent_t *e) { *e = (void *)1; return 0; }
static inline cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return 0; }
static inline cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t, cudaEvent_t) { *ms = 0; return 0; }
static inline cudaError_t cudaEventDestroy(cudaEvent_t) { return 0; }
struct float4 { float x, y, z, w; };
struct uint4 { unsigned x, y, z, w; };
static inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
static inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
