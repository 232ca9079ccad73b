// Wan VAE decoder, CPU fp32 runner: one spatial stream (whole latent or one tile) decoded chunk
// by chunk with a feature cache per causal conv. Layout everywhere: [C, T, H, W] (NCDHW, batch 1).
//
// Causal conv with cache: the input of every k_t = 3 conv is assembled in a padded buffer
// P[C, 2 + t, h, w] whose first two frames are the cache (the previous chunk's last two input
// frames, zeros before the first chunk) and whose last t frames are this chunk's input (written
// there directly by the producing norm/SiLU, so no extra copy). After the conv the cache takes
// P's last two frames. This equals one causal conv over the whole sequence (zero front padding
// of 2 frames), for any chunking.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dit/vae_cpu.h"
#include "dit/vae_model.h"
#include "lib/ops.h"
#include "lib/tensor.h"

struct vd_vae_runner {
    vd_vae *v;
    size_t live0;          // tally at creation (peak is reported relative to it)
    int64_t h, w;          // latent size of this stream
    float **cache;         // [n_slots]: [cin, 2, hs, ws], allocated (zeroed) on first use
    int64_t *cache_numel;
    bool *up3d_seen;       // [n_up3d]: the stream's first frame already passed this upsampler
    int64_t frames_done;   // latent frames decoded so far
};

typedef struct {
    float *d;
    int64_t c, t, h, w;
} act;

// Allocation tally of this thread's decoder (activations, scratch, caches): live and peak bytes,
// so tests can check that memory does not grow with the frame count. 64-byte size header keeps
// the 64-byte alignment of vd_host_alloc.
static _Thread_local size_t g_live, g_peak;

static void *tk_alloc(size_t bytes) {
    char *p = vd_host_alloc(bytes + 64);
    if (!p) return NULL;
    *(size_t *)p = bytes;
    g_live += bytes;
    if (g_live > g_peak) g_peak = g_live;
    return p + 64;
}
static void tk_free(void *q) {
    if (!q) return;
    char *p = (char *)q - 64;
    g_live -= *(size_t *)p;
    vd_host_free(p);
}

static vd_status act_alloc(act *a, int64_t c, int64_t t, int64_t h, int64_t w, bool zero, vd_error *err) {
    a->c = c, a->t = t, a->h = h, a->w = w;
    size_t bytes = (size_t)(c * t * h * w) * sizeof(float);
    a->d = tk_alloc(bytes);
    if (!a->d)
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cpu: cannot allocate %zu bytes for a [%lld, %lld, %lld, %lld] activation",
                            bytes, (long long)c, (long long)t, (long long)h, (long long)w);
    if (zero) memset(a->d, 0, bytes);
    return VD_OK;
}
static void act_free(act *a) {
    tk_free(a->d);
    a->d = NULL;
}

void vd_vae_norm_silu_cpu(float *out, int64_t out_cstride, const float *x, int64_t x_cstride, const float *gamma,
                          int64_t C, int64_t P, bool silu) {
    const float scale = sqrtf((float)C);
    const int64_t B = 64; // positions per block: the C-strided reads stay in cache
#pragma omp parallel for schedule(static)
    for (int64_t p0 = 0; p0 < P; p0 += B) {
        const int64_t n = P - p0 < B ? P - p0 : B;
        double ss[64];
        float inv[64];
        for (int64_t j = 0; j < n; j++) ss[j] = 0.0;
        for (int64_t c = 0; c < C; c++) {
            const float *xr = x + c * x_cstride + p0;
            for (int64_t j = 0; j < n; j++) ss[j] += (double)xr[j] * xr[j];
        }
        // F.normalize: x / max(||x||_2, 1e-12)
        for (int64_t j = 0; j < n; j++) {
            double nrm = sqrt(ss[j]);
            inv[j] = (float)(1.0 / (nrm > 1e-12 ? nrm : 1e-12));
        }
        for (int64_t c = 0; c < C; c++) {
            const float *xr = x + c * x_cstride + p0;
            float *o = out + c * out_cstride + p0;
            const float g = scale * gamma[c];
            for (int64_t j = 0; j < n; j++) {
                float y = xr[j] * inv[j] * g;
                o[j] = silu ? y / (1.0f + expf(-y)) : y;
            }
        }
    }
}

