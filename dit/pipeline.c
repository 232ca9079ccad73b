// vd_gen_run: text encode -> initial latent -> denoising loop with CFG -> VAE decode streamed to
// the frame sink -> sidecar. Memory: the text encoder is freed before the DiT loads and the DiT before
// the VAE loads, so the peak is the largest single model plus the latent buffers
// (x, v_cond, v_uncond: 3 x C F' H' W' floats) and the two [512, text_dim] embeddings.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "dit/pipeline.h"
#include "dit/umt5_model.h"
#include "dit/vae.h"
#include "dit/wan_dit.h"
#include "dit/wan_dit_cuda.h"
#include "lib/device.h"
#include "lib/log.h"
#include "lib/progress.h"
#include "lib/rng.h"
#include "lib/safetensors.h"

// OpenBLAS's own thread count (the pthreads build ignores OpenMP's); weak, so other BLAS builds link.
extern void openblas_set_num_threads(int n) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));

// Below this many DiT tokens the CPU GEMMs are a few ms each, and OpenBLAS's pthreads pool and
// OpenMP's (both spin-waiting between calls) fight over the cores: measured on 2 cores with the
// bundled vdit-tiny (320 tokens), 6 steps take 11.4 s with both pools at 2 threads and 5.2 s with
// OpenBLAS at 1 (OpenMP still 2). So small runs keep OpenMP's threads and run OpenBLAS single-
// threaded, unless the user chose (--threads, or OPENBLAS_NUM_THREADS in the environment).
#define VD_GEN_SMALL_TOKENS 4096

// The DiT on one device.
typedef struct {
    vd_device_kind dev;
    vd_wan_weights w;          // CPU
    vd_cuda_ctx *cu;           // CUDA
    vd_wan_cuda *wc;
} dit_runner;

static vd_status dit_load(dit_runner *r, vd_gen_plan *p, vd_error *err) {
    memset(r, 0, sizeof *r);
    r->dev = p->o.device;
    const vd_wan_config *c = &p->dit_files.config;
    if (r->dev == VD_DEVICE_CPU) return vd_wan_weights_load_cpu(&r->w, &p->dit_files, err);
    VD_TRY(vd_cuda_ctx_create(&r->cu, p->o.cuda_device, err));
    const int64_t F = p->lat[1] / c->patch[0], Hp = p->lat[2] / c->patch[1], Wp = p->lat[3] / c->patch[2];
    VD_TRY(vd_wan_cuda_create(&r->wc, r->cu, &p->dit_files, F * Hp * Wp, VD_GEN_TEXT_LEN, err));
    if (p->attn) { // the method's largest per-layer workspace, reserved before any forward
        vd_wan_attn_call call = {0};
        call.method = p->attn;
        call.ctx.n_layers = c->n_layers;
        call.ctx.n_steps = p->s.steps;
        call.ctx.F = (int)F;
        call.ctx.Hp = (int)Hp;
        call.ctx.Wp = (int)Wp;
        size_t ws = 0;
        for (int step = 0; step < p->s.steps; step++)
            for (int l = 0; l < c->n_layers; l++) {
                call.ctx.step = step;
                call.ctx.layer = l;
                for (int b = 0; b < 2; b++) {
                    call.ctx.branch = b ? VD_ATTN_UNCOND : VD_ATTN_COND;
                    size_t n = vd_wan_self_attention_ws(&call, VD_DEVICE_CUDA, 1, F * Hp * Wp, c->n_heads, c->head_dim);
                    if (n > ws) ws = n;
                }
            }
        if (ws) VD_TRY(vd_wan_cuda_reserve_attn_ws(r->wc, ws, err));
    }
    return VD_OK;
}

static vd_status dit_forward(dit_runner *r, const vd_gen_plan *p, const float *x, float t, const float *ctx,
                             const vd_wan_run_info *info, float *out, vd_error *err) {
    const int64_t *L = p->lat;
    if (r->dev == VD_DEVICE_CPU)
        return vd_wan_forward_cpu(&r->w, x, &t, ctx, 1, L[1], L[2], L[3], VD_GEN_TEXT_LEN, info, out, err);
    return vd_wan_cuda_forward_host(r->wc, x, &t, ctx, 1, L[1], L[2], L[3], VD_GEN_TEXT_LEN, info, out, err);
}

static size_t dit_free(dit_runner *r) {
    size_t peak = r->cu ? vd_cuda_peak_bytes(r->cu) : 0;
    vd_wan_cuda_free(r->wc);
    vd_cuda_ctx_free(r->cu);
    vd_wan_weights_free(&r->w);
    memset(r, 0, sizeof *r);
    return peak;
}

// Initial latent: Philox normals (same values on CPU and GPU for a seed) or the --init-latent tensor.
static vd_status initial_latent(const vd_gen_plan *p, float *x, int64_t n, vd_error *err) {
    if (!p->o.init_latent) {
        vd_rng_normal_cpu(x, n, p->seed, 0);
        return VD_OK;
    }
    vd_st_file *f = NULL;
    VD_TRY(vd_st_open(&f, p->o.init_latent, err));
    const vd_st_tensor *t = vd_st_find(f, p->init_tensor);
    vd_status s = t ? vd_st_read_f32(t, x, 0, NULL, err)
                    : vd_error_set(err, VD_ERR_FORMAT, "--init-latent %s: tensor '%s' disappeared", p->o.init_latent, p->init_tensor);
    vd_st_close(f);
    return s;
}

