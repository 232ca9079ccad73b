// cuDNN 3D convolution for the Wan VAE (see vae_cudnn_conv.h). Legacy convolution API
// (cudnn_cnn.h; still shipped in cuDNN 9): descriptors and the timed algorithm choice are made
// once per shape and kept in a small plan list (a decode meets a few dozen shapes). A channels-
// last shape for which cuDNN runs no algorithm is planned as "direct" (vae_cudnn_direct.cu) at
// that first call, so later calls of the shape never ask cuDNN again.
#ifdef VDIT_HAVE_CUDNN
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdlib.h>
#include <string.h>

#include "dit/vae_cudnn_conv.h"
#include "dit/vae_cudnn_direct.h"
#include "lib/log.h"

#define VDN_CUDNN_TRY(err, stmt)                                                                      \
    do {                                                                                              \
        cudnnStatus_t vdn_s_ = (stmt);                                                                \
        if (vdn_s_ != CUDNN_STATUS_SUCCESS)                                                           \
            return vd_error_set((err), VD_ERR_CUDA, "%s: %s failed at %s:%d: %s", __func__, #stmt,    \
                                __FILE__, __LINE__, cudnnGetErrorString(vdn_s_));                     \
    } while (0)

typedef struct {
    vd_cudnn_conv_shape s;
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    cudnnConvolutionFwdAlgo_t algo;
    cudnnMathType_t math;
    size_t ws;
    float ms;
    bool acc_by_add;  // beta = 1 was refused for this algorithm: accumulate through a scratch output
    bool direct;      // run by vd_cudnn_direct_run (no cuDNN algorithm, or forced); no descriptors used
} conv_plan;

struct vd_cudnn_conv {
    cudnnHandle_t h;
    cudaStream_t stream;
    vd_cudnn_allocator a;
    size_t ws_limit;
    bool strict;
    int force_direct; // VDIT_VAE_CUDNN_DIRECT: 0 cuDNN first, 1 every NDHWC shape direct, 2 those with cout <= 8
    conv_plan *plans;
    int n_plans, cap_plans;
};

static void plan_destroy(conv_plan *p) {
    if (p->xd) cudnnDestroyTensorDescriptor(p->xd);
    if (p->yd) cudnnDestroyTensorDescriptor(p->yd);
    if (p->wd) cudnnDestroyFilterDescriptor(p->wd);
    if (p->cd) cudnnDestroyConvolutionDescriptor(p->cd);
    memset(p, 0, sizeof *p);
}

static void plans_clear(vd_cudnn_conv *c) {
    for (int i = 0; i < c->n_plans; i++) plan_destroy(&c->plans[i]);
    c->n_plans = 0;
}

extern "C" vd_status vd_cudnn_conv_create(vd_cudnn_conv **out, void *stream, const vd_cudnn_allocator *a,
                                          size_t ws_limit, bool strict_fp32, vd_error *err) {
    *out = NULL;
    vd_cudnn_conv *c = (vd_cudnn_conv *)calloc(1, sizeof *c);
    if (!c) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_cudnn_conv_create: out of host memory");
    cudnnStatus_t s = cudnnCreate(&c->h);
    if (s != CUDNN_STATUS_SUCCESS) {
        free(c);
        return vd_error_set(err, VD_ERR_CUDA, "vd_cudnn_conv_create: cudnnCreate failed: %s (cuDNN %zu)",
                            cudnnGetErrorString(s), cudnnGetVersion());
    }
    s = cudnnSetStream(c->h, (cudaStream_t)stream);
    if (s != CUDNN_STATUS_SUCCESS) {
        cudnnDestroy(c->h);
        free(c);
        return vd_error_set(err, VD_ERR_CUDA, "vd_cudnn_conv_create: cudnnSetStream failed: %s", cudnnGetErrorString(s));
    }
    c->stream = (cudaStream_t)stream;
    c->a = *a;
    c->ws_limit = ws_limit;
    c->strict = strict_fp32;
    const char *fd = getenv("VDIT_VAE_CUDNN_DIRECT");
    c->force_direct = !fd ? 0 : !strcmp(fd, "1") || !strcmp(fd, "all") ? 1 : !strcmp(fd, "small") ? 2 : 0;
    if (fd && fd[0] && strcmp(fd, "0") && !c->force_direct)
        VD_LOGW("vae_cudnn: VDIT_VAE_CUDNN_DIRECT=%s ignored (allowed: 0, 1 or all, small)", fd);
    *out = c;
    return VD_OK;
}

