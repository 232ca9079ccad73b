// Device state and weights of the Wan VAE's cuDNN runner (see vae_cudnn_dev.h).
#ifdef VDIT_HAVE_CUDNN
#include <stdlib.h>
#include <string.h>

#include "dit/vae_cudnn_dev.h"
#include "lib/device.h"
#include "lib/dtype.h"

#define VDN_CUBLAS_TRY(err, stmt)                                                                     \
    do {                                                                                              \
        cublasStatus_t vdn_cs_ = (stmt);                                                              \
        if (vdn_cs_ != CUBLAS_STATUS_SUCCESS)                                                         \
            return vd_error_set((err), VD_ERR_CUDA, "%s: %s failed at %s:%d: %s", __func__, #stmt,    \
                                __FILE__, __LINE__, cublasGetStatusString(vdn_cs_));                  \
    } while (0)

vd_status vdn_alloc(vdn_dev *d, vdn_buf *b, size_t bytes, vd_error *err) {
    return vd_vae_dbuf_alloc(d->stream, &d->live, &d->peak, b, bytes, "vae_cudnn", err);
}

void vdn_free(vdn_dev *d, vdn_buf *b) { vd_vae_dbuf_free(d->stream, &d->live, b); }

// cuDNN workspace from the same pool and count.
static vd_status ws_alloc(void *user, void **p, size_t bytes, vd_error *err) {
    vdn_buf b;
    VD_TRY(vdn_alloc((vdn_dev *)user, &b, bytes, err));
    *p = b.p;
    return VD_OK;
}
static void ws_release(void *user, void *p, size_t bytes) {
    vdn_buf b = {(float *)p, (bytes + 255) & ~(size_t)255};
    vdn_free((vdn_dev *)user, &b);
}

const uint16_t *vdn_w16(const vdn_dev *d, const float *host) {
    for (int i = 0; i < d->n_wt16; i++)
        if (d->wt16[i].host == host) return (const uint16_t *)d->wt16[i].dev;
    VD_ASSERT(!"vae_cudnn: bf16 weight not uploaded");
    return NULL;
}

float *vdn_w(const vdn_dev *d, const float *host) {
    for (int i = 0; i < d->n_wt; i++)
        if (d->wt[i].host == host) return d->wt[i].dev;
    VD_ASSERT(!"vae_cudnn: weight not uploaded");
    return NULL;
}

// The phase weights are registered under the conv struct's address (no weight array has it).
float *vdn_w_phases(const vdn_dev *d, const vd_vae_conv *cv) { return vdn_w(d, (const float *)(const void *)cv); }

// conv_out's 3 outputs are padded to 8: cuDNN 9.19 on the H200 had no NDHWC TF32 algorithm for 4
// output channels at 480x832 ("no cuDNN algorithm ran", cin 96 cout 4).
int vdn_cout(const vd_vae *v, const vd_vae_conv *cv) { return cv == &v->conv_out ? (cv->cout + 7) & ~7 : cv->cout; }

// Copies n floats (host) into a new device buffer registered under key.
static vd_status put(vdn_dev *d, const float *key, const float *src, size_t n, vd_error *err) {
    if (d->n_wt == d->cap_wt) {
        const int cap = d->cap_wt ? 2 * d->cap_wt : 128;
        vdn_weight *nw = (vdn_weight *)realloc(d->wt, (size_t)cap * sizeof *nw);
        if (!nw) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cudnn: out of host memory");
        d->wt = nw;
        d->cap_wt = cap;
    }
    vdn_buf b;
    VD_TRY(vdn_alloc(d, &b, n * sizeof(float), err));
    d->wt[d->n_wt++] = (vdn_weight){key, b.p, b.bytes};
    VD_CUDA_TRY(err, cudaMemcpyAsync(b.p, src, n * sizeof(float), cudaMemcpyHostToDevice, d->stream));
    // the host copy may be a temporary: wait before it is freed
    VD_CUDA_TRY(err, cudaStreamSynchronize(d->stream));
    return VD_OK;
}

