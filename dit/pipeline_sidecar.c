// The JSON sidecar next to a generated video: every setting that determines the frames (model
// path, prompt, negative prompt, sizes, steps, sampler, guidance, shift, seed or init latent,
// attention method and its effective config, device) plus versions, timings and peak memory.
// Re-running `vdit generate` with these values reproduces the video: bit-exactly on the same
// device and build with the same CPU thread counts (omp_threads, blas_threads: the CPU reductions
// are split by thread, so other counts change low bits).
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dit/pipeline.h"

static cJSON *attention_json(const vd_gen_plan *p) {
    cJSON *a = cJSON_CreateObject();
    const vd_attn_method *m = p->attn ? vd_attn_get_method(p->attn) : NULL;
    cJSON_AddStringToObject(a, "method", m ? m->name : "dense");
    cJSON *opts = cJSON_AddArrayToObject(a, "options");
    for (int i = 0; i < p->o.n_attn_opts; i++) cJSON_AddItemToArray(opts, cJSON_CreateString(p->o.attn_opts[i]));
    if (m) { // the effective config, every field (defaults included)
        cJSON *cfg = cJSON_AddObjectToObject(a, "config");
        for (int i = 0; i < m->n_params; i++) {
            char buf[VD_ATTN_STRING_CAP + 8];
            vd_attn_param_format(&m->params[i], vd_attn_get_cfg(p->attn), buf, sizeof buf);
            cJSON_AddStringToObject(cfg, m->params[i].name, buf);
        }
    }
    return a;
}

vd_status vd_gen_write_sidecar(const vd_gen_plan *p, const vd_gen_result *r, const char *path, vd_error *err) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "producer", "vdit generate");
    cJSON *ver = cJSON_AddObjectToObject(j, "versions");
    cJSON_AddStringToObject(ver, "vdit", VD_VERSION_STRING);
#ifdef VDIT_HAVE_CUDA
    cJSON_AddBoolToObject(ver, "cuda_build", 1);
#else
    cJSON_AddBoolToObject(ver, "cuda_build", 0);
#endif
    cJSON_AddStringToObject(ver, "compiler", __VERSION__);
    char when[64];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    cJSON_AddStringToObject(j, "created", when);
    cJSON_AddStringToObject(j, "model", p->dir.root);
    char desc[512];
    vd_wan_config_describe(&p->dit_files.config, desc, sizeof desc);
    cJSON_AddStringToObject(j, "transformer", desc);
    cJSON_AddStringToObject(j, "prompt", p->o.prompt);
    cJSON_AddStringToObject(j, "negative_prompt", p->s.negative_prompt);
    cJSON_AddNumberToObject(j, "width", p->s.width);
    cJSON_AddNumberToObject(j, "height", p->s.height);
    cJSON_AddNumberToObject(j, "frames", p->s.frames);
    cJSON_AddNumberToObject(j, "steps", p->s.steps);
    cJSON_AddNumberToObject(j, "guidance", p->s.guidance);
    cJSON_AddBoolToObject(j, "cfg", p->cfg);
    cJSON_AddNumberToObject(j, "shift", p->s.shift);
    cJSON_AddStringToObject(j, "sampler", vd_sampler_name(p->o.sampler));
    // The seed as a string too: JSON numbers lose integers above 2^53 in many readers.
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)p->seed);
    cJSON_AddStringToObject(j, "seed", seed);
    cJSON_AddStringToObject(j, "noise", p->o.init_latent ? "init_latent" : "philox4x32-10 normal (vdit lib/rng.h), offset 0");
    if (p->o.init_latent) {
        cJSON_AddStringToObject(j, "init_latent", p->o.init_latent);
        cJSON_AddStringToObject(j, "init_latent_tensor", p->init_tensor);
    } else {
        cJSON_AddNullToObject(j, "init_latent");
    }
    cJSON *lat = cJSON_AddArrayToObject(j, "latent_shape");
    for (int i = 0; i < 4; i++) cJSON_AddItemToArray(lat, cJSON_CreateNumber((double)p->lat[i]));
    cJSON_AddNumberToObject(j, "text_len", VD_GEN_TEXT_LEN);
    cJSON_AddNumberToObject(j, "prompt_tokens", r->n_real_prompt);
    cJSON_AddNumberToObject(j, "negative_prompt_tokens", r->n_real_negative);
    cJSON_AddItemToObject(j, "attention", attention_json(p));
    cJSON_AddStringToObject(j, "device", vd_device_name(p->o.device));
    cJSON_AddNumberToObject(j, "threads", p->o.threads);
    cJSON_AddNumberToObject(j, "omp_threads", r->omp_threads);
    cJSON_AddNumberToObject(j, "blas_threads", r->blas_threads);
    cJSON_AddNumberToObject(j, "fps", p->s.fps);
    cJSON_AddStringToObject(j, "output", p->o.output);
    cJSON_AddStringToObject(j, "format", p->out_info.format);
    cJSON_AddNumberToObject(j, "frames_written", (double)r->frames_written);
    if (p->o.save_latent) cJSON_AddStringToObject(j, "save_latent", p->o.save_latent);
    cJSON *t = cJSON_AddObjectToObject(j, "seconds");
    cJSON_AddNumberToObject(t, "load", r->load_s);
    cJSON_AddNumberToObject(t, "encode", r->encode_s);
    cJSON_AddNumberToObject(t, "denoise", r->denoise_s);
    cJSON_AddNumberToObject(t, "decode", r->decode_s);
    cJSON_AddNumberToObject(t, "write", r->write_s);
    cJSON_AddNumberToObject(t, "total", r->total_s);
    cJSON_AddNumberToObject(j, "peak_host_bytes", (double)r->peak_host_bytes);
    cJSON_AddNumberToObject(j, "peak_device_bytes", (double)r->peak_device_bytes);
    char *txt = cJSON_Print(j);
    cJSON_Delete(j);
    if (!txt) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "sidecar %s: JSON", path);
    char tmp[VD_PATH_CAP + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    vd_status s = VD_OK;
    if (!f) {
        s = vd_error_set(err, VD_ERR_IO, "sidecar %s: %s", tmp, strerror(errno));
    } else {
        size_t len = strlen(txt);
        bool ok = fwrite(txt, 1, len, f) == len && fputc('\n', f) != EOF;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, path) != 0) {
            s = vd_error_set(err, VD_ERR_IO, "sidecar %s: write failed (%s)", path, strerror(errno));
            unlink(tmp);
        }
    }
    free(txt);
    return s;
}
