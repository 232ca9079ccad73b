// Wan VAE decoder, CUDA runner with cuDNN convolutions, channels-last. Mirrors vae_cpu.c (and the
// GEMM runner vae_cuda.cu) layer by layer; the two CUDA runners are selected by
// vd_vae_decode_opts.cuda_conv.
//
// Layout: every activation is [T, H, W, C] (NDHWC, batch 1): a frame is contiguous, so the input
// of a causal conv, P[2 + t, H, W, C] = [cache frames] ++ [new frames], is a copy of the cache
// followed by the producer kernel's output, and the next cache is P's last two frames (plain
// copies, no strides). cuDNN pads in space (no padded copies); the norm / SiLU / upsample
// producers write P directly.
// Bias: cuDNN adds no bias. A conv output carries its bias as "pending" (act.pb) and the kernel
// that next reads it adds it (norm producers, the upsample producer, the output transpose). A
// residual conv accumulates into the residual buffer (cudnnConvolutionForward with beta = 1); the
// producer that reads the residual for the block's first norm writes it back with the pending
// bias and that conv's bias added. So no pass only adds a bias or a residual.
// Upsampling: nearest x2 + 3x3 conv run as one 2x2 conv with the 4 output phases as channels
// (upsampler), on the source frame.
// Precision: fp32 activations; convs in TF32 (default), strict fp32 (opts.cuda_fp32: FMA math)
// or bf16 (opts.cuda_bf16: conv inputs, caches, weights and conv outputs bf16, accumulation and
// everything between the convs fp32; a bf16 conv output is stored to / added into its fp32
// destination by vdn_bf16_out_kernel).
// Memory: stream-ordered pool allocations with live-byte accounting (vae_cudnn_dev.cu).
#ifdef VDIT_HAVE_CUDNN
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dit/vae_cudnn_dev.h"
#include "dit/vae_cudnn_kernels.cuh"
#include "lib/log.h"
#include "lib/ops_cuda.h"

// cuDNN's legacy tensors index with int: a conv is cut in time so no tensor exceeds this many floats.
#define VDN_MAX_TENSOR_ELEMS ((int64_t)1 << 30)

struct vd_vae_runner {
    vd_vae *v;
    vdn_dev *d;
    int64_t h, w;
    vdn_buf *cache;   // [n_slots]: [2, H, W, cin] of the conv using the slot
    bool *up3d_seen;
    bool up_phases;   // upsample convs in phase form (see upsampler)
    // VDIT_VAE_PROFILE=1: device time of the cuDNN convs vs the whole chunk (cudaEvents, read at
    // the end of each chunk), logged when the runner is destroyed
    bool prof;
    cudaEvent_t *ev;  // pairs around conv_exec calls; ev_chunk: the chunk's start/end
    int n_ev, cap_ev;
    cudaEvent_t ev_chunk[2];
    double conv_ms, chunk_ms;
    int n_chunks, n_convs;
};

typedef struct {
    vdn_buf b;        // [t, h, w, c]
    int c, t, h, w;
    const float *pb;  // pending bias [c] (device) not yet added to b, or NULL
    bool bf16;        // b holds bf16 values (a bf16 conv's output read only by the next norm);
                      // as conv_run's out on entry: the caller accepts that
} act;

static vd_status launch_check(const char *what, vd_error *err) {
    cudaError_t ce = cudaGetLastError();
    if (ce != cudaSuccess) return vd_error_set(err, VD_ERR_CUDA, "vae_cudnn: %s: %s", what, cudaGetErrorString(ce));
    return VD_OK;
}

static vd_status cuda_ok(cudaError_t ce, const char *what, vd_error *err) {
    if (ce != cudaSuccess) return vd_error_set(err, VD_ERR_CUDA, "vae_cudnn: %s: %s", what, cudaGetErrorString(ce));
    return VD_OK;
}

static vd_status blas_ok(cublasStatus_t cs, const char *what, vd_error *err) {
    if (cs != CUBLAS_STATUS_SUCCESS)
        return vd_error_set(err, VD_ERR_CUDA, "vae_cudnn: %s failed: %s", what, cublasGetStatusString(cs));
    return VD_OK;
}

// Records an event on the stream (profiling); false when profiling is off or it fails.
static bool prof_mark(vd_vae_runner *r, cudaEvent_t *e) {
    if (!r->prof) return false;
    if (cudaEventCreate(e) != cudaSuccess) return false;
    return cudaEventRecord(*e, r->d->stream) == cudaSuccess;
}

