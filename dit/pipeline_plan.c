// vd_gen_prepare: every check that costs no weight loading, so a run fails in a second with a
// message naming the fix instead of after minutes of denoising.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dit/pipeline.h"
#include "dit/vae_config.h"
#include "dit/wan_dit.h"
#include "lib/device.h"
#include "lib/safetensors.h"

// Adds context to a failed call's message; passes OK through.
static vd_status pfx(vd_status s, vd_error *err, const char *what) {
    return s ? vd_error_prefix(err, "%s", what) : s;
}

void vd_gen_opts_init(vd_gen_opts *o) {
    memset(o, 0, sizeof *o);
    o->guidance = NAN;
    o->shift = NAN;
    o->seed = 42;
    o->sampler = VD_SAMPLER_UNIPC;
    o->device = VD_DEVICE_CPU;
    o->sidecar = true;
}

// The directory part of path ("." when none).
static void dir_of(const char *path, char *out, size_t cap) {
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(out, cap, ".");
    else if (slash == path) snprintf(out, cap, "/");
    else snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

// An output file can be created at path: its directory exists and is writable, path is not a directory.
static vd_status check_writable(const char *path, const char *what, vd_error *err) {
    char dir[VD_PATH_CAP];
    dir_of(path, dir, sizeof dir);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return vd_error_set(err, VD_ERR_IO, "%s '%s': directory '%s' does not exist (create it or choose another path)", what,
                            path, dir);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return vd_error_set(err, VD_ERR_IO, "%s '%s' is a directory; give a file name (e.g. %s/out.mp4)", what, path, path);
    // Probe by creating (and removing) a file: permission bits alone miss read-only mounts and
    // special file systems, and root passes every access() check.
    char probe[VD_PATH_CAP + 64];
    snprintf(probe, sizeof probe, "%s/.vdit_probe_%ld", dir, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return vd_error_set(err, VD_ERR_IO, "%s '%s': cannot create files in directory '%s' (%s); choose another path", what,
                            path, dir, strerror(errno));
    close(fd);
    unlink(probe);
    return VD_OK;
}

// Finds the initial latent in a safetensors file: "init_latent", "latent", or the only tensor.
static vd_status check_init_latent(vd_gen_plan *p, vd_error *err) {
    vd_st_file *f = NULL;
    VD_TRY(vd_st_open(&f, p->o.init_latent, err));
    const vd_st_tensor *t = vd_st_find(f, "init_latent");
    if (!t) t = vd_st_find(f, "latent");
    if (!t && vd_st_count(f) == 1) t = vd_st_at(f, 0);
    vd_status s = VD_OK;
    if (!t) {
        s = vd_error_set(err, VD_ERR_FORMAT, "--init-latent %s: no tensor named 'init_latent' or 'latent' (and more than one tensor)",
                         p->o.init_latent);
    } else {
        const int64_t *L = p->lat;
        const int off = t->ndim == 5 ? 1 : 0;
        bool ok = (t->ndim == 4 || (t->ndim == 5 && t->shape[0] == 1)) && (t->dtype == VD_F32 || t->dtype == VD_F16 ||
                                                                t->dtype == VD_BF16 || t->dtype == VD_F64);
        for (int i = 0; ok && i < 4; i++) ok = t->shape[off + i] == L[i];
        if (!ok) {
            char sh[128] = "[";
            size_t n = 1;
            for (int i = 0; i < t->ndim; i++) n += (size_t)snprintf(sh + n, sizeof sh - n, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
            snprintf(sh + n, sizeof sh - n, "] %s", vd_dtype_name(t->dtype));
            s = vd_error_set(err, VD_ERR_INVALID_ARG,
                             "--init-latent %s: tensor '%s' is %s; this run needs a float [%lld, %lld, %lld, %lld] (or [1, ...]) "
                             "latent: channels, (frames-1)/%d+1, height/%d, width/%d",
                             p->o.init_latent, t->name, sh, (long long)L[0], (long long)L[1], (long long)L[2], (long long)L[3],
                             p->temporal, p->spatial, p->spatial);
        } else {
            p->init_tensor = strdup(t->name);
        }
    }
    vd_st_close(f);
    return s;
}

static vd_status prepare(vd_gen_plan *p, const vd_gen_opts *o, vd_error *err) {
    p->o = *o;
    if (!o->prompt) return vd_error_set(err, VD_ERR_INVALID_ARG, "no prompt: pass --prompt \"...\"");
    if (!o->output || !*o->output) return vd_error_set(err, VD_ERR_INVALID_ARG, "no output: pass -o FILE.mp4");
    // Settings that do not need the model.
    if (o->width && (o->width < 16 || o->width % 16))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "--width %d must be a positive multiple of 16 (e.g. %d)", o->width,
                            o->width < 16 ? 16 : o->width / 16 * 16);
    if (o->height && (o->height < 16 || o->height % 16))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "--height %d must be a positive multiple of 16 (e.g. %d)", o->height,
                            o->height < 16 ? 16 : o->height / 16 * 16);
    if (o->frames && (o->frames < 1 || (o->frames - 1) % 4))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "--frames %d must be 4k+1 (e.g. %d or %d)", o->frames,
                            o->frames < 1 ? 1 : (o->frames - 1) / 4 * 4 + 1, o->frames < 1 ? 5 : (o->frames - 1) / 4 * 4 + 5);
    if (o->steps && (o->steps < 1 || o->steps > 1000))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "--steps %d must be in [1, 1000]", o->steps);
    if (o->fps && (o->fps < 1 || o->fps > 1000)) return vd_error_set(err, VD_ERR_INVALID_ARG, "--fps %d must be in [1, 1000]", o->fps);
    if (!isnan(o->guidance) && !(o->guidance >= 0 && o->guidance <= 100))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "--guidance %g must be in [0, 100] (values <= 1 turn guidance off)", o->guidance);
    if (!isnan(o->shift) && !(o->shift > 0 && o->shift <= 1000))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "--shift %g must be in (0, 1000]", o->shift);
    if (o->threads < 0 || o->threads > 4096) return vd_error_set(err, VD_ERR_INVALID_ARG, "--threads %d must be in [0, 4096]", o->threads);
    if (o->device != VD_DEVICE_CPU && o->device != VD_DEVICE_CUDA)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "device must be cpu or cuda");
    if (o->device == VD_DEVICE_CUDA && !vd_cuda_available())
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "--device cuda: %s; use --device cpu",
#ifdef VDIT_HAVE_CUDA
                            "no usable CUDA device"
