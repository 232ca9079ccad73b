// Wan VAE decoder, CUDA runner (fp32 activations). Mirrors vae_cpu.c layer by layer.
//
// Convolutions without im2col. The input is laid out zero-padded and frame-major,
// P[Tp, Cin, Hp, Wp] with Hp = H + 2*ph, Wp = W + 2*pw rounded up to a multiple of 4 (aligned
// GEMM operands; the extra columns are zeros) and Tp = (kt - 1) + t (the first kt - 1 frames are
// the feature cache). The frame stride Cin*Hp*Wp is Cin x the channel stride, so the time taps and
// the input channels form one reduction index k = a*Cin + ci (stride Hp*Wp), and the kw width
// taps go into the GEMM's output columns n = c*Cout + o. Per output frame d and kernel row b:
//   Y_d[q, c*Cout + o] += sum_k P[d + k / Cin, k % Cin, q + b*Wp] * w[o, k % Cin, k / Cin, b, c]
// (kh accumulating GEMMs, all operands aligned), then the compaction kernel adds the width taps,
//   out[o, d, y, x] = sum_c Y_d[y*Wp + x + c, c*Cout + o] + bias[o] (+ residual),
// dropping the padded columns. Activations between layers are channel-major [C, T, H, W] as on
// the CPU. Weights are reordered once at upload to [b][c*Cout + o][a*Cin + ci].
// Memory: activations come from cudaMallocAsync on the context stream (pool reuse); live bytes
// (weights, caches, activations) are counted so the peak can be compared with torch's
// max_memory_allocated.
#include <cublas_v2.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dit/vae_cuda_kernels.cuh"
#include "dit/vae_dev_pool.h"
#include "dit/vae_model.h"
#include "lib/cuda_ctx.h"
#include "lib/device.h"
#include "lib/ops_cuda.h"

#define VAE_CUBLAS_TRY(err, stmt)                                                                     \
    do {                                                                                              \
        cublasStatus_t vd_cs_ = (stmt);                                                               \
        if (vd_cs_ != CUBLAS_STATUS_SUCCESS)                                                          \
            return vd_error_set((err), VD_ERR_CUDA, "%s: %s failed at %s:%d: %s", __func__, #stmt,    \
                                __FILE__, __LINE__, cublasGetStatusString(vd_cs_));                   \
    } while (0)

typedef struct {
    vd_cuda_ctx *ctx;
    cudaStream_t stream;
    cublasHandle_t blas;
    size_t live, peak;      // device bytes held by this VAE's decoder (weights + caches + activations)
    bool fp32;
} vae_dev;

// ---- device memory with accounting ------------------------------------------------------------

typedef vd_vae_dbuf dbuf;

// Padded row length: W + 2*pw rounded up to a multiple of 4 floats (16-byte aligned GEMM operands).
static inline int vae_wp(int W, int pw) { return (W + 2 * pw + 3) & ~3; }

static vd_status dbuf_alloc(vae_dev *d, dbuf *b, size_t bytes, vd_error *err) {
    return vd_vae_dbuf_alloc(d->stream, &d->live, &d->peak, b, bytes, "vae_cuda", err);
}
static void dbuf_free(vae_dev *d, dbuf *b) { vd_vae_dbuf_free(d->stream, &d->live, b); }

// ---- weights ---------------------------------------------------------------------------------

