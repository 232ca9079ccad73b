// Device state of the Wan VAE's channels-last cuDNN runner (vae_cudnn.cu): CUDA context, cuBLAS
// and cuDNN handles, the device weights, and stream-ordered allocations with live-byte accounting
// (weights, caches, activations, cuDNN workspace) so the peak compares with torch's
// max_memory_allocated. Include from .cu files only.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "dit/vae_cudnn_conv.h"
#include "dit/vae_dev_pool.h"
#include "dit/vae_model.h"
#include "lib/cuda_ctx.h"

// Device copy of one host weight array (keyed by the host pointer).
typedef struct {
    const float *host;
    float *dev;
    size_t bytes;
} vdn_weight;

typedef struct {
    vd_cuda_ctx *ctx;
    cudaStream_t stream;
    cublasHandle_t blas;
    vd_cudnn_conv *conv;
    size_t live, peak;
    bool fp32;
    vdn_weight *wt;
    int n_wt, cap_wt;
    bool bf16;        // this decode's convs in bf16 (opts.cuda_bf16)
    vdn_weight *wt16; // bf16 copies of the cuDNN conv weights (made on the first bf16 decode)
    int n_wt16, cap_wt16;
} vdn_dev;

typedef vd_vae_dbuf vdn_buf;

vd_status vdn_alloc(vdn_dev *d, vdn_buf *b, size_t bytes, vd_error *err);
void vdn_free(vdn_dev *d, vdn_buf *b);

// Creates v->dev_cudnn once (weights uploaded: conv weights as [cout, kt, kh, kw, cin], conv_out's
// cout padded to a multiple of 4 with zero rows and zero biases). strict_fp32 selects FMA-only
// convolutions and full-fp32 cuBLAS GEMMs; otherwise TF32 is allowed.
vd_status vdn_dev_get(vd_vae *v, const vd_vae_decode_opts *o, vdn_dev **out, vd_error *err);
// Device copy of a host weight array uploaded by vdn_dev_get (VD_ASSERT when absent).
float *vdn_w(const vdn_dev *d, const float *host);
// The phase weights of an upsampler's 3x3 conv (see vae_cudnn.cu): [4 cout, 1, 2, 2, cin], phase
// ph = 2 py + px, each 2x2 kernel the sums of the 3x3 taps that read the same source pixel.
float *vdn_w_phases(const vdn_dev *d, const vd_vae_conv *cv);
// bf16 copy (uint16 bit patterns) of a conv weight or phase weight (VD_ASSERT when absent).
const uint16_t *vdn_w16(const vdn_dev *d, const float *host);
// Output channels of conv cv on the device (cout rounded up to 8 for conv_out).
int vdn_cout(const vd_vae *v, const vd_vae_conv *cv);