#else
                            "this vdit build has no CUDA (configure with -DVDIT_CUDA=ON)"
#endif
        );
    // Output: the sink's own check (format known and built in), then the place.
    const vd_frame_sink *k = o->sink;
    if (!k || !k->open || !k->write || !k->close || !k->abort)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_gen_prepare: %s (open, write, close and abort are required; "
                            "apps/frame_sink_video.h has one for video files)", k ? "the frame sink lacks a callback" : "no frame sink");
    memset(&p->out_info, 0, sizeof p->out_info);
    if (k->check) VD_TRY(k->check(k->ctx, o->output, &p->out_info, err));
    p->out_info.format[VD_GEN_FORMAT_CAP - 1] = 0;
    if (!p->out_info.format[0]) snprintf(p->out_info.format, sizeof p->out_info.format, "unspecified");
    VD_TRY(check_writable(o->output, "output", err));
    if (p->out_info.frame_files) {
        char d[VD_PATH_CAP];
        dir_of(o->output, d, sizeof d);
        snprintf(p->sidecar_path, sizeof p->sidecar_path, "%s/generate.json", d);
    } else {
        snprintf(p->sidecar_path, sizeof p->sidecar_path, "%s.json", o->output);
    }
    if (o->save_latent) VD_TRY(check_writable(o->save_latent, "--save-latent", err));
    // Attention method and options.
    if (o->attention && strcmp(o->attention, "dense")) {
        if (!vd_attn_method_find(o->attention)) {
            char names[512] = "";
            size_t n = 0;
            for (int i = 0; i < vd_attn_method_count() && n < sizeof names; i++)
                n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", vd_attn_method_at(i)->name);
            return vd_error_set(err, VD_ERR_INVALID_ARG, "--attention '%s' is not a known method (known: %s; see `vdit attention list`)",
                                o->attention, names);
        }
    }
    if (o->n_attn_opts > 0 || (o->attention && strcmp(o->attention, "dense"))) {
        VD_TRY(vd_attn_create(&p->attn, o->attention ? o->attention : "dense", err));
        for (int i = 0; i < o->n_attn_opts; i++) VD_TRY(pfx(vd_attn_set(p->attn, o->attn_opts[i], err), err, "--attn-opt"));
    }
    // Model folder: layout, defaults, DiT and VAE configs.
    char model[VD_PATH_CAP];
    if (o->model) snprintf(model, sizeof model, "%s", o->model);
    else VD_TRY(vd_model_dir_default(model, sizeof model, err));
    VD_TRY(vd_model_dir_open(&p->dir, model, err));
    p->o.model = p->dir.root;
    vd_gen_defaults_unset(&p->s);
    p->s.width = o->width;
    p->s.height = o->height;
    p->s.frames = o->frames;
    p->s.steps = o->steps;
    p->s.fps = o->fps;
    p->s.guidance = o->guidance;
    p->s.shift = o->shift;
    if (o->negative_prompt) p->s.negative_prompt = strdup(o->negative_prompt);
    vd_gen_defaults_fill(&p->s, &p->dir.defaults);
    vd_gen_defaults wan;
    vd_gen_defaults_wan(&wan);
    vd_gen_defaults_fill(&p->s, &wan);
    vd_gen_defaults_free(&wan);
    if (!p->s.negative_prompt) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "negative prompt");
    if (p->s.width % 16 || p->s.height % 16 || (p->s.frames - 1) % 4)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "model defaults %dx%d, %d frames break the rules (sizes multiples of 16, frames 4k+1): "
                            "pass --width/--height/--frames", p->s.width, p->s.height, p->s.frames);
    p->cfg = p->s.guidance > 1.0;
    if (o->seed >= 0) {
        p->seed = (uint64_t)o->seed;
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        p->seed = ((uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 20) & 0x7fffffffffffffffull;
    }

    vd_vae_config vc;
    char vcp[VD_PATH_CAP + 16];
    snprintf(vcp, sizeof vcp, "%s/config.json", p->dir.vae);
    VD_TRY(pfx(vd_vae_config_load(&vc, vcp, err), err, "model VAE"));
    p->spatial = vd_vae_spatial_factor(&vc);
    p->temporal = (int)(vd_vae_out_frames(&vc, 2) - 1);
    if (p->s.width % p->spatial || p->s.height % p->spatial || (p->s.frames - 1) % p->temporal)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "the VAE needs width/height multiples of %d and frames %dk+1", p->spatial,
                            p->temporal);
    VD_TRY(pfx(vd_wan_model_open(&p->dit_files, p->dir.transformer, err), err, "model transformer"));
    const vd_wan_config *c = &p->dit_files.config;
    if (c->in_channels != vc.z_dim || c->out_channels != vc.z_dim)
        return vd_error_set(err, VD_ERR_FORMAT, "model: transformer in/out channels %d/%d differ from the VAE's z_dim %d", c->in_channels,
                            c->out_channels, vc.z_dim);
    p->lat[0] = vc.z_dim;
    p->lat[1] = (p->s.frames - 1) / p->temporal + 1;
    p->lat[2] = p->s.height / p->spatial;
    p->lat[3] = p->s.width / p->spatial;
    VD_TRY(vd_wan_check_input(c, 1, p->lat[1], p->lat[2], p->lat[3], VD_GEN_TEXT_LEN, err));
    p->text_dim = c->text_dim;
    if (o->init_latent) VD_TRY(check_init_latent(p, err));
    return VD_OK;
}

vd_status vd_gen_prepare(vd_gen_plan *p, const vd_gen_opts *o, vd_error *err) {
    memset(p, 0, sizeof *p);
    vd_gen_defaults_unset(&p->s);
    vd_status s = prepare(p, o, err);
    if (s) vd_gen_plan_free(p);
    return s;
}

void vd_gen_plan_free(vd_gen_plan *p) {
    if (!p) return;
    vd_attn_free(p->attn);
    p->attn = NULL;
    if (p->dit_files.set) vd_wan_model_close(&p->dit_files);
    memset(&p->dit_files, 0, sizeof p->dit_files);
    vd_model_dir_close(&p->dir);
    vd_gen_defaults_free(&p->s);
    free(p->init_tensor);
    p->init_tensor = NULL;
}