static vd_status upload_conv(vae_dev *d, vd_vae_conv *cv, vd_error *err) {
    const int taps = cv->kt * cv->kh * cv->kw;
    const size_t nw = (size_t)cv->cout * cv->cin * taps;
    float *re = (float *)malloc(nw * sizeof(float));
    if (!re) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cuda: out of host memory");
    // [Cout, Cin, kt, kh, kw] -> [kh][kw*Cout: n = c*Cout + o][kt*Cin: k = a*Cin + ci]
    const int K = cv->kt * cv->cin, NC = cv->kw * cv->cout;
    for (int o = 0; o < cv->cout; o++)
        for (int i = 0; i < cv->cin; i++)
            for (int a = 0; a < cv->kt; a++)
                for (int b = 0; b < cv->kh; b++)
                    for (int c = 0; c < cv->kw; c++)
                        re[((size_t)b * NC + (size_t)c * cv->cout + o) * K + a * cv->cin + i] =
                            cv->w[((((size_t)o * cv->cin + i) * cv->kt + a) * cv->kh + b) * cv->kw + c];
    dbuf w, b;
    vd_status st = dbuf_alloc(d, &w, nw * sizeof(float), err);
    if (st == VD_OK) st = dbuf_alloc(d, &b, (size_t)cv->cout * sizeof(float), err);
    if (st == VD_OK) {
        cudaMemcpyAsync(w.p, re, nw * sizeof(float), cudaMemcpyHostToDevice, d->stream);
        cudaMemcpyAsync(b.p, cv->b, (size_t)cv->cout * sizeof(float), cudaMemcpyHostToDevice, d->stream);
        if (cudaStreamSynchronize(d->stream) != cudaSuccess) st = vd_error_set(err, VD_ERR_CUDA, "vae_cuda: weight upload failed");
        cv->dev_w = w.p;
        cv->dev_b = b.p;
    }
    free(re);
    return st;
}

static vd_status upload_norm(vae_dev *d, vd_vae_norm *n, vd_error *err) {
    dbuf g;
    VD_TRY(dbuf_alloc(d, &g, (size_t)n->c * sizeof(float), err));
    VD_CUDA_TRY(err, cudaMemcpyAsync(g.p, n->gamma, (size_t)n->c * sizeof(float), cudaMemcpyHostToDevice, d->stream));
    n->dev_gamma = g.p;
    return VD_OK;
}

static vd_status upload_res(vae_dev *d, vd_vae_resblock *r, vd_error *err) {
    VD_TRY(upload_norm(d, &r->norm1, err));
    VD_TRY(upload_conv(d, &r->conv1, err));
    VD_TRY(upload_norm(d, &r->norm2, err));
    VD_TRY(upload_conv(d, &r->conv2, err));
    if (r->has_shortcut) VD_TRY(upload_conv(d, &r->shortcut, err));
    return VD_OK;
}

static vd_status vae_dev_init_inner(vd_vae *v, const vd_vae_decode_opts *o, vd_error *err) {
    vae_dev *d = (vae_dev *)calloc(1, sizeof *d);
    if (!d) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cuda: out of memory");
    v->dev = d;
    VD_TRY(vd_cuda_ctx_create(&d->ctx, o->cuda_device, err));
    d->stream = (cudaStream_t)vd_cuda_ctx_stream(d->ctx);
    VD_TRY(vd_vae_pool_keep_freed(o->cuda_device, err));
    VAE_CUBLAS_TRY(err, cublasCreate(&d->blas));
    VAE_CUBLAS_TRY(err, cublasSetStream(d->blas, d->stream));
    VD_TRY(upload_conv(d, &v->post_quant, err));
    VD_TRY(upload_conv(d, &v->conv_in, err));
    VD_TRY(upload_res(d, &v->mid_res[0], err));
    VD_TRY(upload_norm(d, &v->mid_attn.norm, err));
    VD_TRY(upload_conv(d, &v->mid_attn.to_qkv, err));
    VD_TRY(upload_conv(d, &v->mid_attn.proj, err));
    VD_TRY(upload_res(d, &v->mid_res[1], err));
    for (int i = 0; i < v->cfg.n_mult; i++) {
        vd_vae_upblock *u = &v->up[i];
        for (int j = 0; j < u->n_res; j++) VD_TRY(upload_res(d, &u->res[j], err));
        if (u->up.mode == VD_VAE_UP_3D) VD_TRY(upload_conv(d, &u->up.time_conv, err));
        if (u->up.mode != VD_VAE_UP_NONE) VD_TRY(upload_conv(d, &u->up.conv, err));
    }
    VD_TRY(upload_norm(d, &v->norm_out, err));
    VD_TRY(upload_conv(d, &v->conv_out, err));
    VD_CUDA_TRY(err, cudaStreamSynchronize(d->stream));
    return VD_OK;
}