static vd_status get_cache(vd_vae_runner *r, const vd_vae_conv *cv, int64_t hw, float **out, vd_error *err) {
    const int s = cv->slot;
    VD_ASSERT(s >= 0 && s < r->v->n_slots);
    const int64_t n = (int64_t)cv->cin * VD_VAE_CACHE_T * hw;
    if (!r->cache[s]) {
        r->cache[s] = tk_alloc((size_t)n * sizeof(float));
        if (!r->cache[s])
            return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cpu: cannot allocate a %lld-float feature cache", (long long)n);
        memset(r->cache[s], 0, (size_t)n * sizeof(float));
        r->cache_numel[s] = n;
    }
    VD_ASSERT(r->cache_numel[s] == n); // one stream always runs a layer at the same size
    *out = r->cache[s];
    return VD_OK;
}

// Padded input P[cin, 2 + t, h, w] with the cache in front. The caller writes frames 2.. .
static vd_status pad_begin(vd_vae_runner *r, const vd_vae_conv *cv, int64_t t, int64_t h, int64_t w, act *P,
                           vd_error *err) {
    float *cache = NULL;
    VD_TRY(get_cache(r, cv, h * w, &cache, err));
    VD_TRY(act_alloc(P, cv->cin, VD_VAE_CACHE_T + t, h, w, false, err));
    const int64_t hw = h * w, fr = VD_VAE_CACHE_T * hw;
    for (int64_t c = 0; c < cv->cin; c++) memcpy(P->d + c * P->t * hw, cache + c * fr, (size_t)fr * sizeof(float));
    return VD_OK;
}

// Runs the causal conv on P (consumed: freed here) and updates the cache from P's last 2 frames.
static vd_status pad_conv(vd_vae_runner *r, const vd_vae_conv *cv, act *P, act *out, vd_error *err) {
    const int64_t hw = P->h * P->w, t = P->t - VD_VAE_CACHE_T, fr = VD_VAE_CACHE_T * hw;
    vd_status st = act_alloc(out, cv->cout, t, P->h, P->w, false, err);
    if (st == VD_OK) {
        vd_conv3d_shape s = {.cin = cv->cin, .cout = cv->cout, .d = P->t, .h = P->h, .w = P->w,
                             .kd = cv->kt, .kh = cv->kh, .kw = cv->kw, .sd = 1, .sh = 1, .sw = 1,
                             .pd = 0, .ph = cv->kh / 2, .pw = cv->kw / 2};
        st = vd_conv3d_cpu(out->d, P->d, cv->w, cv->b, &s, err);
        if (st != VD_OK) act_free(out);
    }
    if (st == VD_OK) {
        float *cache = r->cache[cv->slot];
        for (int64_t c = 0; c < cv->cin; c++)
            memcpy(cache + c * fr, P->d + c * P->t * hw + t * hw, (size_t)fr * sizeof(float));
    }
    act_free(P);
    return st;
}

// Plain conv without time context (1x1x1, or per-frame Conv2d viewed as kt = 1).
static vd_status conv_plain(const vd_vae_conv *cv, const float *x, int64_t t, int64_t h, int64_t w, float *out,
                            vd_error *err) {
    vd_conv3d_shape s = {.cin = cv->cin, .cout = cv->cout, .d = t, .h = h, .w = w, .kd = 1, .kh = cv->kh, .kw = cv->kw,
                         .sd = 1, .sh = 1, .sw = 1, .pd = 0, .ph = cv->kh / 2, .pw = cv->kw / 2};
    return vd_conv3d_cpu(out, x, cv->w, cv->b, &s, err);
}

