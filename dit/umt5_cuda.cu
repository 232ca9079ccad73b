// UMT5 encoder forward on CUDA: bf16 weights and GEMM inputs with fp32 accumulation (cuBLASLt
// through vd_linear_cuda), fp32 residual stream, RMSNorm, GELU, softmax and attention. Matches
// the CPU reference vd_umt5_forward_cpu (umt5_cpu.c) within bf16 rounding; tests/gpu/test_umt5_cuda.c.
//
// Memory: all matrix weights live on the device as bf16 (umT5-XXL: 24 layers x 201 M = 4.8 G
// params, 9.7 GB); the 256,384 x 4096 embedding stays on the host (only n rows are gathered and
// uploaded per prompt). vd_umt5_cuda_release frees everything, before the DiT needs the memory.
// Attention: one block per (query, head); n <= 512 logits per row in shared memory; the
// relative-position buckets are computed on the host (vd_umt5_bucket, the same fp32 formula as
// the CPU path) and uploaded per call.
#include <cuda_runtime.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dit/umt5_model.h"
#include "lib/cuda_check.h"
#include "lib/device.h"
#include "lib/dtype.h"
#include "lib/log.h"
#include "lib/ops_cuda.h"

#define ATTN_THREADS 128

typedef struct {
    uint16_t *q, *k, *v, *o, *wi0, *wi1, *wo;  // bf16 [out, in]
    float *ln0, *ln1, *table;                  // f32 [d], [d], [n_buckets, NH]
} umt5_dev_layer;

struct vd_umt5_cuda {
    vd_cuda_ctx *ctx;
    void *wmem;          // one allocation for every weight
    umt5_dev_layer *layers;
    float *final_ln;
};

// ---- kernels ---------------------------------------------------------------------------------

__device__ __forceinline__ float block_sum_or_max(float v, float *sh, bool is_max) {
    for (int o = 16; o > 0; o >>= 1) {
        float u = __shfl_xor_sync(0xffffffffu, v, o);
        v = is_max ? fmaxf(v, u) : v + u;
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    __syncthreads();
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : (is_max ? -INFINITY : 0.0f);
    for (int o = 16; o > 0; o >>= 1) {
        float u = __shfl_xor_sync(0xffffffffu, v, o);
        v = is_max ? fmaxf(v, u) : v + u;
    }
    return v;
}

// q, k, v, out: [n, NH*D] f32; table [n_buckets, NH]; bucket [2n-1] for rel = -(n-1)..n-1.
// grid (n, NH); dynamic shared memory: (n + D + 32) floats.
__global__ void umt5_attention_kernel(float *out, const float *q, const float *k, const float *v, const float *table,
                                      const int *bucket, int n, int NH, int D) {
    extern __shared__ float sm[];
    float *logit = sm, *qs = sm + n, *red = sm + n + D;
    const int i = blockIdx.x, h = blockIdx.y, W = NH * D;
    for (int d = threadIdx.x; d < D; d += blockDim.x) qs[d] = q[(size_t)i * W + h * D + d];
    __syncthreads();
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        const float *kj = k + (size_t)j * W + h * D;
        float s = 0.0f;
        for (int d = 0; d < D; d++) s += qs[d] * kj[d];
        s += table[bucket[j - i + n - 1] * NH + h];
        logit[j] = s;
        mx = fmaxf(mx, s);
    }
    mx = block_sum_or_max(mx, red, true);
    float sum = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        float e = expf(logit[j] - mx);
        logit[j] = e;
        sum += e;
    }
    sum = block_sum_or_max(sum, red, false);
    const float inv = 1.0f / sum;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float acc = 0.0f;
        for (int j = 0; j < n; j++) acc += logit[j] * v[(size_t)j * W + h * D + d];
        out[(size_t)i * W + h * D + d] = acc * inv;
    }
}

// ---- upload ----------------------------------------------------------------------------------

static size_t numel(const vd_st_tensor *t) {
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
    return n;
}

static size_t align256(size_t x) { return (x + 255) & ~(size_t)255; }