static void prof_conv(vd_vae_runner *r, cudaEvent_t a, cudaEvent_t b) {
    if (r->n_ev + 2 > r->cap_ev) {
        const int cap = r->cap_ev ? 2 * r->cap_ev : 256;
        cudaEvent_t *ne = (cudaEvent_t *)realloc(r->ev, (size_t)cap * sizeof *ne);
        if (!ne) return;
        r->ev = ne, r->cap_ev = cap;
    }
    r->ev[r->n_ev++] = a;
    r->ev[r->n_ev++] = b;
}

// After the chunk's stream synchronization: sums the recorded intervals.
static void prof_chunk_end(vd_vae_runner *r) {
    if (!r->prof) return;
    float ms = 0;
    for (int i = 0; i + 1 < r->n_ev; i += 2) {
        if (cudaEventElapsedTime(&ms, r->ev[i], r->ev[i + 1]) == cudaSuccess) r->conv_ms += ms;
        cudaEventDestroy(r->ev[i]);
        cudaEventDestroy(r->ev[i + 1]);
        r->n_convs++;
    }
    r->n_ev = 0;
    if (cudaEventElapsedTime(&ms, r->ev_chunk[0], r->ev_chunk[1]) == cudaSuccess) r->chunk_ms += ms;
    cudaEventDestroy(r->ev_chunk[0]);
    cudaEventDestroy(r->ev_chunk[1]);
    r->n_chunks++;
}

// bf16 mode: a conv runs in bf16 when its channel counts suit the bf16 tensor-core kernels
// (multiples of 8); the others (conv_out, tiny test configs) stay f32.
static bool conv_bf16(const vd_vae_runner *r, int cin, int cout) { return r->d->bf16 && cin % 8 == 0 && cout % 8 == 0; }
// Same for layer cv; conv_out (3 outputs padded to 8) always stays f32.
static bool layer_bf16(const vd_vae_runner *r, const vd_vae_conv *cv) {
    return cv != &r->v->conv_out && conv_bf16(r, cv->cin, vdn_cout(r->v, cv));
}

// The device weights a cuDNN conv reads (key: the host array).
static const void *conv_w(vd_vae_runner *r, const float *key, bool bf16) {
    return bf16 ? (const void *)vdn_w16(r->d, key) : (const void *)vdn_w(r->d, key);
}

// y = conv(P) (or y += into y with acc): P [ti, H, W, s.cin] -> y [ti - kt + 1, Ho, Wo, s.cout]
// (vae_cudnn_conv.h), weights wt. Cut in time when a tensor would pass VDN_MAX_TENSOR_ELEMS
// (frames are contiguous: the pieces are pointer offsets). s.bf16: P and wt are bf16; cuDNN
// writes a bf16 output that vdn_bf16_out_kernel stores into (or adds to) the f32 y, or, with
// y16 (no acc), straight into y as bf16.
static vd_status conv_exec_to(vd_vae_runner *r, vd_cudnn_conv_shape s, const void *P, int ti, const void *wt, void *y,
                              bool y16, bool acc, vd_error *err) {
    vdn_dev *d = r->d;
    const int64_t hwi = (int64_t)s.h * s.w;
    const int64_t hwo = (int64_t)vd_cudnn_conv_out_dim(s.h, s.kh) * vd_cudnn_conv_out_dim(s.w, s.kw);
    const int64_t big = hwi * s.cin > hwo * s.cout ? hwi * s.cin : hwo * s.cout;
    if (big > VDN_MAX_TENSOR_ELEMS)
        return vd_error_set(err, VD_ERR_UNSUPPORTED,
                            "vae_cudnn: one frame of %d x %d x %d floats is too large for a cuDNN tensor; use tiling", s.h,
                            s.w, s.cin > s.cout ? s.cin : s.cout);
    const int to = ti - s.kt + 1;
    int piece = (int)(VDN_MAX_TENSOR_ELEMS / big) - (s.kt - 1);
    if (piece < 1) piece = 1;
    const int64_t es = s.bf16 ? 2 : 4, ny = (int64_t)to * hwo * s.cout;
    VD_ASSERT(!y16 || (s.bf16 && !acc));
    vdn_buf ys = {};
    char *yc = (char *)y;
    if (s.bf16 && !y16) {
        VD_TRY(vdn_alloc(d, &ys, (size_t)ny * 2, err));
        yc = (char *)ys.p;
    }
    cudaEvent_t e0, e1;
    const bool timed = prof_mark(r, &e0);
    vd_status st = VD_OK;
    for (int f0 = 0; f0 < to && st == VD_OK; f0 += piece) {
        const int nf = to - f0 < piece ? to - f0 : piece;
        s.ti = nf + s.kt - 1;
        st = vd_cudnn_conv_run(d->conv, &s, (const char *)P + f0 * hwi * s.cin * es, wt, yc + f0 * hwo * s.cout * es,
                               acc && !s.bf16, err);
    }
    if (timed) {
        if (prof_mark(r, &e1)) prof_conv(r, e0, e1);
        else cudaEventDestroy(e0);
    }
    if (st == VD_OK && s.bf16 && !y16) {
        vdn_bf16_out_kernel<<<vdn_grid(ny, 256), 256, 0, d->stream>>>((float *)y, (const uint16_t *)ys.p, ny, acc ? 1 : 0);
        st = launch_check("vdn_bf16_out_kernel", err);
    }
    vdn_free(d, &ys);
    return st;
}