extern "C" void vd_vae_cuda_release(vd_vae *v);

// Creates the device state once per VAE; on failure nothing is left half-built.
static vd_status vae_dev_init(vd_vae *v, const vd_vae_decode_opts *o, vd_error *err) {
    if (v->dev) return VD_OK;
    vd_status st = vae_dev_init_inner(v, o, err);
    if (st != VD_OK) vd_vae_cuda_release(v);
    return st;
}

// Frees the device copies (called from vd_vae_free). Weight buffers are released by freeing the
// pool allocations one by one is not tracked per pointer, so walk the layer table.
static void free_ptr(vae_dev *d, void **p) {
    if (*p) cudaFreeAsync(*p, d->stream);
    *p = NULL;
}
static void free_conv(vae_dev *d, vd_vae_conv *c) {
    free_ptr(d, &c->dev_w);
    free_ptr(d, &c->dev_b);
}
static void free_res(vae_dev *d, vd_vae_resblock *r) {
    free_ptr(d, &r->norm1.dev_gamma);
    free_ptr(d, &r->norm2.dev_gamma);
    free_conv(d, &r->conv1);
    free_conv(d, &r->conv2);
    free_conv(d, &r->shortcut);
}

extern "C" void vd_vae_cuda_release(vd_vae *v) {
    vd_vae_cudnn_release(v); // the cuDNN runner's weights (vae_cudnn_dev.cu), if any
    vae_dev *d = (vae_dev *)v->dev;
    if (!d) return;
    if (d->stream) {
        free_conv(d, &v->post_quant);
        free_conv(d, &v->conv_in);
        free_res(d, &v->mid_res[0]);
        free_ptr(d, &v->mid_attn.norm.dev_gamma);
        free_conv(d, &v->mid_attn.to_qkv);
        free_conv(d, &v->mid_attn.proj);
        free_res(d, &v->mid_res[1]);
        for (int i = 0; i < v->cfg.n_mult; i++) {
            for (int j = 0; j < v->up[i].n_res; j++) free_res(d, &v->up[i].res[j]);
            free_conv(d, &v->up[i].up.time_conv);
            free_conv(d, &v->up[i].up.conv);
        }
        free_ptr(d, &v->norm_out.dev_gamma);
        free_conv(d, &v->conv_out);
        cudaStreamSynchronize(d->stream);
    }
    if (d->blas) cublasDestroy(d->blas);
    if (d->ctx) vd_cuda_ctx_free(d->ctx);
    free(d);
    v->dev = NULL;
}

// ---- runner ----------------------------------------------------------------------------------

struct vd_vae_runner {
    vd_vae *v;
    vae_dev *d;
    int64_t h, w;
    dbuf *cache;       // [n_slots]: [cin, 2, Hp, Wp] in the padded layout of the conv using it
    bool *up3d_seen;
};

typedef struct {
    dbuf b;
    int c, t, h, w;
} dact;

static vd_status get_cache(vd_vae_runner *r, const vd_vae_conv *cv, int Hp, int Wp, float **out, vd_error *err) {
    dbuf *c = &r->cache[cv->slot];
    const size_t bytes = (size_t)cv->cin * VD_VAE_CACHE_T * Hp * Wp * sizeof(float);
    if (!c->p) {
        VD_TRY(dbuf_alloc(r->d, c, bytes, err));
        VD_CUDA_TRY(err, cudaMemsetAsync(c->p, 0, c->bytes, r->d->stream));
    }
    VD_ASSERT(c->bytes >= bytes);
    *out = c->p;
    return VD_OK;
}

