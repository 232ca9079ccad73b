// Wan VAE decode driver: input checks, de-normalization, time chunking, spatial tiling with
// diffusers' blend order, and frame output (clamp to [-1, 1], RGB uint8) through a callback.
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dit/vae_model.h"
#include "lib/log.h"
#include "lib/tensor.h"

void vd_vae_decode_opts_default(vd_vae_decode_opts *o) {
    memset(o, 0, sizeof *o);
    o->chunk_frames = 1;
    o->denormalize = true;
    o->tiling = false;
    o->tile_h = o->tile_w = 32;
    o->stride_h = o->stride_w = 24;
    o->device = VD_DEVICE_CPU;
    const char *e = getenv("VDIT_VAE_FP32"); // override for benchmarks and tests
    o->cuda_fp32 = e && e[0] == '1';
    const char *bf = getenv("VDIT_VAE_BF16");
    o->cuda_bf16 = bf && bf[0] == '1';
    const char *ov = getenv("VDIT_VAE_OVERLAP"); // 0: emit frames on the calling thread
    o->emit_overlap = !(ov && ov[0] == '0');
    const char *c = getenv("VDIT_VAE_CONV"); // auto | gemm | cudnn (benchmarks and tests)
    if (!c || vd_vae_conv_impl_parse(c, &o->cuda_conv) != 0) o->cuda_conv = VD_VAE_CONV_AUTO;
}

int vd_vae_conv_impl_parse(const char *s, vd_vae_conv_impl *out) {
    if (!strcmp(s, "auto") || !s[0]) *out = VD_VAE_CONV_AUTO;
    else if (!strcmp(s, "gemm")) *out = VD_VAE_CONV_GEMM;
    else if (!strcmp(s, "cudnn")) *out = VD_VAE_CONV_CUDNN;
    else return -1;
    return 0;
}

// AUTO is the cuDNN runner when this build has cuDNN, else the GEMM runner. H200, Wan2.1 VAE,
// 16x21x60x104 latent -> 81 frames 480x832, TF32: cuDNN runner 2.44 s / 5.80 GiB, GEMM runner
// 3.94 s / 6.29 GiB, diffusers 2.78 s / 9.05 GiB (bench/results/vae_2026-11-28.md). Shapes for
// which cuDNN runs no algorithm (the 96 -> 3 output conv at 480x832) take the direct CUDA kernel
// of vae_cudnn_direct.cu, planned at the shape's first call.
const char *vd_vae_conv_impl_name(const vd_vae_decode_opts *o) {
    if (o->cuda_conv == VD_VAE_CONV_GEMM) return "gemm";
    if (o->cuda_conv == VD_VAE_CONV_AUTO) return vd_vae_cudnn_available() ? "cudnn" : "gemm";
    return vd_vae_cudnn_available() ? "cudnn" : NULL;
}

typedef struct {
    int64_t y0, x0, h, w;       // latent region
    vd_vae_runner *runner;
    float *out;                 // this chunk's decoded tile [oc, tout, h*s, w*s]
} tile;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static vd_status check_opts(const vd_vae_decode_opts *o, vd_error *err) {
    if (o->chunk_frames < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vae_decode: chunk_frames = %d; must be >= 1", o->chunk_frames);
    if (o->tiling) {
        if (o->tile_h < 1 || o->tile_w < 1 || o->stride_h < 1 || o->stride_w < 1 || o->stride_h > o->tile_h ||
            o->stride_w > o->tile_w)
            return vd_error_set(err, VD_ERR_INVALID_ARG,
                                "vae_decode: tile %dx%d stride %dx%d (latent px); need 1 <= stride <= tile", o->tile_h,
                                o->tile_w, o->stride_h, o->stride_w);
    }
    if (o->cuda_conv != VD_VAE_CONV_AUTO && o->cuda_conv != VD_VAE_CONV_GEMM && o->cuda_conv != VD_VAE_CONV_CUDNN)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vae_decode: cuda_conv %d is not auto (0), gemm (1) or cudnn (2)",
                            (int)o->cuda_conv);
    if (o->device != VD_DEVICE_CPU && o->device != VD_DEVICE_CUDA)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vae_decode: device %d is not cpu or cuda", (int)o->device);
    return VD_OK;
}