static vd_status conv_exec(vd_vae_runner *r, vd_cudnn_conv_shape s, const void *P, int ti, const void *wt, float *y,
                           bool acc, vd_error *err) {
    return conv_exec_to(r, s, P, ti, wt, y, false, acc, err);
}

// conv_exec for layer cv (same H, W out): into acc (accumulate), or a new out with cv's bias
// pending (bf16 when out->bf16 on entry asks for it and the conv runs in bf16).
static vd_status conv_run(vd_vae_runner *r, const vd_vae_conv *cv, const void *P, int ti, int H, int W, float *acc,
                          act *out, vd_error *err) {
    vdn_dev *d = r->d;
    const int co = vdn_cout(r->v, cv), to = ti - cv->kt + 1;
    const int bf16 = layer_bf16(r, cv);
    const vd_cudnn_conv_shape s = {cv->cin, co, cv->kt, cv->kh, cv->kw, ti, H, W, 0, bf16};
    const bool is1x1 = cv->kt == 1 && cv->kh == 1 && cv->kw == 1;
    float *y = acc;
    bool y16 = false;
    if (!acc) {
        y16 = out->bf16 && bf16 && !is1x1;
        VD_TRY(vdn_alloc(d, &out->b, (size_t)co * to * H * W * (y16 ? 2 : 4), err));
        out->c = co, out->t = to, out->h = H, out->w = W;
        out->pb = vdn_w(d, cv->b);
        out->bf16 = y16;
        y = out->b.p;
    }
    vd_status st;
    if (is1x1) {
        // 1x1x1 (the shortcut): one GEMM, y[p, o] (+)= sum_i w[o, i] P[p, i]
        const int64_t np = (int64_t)ti * H * W;
        const float one = 1.0f, beta = acc ? 1.0f : 0.0f;
        st = np > INT32_MAX ? vd_error_set(err, VD_ERR_UNSUPPORTED, "vae_cudnn: 1x1 conv over %lld positions; use tiling",
                                           (long long)np)
                            : blas_ok(cublasSgemm(d->blas, CUBLAS_OP_T, CUBLAS_OP_N, co, (int)np, cv->cin, &one,
                                                  vdn_w(d, cv->w), cv->cin, (const float *)P, cv->cin, &beta, y, co),
                                      "cublasSgemm (1x1x1 conv)", err);
    } else {
        st = conv_exec_to(r, s, P, ti, conv_w(r, cv->w, bf16), y, y16, acc != NULL, err);
    }
    if (st != VD_OK && !acc) vdn_free(d, &out->b);
    return st;
}

// frame_bytes: one frame of the conv input (f32, or bf16 in the bf16 mode).
static vd_status get_cache(vd_vae_runner *r, const vd_vae_conv *cv, int64_t frame_bytes, char **out, vd_error *err) {
    vdn_buf *c = &r->cache[cv->slot];
    const size_t bytes = (size_t)VD_VAE_CACHE_T * frame_bytes;
    if (!c->p) {
        VD_TRY(vdn_alloc(r->d, c, bytes, err));
        VD_TRY(cuda_ok(cudaMemsetAsync(c->p, 0, c->bytes, r->d->stream), "cache zero fill", err));
    }
    VD_ASSERT(c->bytes >= bytes);
    *out = (char *)c->p;
    return VD_OK;
}