// [cout, cin, kt, kh, kw] -> [coutd, kt, kh, kw, cin] (rows >= cout zero), bias padded likewise.
static vd_status upload_conv(vd_vae *v, vdn_dev *d, const vd_vae_conv *cv, vd_error *err) {
    const int taps = cv->kt * cv->kh * cv->kw, coutd = vdn_cout(v, cv);
    const size_t nw = (size_t)coutd * cv->cin * taps;
    float *re = (float *)calloc(nw + (size_t)coutd, sizeof(float));
    if (!re) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cudnn: out of host memory");
    for (int o = 0; o < cv->cout; o++)
        for (int i = 0; i < cv->cin; i++)
            for (int t = 0; t < taps; t++)
                re[((size_t)o * taps + t) * cv->cin + i] = cv->w[((size_t)o * cv->cin + i) * taps + t];
    float *bias = re + nw;
    memcpy(bias, cv->b, (size_t)cv->cout * sizeof(float));
    vd_status st = put(d, cv->w, re, nw, err);
    if (st == VD_OK) st = put(d, cv->b, bias, (size_t)coutd, err);
    free(re);
    return st;
}

// Nearest x2 upsampling then a 3x3 conv (pad 1): output row 2y + py reads source rows
// y - 1 + py + a (a = 0, 1) with the 3x3 rows lo..hi below summed, likewise for columns.
static vd_status upload_phases(vdn_dev *d, const vd_vae_conv *cv, vd_error *err) {
    static const int lo[2][2] = {{0, 1}, {0, 2}}, hi[2][2] = {{0, 2}, {1, 2}}; // [py][a]
    VD_ASSERT(cv->kt == 1 && cv->kh == 3 && cv->kw == 3);
    const int co = cv->cout, ci = cv->cin;
    const size_t n = (size_t)4 * co * 4 * ci;
    float *w4 = (float *)calloc(n, sizeof(float));
    if (!w4) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cudnn: out of host memory");
    for (int py = 0; py < 2; py++)
        for (int px = 0; px < 2; px++)
            for (int o = 0; o < co; o++)
                for (int a = 0; a < 2; a++)
                    for (int b = 0; b < 2; b++)
                        for (int i = 0; i < ci; i++) {
                            double sum = 0;
                            for (int r = lo[py][a]; r <= hi[py][a]; r++)
                                for (int q = lo[px][b]; q <= hi[px][b]; q++)
                                    sum += cv->w[(((size_t)o * ci + i) * 3 + r) * 3 + q];
                            w4[((((size_t)(2 * py + px) * co + o) * 2 + a) * 2 + b) * ci + i] = (float)sum;
                        }
    vd_status st = put(d, (const float *)(const void *)cv, w4, n, err);
    free(w4);
    return st;
}

static vd_status upload_norm(vdn_dev *d, const vd_vae_norm *n, vd_error *err) {
    return put(d, n->gamma, n->gamma, (size_t)n->c, err);
}

static vd_status upload_res(vd_vae *v, vdn_dev *d, const vd_vae_resblock *r, vd_error *err) {
    VD_TRY(upload_norm(d, &r->norm1, err));
    VD_TRY(upload_conv(v, d, &r->conv1, err));
    VD_TRY(upload_norm(d, &r->norm2, err));
    VD_TRY(upload_conv(v, d, &r->conv2, err));
    if (r->has_shortcut) VD_TRY(upload_conv(v, d, &r->shortcut, err));
    return VD_OK;
}