// P[2 + t, cin, Hp, Wp] (frame-major) with the cache ([2, cin, Hp, Wp]) copied into frames 0, 1.
static vd_status pad_begin(vd_vae_runner *r, const vd_vae_conv *cv, int t, int H, int W, dbuf *P, vd_error *err) {
    const int Hp = H + 2 * (cv->kh / 2), Wp = vae_wp(W, cv->kw / 2);
    const size_t fs = (size_t)cv->cin * Hp * Wp, Tp = VD_VAE_CACHE_T + t;
    float *cache = NULL;
    VD_TRY(get_cache(r, cv, Hp, Wp, &cache, err));
    VD_TRY(dbuf_alloc(r->d, P, Tp * fs * sizeof(float), err));
    VD_CUDA_TRY(err, cudaMemcpyAsync(P->p, cache, VD_VAE_CACHE_T * fs * sizeof(float), cudaMemcpyDeviceToDevice,
                                     r->d->stream));
    return VD_OK;
}

// Convolution on a frame-major padded input P[Tp = kt - 1 + t, cin, Hp, Wp] -> out [cout, t, H, W]
// (+ res, same layout as out). Per output frame: kh GEMMs into Y, then the compaction kernel.
static vd_status conv_run(vd_vae_runner *r, const vd_vae_conv *cv, const float *P, int t, int H, int W,
                          const float *res, dact *out, vd_error *err) {
    vae_dev *d = r->d;
    const int Hp = H + 2 * (cv->kh / 2), Wp = vae_wp(W, cv->kw / 2);
    const int64_t fr = (int64_t)Hp * Wp, K = (int64_t)cv->kt * cv->cin, NC = (int64_t)cv->kw * cv->cout;
    // GEMM rows: every q = y*Wp + x (+ c < kw) the compaction reads
    const int64_t M = (int64_t)(H - 1) * Wp + W + cv->kw - 1;
    if (fr > INT32_MAX || K > INT32_MAX || NC > INT32_MAX)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "vae_cuda: conv frame of %lld positions exceeds the cuBLAS int range; use tiling",
                            (long long)fr);
    out->c = cv->cout, out->t = t, out->h = H, out->w = W;
    dbuf Y = {};
    VD_TRY(dbuf_alloc(d, &Y, (size_t)NC * fr * sizeof(float), err)); // [kw*cout][Hp*Wp], one frame
    vd_status st = dbuf_alloc(d, &out->b, (size_t)cv->cout * t * H * W * sizeof(float), err);
    const float *Wt = (const float *)cv->dev_w;
    const int64_t fs = (int64_t)cv->cin * fr, ocs = (int64_t)t * H * W;
    for (int f = 0; f < t && st == VD_OK; f++) {
        for (int b = 0; b < cv->kh; b++) {
            const float alpha = 1.0f, beta = b ? 1.0f : 0.0f;
            // A(q, k) = P[f*fs + k*fr + b*Wp + q]; B(k, n) = Wt[b][n][k]; C(q, n) = Y[n*fr + q]
            cublasStatus_t cs = cublasSgemm(d->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)M, (int)NC, (int)K, &alpha,
                                            P + f * fs + (int64_t)b * Wp, (int)fr, Wt + (size_t)b * NC * K, (int)K,
                                            &beta, Y.p, (int)fr);
            if (cs != CUBLAS_STATUS_SUCCESS) {
                st = vd_error_set(err, VD_ERR_CUDA, "vae_cuda: cublasSgemm (conv %dx%d, M=%lld, K=%lld) failed: %s",
                                  cv->cout, cv->cin, (long long)M, (long long)K, cublasGetStatusString(cs));
                break;
            }
        }
        if (st != VD_OK) break;
        const int64_t n = (int64_t)cv->cout * H * W;
        vae_compact_kernel<<<grid_for(n), 256, 0, d->stream>>>(out->b.p + (int64_t)f * H * W, ocs, Y.p, fr, cv->kw,
                                                                (const float *)cv->dev_b,
                                                                res ? res + (int64_t)f * H * W : NULL, cv->cout, H, W, Wp);
        cudaError_t ce = cudaGetLastError();
        if (ce != cudaSuccess) st = vd_error_set(err, VD_ERR_CUDA, "vae_cuda: compact kernel: %s", cudaGetErrorString(ce));
    }
    dbuf_free(d, &Y);
    if (st != VD_OK) dbuf_free(d, &out->b);
    return st;
}