// Causal conv of a produced input: P[0, 2) = the cache (kt = 3; none for kt = 1), P[2 + f] =
// prep(x frame f) for f < t, where x [t, H, W, cin] has pending bias pb and prep is copy (mode 0),
// RMS_norm (1) or RMS_norm + SiLU (2) with nm's gamma. xw/add: the producer's write-back
// (vdn_prep_kernel). consume: x's buffer, freed once read (stream order makes that safe). The
// cache then holds P's last two frames. Output: into acc (accumulate) or a new out.
static vd_status conv_prep(vd_vae_runner *r, const vd_vae_norm *nm, const vd_vae_conv *cv, const void *x, bool xbf16,
                           const float *pb, int t, int H, int W, int mode, float *xw, const float *add, vdn_buf *consume,
                           float *acc, act *out, vd_error *err) {
    vdn_dev *d = r->d;
    VD_ASSERT(cv->kt == 1 || cv->kt == 1 + VD_VAE_CACHE_T);
    const int ct = cv->kt > 1 ? VD_VAE_CACHE_T : 0, C = cv->cin;
    const bool bf16 = layer_bf16(r, cv); // P's type: the one conv_run gives cuDNN
    const int64_t es = bf16 ? 2 : 4, fr = (int64_t)H * W * C * es, n = (int64_t)t * H * W; // fr: bytes per frame
    vdn_buf P = {};
    vd_status st = vdn_alloc(d, &P, (size_t)((ct + t) * fr), err);
    char *cache = NULL, *pp = (char *)P.p;
    if (st == VD_OK && ct) {
        st = get_cache(r, cv, fr, &cache, err);
        if (st == VD_OK)
            st = cuda_ok(cudaMemcpyAsync(pp, cache, (size_t)(ct * fr), cudaMemcpyDeviceToDevice, d->stream),
                         "cache -> conv input", err);
    }
    // t >= 2: the producer also writes the new cache (the last two new frames; the old cache is
    // already in P); t = 1: the new cache is P[1, 3), copied after
    const bool cache_by_kernel = ct && t >= ct;
    if (st == VD_OK) {
        VD_ASSERT(!(xbf16 && xw));
        vdn_prep_kernel<<<vdn_grid(n, 8), 256, 0, d->stream>>>(
            pp + ct * fr, x, xbf16 ? 1 : 0, xw, pb, add, nm ? vdn_w(d, nm->gamma) : NULL, C, n, mode, bf16 ? 1 : 0,
            cache_by_kernel ? cache : NULL, (int64_t)(t - ct) * H * W);
        st = launch_check("vdn_prep_kernel", err);
    }
    if (consume) vdn_free(d, consume);
    if (st == VD_OK && ct && !cache_by_kernel)
        st = cuda_ok(cudaMemcpyAsync(cache, pp + t * fr, (size_t)(ct * fr), cudaMemcpyDeviceToDevice, d->stream),
                     "conv input -> cache", err);
    if (st == VD_OK) st = conv_run(r, cv, P.p, ct + t, H, W, acc, out, err);
    vdn_free(d, &P);
    return st;
}

// x -> x + conv2(SiLU(norm2(conv1(SiLU(norm1(x)))))) with x or shortcut(x) as the residual.
static vd_status resblock(vd_vae_runner *r, const vd_vae_resblock *rb, act *x, vd_error *err) {
    vdn_dev *d = r->d;
    const int T = x->t, H = x->h, W = x->w;
    act y1 = {}, h = {};
    vd_status st;
    if (!rb->has_shortcut) {
        // norm1's producer writes x back as x + pb + conv2's bias; conv2 then accumulates into x
        y1.bf16 = true; // conv1's output is read by norm2 only: bf16 welcome
        st = conv_prep(r, &rb->norm1, &rb->conv1, x->b.p, false, x->pb, T, H, W, 2, x->b.p, vdn_w(d, rb->conv2.b), NULL,
                       NULL, &y1, err);
        x->pb = NULL;
        if (st == VD_OK)
            st = conv_prep(r, &rb->norm2, &rb->conv2, y1.b.p, y1.bf16, y1.pb, T, H, W, 2, NULL, NULL, &y1.b, x->b.p, NULL,
                           err);
        vdn_free(d, &y1.b);
        return st;
    }
    // Shortcut: norm1's producer materializes x's pending bias for the 1x1 shortcut conv; the
    // residual h = shortcut(x) + its bias + conv2's bias, and conv2 accumulates into h.
    y1.bf16 = true;
    st = conv_prep(r, &rb->norm1, &rb->conv1, x->b.p, false, x->pb, T, H, W, 2, x->pb ? x->b.p : NULL, NULL, NULL, NULL,
                   &y1, err);
    x->pb = NULL;
    if (st == VD_OK) st = conv_run(r, &rb->shortcut, x->b.p, T, H, W, NULL, &h, err);
    vdn_free(d, &x->b);
    if (st == VD_OK) {
        const int64_t n = (int64_t)T * H * W;
        vdn_bias_kernel<<<vdn_grid(n * h.c, 256), 256, 0, d->stream>>>(h.b.p, h.pb, vdn_w(d, rb->conv2.b), h.c, n);
        st = launch_check("vdn_bias_kernel (shortcut)", err);
        h.pb = NULL;
    }
    if (st == VD_OK)
        st = conv_prep(r, &rb->norm2, &rb->conv2, y1.b.p, y1.bf16, y1.pb, T, H, W, 2, NULL, NULL, &y1.b, h.b.p, NULL, err);
    vdn_free(d, &y1.b);
    if (st != VD_OK) {
        vdn_free(d, &h.b);
        return st;
    }
    *x = h;
    return VD_OK;
}

