// Wan2.1 diffusers model folder: layout check, default settings, the bundled model's location.
#include "dit/model_dir.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/path.h"

// Wan-Video/Wan2.1 wan/configs/shared_config.py sample_neg_prompt (used when no negative prompt is given).
static const char WAN_NEG_PROMPT[] =
    "\xe8\x89\xb2\xe8\xb0\x83\xe8\x89\xb3\xe4\xb8\xbd\xef\xbc\x8c\xe8\xbf\x87\xe6\x9b\x9d\xef\xbc\x8c\xe9\x9d\x99\xe6"
    "\x80\x81\xef\xbc\x8c\xe7\xbb\x86\xe8\x8a\x82\xe6\xa8\xa1\xe7\xb3\x8a\xe4\xb8\x8d\xe6\xb8\x85\xef\xbc\x8c\xe5\xad"
    "\x97\xe5\xb9\x95\xef\xbc\x8c\xe9\xa3\x8e\xe6\xa0\xbc\xef\xbc\x8c\xe4\xbd\x9c\xe5\x93\x81\xef\xbc\x8c\xe7\x94\xbb"
    "\xe4\xbd\x9c\xef\xbc\x8c\xe7\x94\xbb\xe9\x9d\xa2\xef\xbc\x8c\xe9\x9d\x99\xe6\xad\xa2\xef\xbc\x8c\xe6\x95\xb4\xe4"
    "\xbd\x93\xe5\x8f\x91\xe7\x81\xb0\xef\xbc\x8c\xe6\x9c\x80\xe5\xb7\xae\xe8\xb4\xa8\xe9\x87\x8f\xef\xbc\x8c\xe4\xbd"
    "\x8e\xe8\xb4\xa8\xe9\x87\x8f\xef\xbc\x8cJPEG\xe5\x8e\x8b\xe7\xbc\xa9\xe6\xae\x8b\xe7\x95\x99\xef\xbc\x8c\xe4\xb8"
    "\x91\xe9\x99\x8b\xe7\x9a\x84\xef\xbc\x8c\xe6\xae\x8b\xe7\xbc\xba\xe7\x9a\x84\xef\xbc\x8c\xe5\xa4\x9a\xe4\xbd\x99"
    "\xe7\x9a\x84\xe6\x89\x8b\xe6\x8c\x87\xef\xbc\x8c\xe7\x94\xbb\xe5\xbe\x97\xe4\xb8\x8d\xe5\xa5\xbd\xe7\x9a\x84\xe6"
    "\x89\x8b\xe9\x83\xa8\xef\xbc\x8c\xe7\x94\xbb\xe5\xbe\x97\xe4\xb8\x8d\xe5\xa5\xbd\xe7\x9a\x84\xe8\x84\xb8\xe9\x83"
    "\xa8\xef\xbc\x8c\xe7\x95\xb8\xe5\xbd\xa2\xe7\x9a\x84\xef\xbc\x8c\xe6\xaf\x81\xe5\xae\xb9\xe7\x9a\x84\xef\xbc\x8c"
    "\xe5\xbd\xa2\xe6\x80\x81\xe7\x95\xb8\xe5\xbd\xa2\xe7\x9a\x84\xe8\x82\xa2\xe4\xbd\x93\xef\xbc\x8c\xe6\x89\x8b\xe6"
    "\x8c\x87\xe8\x9e\x8d\xe5\x90\x88\xef\xbc\x8c\xe9\x9d\x99\xe6\xad\xa2\xe4\xb8\x8d\xe5\x8a\xa8\xe7\x9a\x84\xe7\x94"
    "\xbb\xe9\x9d\xa2\xef\xbc\x8c\xe6\x9d\x82\xe4\xb9\xb1\xe7\x9a\x84\xe8\x83\x8c\xe6\x99\xaf\xef\xbc\x8c\xe4\xb8\x89"
    "\xe6\x9d\xa1\xe8\x85\xbf\xef\xbc\x8c\xe8\x83\x8c\xe6\x99\xaf\xe4\xba\xba\xe5\xbe\x88\xe5\xa4\x9a\xef\xbc\x8c\xe5"
    "\x80\x92\xe7\x9d\x80\xe8\xb5\xb0";

void vd_gen_defaults_unset(vd_gen_defaults *d) {
    memset(d, 0, sizeof *d);
    d->guidance = NAN;
    d->shift = NAN;
}

void vd_gen_defaults_free(vd_gen_defaults *d) {
    free(d->negative_prompt);
    d->negative_prompt = NULL;
}

void vd_gen_defaults_wan(vd_gen_defaults *d) {
    vd_gen_defaults_unset(d);
    d->width = 832;
    d->height = 480;
    d->frames = 81;
    d->steps = 50;
    d->fps = 16;
    d->guidance = 5.0;
    d->shift = 3.0;
    d->negative_prompt = strdup(WAN_NEG_PROMPT);
}