// 1x1x1 conv on a channel-major x [cin, t, H, W] -> out [cout, t, H, W]: one GEMM + bias.
static vd_status conv1x1(vd_vae_runner *r, const vd_vae_conv *cv, const float *x, int t, int H, int W, dact *out,
                         vd_error *err) {
    vae_dev *d = r->d;
    const int64_t n = (int64_t)t * H * W;
    if (n > INT32_MAX) return vd_error_set(err, VD_ERR_UNSUPPORTED, "vae_cuda: 1x1 conv over %lld positions; use tiling", (long long)n);
    out->c = cv->cout, out->t = t, out->h = H, out->w = W;
    VD_TRY(dbuf_alloc(d, &out->b, (size_t)cv->cout * n * sizeof(float), err));
    const float one = 1.0f, zero = 0.0f;
    cublasStatus_t cs = cublasSgemm(d->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)n, cv->cout, cv->cin, &one, x, (int)n,
                                    (const float *)cv->dev_w, cv->cin, &zero, out->b.p, (int)n);
    if (cs != CUBLAS_STATUS_SUCCESS)
        return vd_error_set(err, VD_ERR_CUDA, "vae_cuda: cublasSgemm (1x1 conv) failed: %s", cublasGetStatusString(cs));
    vae_add_rowbias_kernel<<<grid_for(cv->cout * n), 256, 0, d->stream>>>(out->b.p, (const float *)cv->dev_b, cv->cout, n);
    cudaError_t ce = cudaGetLastError();
    if (ce != cudaSuccess) return vd_error_set(err, VD_ERR_CUDA, "vae_cuda: bias kernel: %s", cudaGetErrorString(ce));
    return VD_OK;
}

// Causal conv on P (freed here); the cache takes P's last two frames.
static vd_status pad_conv(vd_vae_runner *r, const vd_vae_conv *cv, dbuf *P, int t, int H, int W, const float *res,
                          dact *out, vd_error *err) {
    vd_status st = conv_run(r, cv, P->p, t, H, W, res, out, err);
    if (st == VD_OK) {
        const int Hp = H + 2 * (cv->kh / 2), Wp = vae_wp(W, cv->kw / 2);
        const size_t fs = (size_t)cv->cin * Hp * Wp; // frames t, t+1 of P are the new cache
        cudaError_t ce = cudaMemcpyAsync(r->cache[cv->slot].p, P->p + t * fs, VD_VAE_CACHE_T * fs * sizeof(float),
                                         cudaMemcpyDeviceToDevice, r->d->stream);
        if (ce != cudaSuccess) st = vd_error_set(err, VD_ERR_CUDA, "vae_cuda: cache update: %s", cudaGetErrorString(ce));
    }
    dbuf_free(r->d, P);
    return st;
}

// x -> (norm [+ SiLU] | copy) -> causal conv (+ res)
// consume: x's buffer is released right after it was read into P (stream order makes that safe).
static vd_status prep_conv(vd_vae_runner *r, const vd_vae_norm *nm, const vd_vae_conv *cv, dact *x, int mode,
                           bool consume, const float *res, dact *out, vd_error *err) {
    dbuf P = {};
    VD_TRY(pad_begin(r, cv, x->t, x->h, x->w, &P, err));
    const int Wp = vae_wp(x->w, cv->kw / 2);
    const int64_t n = (int64_t)x->t * (x->h + 2 * (cv->kh / 2)) * Wp;
    vae_norm_pad_kernel<<<grid_for(n), 256, 0, r->d->stream>>>(
        P.p, VD_VAE_CACHE_T, cv->kh / 2, cv->kw / 2, Wp, x->b.p, (int64_t)x->t * x->h * x->w,
        nm ? (const float *)nm->dev_gamma : NULL, x->c, x->t, x->h, x->w, mode);
    cudaError_t ce = cudaGetLastError();
    if (ce != cudaSuccess) {
        dbuf_free(r->d, &P);
        return vd_error_set(err, VD_ERR_CUDA, "vae_cuda: norm_pad kernel: %s", cudaGetErrorString(ce));
    }
    const int t = x->t, h = x->h, w = x->w;
    if (consume) dbuf_free(r->d, &x->b);
    return pad_conv(r, cv, &P, t, h, w, res, out, err);
}