// Mid-block attention, per frame (single head over the H*W positions):
// x += proj(softmax(q k^T / sqrt(C)) v), [q k v] = to_qkv(RMS_norm(x)). The norm producer writes
// x back with its pending bias and proj's bias added; the proj GEMM accumulates into x.
static vd_status attention(vd_vae_runner *r, const vd_vae_attn *a, act *x, vd_error *err) {
    vdn_dev *d = r->d;
    const int C = x->c, T = x->t;
    const int64_t HW = (int64_t)x->h * x->w;
    if (HW * HW > ((int64_t)1 << 33) || HW > INT32_MAX / 4)
        return vd_error_set(err, VD_ERR_UNSUPPORTED,
                            "vae_cudnn: mid-block attention over %lld positions needs %lld score floats; use tiling",
                            (long long)HW, (long long)(HW * HW));
    vdn_buf xn = {}, qkv = {}, s = {}, o = {};
    vd_status st = vdn_alloc(d, &xn, (size_t)C * HW * 4, err);
    if (st == VD_OK) st = vdn_alloc(d, &qkv, (size_t)3 * C * HW * 4, err);
    if (st == VD_OK) st = vdn_alloc(d, &s, (size_t)HW * HW * 4, err);
    if (st == VD_OK) st = vdn_alloc(d, &o, (size_t)C * HW * 4, err);
    const float one = 1.0f, zero = 0.0f, qs = 1.0f / sqrtf((float)C);
    const int n = (int)HW;
    const float *wqkv = vdn_w(d, a->to_qkv.w), *wp = vdn_w(d, a->proj.w);
    for (int f = 0; f < T && st == VD_OK; f++) {
        float *xf = x->b.p + (int64_t)f * HW * C;
        vdn_prep_kernel<<<vdn_grid(HW, 8), 256, 0, d->stream>>>(xn.p, xf, 0, xf, x->pb, vdn_w(d, a->proj.b),
                                                               vdn_w(d, a->norm.gamma), C, HW, 1, 0, NULL, 0);
        st = launch_check("vdn_prep_kernel (attention)", err);
        // qkv[p, j] = sum_c xn[p, c] wqkv[j, c]   (column-major: qkv = wqkv^T-view x xn)
        if (st == VD_OK)
            st = blas_ok(cublasSgemm(d->blas, CUBLAS_OP_T, CUBLAS_OP_N, 3 * C, n, C, &one, wqkv, C, xn.p, C, &zero, qkv.p,
                                     3 * C),
                         "cublasSgemm (attention qkv)", err);
        if (st == VD_OK) {
            vdn_bias_kernel<<<vdn_grid(HW * 3 * C, 256), 256, 0, d->stream>>>(qkv.p, vdn_w(d, a->to_qkv.b), NULL, 3 * C,
                                                                             HW);
            st = launch_check("vdn_bias_kernel (qkv)", err);
        }
        // s[i, j] = q_i . k_j / sqrt(C)   (row i contiguous)
        if (st == VD_OK)
            st = blas_ok(cublasSgemm(d->blas, CUBLAS_OP_T, CUBLAS_OP_N, n, n, C, &qs, qkv.p + C, 3 * C, qkv.p, 3 * C,
                                     &zero, s.p, n),
                         "cublasSgemm (attention scores)", err);
        if (st == VD_OK) st = vd_softmax_cuda(d->ctx, s.p, s.p, n, n, err);   // rows of s in place (lib/ops_norm.cu)
        // o[i, c] = sum_j s[i, j] v_j[c]
        if (st == VD_OK)
            st = blas_ok(cublasSgemm(d->blas, CUBLAS_OP_N, CUBLAS_OP_N, C, n, n, &one, qkv.p + 2 * C, 3 * C, s.p, n, &zero,
                                     o.p, C),
                         "cublasSgemm (attention values)", err);
        // x[i, c] += sum_c' o[i, c'] wp[c, c']
        if (st == VD_OK)
            st = blas_ok(cublasSgemm(d->blas, CUBLAS_OP_T, CUBLAS_OP_N, C, n, C, &one, wp, C, o.p, C, &one, xf, C),
                         "cublasSgemm (attention proj)", err);
    }
    x->pb = NULL;
    vdn_free(d, &xn);
    vdn_free(d, &qkv);
    vdn_free(d, &s);
    vdn_free(d, &o);
    return st;
}