// blend_v/blend_h of diffusers on [oc, T, th, tw] tiles: the first `extent` rows (cols) of b
// become a's last rows (cols) * (1 - y/extent) + b * (y/extent).
static void blend_v(const float *a, int64_t ah, int64_t aw, float *b, int64_t bh, int64_t bw, int64_t planes,
                    int64_t blend) {
    int64_t e = blend;
    if (ah < e) e = ah;
    if (bh < e) e = bh;
    VD_ASSERT(aw == bw);
    for (int64_t p = 0; p < planes; p++)
        for (int64_t y = 0; y < e; y++) {
            const float wb = (float)((double)y / (double)e), wa = (float)(1.0 - (double)y / (double)e);
            const float *ar = a + (p * ah + ah - e + y) * aw;
            float *br = b + (p * bh + y) * bw;
            for (int64_t x = 0; x < bw; x++) br[x] = ar[x] * wa + br[x] * wb;
        }
}
static void blend_h(const float *a, int64_t ah, int64_t aw, float *b, int64_t bh, int64_t bw, int64_t planes,
                    int64_t blend) {
    int64_t e = blend;
    if (aw < e) e = aw;
    if (bw < e) e = bw;
    VD_ASSERT(ah == bh);
    for (int64_t p = 0; p < planes; p++)
        for (int64_t y = 0; y < bh; y++) {
            const float *ar = a + (p * ah + y) * aw + aw - e;
            float *br = b + (p * bh + y) * bw;
            for (int64_t x = 0; x < e; x++) {
                const float wb = (float)((double)x / (double)e), wa = (float)(1.0 - (double)x / (double)e);
                br[x] = ar[x] * wa + br[x] * wb;
            }
        }
}

typedef struct {
    vd_vae_frame_fn fn;
    void *user;
    int64_t next_index;
    int64_t oc, H, W;
    float *chw;
    uint8_t *rgb;
} emitter;

// Clamps frame f of a composed chunk [oc, T, H, W] (already in e->chw layout per frame) and emits it.
static vd_status emit_frame(emitter *e, vd_error *err) {
    const int64_t n = e->H * e->W;
    for (int64_t c = 0; c < e->oc; c++)
        for (int64_t p = 0; p < n; p++) {
            float x = e->chw[c * n + p];
            x = x < -1.0f ? -1.0f : x > 1.0f ? 1.0f : x; // NaN stays NaN in chw
            e->chw[c * n + p] = x;
            float u = (x + 1.0f) * 0.5f * 255.0f;
            u = u != u ? 0.0f : u;
            e->rgb[p * e->oc + c] = (uint8_t)floorf(u + 0.5f);
        }
    vd_vae_frame fr = {e->next_index++, e->oc, e->H, e->W, e->chw, e->rgb};
    return e->fn ? e->fn(e->user, &fr, err) : VD_OK;
}

// Composes frames [0, tframes) from the tiles' [0, stride) crops (tile outputs [oc, tframes, ph, pw])
// and emits them.
static vd_status compose_emit(emitter *em, const tile *tiles, int64_t nt, int64_t tframes, int64_t s, int64_t sh,
                              int64_t sw, vd_error *err) {
    const int64_t Hs = em->H, Ws = em->W;
    for (int64_t f = 0; f < tframes; f++) {
        for (int64_t k = 0; k < nt; k++) {
            const tile *tl = &tiles[k];
            const int64_t ph = tl->h * s, pw = tl->w * s;
            const int64_t ch = ph < sh * s ? ph : sh * s, cw = pw < sw * s ? pw : sw * s;
            const int64_t n = tl->x0 * s + cw <= Ws ? cw : Ws - tl->x0 * s;
            for (int64_t c = 0; c < em->oc; c++)
                for (int64_t y = 0; y < ch && tl->y0 * s + y < Hs; y++)
                    memcpy(em->chw + (c * Hs + tl->y0 * s + y) * Ws + tl->x0 * s,
                           tl->out + ((c * tframes + f) * ph + y) * pw, (size_t)n * sizeof(float));
        }
        VD_TRY(emit_frame(em, err));
    }
    return VD_OK;
}

