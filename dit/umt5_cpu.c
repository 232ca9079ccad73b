// UMT5 encoder forward on the CPU in fp32: the reference the CUDA path is tested against
// (see umt5_model.h for the math). Weights stored as F32 are used in place from the mapping;
// F16/BF16 weights are converted one tensor at a time into a scratch buffer.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dit/umt5_model.h"
#include "lib/ops.h"

// f32 view of a weight: the mapped data itself when it is F32 and 4-byte aligned, else a
// conversion into *scratch (grown as needed).
static vd_status weight_f32(const vd_st_tensor *t, float **scratch, size_t *cap, const float **out, vd_error *err) {
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
    if (t->dtype == VD_F32 && ((uintptr_t)t->data & 3) == 0) {
        *out = (const float *)t->data;
        return VD_OK;
    }
    if (n > *cap) {
        float *p = (float *)realloc(*scratch, n * sizeof(float));
        if (!p) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "umt5: cannot allocate %zu floats to convert '%s'", n, t->name);
        *scratch = p;
        *cap = n;
    }
    if (vd_convert_to_f32(*scratch, t->data, t->dtype, n))
        return vd_error_set(err, VD_ERR_FORMAT, "umt5: cannot convert '%s' (%s) to f32", t->name, vd_dtype_name(t->dtype));
    *out = *scratch;
    return VD_OK;
}

// Self-attention core for one layer: q, k, v [n, NH*D]; bias table [n_buckets, NH];
// out [n, NH*D]. logits[h,i,j] = q_i.k_j + table[bucket(j - i), h]; softmax over j.
static void attention(const vd_umt5_config *c, const float *q, const float *k, const float *v, const float *table,
                      int n, float *out, float *logits /* [NH, n, n] scratch */) {
    const int64_t NH = c->n_heads, D = c->d_kv, W = NH * D;
#pragma omp parallel for schedule(static)
    for (int64_t hi = 0; hi < NH * n; hi++) {
        const int64_t h = hi / n, i = hi % n;
        float *row = logits + hi * n;
        const float *qi = q + i * W + h * D;
        for (int j = 0; j < n; j++) {
            const float *kj = k + (int64_t)j * W + h * D;
            float s = 0.0f;
            for (int64_t d = 0; d < D; d++) s += qi[d] * kj[d];
            row[j] = s + table[(int64_t)vd_umt5_bucket((int64_t)j - i, c->n_buckets, c->max_distance) * NH + h];
        }
        float mx = row[0];
        for (int j = 1; j < n; j++) mx = row[j] > mx ? row[j] : mx;
        double sum = 0.0;
        for (int j = 0; j < n; j++) {
            row[j] = expf(row[j] - mx);
            sum += row[j];
        }
        const float inv = (float)(1.0 / sum);
        float *oi = out + i * W + h * D;
        for (int64_t d = 0; d < D; d++) oi[d] = 0.0f;
        for (int j = 0; j < n; j++) {
            const float p = row[j] * inv;
            const float *vj = v + (int64_t)j * W + h * D;
            for (int64_t d = 0; d < D; d++) oi[d] += p * vj[d];
        }
    }
}