// The frame callback: streams each decoded frame to the sink, timing the writes as their own
// stage and counting the frames the sink took.
typedef struct {
    const vd_frame_sink *sink;
    vd_stages *st;
    int64_t frames;
} frame_pump;

static vd_status on_frame(void *user, const vd_vae_frame *fr, vd_error *err) {
    frame_pump *k = user;
    vd_stages_end(k->st, "decode");
    vd_stages_begin(k->st, "write");
    vd_status s = k->sink->write(k->sink->ctx, fr->rgb, err);
    vd_stages_end(k->st, "write");
    vd_stages_begin(k->st, "decode");
    if (!s) k->frames++;
    return s;
}

static vd_status save_latents(const vd_gen_plan *p, const float *x0, const float *x, vd_error *err) {
    vd_st_write_entry e[2] = {{"latent", VD_F32, 4, p->lat, x}, {"init_latent", VD_F32, 4, p->lat, x0}};
    char meta[512];
    snprintf(meta, sizeof meta,
             "{\"producer\": \"vdit generate\", \"seed\": \"%llu\", \"steps\": \"%d\", \"shift\": \"%g\", \"guidance\": \"%g\", "
             "\"sampler\": \"%s\", \"latent\": \"final (normalized; the VAE adds mean/std)\"}",
             (unsigned long long)p->seed, p->s.steps, p->s.shift, p->s.guidance, vd_sampler_name(p->o.sampler));
    return vd_st_write(p->o.save_latent, e, 2, meta, err);
}