// Upsample2d / upsample3d: [time conv, frames interleaved,] nearest x2 in space, 3x3 conv (C -> C/2).
// Phase form (default): nearest x2 then a 3x3 conv is, per output phase (py, px) = (Y & 1, X & 1),
// a 2x2 conv of the source frame (vdn_w_phases): one cuDNN conv, kernel 2x2 pad 1, over the
// un-upsampled input with the 4 phases as 4 Cout output channels, R [T, H + 1, W + 1, 4 Cout], then
// vdn_phase_out_kernel places the phases (and adds the bias). 16/36 of the FLOPs of the 3x3 conv
// at 2H x 2W, and no x2 input copy. VDIT_VAE_UP_PHASES=0: the x2 copy and the 3x3 conv.
static vd_status upsampler(vd_vae_runner *r, const vd_vae_upsampler *u, act *x, vd_error *err) {
    vdn_dev *d = r->d;
    const int C = x->c, H = x->h, W = x->w;
    const int64_t HW = (int64_t)H * W;
    int skip = 0, n = 0, Tz = x->t;
    act y = {};
    vd_status st = VD_OK;
    if (u->mode == VD_VAE_UP_3D) {
        bool *seen = &r->up3d_seen[u->up3d_index];
        skip = *seen ? 0 : 1; // the first frame of the video passes the time conv by (diffusers' "Rep")
        n = x->t - skip;
        Tz = skip + 2 * n;
        if (n > 0)
            st = conv_prep(r, NULL, &u->time_conv, x->b.p + (int64_t)skip * HW * C, false, x->pb, n, H, W, 0, NULL, NULL,
                           NULL, NULL, &y, err);
        *seen = true;
    }
    act out = {};
    if (!r->up_phases) {
        vdn_buf P = {};
        const int64_t total = (int64_t)Tz * 4 * HW * C;
        const bool pb16 = conv_bf16(r, C, u->conv.cout);
        if (st == VD_OK) st = vdn_alloc(d, &P, (size_t)total * (pb16 ? 2 : 4), err);
        if (st == VD_OK) {
            vdn_up_kernel<<<vdn_grid(total, 256), 256, 0, d->stream>>>(P.p, Tz, x->b.p, x->pb, n > 0 ? y.b.p : NULL,
                                                                      y.pb, skip, C, H, W, pb16 ? 1 : 0);
            st = launch_check("vdn_up_kernel", err);
        }
        vdn_free(d, &y.b);
        vdn_free(d, &x->b);
        if (st == VD_OK) st = conv_run(r, &u->conv, P.p, Tz, 2 * H, 2 * W, NULL, &out, err);
        vdn_free(d, &P);
        *x = out;
        return st;
    }
    // the conv input: x itself when nothing is interleaved, no bias is pending and the conv reads
    // f32; else Z (bf16 in the bf16 mode)
    vdn_buf Z = {}, R = {};
    const void *zin = x->b.p;
    const int co = u->conv.cout, gz = C % 4 ? 1 : 4, go = co % 4 ? 1 : 4;
    const bool z16 = conv_bf16(r, C, 4 * co);
    const int64_t no = (int64_t)Tz * 4 * HW * co;
    if (st == VD_OK && ((int64_t)Tz * HW * C / gz >= INT32_MAX || no / go >= INT32_MAX))
        st = vd_error_set(err, VD_ERR_UNSUPPORTED, "vae_cudnn: upsampler of %d frames of %dx%dx%d; use tiling or smaller chunks",
                          Tz, 2 * H, 2 * W, co);
    if (st == VD_OK && (n > 0 || x->pb || z16)) {
        st = vdn_alloc(d, &Z, (size_t)Tz * HW * C * (z16 ? 2 : 4), err);
        if (st == VD_OK) {
            vdn_interleave_kernel<<<vdn_grid((int64_t)Tz * HW * C / gz, 256), 256, 0, d->stream>>>(
                Z.p, Tz, x->b.p, x->pb, n > 0 ? y.b.p : NULL, y.pb, skip, C, (int)HW, gz, z16 ? 1 : 0);
            st = launch_check("vdn_interleave_kernel", err);
        }
        zin = Z.p;
    }
    vdn_free(d, &y.b);
    if (st == VD_OK) st = vdn_alloc(d, &R, (size_t)Tz * (H + 1) * (W + 1) * 4 * co * sizeof(float), err);
    if (st == VD_OK) {
        const vd_cudnn_conv_shape s = {C, 4 * co, 1, 2, 2, Tz, H, W, 0, z16};
        st = conv_exec(r, s, zin, Tz, conv_w(r, (const float *)(const void *)&u->conv, z16), R.p, false, err);
    }
    vdn_free(d, &Z);
    vdn_free(d, &x->b);
    if (st == VD_OK) st = vdn_alloc(d, &out.b, (size_t)no * sizeof(float), err);
    if (st == VD_OK) {
        out.c = co, out.t = Tz, out.h = 2 * H, out.w = 2 * W, out.pb = NULL;
        vdn_phase_out_kernel<<<vdn_grid(no / go, 256), 256, 0, d->stream>>>(out.b.p, R.p, vdn_w(d, u->conv.b), co, Tz, H,
                                                                            W, go);
        st = launch_check("vdn_phase_out_kernel", err);
    }
    vdn_free(d, &R);
    if (st != VD_OK) vdn_free(d, &out.b);
    *x = out;
    return st;
}