vd_status vd_umt5_forward_cpu(const vd_umt5 *m, const int32_t *ids, int n, float *out, vd_error *err) {
    const vd_umt5_config *c = &m->cfg;
    if (n <= 0) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_umt5_forward_cpu: %d tokens (needs >= 1)", n);
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= c->vocab)
            return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_umt5_forward_cpu: token %d has id %d outside [0, %lld)", i,
                                ids[i], (long long)c->vocab);
    const int64_t d = c->d_model, W = c->n_heads * c->d_kv, F = c->d_ff;
    float *x = out;                                                  // [n, d] residual stream
    float *h = (float *)malloc((size_t)n * d * sizeof(float));       // [n, d]
    float *q = (float *)malloc((size_t)n * W * 3 * sizeof(float));   // [3][n, W]: q, k, v
    float *a = (float *)malloc((size_t)n * W * sizeof(float));       // [n, W]
    float *g = (float *)malloc((size_t)n * F * 2 * sizeof(float));   // [2][n, F]
    float *lg = (float *)malloc((size_t)c->n_heads * n * n * sizeof(float)); // [NH, n, n]
    float *scratch = NULL;
    size_t cap = 0;
    vd_status s = VD_OK;
    if (!h || !q || !a || !g || !lg) {
        s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_umt5_forward_cpu: out of memory for %d tokens", n);
        goto done;
    }
    // Embedding rows, converted from the stored dtype.
    for (int i = 0; i < n; i++) {
        const size_t es = vd_dtype_size(m->embed->dtype);
        const uint8_t *row = (const uint8_t *)m->embed->data + (size_t)ids[i] * (size_t)d * es;
        vd_convert_to_f32(x + (int64_t)i * d, row, m->embed->dtype, (size_t)d);
    }
    const float *w;
    for (int64_t l = 0; l < c->n_layers; l++) {
        const vd_umt5_layer *L = &m->layers[l];
        float *k = q + (int64_t)n * W, *v = k + (int64_t)n * W;
        float table[64 * 256];   // [n_buckets, NH] bias; checked below
        if (c->n_buckets * c->n_heads > 64 * 256) {
            s = vd_error_set(err, VD_ERR_UNSUPPORTED, "umt5: %lld buckets x %lld heads exceeds 16384", (long long)c->n_buckets,
                             (long long)c->n_heads);
            goto done;
        }
        if ((s = weight_f32(L->rel_bias, &scratch, &cap, &w, err))) goto done;
        memcpy(table, w, (size_t)(c->n_buckets * c->n_heads) * sizeof(float));
        if ((s = weight_f32(L->ln0, &scratch, &cap, &w, err))) goto done;
        vd_rmsnorm_cpu(h, x, w, n, d, c->eps);
        if ((s = weight_f32(L->q, &scratch, &cap, &w, err))) goto done;
        vd_linear_cpu(q, h, w, NULL, n, d, W);
        if ((s = weight_f32(L->k, &scratch, &cap, &w, err))) goto done;
        vd_linear_cpu(k, h, w, NULL, n, d, W);
        if ((s = weight_f32(L->v, &scratch, &cap, &w, err))) goto done;
        vd_linear_cpu(v, h, w, NULL, n, d, W);
        attention(c, q, k, v, table, n, a, lg);
        if ((s = weight_f32(L->o, &scratch, &cap, &w, err))) goto done;
        vd_linear_cpu(h, a, w, NULL, n, W, d);
        vd_add_cpu(x, x, h, (int64_t)n * d);
        if ((s = weight_f32(L->ln1, &scratch, &cap, &w, err))) goto done;
        vd_rmsnorm_cpu(h, x, w, n, d, c->eps);
        float *g1 = g + (int64_t)n * F;
        if ((s = weight_f32(L->wi0, &scratch, &cap, &w, err))) goto done;
        vd_linear_cpu(g, h, w, NULL, n, d, F);
        if ((s = weight_f32(L->wi1, &scratch, &cap, &w, err))) goto done;
        vd_linear_cpu(g1, h, w, NULL, n, d, F);
        vd_gelu_tanh_cpu(g, g, (int64_t)n * F);
        vd_mul_cpu(g, g, g1, (int64_t)n * F);
        if ((s = weight_f32(L->wo, &scratch, &cap, &w, err))) goto done;
        vd_linear_cpu(h, g, w, NULL, n, F, d);
        vd_add_cpu(x, x, h, (int64_t)n * d);
    }
    if ((s = weight_f32(m->final_ln, &scratch, &cap, &w, err))) goto done;
    vd_rmsnorm_cpu(x, x, w, n, d, c->eps);
done:
    free(h);
    free(q);
    free(a);
    free(g);
    free(lg);
    free(scratch);
    return s;
}