extern "C" void vd_cudnn_conv_free(vd_cudnn_conv *c) {
    if (!c) return;
    plans_clear(c);
    free(c->plans);
    if (c->h) cudnnDestroy(c->h);
    free(c);
}

extern "C" void vd_cudnn_conv_set_strict_fp32(vd_cudnn_conv *c, bool strict_fp32) {
    if (c->strict == strict_fp32) return;
    plans_clear(c);
    c->strict = strict_fp32;
}

static const char *math_name(cudnnMathType_t m) {
    switch (m) {
    case CUDNN_DEFAULT_MATH: return "default(tf32 allowed)";
    case CUDNN_TENSOR_OP_MATH: return "tensor_op";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return "tensor_op_allow_conversion";
    case CUDNN_FMA_MATH: return "fma";
    default: return "?";
    }
}

// Descriptors for shape s (NDHWC tensors, KTRSC filter, pads (0, kh/2, kw/2)).
static vd_status plan_descriptors(vd_cudnn_conv *c, conv_plan *p, vd_error *err) {
    const vd_cudnn_conv_shape *s = &p->s;
    VDN_CUDNN_TRY(err, cudnnCreateTensorDescriptor(&p->xd));
    VDN_CUDNN_TRY(err, cudnnCreateTensorDescriptor(&p->yd));
    VDN_CUDNN_TRY(err, cudnnCreateFilterDescriptor(&p->wd));
    VDN_CUDNN_TRY(err, cudnnCreateConvolutionDescriptor(&p->cd));
    const cudnnTensorFormat_t fmt = s->ncdhw ? CUDNN_TENSOR_NCHW : CUDNN_TENSOR_NHWC;
    const cudnnDataType_t dt = s->bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
    const int xdim[5] = {1, s->cin, s->ti, s->h, s->w};
    VDN_CUDNN_TRY(err, cudnnSetTensorNdDescriptorEx(p->xd, fmt, dt, 5, xdim));
    const int wdim[5] = {s->cout, s->cin, s->kt, s->kh, s->kw};
    VDN_CUDNN_TRY(err, cudnnSetFilterNdDescriptor(p->wd, dt, fmt, 5, wdim));
    const int pad[3] = {0, s->kh / 2, s->kw / 2}, one[3] = {1, 1, 1};
    VDN_CUDNN_TRY(err, cudnnSetConvolutionNdDescriptor(p->cd, 3, pad, one, one, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    // bf16: tensor cores (the strict-fp32 switch does not apply)
    VDN_CUDNN_TRY(err, cudnnSetConvolutionMathType(p->cd, s->bf16      ? CUDNN_TENSOR_OP_MATH
                                                          : c->strict ? CUDNN_FMA_MATH
                                                                      : CUDNN_DEFAULT_MATH));
    int ydim[5];
    VDN_CUDNN_TRY(err, cudnnGetConvolutionNdForwardOutputDim(p->cd, p->xd, p->wd, 5, ydim));
    const int want[5] = {1, s->cout, s->ti - s->kt + 1, vd_cudnn_conv_out_dim(s->h, s->kh), vd_cudnn_conv_out_dim(s->w, s->kw)};
    if (memcmp(ydim, want, sizeof want) != 0)
        return vd_error_set(err, VD_ERR_INTERNAL,
                            "vd_cudnn_conv: cuDNN output dims [%d, %d, %d, %d, %d] for input [1, %d, %d, %d, %d] and "
                            "kernel %dx%dx%d; expected [1, %d, %d, %d, %d]",
                            ydim[0], ydim[1], ydim[2], ydim[3], ydim[4], s->cin, s->ti, s->h, s->w, s->kt, s->kh, s->kw,
                            want[1], want[2], want[3], want[4]);
    VDN_CUDNN_TRY(err, cudnnSetTensorNdDescriptorEx(p->yd, fmt, dt, 5, ydim));
    return VD_OK;
}

// Workspace for the timing runs: the limit, or less when the pool cannot give that much.
static void *alloc_find_ws(vd_cudnn_conv *c, size_t *bytes) {
    for (size_t b = c->ws_limit; b >= ((size_t)1 << 20); b /= 4) {
        void *p = NULL;
        vd_error e = {};
        if (c->a.alloc(c->a.user, &p, b, &e) == VD_OK) {
            *bytes = b;
            return p;
        }
    }
    *bytes = 0;
    return NULL;
}

// Times every algorithm on the caller's buffers (y, or a scratch output when y holds data to
// accumulate into) and keeps the fastest one allowed by the precision mode.
static vd_status plan_find(vd_cudnn_conv *c, conv_plan *p, const void *x, const void *w, void *y, bool accumulate,
                           vd_error *err) {
    int max_n = 0;
    VDN_CUDNN_TRY(err, cudnnGetConvolutionForwardAlgorithmMaxCount(c->h, &max_n));
    if (max_n < 1 || max_n > 64) max_n = 64;
    cudnnConvolutionFwdAlgoPerf_t perf[64];
    int n = 0;
    const vd_cudnn_conv_shape *s = &p->s;
    const size_t ybytes = (size_t)s->cout * (s->ti - s->kt + 1) * vd_cudnn_conv_out_dim(s->h, s->kh) *
                          vd_cudnn_conv_out_dim(s->w, s->kw) * (s->bf16 ? 2 : 4);
    void *yscratch = NULL;
    if (accumulate) VD_TRY(c->a.alloc(c->a.user, &yscratch, ybytes, err));
    size_t wsb = 0;
    void *ws = alloc_find_ws(c, &wsb);
    cudnnStatus_t st = cudnnFindConvolutionForwardAlgorithmEx(c->h, p->xd, x, p->wd, w, p->cd, p->yd,
                                                              accumulate ? yscratch : (void *)y, max_n, &n, perf, ws, wsb);
    if (ws) c->a.release(c->a.user, ws, wsb);
    if (yscratch) c->a.release(c->a.user, yscratch, ybytes);
    if (st != CUDNN_STATUS_SUCCESS) {
        // the timing runs failed (e.g. out of memory inside cuDNN): take cuDNN's heuristic order
        VD_LOGW("vae_cudnn: cudnnFindConvolutionForwardAlgorithmEx failed (%s) for cin %d cout %d kernel %dx%dx%d "
                "input %dx%dx%d; using cudnnGetConvolutionForwardAlgorithm_v7",
                cudnnGetErrorString(st), s->cin, s->cout, s->kt, s->kh, s->kw, s->ti, s->h, s->w);
        n = 0;
        st = cudnnGetConvolutionForwardAlgorithm_v7(c->h, p->xd, p->wd, p->cd, p->yd, max_n, &n, perf);
        wsb = c->ws_limit;
    }
    if (st != CUDNN_STATUS_SUCCESS)
        return vd_error_set(err, VD_ERR_CUDA,
                            "vd_cudnn_conv: cudnnFindConvolutionForwardAlgorithmEx (cin %d cout %d kernel %dx%dx%d input "
                            "%dx%dx%d, workspace %zu) failed: %s",
                            s->cin, s->cout, s->kt, s->kh, s->kw, s->ti, s->h, s->w, wsb, cudnnGetErrorString(st));
    for (int i = 0; i < n; i++) {
        const cudnnConvolutionFwdAlgoPerf_t *q = &perf[i];
        if (q->status != CUDNN_STATUS_SUCCESS || q->memory > wsb) continue;
        if (q->mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue; // may round fp32 to fp16
        const bool strict = c->strict && !s->bf16;
        if (strict && q->mathType == CUDNN_TENSOR_OP_MATH) continue;
        p->algo = q->algo;
        // strict fp32 runs every algorithm with FMA math (the descriptor's math type during the
        // timing runs); otherwise the math type the timing used
        p->math = strict ? CUDNN_FMA_MATH : q->mathType;
        p->ws = q->memory;
        p->ms = q->time;
        VDN_CUDNN_TRY(err, cudnnSetConvolutionMathType(p->cd, p->math));
        return VD_OK;
    }
    return vd_error_set(err, VD_ERR_UNSUPPORTED,
                        "vd_cudnn_conv: no cuDNN algorithm ran for cin %d cout %d kernel %dx%dx%d input %dx%dx%d (%s, "
                        "%d tried, workspace %zu bytes)",
                        s->cin, s->cout, s->kt, s->kh, s->kw, s->ti, s->h, s->w,
                        s->bf16 ? "bf16" : c->strict ? "fp32" : "tf32", n, wsb);
}

static vd_status plan_get(vd_cudnn_conv *c, const vd_cudnn_conv_shape *s, const void *x, const void *w, void *y,
                          bool accumulate, conv_plan **out, vd_error *err) {
    for (int i = 0; i < c->n_plans; i++)
        if (memcmp(&c->plans[i].s, s, sizeof *s) == 0) {
            *out = &c->plans[i];
            return VD_OK;
        }
    if (c->n_plans == c->cap_plans) {
        const int cap = c->cap_plans ? 2 * c->cap_plans : 32;
        conv_plan *np = (conv_plan *)realloc(c->plans, (size_t)cap * sizeof *np);
        if (!np) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_cudnn_conv: out of host memory");
        c->plans = np;
        c->cap_plans = cap;
    }
    conv_plan *p = &c->plans[c->n_plans];
    memset(p, 0, sizeof *p);
    p->s = *s;
    bool forced = !s->ncdhw && (c->force_direct == 1 || (c->force_direct == 2 && s->cout <= 8));
    vd_error e = {};
    vd_status st = forced ? VD_OK : plan_descriptors(c, p, &e);
    if (st == VD_OK && !forced) st = plan_find(c, p, x, w, y, accumulate, &e);
    if (st != VD_OK && !s->ncdhw && st != VD_ERR_OUT_OF_MEMORY) {
        // no cuDNN algorithm (or descriptor) for this shape: the direct kernel, decided once here
        VD_LOGW("vae_cudnn: %s; this shape runs the direct CUDA conv kernel instead (vae_cudnn_direct.cu)", e.msg);
        plan_destroy(p);
        p->s = *s;
        st = VD_OK;
        forced = true;
    }
    if (st != VD_OK) {
        plan_destroy(p);
        *err = e;
        return st;
    }
    p->direct = forced;
    if (p->direct) {
        VD_LOGD("vae_cudnn: conv cin %d cout %d k %dx%dx%d in %dx%dx%d %s: direct kernel", s->cin, s->cout, s->kt, s->kh,
                s->kw, s->ti, s->h, s->w, s->bf16 ? "bf16" : "f32");
        c->n_plans++;
        *out = p;
        return VD_OK;
    }
    VD_LOGD("vae_cudnn: conv cin %d cout %d k %dx%dx%d in %dx%dx%d %s %s: algo %d, math %s, workspace %zu, %.3f ms",
            s->cin, s->cout, s->kt, s->kh, s->kw, s->ti, s->h, s->w, s->ncdhw ? "ncdhw" : "ndhwc", s->bf16 ? "bf16" : "f32",
            (int)p->algo, math_name(p->math), p->ws, p->ms);
    c->n_plans++;
    *out = p;
    return VD_OK;
}

extern "C" vd_status vd_cudnn_conv_run(vd_cudnn_conv *c, const vd_cudnn_conv_shape *s, const void *x, const void *w,
                                       void *y, bool accumulate, vd_error *err) {
    if (s->cin < 1 || s->cout < 1 || s->kt < 1 || s->kh < 1 || s->kw < 1 || s->ti < s->kt || s->h < 1 || s->w < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_cudnn_conv_run: cin %d cout %d kernel %dx%dx%d input %dx%dx%d; need sizes >= 1 and "
                            "input frames >= kt",
                            s->cin, s->cout, s->kt, s->kh, s->kw, s->ti, s->h, s->w);
    conv_plan *p = NULL;
    VD_TRY(plan_get(c, s, x, w, y, accumulate, &p, err));
    if (p->direct) return vd_cudnn_direct_run(s, x, w, y, accumulate, c->stream, err);
    void *ws = NULL, *tmp = NULL;
    size_t tmp_bytes = 0;
    if (p->ws) VD_TRY(c->a.alloc(c->a.user, &ws, p->ws, err));
    const float one = 1.0f, zero = 0.0f;
    cudnnStatus_t st = CUDNN_STATUS_NOT_SUPPORTED;
    if (!accumulate || !p->acc_by_add) {
        st = cudnnConvolutionForward(c->h, &one, p->xd, x, p->wd, w, p->cd, p->algo, ws, p->ws, accumulate ? &one : &zero,
                                     p->yd, y);
        if (st == CUDNN_STATUS_NOT_SUPPORTED && accumulate) {
            VD_LOGW("vae_cudnn: algorithm %d refused beta = 1 (cin %d cout %d kernel %dx%dx%d); accumulating through a "
                    "scratch output",
                    (int)p->algo, s->cin, s->cout, s->kt, s->kh, s->kw);
            p->acc_by_add = true;
        }
    }
    if (accumulate && p->acc_by_add) {
        // y += conv(x): the conv into a scratch, then cudnnAddTensor (y = 1 * scratch + 1 * y)
        tmp_bytes = (size_t)s->cout * (s->ti - s->kt + 1) * vd_cudnn_conv_out_dim(s->h, s->kh) *
                    vd_cudnn_conv_out_dim(s->w, s->kw) * (s->bf16 ? 2 : 4);
        vd_status as = c->a.alloc(c->a.user, &tmp, tmp_bytes, err);
        if (as != VD_OK) {
            if (ws) c->a.release(c->a.user, ws, p->ws);
            return as;
        }
        st = cudnnConvolutionForward(c->h, &one, p->xd, x, p->wd, w, p->cd, p->algo, ws, p->ws, &zero, p->yd, tmp);
        if (st == CUDNN_STATUS_SUCCESS) st = cudnnAddTensor(c->h, &one, p->yd, tmp, &one, p->yd, y);
        c->a.release(c->a.user, tmp, tmp_bytes);
    }
    if (ws) c->a.release(c->a.user, ws, p->ws);
    if (st != CUDNN_STATUS_SUCCESS)
        return vd_error_set(err, VD_ERR_CUDA,
                            "vd_cudnn_conv_run: cudnnConvolutionForward (cin %d cout %d kernel %dx%dx%d input %dx%dx%d, "
                            "algo %d, math %s) failed: %s",
                            s->cin, s->cout, s->kt, s->kh, s->kw, s->ti, s->h, s->w, (int)p->algo, math_name(p->math),
                            cudnnGetErrorString(st));
    return VD_OK;
}

extern "C" void vd_cudnn_conv_log_plans(const vd_cudnn_conv *c) {
    for (int i = 0; i < c->n_plans; i++) {
        const conv_plan *p = &c->plans[i];
        const vd_cudnn_conv_shape *s = &p->s;
        if (p->direct) {
            VD_LOGI("vae_cudnn: conv cin %d cout %d k %dx%dx%d in %dx%dx%d ndhwc %s: direct kernel", s->cin, s->cout, s->kt,
                    s->kh, s->kw, s->ti, s->h, s->w, s->bf16 ? "bf16" : "f32");
            continue;
        }
        VD_LOGI("vae_cudnn: conv cin %d cout %d k %dx%dx%d in %dx%dx%d %s %s: algo %d, math %s, workspace %zu, %.3f ms",
                s->cin, s->cout, s->kt, s->kh, s->kw, s->ti, s->h, s->w, s->ncdhw ? "ncdhw" : "ndhwc",
                s->bf16 ? "bf16" : "f32", (int)p->algo, math_name(p->math), p->ws, p->ms);
    }
}
#endif // VDIT_HAVE_CUDNN