static vd_status resblock(vd_vae_runner *r, const vd_vae_resblock *rb, dact *x, vd_error *err) {
    dact h = {}, y1 = {}, y2 = {};
    vd_status st = VD_OK;
    if (rb->has_shortcut) st = conv1x1(r, &rb->shortcut, x->b.p, x->t, x->h, x->w, &h, err);
    // with a shortcut, x is not needed after norm1 (the residual is h)
    if (st == VD_OK) st = prep_conv(r, &rb->norm1, &rb->conv1, x, 2, rb->has_shortcut, NULL, &y1, err);
    if (st == VD_OK) st = prep_conv(r, &rb->norm2, &rb->conv2, &y1, 2, true, rb->has_shortcut ? h.b.p : x->b.p, &y2, err);
    dbuf_free(r->d, &h.b);
    dbuf_free(r->d, &y1.b);
    dbuf_free(r->d, &x->b);
    *x = y2;
    return st;
}

static vd_status attention(vd_vae_runner *r, const vd_vae_attn *a, dact *x, vd_error *err) {
    vae_dev *d = r->d;
    const int C = x->c, T = x->t;
    const int64_t HW = (int64_t)x->h * x->w;
    if (HW * HW > ((int64_t)1 << 33))
        return vd_error_set(err, VD_ERR_UNSUPPORTED,
                            "vae_cuda: mid-block attention over %lld positions needs %lld score floats; use tiling",
                            (long long)HW, (long long)(HW * HW));
    dbuf xn = {}, qkv = {}, s = {}, o = {}, y = {};
    vd_status st = dbuf_alloc(d, &xn, (size_t)C * HW * 4, err);
    if (st == VD_OK) st = dbuf_alloc(d, &qkv, (size_t)3 * C * HW * 4, err);
    if (st == VD_OK) st = dbuf_alloc(d, &s, (size_t)HW * HW * 4, err);
    if (st == VD_OK) st = dbuf_alloc(d, &o, (size_t)C * HW * 4, err);
    if (st == VD_OK) st = dbuf_alloc(d, &y, (size_t)C * HW * 4, err);
    const float one = 1.0f, zero = 0.0f, qs = 1.0f / sqrtf((float)C);
    for (int f = 0; f < T && st == VD_OK; f++) {
        float *xf = x->b.p + f * HW;
        vae_norm_pad_kernel<<<grid_for(HW), 256, 0, d->stream>>>(xn.p, 0, 0, 0, x->w, xf, (int64_t)T * HW,
                                                                  (const float *)a->norm.dev_gamma, C, 1, x->h, x->w, 1);
        cublasStatus_t cs = cublasSgemm(d->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)HW, 3 * C, C, &one, xn.p, (int)HW,
                                        (const float *)a->to_qkv.dev_w, C, &zero, qkv.p, (int)HW);
        if (cs == CUBLAS_STATUS_SUCCESS) {
            vae_add_rowbias_kernel<<<grid_for(3 * C * HW), 256, 0, d->stream>>>(qkv.p, (const float *)a->to_qkv.dev_b,
                                                                               3 * C, HW);
            const float *q = qkv.p, *k = qkv.p + C * HW, *v = qkv.p + 2 * C * HW;
            cs = cublasSgemm(d->blas, CUBLAS_OP_N, CUBLAS_OP_T, (int)HW, (int)HW, C, &qs, k, (int)HW, q, (int)HW, &zero,
                             s.p, (int)HW);
            if (cs == CUBLAS_STATUS_SUCCESS) {
                st = vd_softmax_cuda(d->ctx, s.p, s.p, HW, HW, err);   // rows of s in place (lib/ops_norm.cu)
                if (st == VD_OK)
                    cs = cublasSgemm(d->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)HW, C, (int)HW, &one, s.p, (int)HW, v,
                                     (int)HW, &zero, o.p, (int)HW);
            }
            if (st == VD_OK && cs == CUBLAS_STATUS_SUCCESS)
                cs = cublasSgemm(d->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)HW, C, C, &one, o.p, (int)HW,
                                 (const float *)a->proj.dev_w, C, &zero, y.p, (int)HW);
            if (st == VD_OK && cs == CUBLAS_STATUS_SUCCESS)
                vae_add_frame_kernel<<<grid_for(C * HW), 256, 0, d->stream>>>(xf, (int64_t)T * HW, y.p,
                                                                             (const float *)a->proj.dev_b, C, HW);
        }
        if (st == VD_OK && cs != CUBLAS_STATUS_SUCCESS)
            st = vd_error_set(err, VD_ERR_CUDA, "vae_cuda: attention GEMM failed: %s", cublasGetStatusString(cs));
        cudaError_t ce = cudaGetLastError();
        if (st == VD_OK && ce != cudaSuccess)
            st = vd_error_set(err, VD_ERR_CUDA, "vae_cuda: attention kernels: %s", cudaGetErrorString(ce));
    }
    dbuf_free(d, &xn);
    dbuf_free(d, &qkv);
    dbuf_free(d, &s);
    dbuf_free(d, &o);
    dbuf_free(d, &y);
    return st;
}