// Untiled decodes with emit_overlap: chunk k's frames are composed and emitted on a helper
// thread while chunk k + 1 decodes (the two alternate between two output buffers), so the host's
// clamp / RGB conversion / frame callback overlaps the device work. One job at a time: the
// callback still sees frames in order, never two calls at once.
typedef struct {
    pthread_t th;
    bool running;
    emitter *em;
    tile tl;            // the chunk's decoded frames in tl.out
    int64_t tout, s, sh, sw;
    vd_status st;
    vd_error err;
} emit_job;

static void *emit_job_run(void *arg) {
    emit_job *j = arg;
    j->st = compose_emit(j->em, &j->tl, 1, j->tout, j->s, j->sh, j->sw, &j->err);
    return NULL;
}

// Waits for the running job (if any); its status, with its message copied into err.
static vd_status emit_job_join(emit_job *j, vd_error *err) {
    if (!j->running) return VD_OK;
    pthread_join(j->th, NULL);
    j->running = false;
    if (j->st != VD_OK && err) *err = j->err;
    return j->st;
}

vd_status vd_vae_decode(vd_vae *v, const float *z, int64_t C, int64_t F, int64_t H, int64_t W,
                        const vd_vae_decode_opts *opts, vd_vae_frame_fn fn, void *user, vd_vae_decode_stats *stats,
                        vd_error *err) {
    const vd_vae_config *cfg = &v->cfg;
    vd_vae_decode_opts dflt;
    if (!opts) {
        vd_vae_decode_opts_default(&dflt);
        opts = &dflt;
    }
    VD_TRY(check_opts(opts, err));
    if (C != cfg->z_dim)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vae_decode: latent has %lld channels but the VAE config has z_dim = %d (latent must be "
                            "[C, F, H, W] or [1, C, F, H, W])",
                            (long long)C, cfg->z_dim);
    if (F < 1 || H < 1 || W < 1 || F > 100000 || H > 100000 || W > 100000)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vae_decode: latent size F=%lld H=%lld W=%lld; each must be in [1, 100000]",
                            (long long)F, (long long)H, (long long)W);
    if (opts->denormalize && !cfg->has_latents_stats)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vae_decode: de-normalization asked but config.json has no latents_mean/latents_std "
                            "(hint: pass latents already de-normalized and turn it off)");
    const vd_vae_backend *be = &vd_vae_backend_cpu;
    if (opts->device == VD_DEVICE_CUDA) {
        be = vd_vae_backend_cuda();
        if (!be) return vd_error_set(err, VD_ERR_UNSUPPORTED, "vae_decode: this build has no CUDA; use the cpu device");
        const char *conv = vd_vae_conv_impl_name(opts);
        if (!conv)
            return vd_error_set(err, VD_ERR_UNSUPPORTED,
                                "vae_decode: cuDNN convolutions asked (cuda_conv / VDIT_VAE_CONV=cudnn) but this build "
                                "has no cuDNN; use gemm or auto");
        if (!strcmp(conv, "cudnn")) be = vd_vae_backend_cudnn();
        else if (opts->cuda_bf16)
            return vd_error_set(err, VD_ERR_UNSUPPORTED,
                                "vae_decode: bf16 convolutions (cuda_bf16 / VDIT_VAE_BF16=1) need the cuDNN runner; "
                                "this decode uses the GEMM one");
    }
    const int64_t s = vd_vae_spatial_factor(cfg), oc = cfg->out_channels, Hs = H * s, Ws = W * s;

    // Tile grid (diffusers: starts every stride while start < size; tiles clipped at the edge).
    const bool tiled = opts->tiling && (H > opts->tile_h || W > opts->tile_w);
    const int64_t th = tiled ? opts->tile_h : H, tw = tiled ? opts->tile_w : W;
    const int64_t sh = tiled ? opts->stride_h : H, sw = tiled ? opts->stride_w : W;
    const int64_t rows = (H + sh - 1) / sh, cols = (W + sw - 1) / sw, nt = rows * cols;
    const int64_t blend_h_px = (th - sh) * s, blend_w_px = (tw - sw) * s;
    tile *tiles = calloc((size_t)nt, sizeof *tiles);
    emitter em = {fn, user, 0, oc, Hs, Ws, NULL, NULL};
    emit_job job = {0};
    job.em = &em;
    float *zc = NULL, *scratch = NULL;
    size_t peak = 0;
    vd_status st = VD_OK;
    double t0 = now_s();
    if (!tiles) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_decode: out of memory");
    const int64_t max_t = opts->chunk_frames < F ? opts->chunk_frames : F;
    const int64_t max_tout = vd_vae_chunk_out_frames(cfg, 1, max_t) > vd_vae_chunk_out_frames(cfg, 0, max_t)
                                 ? vd_vae_chunk_out_frames(cfg, 1, max_t)
                                 : vd_vae_chunk_out_frames(cfg, 0, max_t);
    const int64_t Fout = vd_vae_out_frames(cfg, F);
    // Untiled: one stream, frames emitted per chunk. Tiled: tile after tile through all frames
    // (device memory = one tile's caches and activations), outputs kept on the host, blended and
    // emitted at the end.
    const int64_t tile_frames = tiled ? Fout : max_tout;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) {
            tile *tl = &tiles[i * cols + j];
            tl->y0 = i * sh;
            tl->x0 = j * sw;
            tl->h = H - tl->y0 < th ? H - tl->y0 : th;
            tl->w = W - tl->x0 < tw ? W - tl->x0 : tw;
            tl->out = vd_host_alloc((size_t)(oc * tile_frames * tl->h * s * tl->w * s) * sizeof(float));
            if (!tl->out) {
                st = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_decode: out of memory for tile outputs");
                goto done;
            }
        }
    zc = vd_host_alloc((size_t)(C * max_t * th * tw) * sizeof(float));
    // tiled: one chunk of one tile; untiled with overlap: the second output buffer
    const bool overlap = !tiled && opts->emit_overlap && F > max_t;
    scratch = tiled || overlap ? vd_host_alloc((size_t)(oc * max_tout * th * s * tw * s) * sizeof(float)) : NULL;
    em.chw = vd_host_alloc((size_t)(oc * Hs * Ws) * sizeof(float));
    em.rgb = vd_host_alloc((size_t)(oc * Hs * Ws));
    if (!zc || !em.chw || !em.rgb || ((tiled || overlap) && !scratch)) {
        st = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_decode: out of memory for frame buffers");
        goto done;
    }
    if (tiled)
        VD_LOGI("vae_decode: %lld x %lld tiles of %lldx%lld latent px, stride %lldx%lld, blend %lldx%lld px",
                (long long)rows, (long long)cols, (long long)th, (long long)tw, (long long)sh, (long long)sw,
                (long long)blend_h_px, (long long)blend_w_px);

    for (int64_t k = 0; k < nt; k++) {
        tile *tl = &tiles[k];
        const int64_t ph = tl->h * s, pw = tl->w * s;
        if ((st = be->create(v, tl->h, tl->w, opts, &tl->runner, err)) != VD_OK) goto done;
        int64_t fo = 0; // output frames of this tile so far
        for (int64_t f0 = 0; f0 < F; f0 += max_t) {
            const int64_t t = F - f0 < max_t ? F - f0 : max_t;
            const int64_t tout = vd_vae_chunk_out_frames(cfg, f0, t);
            // zc [C, t, tl->h, tl->w] = z[:, f0:f0+t, y0:, x0:] (de-normalized)
            for (int64_t c = 0; c < C; c++) {
                const float sd = opts->denormalize ? cfg->latents_std[c] : 1.0f;
                const float mu = opts->denormalize ? cfg->latents_mean[c] : 0.0f;
                for (int64_t f = 0; f < t; f++)
                    for (int64_t y = 0; y < tl->h; y++) {
                        const float *src = z + ((c * F + f0 + f) * H + tl->y0 + y) * W + tl->x0;
                        float *dst = zc + ((c * t + f) * tl->h + y) * tl->w;
                        for (int64_t x = 0; x < tl->w; x++) dst[x] = opts->denormalize ? src[x] * sd + mu : src[x];
                    }
            }
            float *dst = tiled || (overlap && (f0 / max_t) % 2) ? scratch : tl->out;
            if ((st = be->decode_chunk(tl->runner, zc, t, dst, err)) != VD_OK) goto done;
            if (!tiled) {
                // the previous chunk's frames are out (and its buffer, the next dst, is free)
                if ((st = emit_job_join(&job, err)) != VD_OK) goto done;
                job.tl = *tl;
                job.tl.out = dst;
                job.tl.runner = NULL;
                job.tout = tout, job.s = s, job.sh = sh, job.sw = sw;
                if (overlap && pthread_create(&job.th, NULL, emit_job_run, &job) == 0) {
                    job.running = true;
                    continue;
                }
                if ((st = compose_emit(&em, &job.tl, 1, tout, s, sh, sw, err)) != VD_OK) goto done;
                continue;
            }
            // scratch [oc, tout, ph, pw] -> tile out [oc, Fout, ph, pw] at frame fo
            for (int64_t c = 0; c < oc; c++)
                memcpy(tl->out + (c * Fout + fo) * ph * pw, scratch + c * tout * ph * pw,
                       (size_t)(tout * ph * pw) * sizeof(float));
            fo += tout;
        }
        size_t p = be->peak_bytes(tl->runner);
        if (p > peak) peak = p;
        be->destroy(tl->runner);
        tl->runner = NULL;
    }
    if (tiled) {
        // Blend in place, row-major, as diffusers does (each tile against its final upper/left neighbours).
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++) {
                tile *b = &tiles[i * cols + j];
                if (i > 0) {
                    tile *a = &tiles[(i - 1) * cols + j];
                    blend_v(a->out, a->h * s, a->w * s, b->out, b->h * s, b->w * s, oc * Fout, blend_h_px);
                }
                if (j > 0) {
                    tile *a = &tiles[i * cols + j - 1];
                    blend_h(a->out, a->h * s, a->w * s, b->out, b->h * s, b->w * s, oc * Fout, blend_w_px);
                }
            }
        st = compose_emit(&em, tiles, nt, Fout, s, sh, sw, err);
    }
