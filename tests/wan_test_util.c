#include "wan_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lib/safetensors.h"
#include "lib/tensor.h"

double wt_rel_err(const float *got, const float *ref, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)ref[i]);
        if (!(d <= num)) num = d; // NaN propagates
        if (fabs((double)ref[i]) > den) den = fabs((double)ref[i]);
    }
    return den > 0 ? num / den : num;
}

static float *load(vd_st_file *f, const char *name, int ndim, int64_t *shape) {
    const vd_st_tensor *t = vd_st_find(f, name);
    if (!t || t->ndim != ndim) {
        fprintf(stderr, "wt_io_load: tensor '%s' missing or not %d-D\n", name, ndim);
        return NULL;
    }
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (shape[i] = t->shape[i]);
    float *p = vd_host_alloc((size_t)(n ? n : 1) * 4);
    vd_error err = {0};
    if (!p || vd_st_read_f32(t, p, t->ndim, t->shape, &err)) {
        fprintf(stderr, "wt_io_load: %s\n", err.msg);
        vd_host_free(p);
        return NULL;
    }
    return p;
}

bool wt_io_load(wt_io *io, const char *path) {
    memset(io, 0, sizeof *io);
    io->fp32_ref_err = -1;
    vd_st_file *f = NULL;
    vd_error err = {0};
    if (vd_st_open(&f, path, &err)) {
        fprintf(stderr, "wt_io_load: %s\n", err.msg);
        return false;
    }
    int64_t sl[5] = {0}, st[1] = {0}, sc[3] = {0}, se[5] = {0};
    io->latent = load(f, "latent", 5, sl);
    io->timestep = load(f, "timestep", 1, st);
    io->context = load(f, "context", 3, sc);
    io->expected = load(f, "expected", 5, se);
    const char *meta = vd_st_metadata(f);
    if (meta) {
        cJSON *j = cJSON_Parse(meta);
        const cJSON *e = j ? cJSON_GetObjectItemCaseSensitive(j, "fp32_diffusers_rel_err") : NULL;
        if (cJSON_IsString(e)) io->fp32_ref_err = atof(e->valuestring);
        cJSON_Delete(j);
    }
    vd_st_close(f);
    if (!io->latent || !io->timestep || !io->context || !io->expected) {
        wt_io_free(io);
        return false;
    }
    io->B = sl[0], io->Cin = sl[1], io->F = sl[2], io->H = sl[3], io->W = sl[4];
    io->Lt = sc[1], io->text_dim = sc[2], io->Cout = se[1];
    return true;
}

void wt_io_free(wt_io *io) {
    vd_host_free(io->latent);
    vd_host_free(io->timestep);
    vd_host_free(io->context);
    vd_host_free(io->expected);
    memset(io, 0, sizeof *io);
}

bool wt_rewrite_model(const char *src_dir, const char *dst_dir, const wt_rewrite *rw) {
    vd_wan_model_files m;
    vd_error err = {0};
    if (vd_wan_model_open(&m, src_dir, &err)) {
        fprintf(stderr, "wt_rewrite_model: %s\n", err.msg);
        return false;
    }
    int n = vd_wan_spec_count(&m.config);
    vd_wan_tensor_spec *src = calloc((size_t)n, sizeof *src), *dst = calloc((size_t)n, sizeof *dst);
    vd_st_write_entry *e = calloc((size_t)n + 1, sizeof *e);
    int64_t(*shapes)[VD_MAX_DIMS] = calloc((size_t)n + 1, sizeof *shapes);
    char(*names)[160] = calloc((size_t)n + 1, sizeof *names);
    static const float extra[4] = {1, 2, 3, 4};
    bool ok = src && dst && e && shapes && names;
    int k = 0;
    if (ok) {
        vd_wan_spec_fill(&m.config, m.layout, src);
        vd_wan_spec_fill(&m.config, rw->layout, dst); // same order in both layouts
        for (int i = 0; i < n; i++) {
            if (rw->drop_name && !strcmp(src[i].name, rw->drop_name)) continue;
            const vd_st_tensor *t = vd_wan_find(m.set, m.prefix, src[i].name);
            snprintf(names[k], sizeof names[k], "%s%s", rw->prefix ? rw->prefix : "", dst[i].name);
            memcpy(shapes[k], t->shape, sizeof(int64_t) * (size_t)t->ndim);
            if (rw->shrink_name && !strcmp(src[i].name, rw->shrink_name)) shapes[k][t->ndim - 1] -= 1;
            e[k] = (vd_st_write_entry){names[k], t->dtype, t->ndim, shapes[k], t->data};
            k++;
        }
        if (rw->extra_name) {
            snprintf(names[k], sizeof names[k], "%s", rw->extra_name);
            shapes[k][0] = 4;
            e[k] = (vd_st_write_entry){names[k], VD_F32, 1, shapes[k], extra};
            k++;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/diffusion_pytorch_model.safetensors", dst_dir);
        if (vd_st_write(path, e, (size_t)k, NULL, &err)) {
            fprintf(stderr, "wt_rewrite_model: %s\n", err.msg);
            ok = false;
        }
        snprintf(path, sizeof path, "%s/config.json", dst_dir);
        unlink(path);
        if (ok && rw->config_json) {
            FILE *f = fopen(path, "w");
            ok = f && fputs(rw->config_json, f) >= 0;
            if (f) fclose(f);
        }
    }
    free(src);
    free(dst);
    free(e);
    free(shapes);
    free(names);
    vd_wan_model_close(&m);
    return ok;
}

const char *wt_read_text(const char *path) {
    static char buf[65536];
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

const char *wt_tmpdir(void) {
    static char bufs[8][64];
    static int i = 0;
    char *b = bufs[i++ % 8];
    snprintf(b, 64, "/tmp/vdit_wan_XXXXXX");
    return mkdtemp(b);
}

void wt_rmdir(const char *dir) {
    if (!dir || strncmp(dir, "/tmp/vdit_wan_", 14)) return;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "wt_rmdir: could not remove %s\n", dir);
}