// x -> norm -> SiLU -> causal conv; x is not consumed.
static vd_status norm_silu_conv(vd_vae_runner *r, const vd_vae_norm *nm, const vd_vae_conv *cv, const act *x,
                                act *out, vd_error *err) {
    act P;
    VD_TRY(pad_begin(r, cv, x->t, x->h, x->w, &P, err));
    const int64_t hw = x->h * x->w;
    vd_vae_norm_silu_cpu(P.d + VD_VAE_CACHE_T * hw, P.t * hw, x->d, x->t * hw, nm->gamma, x->c, x->t * hw, true);
    return pad_conv(r, cv, &P, out, err);
}

// Residual block; consumes x (freed) and returns the result in x.
static vd_status resblock(vd_vae_runner *r, const vd_vae_resblock *rb, act *x, vd_error *err) {
    act h = {0}, y1 = {0}, y2 = {0};
    vd_status st = VD_OK;
    if (rb->has_shortcut) {
        st = act_alloc(&h, rb->cout, x->t, x->h, x->w, false, err);
        if (st == VD_OK) st = conv_plain(&rb->shortcut, x->d, x->t, x->h, x->w, h.d, err);
        if (st != VD_OK) goto done;
    }
    st = norm_silu_conv(r, &rb->norm1, &rb->conv1, x, &y1, err);
    if (st != VD_OK) goto done;
    st = norm_silu_conv(r, &rb->norm2, &rb->conv2, &y1, &y2, err);
    if (st != VD_OK) goto done;
    vd_add_cpu(y2.d, y2.d, rb->has_shortcut ? h.d : x->d, y2.c * y2.t * y2.h * y2.w);
done:
    act_free(&h);
    act_free(&y1);
    act_free(x);
    *x = y2;
    return st;
}

// Single-head self attention over the h*w positions of each frame, in place on x.
static vd_status attention(const vd_vae_attn *a, act *x, vd_error *err) {
    const int64_t C = x->c, hw = x->h * x->w, T = x->t;
    const int64_t QB = 512; // query rows per score block: scores stay [512, hw]
    float *xn = tk_alloc((size_t)(C * hw) * sizeof(float));
    float *qkv = tk_alloc((size_t)(3 * C * hw) * sizeof(float));
    float *qt = tk_alloc((size_t)(hw * C) * sizeof(float));
    float *o = tk_alloc((size_t)(hw * C) * sizeof(float));
    float *y = tk_alloc((size_t)(hw * C) * sizeof(float));
    float *s = tk_alloc((size_t)((QB < hw ? QB : hw) * hw) * sizeof(float));
    vd_status st = VD_OK;
    if (!xn || !qkv || !qt || !o || !y || !s) {
        st = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cpu attention: cannot allocate buffers for C=%lld, hw=%lld",
                          (long long)C, (long long)hw);
        goto done;
    }
    const float qscale = 1.0f / sqrtf((float)C);
    for (int64_t f = 0; f < T; f++) {
        float *xf = x->d + f * hw; // channel stride T*hw
        vd_vae_norm_silu_cpu(xn, hw, xf, T * hw, a->norm.gamma, C, hw, false);
        vd_matmul_cpu(qkv, a->to_qkv.w, xn, 3 * C, C, hw); // [3C, hw]
        for (int64_t c = 0; c < 3 * C; c++) {
            float b = a->to_qkv.b[c];
            float *row = qkv + c * hw;
            for (int64_t p = 0; p < hw; p++) row[p] += b;
        }
        const float *q = qkv, *k = qkv + C * hw, *v = qkv + 2 * C * hw;
        for (int64_t c = 0; c < C; c++)
            for (int64_t p = 0; p < hw; p++) qt[p * C + c] = q[c * hw + p] * qscale;
        for (int64_t p0 = 0; p0 < hw; p0 += QB) {
            const int64_t n = hw - p0 < QB ? hw - p0 : QB;
            vd_matmul_cpu(s, qt + p0 * C, k, n, C, hw);   // [n, hw] = q^T k / sqrt(C)
            vd_softmax_cpu(s, s, n, hw);
            vd_linear_cpu(o + p0 * C, s, v, NULL, n, hw, C); // [n, C] = P v^T
        }
        vd_linear_cpu(y, o, a->proj.w, a->proj.b, hw, C, C); // [hw, C] = O Wp^T + b
        for (int64_t c = 0; c < C; c++)
            for (int64_t p = 0; p < hw; p++) xf[c * T * hw + p] += y[p * C + c];
    }