static vd_status upsampler(vd_vae_runner *r, const vd_vae_upsampler *u, dact *x, vd_error *err) {
    vae_dev *d = r->d;
    const int C = x->c, H = x->h, W = x->w;
    int skip = 0, n = 0, Tz = x->t;
    dact y = {};
    vd_status st = VD_OK;
    if (u->mode == VD_VAE_UP_3D) {
        bool *seen = &r->up3d_seen[u->up3d_index];
        skip = *seen ? 0 : 1;
        n = x->t - skip;
        Tz = skip + 2 * n;
        if (n > 0) {
            dbuf P = {};
            VD_TRY(pad_begin(r, &u->time_conv, n, H, W, &P, err));
            // time conv input: frames skip.. of x, no spatial padding (kernel 3x1x1)
            vae_norm_pad_kernel<<<grid_for((int64_t)n * H * vae_wp(W, 0)), 256, 0, d->stream>>>(
                P.p, VD_VAE_CACHE_T, 0, 0, vae_wp(W, 0), x->b.p + (int64_t)skip * H * W, (int64_t)x->t * H * W,
                NULL, C, n, H, W, 0);
            VD_TRY(pad_conv(r, &u->time_conv, &P, n, H, W, NULL, &y, err));
        }
        *seen = true;
    }
    dbuf P2 = {};
    const int Wp2 = vae_wp(2 * W, 1);
    const int64_t total = (int64_t)C * Tz * (2 * H + 2) * Wp2;
    st = dbuf_alloc(d, &P2, (size_t)total * sizeof(float), err);
    if (st == VD_OK) {
        vae_up_pad_kernel<<<grid_for(total), 256, 0, d->stream>>>(P2.p, Tz, Wp2, x->b.p, x->t, n > 0 ? y.b.p : NULL, n, skip,
                                                                   C, H, W);
        cudaError_t ce = cudaGetLastError();
        if (ce != cudaSuccess) st = vd_error_set(err, VD_ERR_CUDA, "vae_cuda: up_pad kernel: %s", cudaGetErrorString(ce));
    }
    dbuf_free(d, &y.b);
    dbuf_free(d, &x->b);
    dact out = {};
    if (st == VD_OK) st = conv_run(r, &u->conv, P2.p, Tz, 2 * H, 2 * W, NULL, &out, err);
    dbuf_free(d, &P2);
    *x = out;
    return st;
}