void vd_gen_defaults_fill(vd_gen_defaults *d, const vd_gen_defaults *s) {
    if (!d->width) d->width = s->width;
    if (!d->height) d->height = s->height;
    if (!d->frames) d->frames = s->frames;
    if (!d->steps) d->steps = s->steps;
    if (!d->fps) d->fps = s->fps;
    if (isnan(d->guidance)) d->guidance = s->guidance;
    if (isnan(d->shift)) d->shift = s->shift;
    if (!d->negative_prompt && s->negative_prompt) d->negative_prompt = strdup(s->negative_prompt);
}

// Reads a whole (small) text file; NULL with errno set on failure.
static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char tmp[8192];
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); return NULL; }
            buf = nb;
        }
        memcpy(buf + len, tmp, n);
        len += n;
    }
    fclose(f);
    if (!buf) buf = calloc(1, 1);
    else buf[len] = 0;
    return buf;
}

static vd_status parse_json_file(const char *path, cJSON **out, vd_error *err) {
    char *txt = read_text(path);
    if (!txt) return vd_error_set(err, VD_ERR_IO, "model folder: cannot read %s: %s", path, strerror(errno));
    *out = cJSON_Parse(txt);
    free(txt);
    if (!*out) return vd_error_set(err, VD_ERR_FORMAT, "model folder: %s is not valid JSON", path);
    return VD_OK;
}

// Reads an int field in [lo, hi] when present.
static vd_status json_int(const cJSON *o, const char *key, int lo, int hi, int *out, const char *path, vd_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return VD_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi)
        return vd_error_set(err, VD_ERR_FORMAT, "%s: \"%s\" must be an integer in [%d, %d]", path, key, lo, hi);
    *out = (int)v->valuedouble;
    return VD_OK;
}

static vd_status json_num(const cJSON *o, const char *key, double lo, double hi, double *out, const char *path,
                          vd_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return VD_OK;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        return vd_error_set(err, VD_ERR_FORMAT, "%s: \"%s\" must be a number in [%g, %g]", path, key, lo, hi);
    *out = v->valuedouble;
    return VD_OK;
}

static vd_status read_vdit_json(vd_model_dir *m, const char *path, vd_error *err) {
    cJSON *j = NULL;
    VD_TRY(parse_json_file(path, &j, err));
    vd_gen_defaults *d = &m->defaults;
    vd_status s = VD_OK;
    if (!cJSON_IsObject(j)) s = vd_error_set(err, VD_ERR_FORMAT, "%s: expected a JSON object", path);
    if (!s) s = json_int(j, "width", 16, 16384, &d->width, path, err);
    if (!s) s = json_int(j, "height", 16, 16384, &d->height, path, err);
    if (!s) s = json_int(j, "frames", 1, 100000, &d->frames, path, err);
    if (!s) s = json_int(j, "steps", 1, 1000, &d->steps, path, err);
    if (!s) s = json_int(j, "fps", 1, 1000, &d->fps, path, err);
    if (!s) s = json_num(j, "guidance", 0.0, 100.0, &d->guidance, path, err);
    if (!s) s = json_num(j, "shift", 1e-6, 1000.0, &d->shift, path, err);
    if (!s) {
        const cJSON *np = cJSON_GetObjectItemCaseSensitive(j, "negative_prompt");
        if (np && !cJSON_IsNull(np)) {
            if (!cJSON_IsString(np)) s = vd_error_set(err, VD_ERR_FORMAT, "%s: \"negative_prompt\" must be a string", path);
            else d->negative_prompt = strdup(np->valuestring);
        }
    }
    cJSON_Delete(j);
    return s;
}

static vd_status need(const char *path, bool dir, const char *what, const char *root, vd_error *err) {
    if (dir ? vd_is_dir(path) : vd_is_file(path)) return VD_OK;
    return vd_error_set(err, VD_ERR_IO,
                        "model folder '%s' has no %s (%s). Expected the Wan2.1 diffusers layout (WanPipeline.save_pretrained): "
                        "transformer/, text_encoder/, tokenizer/tokenizer.json, vae/, scheduler/scheduler_config.json; "
                        "pass --model DIR",
                        root, what, path);
}