static vd_status cudnn_create(vd_vae *v, int64_t h, int64_t w, const vd_vae_decode_opts *o, vd_vae_runner **out,
                              vd_error *err) {
    vdn_dev *d = NULL;
    VD_TRY(vdn_dev_get(v, o, &d, err));
    d->peak = d->live; // the peak of this decode (torch's counterpart is reset after its warm-up too)
    vd_vae_runner *r = (vd_vae_runner *)calloc(1, sizeof *r);
    if (!r) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cudnn: out of host memory");
    r->v = v;
    r->d = d;
    r->h = h;
    r->w = w;
    const char *e = getenv("VDIT_VAE_UP_PHASES");
    r->up_phases = !(e && e[0] == '0');
    const char *pe = getenv("VDIT_VAE_PROFILE");
    r->prof = pe && pe[0] == '1';
    r->cache = (vdn_buf *)calloc((size_t)v->n_slots + 1, sizeof *r->cache);
    r->up3d_seen = (bool *)calloc((size_t)v->n_up3d + 1, sizeof *r->up3d_seen);
    if (!r->cache || !r->up3d_seen) {
        free(r->cache);
        free(r->up3d_seen);
        free(r);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_cudnn: out of host memory");
    }
    *out = r;
    return VD_OK;
}

static void cudnn_destroy(vd_vae_runner *r) {
    if (!r) return;
    if (r->prof && r->n_chunks)
        VD_LOGI("vae_cudnn profile: %d chunks, device time %.3f s, cuDNN convs %.3f s (%.0f%%, %d calls; direct-kernel "
                "fallback convs included), the rest "
                "%.3f s (norm/copy/upsample kernels, attention, 1x1 GEMMs)",
                r->n_chunks, r->chunk_ms / 1e3, r->conv_ms / 1e3, r->chunk_ms > 0 ? 100.0 * r->conv_ms / r->chunk_ms : 0.0,
                r->n_convs, (r->chunk_ms - r->conv_ms) / 1e3);
    for (int i = 0; i < r->n_ev; i++) cudaEventDestroy(r->ev[i]);
    free(r->ev);
    for (int i = 0; i < r->v->n_slots; i++) vdn_free(r->d, &r->cache[i]);
    cudaStreamSynchronize(r->d->stream);
    free(r->cache);
    free(r->up3d_seen);
    free(r);
}

