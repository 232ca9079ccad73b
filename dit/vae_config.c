// Wan VAE config.json parsing and derived sizes (see vae_config.h).
#include "dit/vae_config.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const float k_wan21_mean[16] = {-0.7571f, -0.7089f, -0.9113f, 0.1075f,  -0.1745f, 0.9653f,
                                       -0.1517f, 1.5508f,  0.4134f,  -0.0715f, 0.5517f,  -0.3632f,
                                       -0.1922f, -0.9497f, 0.2503f,  -0.2921f};
static const float k_wan21_std[16] = {2.8184f, 1.4541f, 2.3275f, 2.6558f, 1.2196f, 1.7708f, 2.6052f, 2.0743f,
                                      3.2687f, 2.1526f, 2.8652f, 1.5579f, 1.6382f, 1.1253f, 2.8251f, 1.9160f};

void vd_vae_config_wan21(vd_vae_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->base_dim = 96;
    cfg->z_dim = 16;
    cfg->n_mult = 4;
    const int mult[4] = {1, 2, 4, 4};
    memcpy(cfg->dim_mult, mult, sizeof mult);
    cfg->num_res_blocks = 2;
    // temperal_downsample [False, True, True] reversed
    cfg->temporal_upsample[0] = true;
    cfg->temporal_upsample[1] = true;
    cfg->temporal_upsample[2] = false;
    cfg->out_channels = 3;
    memcpy(cfg->latents_mean, k_wan21_mean, sizeof k_wan21_mean);
    memcpy(cfg->latents_std, k_wan21_std, sizeof k_wan21_std);
    cfg->has_latents_stats = true;
}

// Reads an integer field; missing -> dflt. Returns false (and sets err) when present but not an
// integer in [lo, hi].
static bool get_int(const cJSON *root, const char *key, int dflt, int lo, int hi, int *out, vd_error *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!it || cJSON_IsNull(it)) {
        *out = dflt;
        return true;
    }
    if (!cJSON_IsNumber(it) || it->valuedouble != (double)(int)it->valuedouble || it->valuedouble < lo ||
        it->valuedouble > hi) {
        vd_error_set(err, VD_ERR_INVALID_ARG, "vae_config: '%s' must be an integer in [%d, %d]", key, lo, hi);
        return false;
    }
    *out = (int)it->valuedouble;
    return true;
}

static bool get_float_list(const cJSON *root, const char *key, float *out, int n_expect, bool *present,
                           vd_error *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    *present = false;
    if (!it || cJSON_IsNull(it)) return true;
    if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != n_expect) {
        vd_error_set(err, VD_ERR_INVALID_ARG, "vae_config: '%s' must be a list of z_dim = %d numbers (got %d)", key,
                     n_expect, cJSON_IsArray(it) ? cJSON_GetArraySize(it) : -1);
        return false;
    }
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, it) {
        if (!cJSON_IsNumber(e)) {
            vd_error_set(err, VD_ERR_INVALID_ARG, "vae_config: '%s'[%d] is not a number", key, i);
            return false;
        }
        out[i++] = (float)e->valuedouble;
    }
    *present = true;
    return true;
}