done:
    {
        vd_error jerr = {0};
        const vd_status js = emit_job_join(&job, &jerr);
        if (st == VD_OK && js != VD_OK) {
            st = js;
            if (err) *err = jerr;
        }
    }
    if (stats) {
        stats->seconds = now_s() - t0;
        stats->frames = em.next_index;
        stats->n_tiles = (int)nt;
        stats->peak_device_bytes = peak;
    }
    for (int64_t k = 0; k < nt; k++) {
        if (tiles[k].runner) be->destroy(tiles[k].runner);
        vd_host_free(tiles[k].out);
    }
    free(tiles);
    vd_host_free(zc);
    vd_host_free(scratch);
    vd_host_free(em.chw);
    vd_host_free(em.rgb);
    return st;
}

vd_status vd_vae_decode_tensor(vd_vae *v, const vd_tensor *z, const vd_vae_decode_opts *opts, vd_vae_frame_fn fn,
                               void *user, vd_vae_decode_stats *stats, vd_error *err) {
    char desc[128];
    vd_tensor_describe(z, desc, sizeof desc);
    if (z->device != VD_DEVICE_CPU) return vd_error_set(err, VD_ERR_INVALID_ARG, "vae_decode: latent %s must be on the host", desc);
    if (!(z->ndim == 4 || (z->ndim == 5 && z->shape[0] == 1)))
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vae_decode: latent %s has the wrong rank; expected [C, F, H, W] or [1, C, F, H, W] "
                            "with C = %d",
                            desc, v->cfg.z_dim);
    if (!vd_tensor_is_contiguous(z)) return vd_error_set(err, VD_ERR_INVALID_ARG, "vae_decode: latent %s is not contiguous", desc);
    const int64_t *sh = z->shape + (z->ndim - 4);
    if (sh[0] != v->cfg.z_dim)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vae_decode: latent %s has %lld channels; the VAE config has z_dim = %d",
                            desc, (long long)sh[0], v->cfg.z_dim);
    if (z->dtype == VD_F32) return vd_vae_decode(v, z->data, sh[0], sh[1], sh[2], sh[3], opts, fn, user, stats, err);
    const int64_t n = vd_tensor_numel(z);
    float *f = vd_host_alloc((size_t)n * sizeof(float));
    if (!f) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_decode: out of memory converting the latent");
    vd_status st = VD_OK;
    if (vd_convert_to_f32(f, z->data, z->dtype, (size_t)n) != 0)
        st = vd_error_set(err, VD_ERR_INVALID_ARG, "vae_decode: latent dtype %s cannot be converted to f32",
                          vd_dtype_name(z->dtype));
    if (st == VD_OK) st = vd_vae_decode(v, f, sh[0], sh[1], sh[2], sh[3], opts, fn, user, stats, err);
    vd_host_free(f);
    return st;
}