done:
    tk_free(xn);
    tk_free(qkv);
    tk_free(qt);
    tk_free(o);
    tk_free(y);
    tk_free(s);
    return st;
}

// Nearest x2 in h, w of one frame: in [C, h, w] (channel stride in_cs) -> out [C, 2h, 2w].
static void upsample2x(float *out, const float *in, int64_t in_cs, int64_t C, int64_t h, int64_t w) {
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < C; c++) {
        const float *ic = in + c * in_cs;
        float *oc = out + c * 4 * h * w;
        for (int64_t y = 0; y < 2 * h; y++) {
            const float *ir = ic + (y / 2) * w;
            float *orow = oc + y * 2 * w;
            for (int64_t xx = 0; xx < w; xx++) orow[2 * xx] = orow[2 * xx + 1] = ir[xx];
        }
    }
}

// Resample up: (3d: time conv + interleave, first frame of the stream passes) then per frame
// nearest x2 + Conv2d 3x3 (C -> C/2). Consumes x.
static vd_status upsampler(vd_vae_runner *r, const vd_vae_upsampler *u, act *x, vd_error *err) {
    act z = {0};
    vd_status st = VD_OK;
    const int64_t C = x->c, hw = x->h * x->w;
    if (u->mode == VD_VAE_UP_3D) {
        bool *seen = &r->up3d_seen[u->up3d_index];
        const int64_t skip = *seen ? 0 : 1, n = x->t - skip;
        st = act_alloc(&z, C, skip + 2 * n, x->h, x->w, false, err);
        if (st != VD_OK) goto done;
        if (skip)
            for (int64_t c = 0; c < C; c++) memcpy(z.d + c * z.t * hw, x->d + c * x->t * hw, (size_t)hw * sizeof(float));
        if (n > 0) {
            act P, y;
            st = pad_begin(r, &u->time_conv, n, x->h, x->w, &P, err);
            if (st != VD_OK) goto done;
            for (int64_t c = 0; c < C; c++)
                memcpy(P.d + (c * P.t + VD_VAE_CACHE_T) * hw, x->d + (c * x->t + skip) * hw, (size_t)(n * hw) * sizeof(float));
            st = pad_conv(r, &u->time_conv, &P, &y, err);
            if (st != VD_OK) goto done;
            // y [2C, n]: channel k*C + c, frame i -> z channel c, frame skip + 2i + k
            for (int64_t k = 0; k < 2; k++)
                for (int64_t c = 0; c < C; c++)
                    for (int64_t i = 0; i < n; i++)
                        memcpy(z.d + (c * z.t + skip + 2 * i + k) * hw, y.d + ((k * C + c) * n + i) * hw,
                               (size_t)hw * sizeof(float));
            act_free(&y);
        }
        *seen = true;
        act_free(x);
        *x = z;
        z.d = NULL;
    }
    {
        const int64_t T = x->t, H2 = 2 * x->h, W2 = 2 * x->w, co = u->conv.cout;
        act out;
        float *up = tk_alloc((size_t)(C * H2 * W2) * sizeof(float));
        float *tmp = tk_alloc((size_t)(co * H2 * W2) * sizeof(float));
        st = (up && tmp) ? act_alloc(&out, co, T, H2, W2, false, err)
                         : vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cpu upsample: out of memory");
        for (int64_t f = 0; st == VD_OK && f < T; f++) {
            upsample2x(up, x->d + f * hw, T * hw, C, x->h, x->w);
            st = conv_plain(&u->conv, up, 1, H2, W2, tmp, err);
            for (int64_t c = 0; st == VD_OK && c < co; c++)
                memcpy(out.d + (c * T + f) * H2 * W2, tmp + c * H2 * W2, (size_t)(H2 * W2) * sizeof(float));
        }
        tk_free(up);
        tk_free(tmp);
        if (st != VD_OK) {
            if (up && tmp) act_free(&out);
            goto done;
        }
        act_free(x);
        *x = out;
    }
done:
    act_free(&z);
    return st;
}

