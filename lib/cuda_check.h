// Error checks for CUDA runtime and cuBLASLt calls (include only from .cu files).
// Each macro records the failing statement, file:line, the device id and the CUDA message in
// err and returns VD_ERR_CUDA from the calling function, e.g.
//   "vd_linear_cuda: cublasLtMatmul(...) failed at lib/ops_linear.cu:120 on device 0:
//    CUBLAS_STATUS_NOT_SUPPORTED (the functionality requested is not supported)".
// The *_GOTO forms set a status variable and jump to a cleanup label instead of returning
// (functions that own resources have one `fail:` label, style.md sec. 3).
// Kernel launches are checked with VD_CUDA_LAUNCH_CHECK (cudaGetLastError; with the CMake option
// VD_CUDA_SYNC_CHECK=ON it also synchronizes the stream so that faults name their kernel).
#pragma once
#include <cublasLt.h>
#include <cuda_runtime.h>

#include "status.h"

static inline int vd_cuda_current_device(void) {
    int d = -1;
    if (cudaGetDevice(&d) != cudaSuccess) d = -1;
    return d;
}

#define VD_CUDA_ERR_(err, stmt, ce)                                                                   \
    vd_error_set((err), VD_ERR_CUDA, "%s: %s failed at %s:%d on device %d: %s (%s)", __func__, stmt,  \
                 __FILE__, __LINE__, vd_cuda_current_device(), cudaGetErrorName(ce), cudaGetErrorString(ce))

#define VD_CUBLAS_ERR_(err, stmt, cs)                                                                 \
    vd_error_set((err), VD_ERR_CUDA, "%s: %s failed at %s:%d on device %d: %s (%s)", __func__, stmt,  \
                 __FILE__, __LINE__, vd_cuda_current_device(), cublasLtGetStatusName(cs),               \
                 cublasLtGetStatusString(cs))

#define VD_CUDA_TRY(err, stmt)                                                                        \
    do {                                                                                              \
        cudaError_t vd_ce_ = (stmt);                                                                  \
        if (vd_ce_ != cudaSuccess) return VD_CUDA_ERR_(err, #stmt, vd_ce_);                           \
    } while (0)

#define VD_CUDA_TRY_GOTO(err, st, label, stmt)                                                        \
    do {                                                                                              \
        cudaError_t vd_ce_ = (stmt);                                                                  \
        if (vd_ce_ != cudaSuccess) {                                                                  \
            (st) = VD_CUDA_ERR_(err, #stmt, vd_ce_);                                                  \
            goto label;                                                                               \
        }                                                                                             \
    } while (0)

#define VD_CUBLAS_TRY(err, stmt)                                                                      \
    do {                                                                                              \
        cublasStatus_t vd_cs_ = (stmt);                                                               \
        if (vd_cs_ != CUBLAS_STATUS_SUCCESS) return VD_CUBLAS_ERR_(err, #stmt, vd_cs_);               \
    } while (0)

#define VD_CUBLAS_TRY_GOTO(err, st, label, stmt)                                                      \
    do {                                                                                              \
        cublasStatus_t vd_cs_ = (stmt);                                                               \
        if (vd_cs_ != CUBLAS_STATUS_SUCCESS) {                                                        \
            (st) = VD_CUBLAS_ERR_(err, #stmt, vd_cs_);                                                \
            goto label;                                                                               \
        }                                                                                             \
    } while (0)

#ifdef VD_CUDA_SYNC_CHECK
#define VD_CUDA_SYNC_AFTER_LAUNCH_(stream) cudaStreamSynchronize(stream)
#else
#define VD_CUDA_SYNC_AFTER_LAUNCH_(stream) cudaSuccess
#endif

// After a <<<...>>> launch: `kname` names the kernel in the message.
#define VD_CUDA_LAUNCH_CHECK(err, stream, kname)                                                      \
    do {                                                                                              \
        cudaError_t vd_ce_ = cudaGetLastError();                                                      \
        if (vd_ce_ != cudaSuccess) return VD_CUDA_ERR_(err, "launch of " kname, vd_ce_);              \
        vd_ce_ = VD_CUDA_SYNC_AFTER_LAUNCH_(stream);                                                  \
        if (vd_ce_ != cudaSuccess) return VD_CUDA_ERR_(err, "kernel " kname " (VD_CUDA_SYNC_CHECK)", vd_ce_); \
    } while (0)