vd_status vd_model_dir_open(vd_model_dir *m, const char *path, vd_error *err) {
    memset(m, 0, sizeof *m);
    vd_gen_defaults_unset(&m->defaults);
    if (!path || !*path) return vd_error_set(err, VD_ERR_INVALID_ARG, "model folder: empty path");
    if (!vd_is_dir(path))
        return vd_error_set(err, VD_ERR_IO, "model folder '%s' does not exist or is not a directory (pass --model DIR)", path);
    char abs[PATH_MAX];
    const char *root = realpath(path, abs) ? abs : path;
    if (strlen(root) + 40 >= VD_PATH_CAP) return vd_error_set(err, VD_ERR_INVALID_ARG, "model folder: path too long");
    snprintf(m->root, sizeof m->root, "%s", root);
    snprintf(m->transformer, VD_PATH_CAP, "%s/transformer", root);
    snprintf(m->text_encoder, VD_PATH_CAP, "%s/text_encoder", root);
    snprintf(m->tokenizer, VD_PATH_CAP, "%s/tokenizer/tokenizer.json", root);
    snprintf(m->vae, VD_PATH_CAP, "%s/vae", root);
    snprintf(m->scheduler_config, VD_PATH_CAP, "%s/scheduler/scheduler_config.json", root);
    char p[VD_PATH_CAP + 32];
    snprintf(p, sizeof p, "%s/model_index.json", root);
    VD_TRY(need(p, false, "model_index.json", path, err));
    VD_TRY(need(m->transformer, true, "transformer/ folder", path, err));
    VD_TRY(need(m->text_encoder, true, "text_encoder/ folder", path, err));
    VD_TRY(need(m->tokenizer, false, "tokenizer/tokenizer.json", path, err));
    VD_TRY(need(m->vae, true, "vae/ folder", path, err));
    snprintf(p, sizeof p, "%s/config.json", m->vae);
    VD_TRY(need(p, false, "vae/config.json", path, err));
    snprintf(p, sizeof p, "%s/config.json", m->text_encoder);
    VD_TRY(need(p, false, "text_encoder/config.json", path, err));
    VD_TRY(need(m->scheduler_config, false, "scheduler/scheduler_config.json", path, err));

    cJSON *sc = NULL;
    VD_TRY(parse_json_file(m->scheduler_config, &sc, err));
    vd_status s = json_num(sc, "flow_shift", 1e-6, 1000.0, &m->defaults.shift, m->scheduler_config, err);
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(sc, "prediction_type");
    if (!s && pt && cJSON_IsString(pt) && strcmp(pt->valuestring, "flow_prediction"))
        s = vd_error_set(err, VD_ERR_UNSUPPORTED, "%s: prediction_type \"%s\" is not supported (Wan2.1 uses flow_prediction)",
                         m->scheduler_config, pt->valuestring);
    cJSON_Delete(sc);
    if (s) return s;
    snprintf(p, sizeof p, "%s/vdit.json", root);
    if (vd_is_file(p)) {
        m->have_vdit_json = true;
        if ((s = read_vdit_json(m, p, err))) {
            vd_gen_defaults_free(&m->defaults);
            return s;
        }
    }
    return VD_OK;
}

void vd_model_dir_close(vd_model_dir *m) {
    if (m) vd_gen_defaults_free(&m->defaults);
}

// The source tree root: this file's compile-time path minus "dit/model_dir.c" (CMake compiles
// with absolute paths); "" when __FILE__ is relative.
static void source_root(char *out, size_t cap) {
    const char *f = __FILE__;
    const char *tail = "dit/model_dir.c";
    size_t n = strlen(f), t = strlen(tail);
    out[0] = 0;
    if (f[0] != '/' || n < t || strcmp(f + n - t, tail)) return;
    snprintf(out, cap, "%.*s", (int)(n - t), f);
}

vd_status vd_model_dir_default(char *out, size_t cap, vd_error *err) {
    char tried[3 * VD_PATH_CAP + 64] = "";
    size_t tl = 0;
    const char *env = getenv("VDIT_MODEL_DIR");
    if (env && *env) {
        if (vd_is_dir(env)) { snprintf(out, cap, "%s", env); return VD_OK; }
        tl += (size_t)snprintf(tried + tl, sizeof tried - tl, "$VDIT_MODEL_DIR=%s; ", env);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;   // the executable's directory
        const char *rel[] = {"../../assets/vdit-tiny", "../share/vdit/vdit-tiny", "../assets/vdit-tiny"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            char c[PATH_MAX + 64], r[PATH_MAX];
            snprintf(c, sizeof c, "%s/%s", exe, rel[i]);
            if (vd_is_dir(c) && realpath(c, r)) { snprintf(out, cap, "%s", r); return VD_OK; }
            if (tl < sizeof tried) tl += (size_t)snprintf(tried + tl, sizeof tried - tl, "%s; ", c);
        }
    }
    char src[VD_PATH_CAP];
    source_root(src, sizeof src);
    if (src[0]) {
        char c[VD_PATH_CAP + 32];
        snprintf(c, sizeof c, "%sassets/vdit-tiny", src);
        if (vd_is_dir(c)) { snprintf(out, cap, "%s", c); return VD_OK; }
        if (tl < sizeof tried) snprintf(tried + tl, sizeof tried - tl, "%s", c);
    }
    return vd_error_set(err, VD_ERR_IO, "no model given and the bundled model was not found (tried: %s); pass --model DIR "
                        "or set VDIT_MODEL_DIR", tried);
}