// z [z_dim, t, h, w] (host, channel-major) -> out [out_channels, t_out, H, W] (host).
static vd_status cudnn_decode_chunk(vd_vae_runner *r, const float *zin, int64_t t64, float *out, vd_error *err) {
    vd_vae *v = r->v;
    vdn_dev *d = r->d;
    const int t = (int)t64, h = (int)r->h, w = (int)r->w, Z = v->cfg.z_dim;
    const int64_t n = (int64_t)t * h * w;
    if (n > INT32_MAX) return vd_error_set(err, VD_ERR_UNSUPPORTED, "vae_cudnn: latent chunk of %lld positions; use tiling", (long long)n);
    const bool timed = prof_mark(r, &r->ev_chunk[0]);
    vdn_buf z = {};
    act pq = {}, x = {}, y = {};
    VD_TRY(vdn_alloc(d, &z, (size_t)Z * n * sizeof(float), err));
    vd_status st = cuda_ok(cudaMemcpyAsync(z.p, zin, (size_t)Z * n * sizeof(float), cudaMemcpyHostToDevice, d->stream),
                           "latent upload", err);
    // post_quant_conv (1x1x1), transposing to channels-last: pq[p, o] = sum_i w[o, i] z[i, p]
    if (st == VD_OK) st = vdn_alloc(d, &pq.b, (size_t)Z * n * sizeof(float), err);
    if (st == VD_OK) {
        const float one = 1.0f, zero = 0.0f;
        pq.c = Z, pq.t = t, pq.h = h, pq.w = w, pq.pb = vdn_w(d, v->post_quant.b);
        st = blas_ok(cublasSgemm(d->blas, CUBLAS_OP_T, CUBLAS_OP_T, Z, (int)n, Z, &one, vdn_w(d, v->post_quant.w), Z, z.p,
                                 (int)n, &zero, pq.b.p, Z),
                     "cublasSgemm (post_quant_conv)", err);
    }
    vdn_free(d, &z);
    if (st == VD_OK)
        st = conv_prep(r, NULL, &v->conv_in, pq.b.p, false, pq.pb, t, h, w, 0, NULL, NULL, &pq.b, NULL, &x, err);
    vdn_free(d, &pq.b);
    if (st == VD_OK) st = resblock(r, &v->mid_res[0], &x, err);
    if (st == VD_OK) st = attention(r, &v->mid_attn, &x, err);
    if (st == VD_OK) st = resblock(r, &v->mid_res[1], &x, err);
    for (int i = 0; i < v->cfg.n_mult && st == VD_OK; i++) {
        const vd_vae_upblock *u = &v->up[i];
        for (int j = 0; j < u->n_res && st == VD_OK; j++) st = resblock(r, &u->res[j], &x, err);
        if (st == VD_OK && u->up.mode != VD_VAE_UP_NONE) st = upsampler(r, &u->up, &x, err);
    }
    if (st == VD_OK)
        st = conv_prep(r, &v->norm_out, &v->conv_out, x.b.p, false, x.pb, x.t, x.h, x.w, 2, NULL, NULL, &x.b, NULL, &y, err);
    vdn_free(d, &x.b);
    vdn_buf o = {};
    const int oc = v->conv_out.cout;
    const int64_t HW = (int64_t)y.h * y.w, no = (int64_t)oc * y.t * HW;
    if (st == VD_OK && no >= INT32_MAX)
        st = vd_error_set(err, VD_ERR_UNSUPPORTED, "vae_cudnn: %lld output values in one chunk; use smaller chunks", (long long)no);
    if (st == VD_OK) st = vdn_alloc(d, &o, (size_t)no * sizeof(float), err);
    if (st == VD_OK) {
        vdn_out_kernel<<<vdn_grid(no, 256), 256, 0, d->stream>>>(o.p, y.b.p, y.pb, oc, y.c, (int)HW, y.t);
        st = launch_check("vdn_out_kernel", err);
    }
    vdn_free(d, &y.b);
    if (st == VD_OK)
        st = cuda_ok(cudaMemcpyAsync(out, o.p, (size_t)no * sizeof(float), cudaMemcpyDeviceToHost, d->stream),
                     "frames download", err);
    const bool timed_end = timed && prof_mark(r, &r->ev_chunk[1]);
    if (timed && !timed_end) cudaEventDestroy(r->ev_chunk[0]);
    if (st == VD_OK) st = cuda_ok(cudaStreamSynchronize(d->stream), "decode chunk", err);
    if (timed_end && st == VD_OK) prof_chunk_end(r);
    vdn_free(d, &o);
    return st;
}

static size_t cudnn_peak(vd_vae_runner *r) { return r->d->peak; }

static const vd_vae_backend k_cudnn_backend = {cudnn_create, cudnn_decode_chunk, cudnn_destroy, cudnn_peak};

extern "C" const vd_vae_backend *vd_vae_backend_cudnn(void) { return &k_cudnn_backend; }
extern "C" bool vd_vae_cudnn_available(void) { return true; }

#else // no cuDNN in this build: the GEMM runner only

#include "dit/vae_model.h"

extern "C" const vd_vae_backend *vd_vae_backend_cudnn(void) { return NULL; }
extern "C" void vd_vae_cudnn_release(vd_vae *v) { (void)v; }
extern "C" bool vd_vae_cudnn_available(void) { return false; }
#endif // VDIT_HAVE_CUDNN
