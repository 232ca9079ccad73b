// Part of scripts/vae_cuda_emu (see run.sh): host emulation for checking dit/vae_cuda.cu without a GPU.
#pragma once
#include "cuda_runtime.h"
typedef int cublasStatus_t;
typedef void *cublasLtHandle_t;
enum { CUBLAS_STATUS_SUCCESS = 0 };
static inline const char *cublasLtGetStatusName(cublasStatus_t) { return "emu"; }
static inline const char *cublasLtGetStatusString(cublasStatus_t) { return "emu"; }