static vd_status dev_init(vd_vae *v, const vd_vae_decode_opts *o, vdn_dev *d, vd_error *err) {
    VD_TRY(vd_cuda_ctx_create(&d->ctx, o->cuda_device, err));
    d->stream = (cudaStream_t)vd_cuda_ctx_stream(d->ctx);
    VD_TRY(vd_vae_pool_keep_freed(o->cuda_device, err));
    VDN_CUBLAS_TRY(err, cublasCreate(&d->blas));
    VDN_CUBLAS_TRY(err, cublasSetStream(d->blas, d->stream));
    // workspace limit per convolution (cuDNN algorithms that need more are not considered)
    const char *e = getenv("VDIT_VAE_CUDNN_WS_MB");
    const long mb = e && atol(e) >= 0 ? atol(e) : 256;
    const vd_cudnn_allocator a = {ws_alloc, ws_release, d};
    VD_TRY(vd_cudnn_conv_create(&d->conv, d->stream, &a, (size_t)mb << 20, o->cuda_fp32, err));
    VD_TRY(put(d, v->post_quant.w, v->post_quant.w, (size_t)v->post_quant.cout * v->post_quant.cin, err));
    VD_TRY(put(d, v->post_quant.b, v->post_quant.b, (size_t)v->post_quant.cout, err));
    VD_TRY(upload_conv(v, d, &v->conv_in, err));
    VD_TRY(upload_res(v, d, &v->mid_res[0], err));
    VD_TRY(upload_norm(d, &v->mid_attn.norm, err));
    VD_TRY(upload_conv(v, d, &v->mid_attn.to_qkv, err));
    VD_TRY(upload_conv(v, d, &v->mid_attn.proj, err));
    VD_TRY(upload_res(v, d, &v->mid_res[1], err));
    for (int i = 0; i < v->cfg.n_mult; i++) {
        const vd_vae_upblock *u = &v->up[i];
        for (int j = 0; j < u->n_res; j++) VD_TRY(upload_res(v, d, &u->res[j], err));
        if (u->up.mode == VD_VAE_UP_3D) VD_TRY(upload_conv(v, d, &u->up.time_conv, err));
        if (u->up.mode != VD_VAE_UP_NONE) VD_TRY(upload_conv(v, d, &u->up.conv, err));
        if (u->up.mode != VD_VAE_UP_NONE) VD_TRY(upload_phases(d, &u->up.conv, err));
    }
    VD_TRY(upload_norm(d, &v->norm_out, err));
    VD_TRY(upload_conv(v, d, &v->conv_out, err));
    return VD_OK;
}

// bf16 copies of the weights the cuDNN convs read (not the cuBLAS 1x1 ones: post_quant, shortcut,
// attention), made from the fp32 device copies (same layouts).
static bool is_conv_weight(const vd_vae *v, const float *key);

static vd_status upload_bf16(vd_vae *v, vdn_dev *d, vd_error *err) {
    for (int i = 0; i < d->n_wt; i++) {
        const vdn_weight *src = &d->wt[i];
        if (!is_conv_weight(v, src->host)) continue;
        const size_t n = src->bytes / sizeof(float);
        float *h = (float *)malloc(n * sizeof(float));
        uint16_t *h16 = (uint16_t *)malloc(n * sizeof(uint16_t));
        vd_status st = h && h16 ? VD_OK : vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cudnn: out of host memory");
        if (st == VD_OK)
            st = cudaMemcpyAsync(h, src->dev, n * sizeof(float), cudaMemcpyDeviceToHost, d->stream) == cudaSuccess &&
                         cudaStreamSynchronize(d->stream) == cudaSuccess
                     ? VD_OK
                     : vd_error_set(err, VD_ERR_CUDA, "vae_cudnn: weight download for the bf16 copy failed");
        if (st == VD_OK) {
            for (size_t k = 0; k < n; k++) h16[k] = vd_f32_to_bf16(h[k]);
            if (d->n_wt16 == d->cap_wt16) {
                const int cap = d->cap_wt16 ? 2 * d->cap_wt16 : 128;
                vdn_weight *nw = (vdn_weight *)realloc(d->wt16, (size_t)cap * sizeof *nw);
                if (!nw) st = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cudnn: out of host memory");
                else d->wt16 = nw, d->cap_wt16 = cap;
            }
        }
        vdn_buf b = {};
        if (st == VD_OK) st = vdn_alloc(d, &b, n * sizeof(uint16_t), err);
        if (st == VD_OK) {
            d->wt16[d->n_wt16++] = (vdn_weight){src->host, b.p, b.bytes};
            if (cudaMemcpyAsync(b.p, h16, n * sizeof(uint16_t), cudaMemcpyHostToDevice, d->stream) != cudaSuccess ||
                cudaStreamSynchronize(d->stream) != cudaSuccess)
                st = vd_error_set(err, VD_ERR_CUDA, "vae_cudnn: bf16 weight upload failed");
        }
        free(h);
        free(h16);
        if (st != VD_OK) return st;
    }
    return VD_OK;
}