vd_status vd_vae_config_parse(vd_vae_config *cfg, const char *json_text, vd_error *err) {
    memset(cfg, 0, sizeof *cfg);
    cJSON *root = cJSON_Parse(json_text);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vd_error_set(err, VD_ERR_FORMAT, "vae_config: not a JSON object (parse error near '%.32s')",
                            cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
    }
    vd_status st = VD_ERR_INVALID_ARG;
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(root, "_class_name");
    if (cls && cJSON_IsString(cls) && strcmp(cls->valuestring, "AutoencoderKLWan") != 0) {
        vd_error_set(err, VD_ERR_UNSUPPORTED, "vae_config: _class_name is '%s'; only AutoencoderKLWan is supported",
                     cls->valuestring);
        st = VD_ERR_UNSUPPORTED;
        goto fail;
    }
    if (!get_int(root, "base_dim", 96, 1, 4096, &cfg->base_dim, err)) goto fail;
    if (!get_int(root, "z_dim", 16, 1, VD_VAE_MAX_Z, &cfg->z_dim, err)) goto fail;
    if (!get_int(root, "num_res_blocks", 2, 0, 16, &cfg->num_res_blocks, err)) goto fail;
    if (!get_int(root, "out_channels", 3, 1, 16, &cfg->out_channels, err)) goto fail;

    const cJSON *dm = cJSON_GetObjectItemCaseSensitive(root, "dim_mult");
    if (!dm) {
        const int d[4] = {1, 2, 4, 4};
        cfg->n_mult = 4;
        memcpy(cfg->dim_mult, d, sizeof d);
    } else {
        int n = cJSON_IsArray(dm) ? cJSON_GetArraySize(dm) : -1;
        if (n < 1 || n > VD_VAE_MAX_MULT) {
            vd_error_set(err, VD_ERR_INVALID_ARG, "vae_config: 'dim_mult' must be a list of 1..%d integers (got %d)",
                         VD_VAE_MAX_MULT, n);
            goto fail;
        }
        cfg->n_mult = n;
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, dm) {
            if (!cJSON_IsNumber(e) || e->valuedouble < 1 || e->valuedouble > 64) {
                vd_error_set(err, VD_ERR_INVALID_ARG, "vae_config: dim_mult[%d] must be an integer in [1, 64]", i);
                goto fail;
            }
            cfg->dim_mult[i++] = (int)e->valuedouble;
        }
    }
    // Up blocks i > 0 take dims[i] / 2 channels (the upsampler halves them): dims must be even there.
    for (int i = 1; i < cfg->n_mult; i++)
        if (vd_vae_dim(cfg, i) % 2) {
            vd_error_set(err, VD_ERR_INVALID_ARG, "vae_config: base_dim * dim_mult gives odd width %d at up block %d",
                         vd_vae_dim(cfg, i), i);
            goto fail;
        }

    const cJSON *td = cJSON_GetObjectItemCaseSensitive(root, "temperal_downsample");
    if (!td) {
        for (int i = 0; i < cfg->n_mult - 1; i++) cfg->temporal_upsample[i] = (i < 2);
    } else {
        int n = cJSON_IsArray(td) ? cJSON_GetArraySize(td) : -1;
        if (n != cfg->n_mult - 1) {
            vd_error_set(err, VD_ERR_INVALID_ARG,
                         "vae_config: 'temperal_downsample' must have len(dim_mult) - 1 = %d booleans (got %d)",
                         cfg->n_mult - 1, n);
            goto fail;
        }
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, td) {
            if (!cJSON_IsBool(e)) {
                vd_error_set(err, VD_ERR_INVALID_ARG, "vae_config: temperal_downsample[%d] is not a boolean", i);
                goto fail;
            }
            cfg->temporal_upsample[n - 1 - i] = cJSON_IsTrue(e); // decoder order is reversed
            i++;
        }
    }

    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "is_residual");
    if (res && cJSON_IsTrue(res)) {
        vd_error_set(err, VD_ERR_UNSUPPORTED,
                     "vae_config: is_residual = true (Wan2.2 VAE) is not supported; only the Wan2.1 VAE decodes");
        st = VD_ERR_UNSUPPORTED;
        goto fail;
    }
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(root, "patch_size");
    if (ps && !cJSON_IsNull(ps)) {
        vd_error_set(err, VD_ERR_UNSUPPORTED, "vae_config: patch_size is set (Wan2.2 VAE); only patch_size null is supported");
        st = VD_ERR_UNSUPPORTED;
        goto fail;
    }
    const cJSON *ic = cJSON_GetObjectItemCaseSensitive(root, "in_channels");
    if (ic && cJSON_IsNumber(ic) && (int)ic->valuedouble != cfg->out_channels) {
        vd_error_set(err, VD_ERR_INVALID_ARG, "vae_config: in_channels %d != out_channels %d", (int)ic->valuedouble,
                     cfg->out_channels);
        goto fail;
    }

    bool have_mean, have_std;
    if (!get_float_list(root, "latents_mean", cfg->latents_mean, cfg->z_dim, &have_mean, err)) goto fail;
    if (!get_float_list(root, "latents_std", cfg->latents_std, cfg->z_dim, &have_std, err)) goto fail;
    if (have_mean != have_std) {
        vd_error_set(err, VD_ERR_INVALID_ARG, "vae_config: latents_mean and latents_std must both be given or both absent");
        goto fail;
    }
    cfg->has_latents_stats = have_mean;
    for (int c = 0; have_std && c < cfg->z_dim; c++)
        if (!(cfg->latents_std[c] > 0.0f)) {
            vd_error_set(err, VD_ERR_INVALID_ARG, "vae_config: latents_std[%d] = %g must be > 0", c,
                         (double)cfg->latents_std[c]);
            goto fail;
        }
    cJSON_Delete(root);
    return VD_OK;
fail:
    cJSON_Delete(root);
    return st;
}

vd_status vd_vae_config_load(vd_vae_config *cfg, const char *path, vd_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return vd_error_set(err, VD_ERR_IO, "vae_config: cannot open '%s'", path);
    char *buf = NULL;
    vd_status st = VD_OK;
    if (fseek(f, 0, SEEK_END) != 0) goto io;
    long n = ftell(f);
    if (n < 0 || n > (1L << 20)) {
        fclose(f);
        return vd_error_set(err, VD_ERR_FORMAT, "vae_config: '%s' has %ld bytes (expected 1 B .. 1 MiB)", path, n);
    }
    rewind(f);
    buf = malloc((size_t)n + 1);
    if (!buf) {
        fclose(f);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_config: out of memory");
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) goto io;
    buf[n] = 0;
    fclose(f);
    st = vd_vae_config_parse(cfg, buf, err);
    free(buf);
    if (st != VD_OK) vd_error_prefix(err, "%s", path);
    return st;
io:
    fclose(f);
    free(buf);
    return vd_error_set(err, VD_ERR_IO, "vae_config: read error on '%s'", path);
}

int vd_vae_n_up3d(const vd_vae_config *cfg) {
    int n = 0;
    for (int i = 0; i < cfg->n_mult - 1; i++) n += cfg->temporal_upsample[i];
    return n;
}

int vd_vae_spatial_factor(const vd_vae_config *cfg) { return 1 << (cfg->n_mult - 1); }

int64_t vd_vae_out_frames(const vd_vae_config *cfg, int64_t latent_frames) {
    if (latent_frames <= 0) return 0;
    return 1 + ((int64_t)1 << vd_vae_n_up3d(cfg)) * (latent_frames - 1);
}

int vd_vae_dim(const vd_vae_config *cfg, int i) {
    // dims = base * ([m_last] + reversed(dim_mult))
    if (i == 0) return cfg->base_dim * cfg->dim_mult[cfg->n_mult - 1];
    return cfg->base_dim * cfg->dim_mult[cfg->n_mult - i];
}