static vd_status cpu_create(vd_vae *v, int64_t h, int64_t w, const vd_vae_decode_opts *o, vd_vae_runner **out,
                            vd_error *err) {
    vd_vae_runner *r = calloc(1, sizeof *r);
    if (!r) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cpu: out of memory");
    r->v = v;
    r->h = h;
    r->w = w;
    r->live0 = g_live;
    g_peak = g_live;
    r->cache = calloc((size_t)v->n_slots, sizeof *r->cache);
    r->cache_numel = calloc((size_t)v->n_slots, sizeof *r->cache_numel);
    r->up3d_seen = calloc((size_t)(v->n_up3d + 1), sizeof *r->up3d_seen);
    if (!r->cache || !r->cache_numel || !r->up3d_seen) {
        vd_vae_backend_cpu.destroy(r);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cpu: out of memory");
    }
    *out = r;
    return VD_OK;
}

static void cpu_destroy(vd_vae_runner *r) {
    if (!r) return;
    for (int i = 0; r->cache && i < r->v->n_slots; i++) tk_free(r->cache[i]);
    free(r->cache);
    free(r->cache_numel);
    free(r->up3d_seen);
    free(r);
}

static vd_status cpu_decode_chunk(vd_vae_runner *r, const float *zin, int64_t t, float *out, vd_error *err) {
    vd_vae *v = r->v;
    const int64_t h = r->h, w = r->w, hw = h * w, Z = v->cfg.z_dim;
    act x = {0}, P = {0};
    // post_quant_conv (1x1x1) straight into conv_in's padded input
    vd_status st = pad_begin(r, &v->conv_in, t, h, w, &P, err);
    if (st != VD_OK) return st;
    float *pq = tk_alloc((size_t)(Z * t * hw) * sizeof(float));
    if (!pq) {
        act_free(&P);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cpu: out of memory");
    }
    st = conv_plain(&v->post_quant, zin, t, h, w, pq, err);
    for (int64_t c = 0; st == VD_OK && c < Z; c++)
        memcpy(P.d + (c * P.t + VD_VAE_CACHE_T) * hw, pq + c * t * hw, (size_t)(t * hw) * sizeof(float));
    tk_free(pq);
    if (st != VD_OK) {
        act_free(&P);
        return st;
    }
    VD_TRY(pad_conv(r, &v->conv_in, &P, &x, err));
    if ((st = resblock(r, &v->mid_res[0], &x, err)) != VD_OK) goto fail;
    if ((st = attention(&v->mid_attn, &x, err)) != VD_OK) goto fail;
    if ((st = resblock(r, &v->mid_res[1], &x, err)) != VD_OK) goto fail;
    for (int i = 0; i < v->cfg.n_mult; i++) {
        const vd_vae_upblock *u = &v->up[i];
        for (int j = 0; j < u->n_res; j++)
            if ((st = resblock(r, &u->res[j], &x, err)) != VD_OK) goto fail;
        if (u->up.mode != VD_VAE_UP_NONE && (st = upsampler(r, &u->up, &x, err)) != VD_OK) goto fail;
    }
    {
        act y;
        if ((st = norm_silu_conv(r, &v->norm_out, &v->conv_out, &x, &y, err)) != VD_OK) goto fail;
        memcpy(out, y.d, (size_t)(y.c * y.t * y.h * y.w) * sizeof(float));
        act_free(&y);
    }
    r->frames_done += t;
fail:
    act_free(&x);
    return st;
}

// Peak host bytes held by the decoder since this runner was created (weights not included).
static size_t cpu_peak(vd_vae_runner *r) { return g_peak - r->live0; }

const vd_vae_backend vd_vae_backend_cpu = {cpu_create, cpu_decode_chunk, cpu_destroy, cpu_peak};