// Converts t to dst_t (bf16 or f32) through the host staging buffer and copies it to dev.
static vd_status upload_tensor(vd_cuda_ctx *ctx, void *dev, const vd_st_tensor *t, vd_dtype dst_t, float **f32buf,
                               void **stage, size_t *cap, vd_error *err) {
    size_t n = numel(t);
    size_t es = vd_dtype_size(dst_t);
    if (t->dtype == dst_t) return vd_cuda_upload(ctx, dev, t->data, n * es, err);
    if (n > *cap) {
        free(*f32buf);
        free(*stage);
        *f32buf = (float *)malloc(n * sizeof(float));
        *stage = malloc(n * 4);
        *cap = n;
        if (!*f32buf || !*stage) {
            *cap = 0;
            return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "umt5: cannot allocate %zu floats of staging", n);
        }
    }
    // F32 source (the Diffusers text_encoder): convert straight from the mapping, no f32 copy.
    const float *src = *f32buf;
    if (t->dtype == VD_F32 && ((uintptr_t)t->data & 3) == 0) src = (const float *)t->data;
    else if (vd_convert_to_f32(*f32buf, t->data, t->dtype, n))
        return vd_error_set(err, VD_ERR_FORMAT, "umt5: cannot convert '%s' from %s", t->name, vd_dtype_name(t->dtype));
    if (vd_convert_from_f32(*stage, dst_t, src, n))
        return vd_error_set(err, VD_ERR_FORMAT, "umt5: cannot convert '%s' from %s", t->name, vd_dtype_name(t->dtype));
    return vd_cuda_upload(ctx, dev, *stage, n * es, err);
}

extern "C" vd_status vd_umt5_cuda_upload(vd_umt5 *m, int device_id, vd_error *err) {
    if (m->cuda) return VD_OK;
    const vd_umt5_config *c = &m->cfg;
    struct vd_umt5_cuda *g = (struct vd_umt5_cuda *)calloc(1, sizeof *g);
    if (!g) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "umt5: out of memory");
    vd_status s = VD_OK;
    float *f32buf = NULL;
    void *stage = NULL;
    size_t cap = 0, total = 0;
    char *base;
    if ((s = vd_cuda_ctx_create(&g->ctx, device_id, err)) != VD_OK) goto fail;
    g->layers = (umt5_dev_layer *)calloc((size_t)c->n_layers, sizeof *g->layers);
    if (!g->layers) {
        s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "umt5: out of memory");
        goto fail;
    }
    // Sizes: per layer 7 bf16 matrices + 2 norms + the bias table (f32), then the final norm.
    for (int64_t l = 0; l < c->n_layers; l++) {
        const vd_umt5_layer *L = &m->layers[l];
        const vd_st_tensor *mats[7] = {L->q, L->k, L->v, L->o, L->wi0, L->wi1, L->wo};
        for (int i = 0; i < 7; i++) total += align256(numel(mats[i]) * 2);
        total += align256(numel(L->ln0) * 4) + align256(numel(L->ln1) * 4) + align256(numel(L->rel_bias) * 4);
    }
    total += align256((size_t)c->d_model * 4);
    {
        cudaError_t ce = cudaMalloc(&g->wmem, total);
        if (ce != cudaSuccess) {
            cudaGetLastError();
            size_t fr = 0, tot = 0;
            cudaMemGetInfo(&fr, &tot);
            s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY,
                             "umt5: cannot allocate %.2f GB of device memory for the encoder weights (%.2f GB free of "
                             "%.2f GB; hint: run the text encoder on the CPU)", total / 1e9, fr / 1e9, tot / 1e9);
            g->wmem = NULL;
            goto fail;
        }
    }
    base = (char *)g->wmem;
    for (int64_t l = 0; l < c->n_layers; l++) {
        const vd_umt5_layer *L = &m->layers[l];
        umt5_dev_layer *D = &g->layers[l];
        const vd_st_tensor *mats[7] = {L->q, L->k, L->v, L->o, L->wi0, L->wi1, L->wo};
        uint16_t **dst[7] = {&D->q, &D->k, &D->v, &D->o, &D->wi0, &D->wi1, &D->wo};
        for (int i = 0; i < 7; i++) {
            *dst[i] = (uint16_t *)base;
            base += align256(numel(mats[i]) * 2);
            if ((s = upload_tensor(g->ctx, *dst[i], mats[i], VD_BF16, &f32buf, &stage, &cap, err)) != VD_OK) goto fail;
        }
        const vd_st_tensor *vecs[3] = {L->ln0, L->ln1, L->rel_bias};
        float **vdst[3] = {&D->ln0, &D->ln1, &D->table};
        for (int i = 0; i < 3; i++) {
            *vdst[i] = (float *)base;
            base += align256(numel(vecs[i]) * 4);
            if ((s = upload_tensor(g->ctx, *vdst[i], vecs[i], VD_F32, &f32buf, &stage, &cap, err)) != VD_OK) goto fail;
        }
    }
    g->final_ln = (float *)base;
    if ((s = upload_tensor(g->ctx, g->final_ln, m->final_ln, VD_F32, &f32buf, &stage, &cap, err)) != VD_OK) goto fail;
    free(f32buf);
    free(stage);
    m->cuda = g;
    VD_LOGI("umt5: %.2f GB of weights on the device (bf16 matrices, f32 norms and bias tables)", total / 1e9);
    return VD_OK;