static bool res_has(const vd_vae_resblock *r, const float *key) { return key == r->conv1.w || key == r->conv2.w; }

// Keys of conv weights (biases, gammas and 1x1 GEMM weights are not converted).
static bool is_conv_weight(const vd_vae *v, const float *key) {
    if (key == v->conv_in.w || key == v->conv_out.w) return true;
    for (int i = 0; i < 2; i++)
        if (res_has(&v->mid_res[i], key)) return true;
    for (int i = 0; i < v->cfg.n_mult; i++) {
        const vd_vae_upblock *u = &v->up[i];
        for (int j = 0; j < u->n_res; j++)
            if (res_has(&u->res[j], key)) return true;
        if (u->up.mode == VD_VAE_UP_NONE) continue;
        if (key == u->up.conv.w || key == (const float *)(const void *)&u->up.conv) return true;
        if (u->up.mode == VD_VAE_UP_3D && key == u->up.time_conv.w) return true;
    }
    return false;
}

extern "C" void vd_vae_cudnn_release(vd_vae *v) {
    vdn_dev *d = (vdn_dev *)v->dev_cudnn;
    if (!d) return;
    if (d->stream) {
        for (int i = 0; i < d->n_wt; i++) {
            vdn_buf b = {d->wt[i].dev, d->wt[i].bytes};
            vdn_free(d, &b);
        }
        cudaStreamSynchronize(d->stream);
    }
    if (d->stream) {
        for (int i = 0; i < d->n_wt16; i++) {
            vdn_buf b = {d->wt16[i].dev, d->wt16[i].bytes};
            vdn_free(d, &b);
        }
        cudaStreamSynchronize(d->stream);
    }
    free(d->wt);
    free(d->wt16);
    vd_cudnn_conv_free(d->conv);
    if (d->blas) cublasDestroy(d->blas);
    if (d->ctx) vd_cuda_ctx_free(d->ctx);
    free(d);
    v->dev_cudnn = NULL;
}

vd_status vdn_dev_get(vd_vae *v, const vd_vae_decode_opts *o, vdn_dev **out, vd_error *err) {
    if (!v->dev_cudnn) {
        vdn_dev *d = (vdn_dev *)calloc(1, sizeof *d);
        if (!d) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cudnn: out of host memory");
        v->dev_cudnn = d;
        vd_status st = dev_init(v, o, d, err);
        if (st != VD_OK) {
            vd_vae_cudnn_release(v);
            return st;
        }
    }
    vdn_dev *d = (vdn_dev *)v->dev_cudnn;
    d->fp32 = o->cuda_fp32; // tiles of one decode run one after the other: one mode per decode
    d->bf16 = o->cuda_bf16;
    if (d->bf16 && !d->n_wt16) VD_TRY(upload_bf16(v, d, err));
    vd_cudnn_conv_set_strict_fp32(d->conv, d->fp32);
    VDN_CUBLAS_TRY(err, cublasSetMathMode(d->blas, d->fp32 ? CUBLAS_DEFAULT_MATH : CUBLAS_TF32_TENSOR_OP_MATH));
    *out = d;
    return VD_OK;
}
#endif // VDIT_HAVE_CUDNN
