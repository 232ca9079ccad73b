// Part of scripts/vae_cuda_emu (see run.sh): host emulation of the cuDNN legacy convolution subset
// used by dit/vae_cudnn_conv.cu. Descriptors record dims and formats (NHWC / float checked);
// cudnnConvolutionForward is a direct NDHWC cross-correlation with alpha/beta. The "find" returns
// a result that must be skipped (allow-conversion math) before a usable one, and fills its output
// buffer with NaN, so a runner that lets the timing runs overwrite live data shows it.
// EMU_CUDNN_NO_BETA=1 makes accumulating convolutions (beta != 0) fail with NOT_SUPPORTED;
// EMU_CUDNN_FIND_FAIL=1 makes the timed search fail (the runner then takes the heuristic order).
// EMU_CUDNN_NO_ALGO=small (convs with cout <= 8) or =all: every algorithm the search and the
// heuristics list fails (as cuDNN 9.19 on the H200 for the VAE's 96 -> 8 output conv at 480x832)
// and cudnnConvolutionForward refuses those convs, so only the runner's direct kernel can run them.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "cuda_runtime.h"
typedef int cudnnStatus_t;
enum { CUDNN_STATUS_SUCCESS = 0, CUDNN_STATUS_BAD_PARAM = 3, CUDNN_STATUS_NOT_SUPPORTED = 9 };
typedef enum { CUDNN_TENSOR_NCHW = 0, CUDNN_TENSOR_NHWC = 1 } cudnnTensorFormat_t;
typedef enum { CUDNN_DATA_FLOAT = 0, CUDNN_DATA_BFLOAT16 = 9 } cudnnDataType_t;
typedef enum { CUDNN_CONVOLUTION = 0, CUDNN_CROSS_CORRELATION = 1 } cudnnConvolutionMode_t;
typedef enum { CUDNN_DEFAULT_MATH = 0, CUDNN_TENSOR_OP_MATH = 1, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION = 2, CUDNN_FMA_MATH = 3 } cudnnMathType_t;
typedef enum { CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM = 0, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM = 1 } cudnnConvolutionFwdAlgo_t;
typedef enum { CUDNN_NON_DETERMINISTIC = 0, CUDNN_DETERMINISTIC = 1 } cudnnDeterminism_t;
typedef struct { cudnnConvolutionFwdAlgo_t algo; cudnnStatus_t status; float time; size_t memory; cudnnDeterminism_t determinism; cudnnMathType_t mathType; int reserved[3]; } cudnnConvolutionFwdAlgoPerf_t;
struct emu_cudnn_desc { int kind, fmt, dtype, nb, dims[8], pad[3], stride[3], dil[3], mode, math; };
typedef struct emu_cudnn_desc *cudnnTensorDescriptor_t, *cudnnFilterDescriptor_t, *cudnnConvolutionDescriptor_t;
typedef void *cudnnHandle_t;
static inline const char *cudnnGetErrorString(cudnnStatus_t) { return "emu cudnn error"; }
static inline size_t cudnnGetVersion(void) { return 91900; }
static inline cudnnStatus_t cudnnCreate(cudnnHandle_t *h) { *h = (void *)1; return 0; }
static inline cudnnStatus_t cudnnDestroy(cudnnHandle_t) { return 0; }
static inline cudnnStatus_t cudnnSetStream(cudnnHandle_t, cudaStream_t) { return 0; }
static inline cudnnStatus_t emu_desc_new(emu_cudnn_desc **d, int kind) { *d = (emu_cudnn_desc *)calloc(1, sizeof **d); (*d)->kind = kind; return 0; }
static inline cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t *d) { return emu_desc_new(d, 1); }
static inline cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t *d) { return emu_desc_new(d, 2); }
static inline cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *d) { return emu_desc_new(d, 3); }
static inline cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) { free(d); return 0; }
static inline cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) { free(d); return 0; }
static inline cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) { free(d); return 0; }
static inline cudnnStatus_t cudnnSetTensorNdDescriptorEx(cudnnTensorDescriptor_t d, cudnnTensorFormat_t f, cudnnDataType_t t, int nb, const int *dims) {
    if (d->kind != 1 || nb != 5 || f != CUDNN_TENSOR_NHWC || (t != CUDNN_DATA_FLOAT && t != CUDNN_DATA_BFLOAT16)) return CUDNN_STATUS_BAD_PARAM;
    d->fmt = f, d->dtype = t, d->nb = nb; memcpy(d->dims, dims, nb * sizeof(int)); return 0;
}
static inline cudnnStatus_t cudnnSetFilterNdDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t t, cudnnTensorFormat_t f, int nb, const int *dims) {
    if (d->kind != 2 || nb != 5 || f != CUDNN_TENSOR_NHWC || (t != CUDNN_DATA_FLOAT && t != CUDNN_DATA_BFLOAT16)) return CUDNN_STATUS_BAD_PARAM;
    d->fmt = f, d->dtype = t, d->nb = nb; memcpy(d->dims, dims, nb * sizeof(int)); return 0;
}
static inline cudnnStatus_t cudnnSetConvolutionNdDescriptor(cudnnConvolutionDescriptor_t d, int n, const int *pad, const int *st, const int *dil, cudnnConvolutionMode_t m, cudnnDataType_t t) {
    if (d->kind != 3 || n != 3 || m != CUDNN_CROSS_CORRELATION || t != CUDNN_DATA_FLOAT) return CUDNN_STATUS_BAD_PARAM;
    for (int i = 0; i < 3; i++) d->pad[i] = pad[i], d->stride[i] = st[i], d->dil[i] = dil[i];
    return 0;
}
static inline cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t m) { d->math = m; return 0; }
static inline cudnnStatus_t cudnnGetConvolutionNdForwardOutputDim(cudnnConvolutionDescriptor_t c, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w, int nb, int *o) {
    if (nb != 5 || x->dims[1] != w->dims[1]) return CUDNN_STATUS_BAD_PARAM;
    o[0] = x->dims[0], o[1] = w->dims[0];
    for (int i = 0; i < 3; i++) o[2 + i] = (x->dims[2 + i] + 2 * c->pad[i] - (w->dims[2 + i] - 1) * c->dil[i] - 1) / c->stride[i] + 1;
    return 0;
}
// EMU_CUDNN_NO_ALGO: no algorithm for a conv with filter wd
static inline bool emu_no_algo(cudnnFilterDescriptor_t wd) {
    const char *e = getenv("EMU_CUDNN_NO_ALGO");
    if (!e) return false;
    return !strcmp(e, "all") || (!strcmp(e, "small") && wd->dims[0] <= 8);
}
static inline cudnnStatus_t cudnnGetConvolutionForwardAlgorithmMaxCount(cudnnHandle_t, int *n) { *n = 8; return 0; }
// y = alpha * conv(x, w) + beta * y, NDHWC / KTRSC, stride 1, dilation 1.
static inline cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t, const void *alpha, cudnnTensorDescriptor_t xd, const void *xv, cudnnFilterDescriptor_t wd, const void *wv,
                                                    cudnnConvolutionDescriptor_t cd, cudnnConvolutionFwdAlgo_t, void *, size_t, const void *beta, cudnnTensorDescriptor_t yd, void *yv) {
    int od[5];
    if (cudnnGetConvolutionNdForwardOutputDim(cd, xd, wd, 5, od) || memcmp(od, yd->dims, sizeof od)) return CUDNN_STATUS_BAD_PARAM;
    if (cd->math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION || emu_no_algo(wd)) return CUDNN_STATUS_NOT_SUPPORTED;
    // EMU_CUDNN_NO_BETA=1: refuse accumulation (exercises the runner's scratch-and-add path)
    if (*(const float *)beta != 0.0f && getenv("EMU_CUDNN_NO_BETA") && getenv("EMU_CUDNN_NO_BETA")[0] == '1') return CUDNN_STATUS_NOT_SUPPORTED;
    if (xd->dtype != wd->dtype || xd->dtype != yd->dtype) return CUDNN_STATUS_BAD_PARAM;
    const bool bf = xd->dtype == CUDNN_DATA_BFLOAT16; // bf16 x, w, y: values read exactly, y rounded to nearest even
    const size_t nx = (size_t)xd->dims[1] * xd->dims[2] * xd->dims[3] * xd->dims[4];
    const size_t nw = (size_t)wd->dims[0] * wd->dims[1] * wd->dims[2] * wd->dims[3] * wd->dims[4];
    float *xb = nullptr, *wb = nullptr;
    if (bf) {
        xb = (float *)malloc(nx * 4), wb = (float *)malloc(nw * 4);
        for (size_t i = 0; i < nx; i++) { unsigned u = (unsigned)((const uint16_t *)xv)[i] << 16; memcpy(&xb[i], &u, 4); }
        for (size_t i = 0; i < nw; i++) { unsigned u = (unsigned)((const uint16_t *)wv)[i] << 16; memcpy(&wb[i], &u, 4); }
    }
    const float *x = bf ? xb : (const float *)xv, *w = bf ? wb : (const float *)wv;
    const float a = *(const float *)alpha, b = *(const float *)beta;
    const int Ci = xd->dims[1], D = xd->dims[2], H = xd->dims[3], W = xd->dims[4];
    const int Co = wd->dims[0], kt = wd->dims[2], kh = wd->dims[3], kw = wd->dims[4];
    const int Do = od[2], Ho = od[3], Wo = od[4];
#pragma omp parallel for collapse(2)
    for (int d = 0; d < Do; d++)
        for (int yy = 0; yy < Ho; yy++)
            for (int xx = 0; xx < Wo; xx++)
                for (int o = 0; o < Co; o++) {
                    double s = 0;
                    for (int t = 0; t < kt; t++)
                        for (int r = 0; r < kh; r++)
                            for (int q = 0; q < kw; q++) {
                                const int id = d + t - cd->pad[0], iy = yy + r - cd->pad[1], ix = xx + q - cd->pad[2];
                                if (id < 0 || id >= D || iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                const float *xi = x + (((int64_t)id * H + iy) * W + ix) * Ci;
                                const float *wi = w + ((((int64_t)o * kt + t) * kh + r) * kw + q) * Ci;
                                for (int i = 0; i < Ci; i++) s += (double)xi[i] * wi[i];
                            }
                    const int64_t yi = (((int64_t)d * Ho + yy) * Wo + xx) * Co + o;
                    if (bf) {
                        uint16_t *yo = (uint16_t *)yv + yi;
                        unsigned u; float prev; unsigned pu = (unsigned)*yo << 16; memcpy(&prev, &pu, 4);
                        float v = a * (float)s + (b != 0.0f ? b * prev : 0.0f);
                        memcpy(&u, &v, 4);
                        *yo = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
                    } else {
                        float *yo = (float *)yv + yi;
                        *yo = a * (float)s + (b != 0.0f ? b * *yo : 0.0f);
                    }
                }
    free(xb), free(wb);
    return 0;
}
static inline cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(cudnnHandle_t, cudnnTensorDescriptor_t xd, const void *, cudnnFilterDescriptor_t wd, const void *,
                                                                   cudnnConvolutionDescriptor_t cd, cudnnTensorDescriptor_t yd, void *y, int req, int *n,
                                                                   cudnnConvolutionFwdAlgoPerf_t *perf, void *, size_t ws) {
    int od[5];
    if (req < 2 || cudnnGetConvolutionNdForwardOutputDim(cd, xd, wd, 5, od) || memcmp(od, yd->dims, sizeof od)) return CUDNN_STATUS_BAD_PARAM;
    if (getenv("EMU_CUDNN_FIND_FAIL") && getenv("EMU_CUDNN_FIND_FAIL")[0] == '1') return CUDNN_STATUS_NOT_SUPPORTED;
    size_t ny = (size_t)od[0] * od[1] * od[2] * od[3] * od[4];
    memset(y, 0xff, ny * (xd->dtype == CUDNN_DATA_BFLOAT16 ? 2 : 4)); // the timing runs leave garbage in y
    memset(perf, 0, 2 * sizeof *perf);
    perf[0].algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, perf[0].mathType = CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION, perf[0].time = 0.5f;
    perf[1].algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, perf[1].mathType = (cudnnMathType_t)cd->math, perf[1].time = 1.0f;
    perf[1].memory = ws < 4096 ? ws : 4096;
    if (emu_no_algo(wd)) perf[0].status = perf[1].status = CUDNN_STATUS_NOT_SUPPORTED;
    *n = 2;
    return 0;
}
static inline cudnnStatus_t cudnnAddTensor(cudnnHandle_t, const void *alpha, cudnnTensorDescriptor_t ad, const void *A, const void *beta,
                                           cudnnTensorDescriptor_t cd, void *C) {
    if (memcmp(ad->dims, cd->dims, sizeof ad->dims)) return CUDNN_STATUS_BAD_PARAM;
    size_t n = 1;
    for (int i = 0; i < ad->nb; i++) n *= (size_t)ad->dims[i];
    const float a = *(const float *)alpha, b = *(const float *)beta;
    for (size_t i = 0; i < n; i++) ((float *)C)[i] = a * ((const float *)A)[i] + b * ((float *)C)[i];
    return 0;
}
static inline cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t, cudnnTensorDescriptor_t xd, cudnnFilterDescriptor_t wd,
                                                                   cudnnConvolutionDescriptor_t cd, cudnnTensorDescriptor_t yd, int req, int *n,
                                                                   cudnnConvolutionFwdAlgoPerf_t *perf) {
    int od[5];
    if (req < 1 || cudnnGetConvolutionNdForwardOutputDim(cd, xd, wd, 5, od) || memcmp(od, yd->dims, sizeof od)) return CUDNN_STATUS_BAD_PARAM;
    memset(perf, 0, sizeof *perf);
    perf[0].algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, perf[0].mathType = (cudnnMathType_t)cd->math, perf[0].time = -1.0f;
    if (emu_no_algo(wd)) perf[0].status = CUDNN_STATUS_NOT_SUPPORTED;
    *n = 1;
    return 0;
}