fail:
    free(f32buf);
    free(stage);
    if (g->wmem) cudaFree(g->wmem);
    free(g->layers);
    if (g->ctx) vd_cuda_ctx_free(g->ctx);
    free(g);
    return s;
}

extern "C" void vd_umt5_cuda_release(vd_umt5 *m) {
    if (!m || !m->cuda) return;
    struct vd_umt5_cuda *g = m->cuda;
    vd_error e = {};
    vd_cuda_sync(g->ctx, &e);
    cudaFree(g->wmem);
    free(g->layers);
    vd_cuda_ctx_free(g->ctx);
    free(g);
    m->cuda = NULL;
}

// ---- forward ---------------------------------------------------------------------------------

extern "C" vd_status vd_umt5_forward_cuda(vd_umt5 *m, const int32_t *ids, int n, float *out, vd_error *err) {
    const vd_umt5_config *c = &m->cfg;
    if (!m->cuda) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_umt5_forward_cuda: call vd_umt5_cuda_upload first");
    if (n <= 0 || n > 4096)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_umt5_forward_cuda: %d tokens (allowed 1..4096)", n);
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= c->vocab)
            return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_umt5_forward_cuda: token %d has id %d outside [0, %lld)", i,
                                ids[i], (long long)c->vocab);
    struct vd_umt5_cuda *g = m->cuda;
    vd_cuda_ctx *ctx = g->ctx;
    cudaStream_t stream = (cudaStream_t)vd_cuda_ctx_stream(ctx);
    const int64_t d = c->d_model, W = c->n_heads * c->d_kv, F = c->d_ff;
    const int NH = (int)c->n_heads, D = (int)c->d_kv;
    const int64_t widest = F > W ? (F > d ? F : d) : (W > d ? W : d);
    // Device activations: x, h [n,d]; q,k,v,a [n,W]; g0,g1 [n,F]; xb [n,widest] bf16; buckets [2n-1].
    size_t bytes = align256((size_t)n * d * 4) * 2 + align256((size_t)n * W * 4) * 4 + align256((size_t)n * F * 4) * 2 +
                   align256((size_t)n * widest * 2) + align256((size_t)(2 * n - 1) * 4);
    char *act = NULL;
    float *hx = NULL;
    int *hb = NULL;
    vd_status s = VD_OK;
    VD_CUDA_TRY(err, cudaMalloc((void **)&act, bytes));
    char *p = act;
    float *x = (float *)p; p += align256((size_t)n * d * 4);
    float *h = (float *)p; p += align256((size_t)n * d * 4);
    float *q = (float *)p; p += align256((size_t)n * W * 4);
    float *k = (float *)p; p += align256((size_t)n * W * 4);
    float *v = (float *)p; p += align256((size_t)n * W * 4);
    float *a = (float *)p; p += align256((size_t)n * W * 4);
    float *g0 = (float *)p; p += align256((size_t)n * F * 4);
    float *g1 = (float *)p; p += align256((size_t)n * F * 4);
    uint16_t *xb = (uint16_t *)p; p += align256((size_t)n * widest * 2);
    int *bucket = (int *)p;
    const size_t smem = (size_t)(n + D + 32) * sizeof(float);
    // Embedding rows gathered on the host, and the bucket of every relative position.
    hx = (float *)malloc((size_t)n * d * sizeof(float));
    hb = (int *)malloc((size_t)(2 * n - 1) * sizeof(int));
    if (!hx || !hb) {
        s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_umt5_forward_cuda: out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const size_t es = vd_dtype_size(m->embed->dtype);
        vd_convert_to_f32(hx + (size_t)i * d, (const uint8_t *)m->embed->data + (size_t)ids[i] * d * es, m->embed->dtype,
                          (size_t)d);
    }
    for (int r = -(n - 1); r <= n - 1; r++) hb[r + n - 1] = vd_umt5_bucket(r, c->n_buckets, c->max_distance);
    if ((s = vd_cuda_upload(ctx, x, hx, (size_t)n * d * 4, err))) goto done;
    if ((s = vd_cuda_upload(ctx, bucket, hb, (size_t)(2 * n - 1) * 4, err))) goto done;
    if (smem > 48 * 1024) {
        VD_CUDA_TRY_GOTO(err, s, done, cudaFuncSetAttribute(umt5_attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    }
#define T(expr) if ((s = (expr)) != VD_OK) goto done
    for (int64_t l = 0; l < c->n_layers; l++) {
        const umt5_dev_layer *L = &g->layers[l];
        T(vd_rmsnorm_cuda(ctx, h, x, L->ln0, n, d, c->eps, err));
        T(vd_f32_to_bf16_cuda(ctx, xb, h, (int64_t)n * d, err));
        T(vd_linear_cuda(ctx, q, VD_F32, xb, L->q, NULL, n, d, W, err));
        T(vd_linear_cuda(ctx, k, VD_F32, xb, L->k, NULL, n, d, W, err));
        T(vd_linear_cuda(ctx, v, VD_F32, xb, L->v, NULL, n, d, W, err));
        umt5_attention_kernel<<<dim3((unsigned)n, (unsigned)NH), ATTN_THREADS, smem, stream>>>(a, q, k, v, L->table, bucket, n, NH, D);
        VD_CUDA_TRY_GOTO(err, s, done, cudaGetLastError());
        T(vd_f32_to_bf16_cuda(ctx, xb, a, (int64_t)n * W, err));
        T(vd_linear_cuda(ctx, h, VD_F32, xb, L->o, NULL, n, W, d, err));
        T(vd_add_cuda(ctx, x, x, h, (int64_t)n * d, err));
        T(vd_rmsnorm_cuda(ctx, h, x, L->ln1, n, d, c->eps, err));
        T(vd_f32_to_bf16_cuda(ctx, xb, h, (int64_t)n * d, err));
        T(vd_linear_cuda(ctx, g0, VD_F32, xb, L->wi0, NULL, n, d, F, err));
        T(vd_linear_cuda(ctx, g1, VD_F32, xb, L->wi1, NULL, n, d, F, err));
        T(vd_gelu_tanh_cuda(ctx, g0, g0, (int64_t)n * F, err));
        T(vd_mul_cuda(ctx, g0, g0, g1, (int64_t)n * F, err));
        T(vd_f32_to_bf16_cuda(ctx, xb, g0, (int64_t)n * F, err));
        T(vd_linear_cuda(ctx, h, VD_F32, xb, L->wo, NULL, n, F, d, err));
        T(vd_add_cuda(ctx, x, x, h, (int64_t)n * d, err));
    }
    T(vd_rmsnorm_cuda(ctx, x, x, g->final_ln, n, d, c->eps, err));
    T(vd_cuda_download(ctx, out, x, (size_t)n * d * 4, err));
#undef T
done:
    if (s != VD_OK) {
        vd_error e2 = {};
        vd_cuda_sync(ctx, &e2);
    }
    free(hx);
    free(hb);
    cudaFree(act);
    return s;
}