vd_status vd_gen_run(vd_gen_plan *p, vd_gen_result *res, vd_error *err) {
    memset(res, 0, sizeof *res);
    const bool cuda = p->o.device == VD_DEVICE_CUDA;
    const int blas_threads_before = openblas_get_num_threads ? openblas_get_num_threads() : 0;
    if (p->o.threads > 0) {
#ifdef _OPENMP
        omp_set_num_threads(p->o.threads);
#endif
        if (openblas_set_num_threads) openblas_set_num_threads(p->o.threads);
    } else if (!cuda && openblas_set_num_threads && !getenv("OPENBLAS_NUM_THREADS")) {
        const vd_wan_config *c = &p->dit_files.config;
        const int64_t tokens = (p->lat[1] / c->patch[0]) * (p->lat[2] / c->patch[1]) * (p->lat[3] / c->patch[2]);
        if (tokens < VD_GEN_SMALL_TOKENS) openblas_set_num_threads(1);
    }
#ifdef _OPENMP
    res->omp_threads = omp_get_max_threads();
#endif
    res->blas_threads = openblas_get_num_threads ? openblas_get_num_threads() : 0;
    const int64_t n = p->lat[0] * p->lat[1] * p->lat[2] * p->lat[3];
    const int64_t Lt = VD_GEN_TEXT_LEN;
    vd_stages st;
    vd_stages_init(&st);
    float *emb[2] = {NULL, NULL};
    float *x = NULL, *x0 = NULL, *vc = NULL, *vu = NULL;
    dit_runner dit = {0};
    vd_scheduler sched = {0};
    vd_vae *vae = NULL;
    const vd_frame_sink *sink = p->o.sink;
    bool sink_open = false;
    bool latent_written = false;
    size_t peak_dev = 0;
    vd_status s = VD_OK;

    // 1. Text: prompt and negative prompt (Wan prompt_clean inside), encoder freed on return.
    vd_stages_begin(&st, "encode");
    const char *texts[2] = {p->o.prompt, p->s.negative_prompt};
    int n_real[2] = {0, 0};
    int64_t d_model = 0;
    s = vd_wan_text_encode(p->dir.root, p->dir.tokenizer, texts, p->cfg ? 2 : 1, (int)Lt, cuda ? VD_UMT5_CUDA : VD_UMT5_CPU, emb,
                           n_real, NULL, &d_model, err);
    vd_stages_end(&st, "encode");
    if (s) { vd_error_prefix(err, "text encoder"); goto done; }
    res->n_real_prompt = n_real[0];
    res->n_real_negative = p->cfg ? n_real[1] : 0;
    if (d_model != p->text_dim) {
        s = vd_error_set(err, VD_ERR_FORMAT, "model: text encoder width %lld differs from the transformer's text_dim %lld",
                         (long long)d_model, (long long)p->text_dim);
        goto done;
    }

    // 2. DiT and the initial latent.
    vd_stages_begin(&st, "load");
    s = dit_load(&dit, p, err);
    vd_stages_end(&st, "load");
    if (s) { vd_error_prefix(err, "transformer"); goto done; }
    x = vd_host_alloc((size_t)n * 4);
    x0 = vd_host_alloc((size_t)n * 4);
    vc = vd_host_alloc((size_t)n * 4);
    vu = p->cfg ? vd_host_alloc((size_t)n * 4) : NULL;
    if (!x || !x0 || !vc || (p->cfg && !vu)) {
        s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "generate: latent buffers (4 x %lld floats)", (long long)n);
        goto done;
    }
    if ((s = initial_latent(p, x0, n, err))) goto done;
    memcpy(x, x0, (size_t)n * 4);

    // 3. Denoising loop.
    if ((s = vd_scheduler_init(&sched, p->o.sampler, p->s.steps, p->s.shift, n, err))) goto done;
    vd_stages_begin(&st, "denoise");
    vd_progress prog;
    vd_progress_begin(&prog, "denoise", p->s.steps);
    const float g = (float)p->s.guidance;
    for (int i = 0; i < p->s.steps && !s; i++) {
        const float t = (float)sched.timesteps[i];
        vd_wan_run_info info;
        vd_wan_run_info_init(&info);
        info.step = i;
        info.n_steps = p->s.steps;
        info.self_attn = p->attn;
        info.branch = VD_ATTN_COND;
        if ((s = dit_forward(&dit, p, x, t, emb[0], &info, vc, err))) break;
        if (p->cfg) {
            info.branch = VD_ATTN_UNCOND;
            if ((s = dit_forward(&dit, p, x, t, emb[1], &info, vu, err))) break;
            for (int64_t k = 0; k < n; k++) vc[k] = vu[k] + g * (vc[k] - vu[k]);
        }
        s = vd_scheduler_step(&sched, vc, x, err);
        vd_progress_step(&prog, 1);
    }
    vd_progress_end(&prog);
    vd_stages_end(&st, "denoise");
    if (p->attn) vd_attn_reset(p->attn);
    peak_dev = dit_free(&dit);
    if (s) { vd_error_prefix(err, "denoising"); goto done; }
    for (int64_t k = 0; k < n; k++)
        if (!isfinite(x[k])) {
            s = vd_error_set(err, VD_ERR_INTERNAL, "denoising produced a non-finite latent value at element %lld", (long long)k);
            goto done;
        }
    if (p->o.save_latent) {
        if ((s = save_latents(p, x0, x, err))) goto done;
        latent_written = true;
    }
    for (int i = 0; i < 2; i++) { free(emb[i]); emb[i] = NULL; }
    vd_host_free(vc); vc = NULL;
    vd_host_free(vu); vu = NULL;

    // 4. VAE decode, frames streamed into the sink.
    vd_stages_begin(&st, "load");
    s = vd_vae_load(&vae, p->dir.vae, err);
    vd_stages_end(&st, "load");
    if (s) { vd_error_prefix(err, "VAE"); goto done; }
    if ((s = sink->open(sink->ctx, p->o.output, p->s.width, p->s.height, p->s.fps, err))) goto done;
    sink_open = true;
    vd_vae_decode_opts vo;
    vd_vae_decode_opts_default(&vo);
    vo.denormalize = true;
    vo.device = p->o.device;
    vo.cuda_device = p->o.cuda_device;
    frame_pump k = {sink, &st, 0};
    vd_vae_decode_stats vs;
    vd_stages_begin(&st, "decode");
    s = vd_vae_decode(vae, x, p->lat[0], p->lat[1], p->lat[2], p->lat[3], &vo, on_frame, &k, &vs, err);
    vd_stages_end(&st, "decode");
    if (s) { vd_error_prefix(err, "VAE decode"); goto done; }
    if (cuda && vs.peak_device_bytes > peak_dev) peak_dev = vs.peak_device_bytes;
    res->frames_written = k.frames;
    vd_stages_begin(&st, "write");
    s = sink->close(sink->ctx, err);
    sink_open = false;
    vd_stages_end(&st, "write");
    if (s) goto done;

    res->load_s = vd_stages_seconds(&st, "load");
    res->encode_s = vd_stages_seconds(&st, "encode");
    res->denoise_s = vd_stages_seconds(&st, "denoise");
    res->decode_s = vd_stages_seconds(&st, "decode");
    res->write_s = vd_stages_seconds(&st, "write");
    res->total_s = vd_monotonic_s() - st.t_created;
    res->peak_host_bytes = vd_host_peak_rss();
    res->peak_device_bytes = peak_dev;
    if (p->o.sidecar && (s = vd_gen_write_sidecar(p, res, p->sidecar_path, err))) {
        if (sink->remove) sink->remove(sink->ctx); // the video without its settings would not be reproducible: all or nothing
        goto done;
    }
    vd_stages_print(&st, stderr, peak_dev);
done:
    if (openblas_set_num_threads && blas_threads_before > 0) openblas_set_num_threads(blas_threads_before);
    if (sink_open) sink->abort(sink->ctx);
    if (s && latent_written) unlink(p->o.save_latent);
    vd_vae_free(vae);
    dit_free(&dit);
    vd_scheduler_free(&sched);
    for (int i = 0; i < 2; i++) free(emb[i]);
    vd_host_free(x);
    vd_host_free(x0);
    vd_host_free(vc);
    vd_host_free(vu);
    return s;
}