static vd_status cuda_create(vd_vae *v, int64_t h, int64_t w, const vd_vae_decode_opts *o, vd_vae_runner **out,
                             vd_error *err) {
    VD_TRY(vae_dev_init(v, o, err));
    vae_dev *d = (vae_dev *)v->dev;
    d->fp32 = o->cuda_fp32; // tiles of one decode run one after the other: one mode per decode
    d->peak = d->live;      // the peak of this decode (torch's counterpart is reset after its warm-up too)
    VAE_CUBLAS_TRY(err, cublasSetMathMode(d->blas, d->fp32 ? CUBLAS_DEFAULT_MATH : CUBLAS_TF32_TENSOR_OP_MATH));
    vd_vae_runner *r = (vd_vae_runner *)calloc(1, sizeof *r);
    if (!r) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cuda: out of memory");
    r->v = v;
    r->d = (vae_dev *)v->dev;
    r->h = h;
    r->w = w;
    r->cache = (dbuf *)calloc((size_t)v->n_slots, sizeof *r->cache);
    r->up3d_seen = (bool *)calloc((size_t)v->n_up3d + 1, sizeof *r->up3d_seen);
    if (!r->cache || !r->up3d_seen) {
        free(r->cache);
        free(r->up3d_seen);
        free(r);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cuda: out of memory");
    }
    *out = r;
    return VD_OK;
}

static void cuda_destroy(vd_vae_runner *r) {
    if (!r) return;
    for (int i = 0; i < r->v->n_slots; i++) dbuf_free(r->d, &r->cache[i]);
    cudaStreamSynchronize(r->d->stream);
    free(r->cache);
    free(r->up3d_seen);
    free(r);
}

static vd_status cuda_decode_chunk(vd_vae_runner *r, const float *zin, int64_t t64, float *out, vd_error *err) {
    vd_vae *v = r->v;
    vae_dev *d = r->d;
    const int t = (int)t64, h = (int)r->h, w = (int)r->w, Z = v->cfg.z_dim;
    dact z = {}, pq = {}, x = {};
    vd_status st = dbuf_alloc(d, &z.b, (size_t)Z * t * h * w * sizeof(float), err);
    if (st != VD_OK) return st;
    VD_CUDA_TRY(err, cudaMemcpyAsync(z.b.p, zin, (size_t)Z * t * h * w * sizeof(float), cudaMemcpyHostToDevice, d->stream));
    z.c = Z, z.t = t, z.h = h, z.w = w;
    st = conv1x1(r, &v->post_quant, z.b.p, t, h, w, &pq, err);
    dbuf_free(d, &z.b);
    if (st == VD_OK) st = prep_conv(r, NULL, &v->conv_in, &pq, 0, true, NULL, &x, err);
    dbuf_free(d, &pq.b);
    if (st == VD_OK) st = resblock(r, &v->mid_res[0], &x, err);
    if (st == VD_OK) st = attention(r, &v->mid_attn, &x, err);
    if (st == VD_OK) st = resblock(r, &v->mid_res[1], &x, err);
    for (int i = 0; i < v->cfg.n_mult && st == VD_OK; i++) {
        const vd_vae_upblock *u = &v->up[i];
        for (int j = 0; j < u->n_res && st == VD_OK; j++) st = resblock(r, &u->res[j], &x, err);
        if (st == VD_OK && u->up.mode != VD_VAE_UP_NONE) st = upsampler(r, &u->up, &x, err);
    }
    dact y = {};
    if (st == VD_OK) st = prep_conv(r, &v->norm_out, &v->conv_out, &x, 2, true, NULL, &y, err);
    dbuf_free(d, &x.b);
    if (st == VD_OK) {
        cudaError_t ce = cudaMemcpyAsync(out, y.b.p, (size_t)y.c * y.t * y.h * y.w * sizeof(float),
                                         cudaMemcpyDeviceToHost, d->stream);
        if (ce == cudaSuccess) ce = cudaStreamSynchronize(d->stream);
        if (ce != cudaSuccess) st = vd_error_set(err, VD_ERR_CUDA, "vae_cuda: decode chunk: %s", cudaGetErrorString(ce));
    }
    dbuf_free(d, &y.b);
    return st;
}

static size_t cuda_peak(vd_vae_runner *r) { return r->d->peak; }

static const vd_vae_backend k_cuda_backend = {cuda_create, cuda_decode_chunk, cuda_destroy, cuda_peak};

extern "C" const vd_vae_backend *vd_vae_backend_cuda(void) { return &k_cuda_backend; }
