// Wan2.1 DiT configuration: presets, config.json parsing (diffusers and original keys), checks.
#include "dit/wan_config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vd_wan_config_init(vd_wan_config *c) {
    memset(c, 0, sizeof *c);
    c->patch[0] = 1;
    c->patch[1] = 2;
    c->patch[2] = 2;
    c->eps = 1e-6f;
    c->cross_attn_norm = true;
    c->qk_norm = true;
    c->rope_max_seq_len = 1024;
    c->rope_theta = 10000.0;
}

vd_status vd_wan_config_preset(vd_wan_config *c, const char *name, vd_error *err) {
    vd_wan_config_init(c);
    c->head_dim = 128;
    c->in_channels = c->out_channels = 16;
    c->text_dim = 4096;
    c->freq_dim = 256;
    if (name && !strcmp(name, "1.3B")) {
        c->n_layers = 30;
        c->n_heads = 12;
        c->ffn_dim = 8960;
    } else if (name && !strcmp(name, "14B")) {
        c->n_layers = 40;
        c->n_heads = 40;
        c->ffn_dim = 13824;
    } else {
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_config_preset: unknown preset '%s' (allowed: 1.3B, 14B)",
                            name ? name : "(null)");
    }
    c->dim = c->n_heads * c->head_dim;
    return VD_OK;
}

// Reads an integer field when present; rejects non-numbers and values outside [lo, hi].
static vd_status get_int(const cJSON *root, const char *key, int *out, int lo, int hi, const char *what, vd_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) return VD_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble)
        return vd_error_set(err, VD_ERR_FORMAT, "vd_wan_config_parse_json: %s: '%s' must be an integer", what, key);
    if (v->valuedouble < lo || v->valuedouble > hi)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_config_parse_json: %s: '%s' = %g outside [%d, %d]", what, key,
                            v->valuedouble, lo, hi);
    *out = (int)v->valuedouble;
    return VD_OK;
}

static vd_status get_bool(const cJSON *root, const char *key, bool *out, const char *what, vd_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) return VD_OK;
    if (!cJSON_IsBool(v))
        return vd_error_set(err, VD_ERR_FORMAT, "vd_wan_config_parse_json: %s: '%s' must be true or false", what, key);
    *out = cJSON_IsTrue(v);
    return VD_OK;
}

static bool present(const cJSON *root, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    return v && !cJSON_IsNull(v);
}

static vd_status parse_root(vd_wan_config *c, const cJSON *root, const char *what, vd_error *err) {
    const int BIG = 1 << 20;
    bool orig = present(root, "dim") || present(root, "num_heads") || present(root, "in_dim");
    // Variants this engine does not run (image conditioning, Wan2.2 TI2V): say so instead of ignoring.
    const char *unsupported[] = {"image_dim", "added_kv_proj_dim", "pos_embed_seq_len"};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (present(root, unsupported[i]))
            return vd_error_set(err, VD_ERR_UNSUPPORTED,
                                "vd_wan_config_parse_json: %s: '%s' is set: image-conditioned (I2V/FLF2V) Wan models are not supported",
                                what, unsupported[i]);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (cJSON_IsString(mt) && strcmp(mt->valuestring, "t2v") != 0)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_wan_config_parse_json: %s: model_type '%s' is not supported (only t2v)",
                            what, mt->valuestring);
    if (orig) {
        int dim = 0;
        VD_TRY(get_int(root, "dim", &dim, 1, BIG, what, err));
        VD_TRY(get_int(root, "num_heads", &c->n_heads, 1, 4096, what, err));
        VD_TRY(get_int(root, "in_dim", &c->in_channels, 1, 4096, what, err));
        VD_TRY(get_int(root, "out_dim", &c->out_channels, 1, 4096, what, err));
        VD_TRY(get_int(root, "text_dim", &c->text_dim, 1, BIG, what, err));
        c->dim = dim;
        if (dim && c->n_heads) c->head_dim = dim / c->n_heads;
    } else {
        VD_TRY(get_int(root, "num_attention_heads", &c->n_heads, 1, 4096, what, err));
        VD_TRY(get_int(root, "attention_head_dim", &c->head_dim, 1, 4096, what, err));
        VD_TRY(get_int(root, "in_channels", &c->in_channels, 1, 4096, what, err));
        VD_TRY(get_int(root, "out_channels", &c->out_channels, 1, 4096, what, err));
        VD_TRY(get_int(root, "text_dim", &c->text_dim, 1, BIG, what, err));
        VD_TRY(get_int(root, "rope_max_seq_len", &c->rope_max_seq_len, 1, BIG, what, err));
        c->dim = c->n_heads * c->head_dim;
        if (c->out_channels == 0) c->out_channels = c->in_channels;
    }
    VD_TRY(get_int(root, "ffn_dim", &c->ffn_dim, 1, BIG, what, err));
    VD_TRY(get_int(root, "num_layers", &c->n_layers, 1, 4096, what, err));
    VD_TRY(get_int(root, "freq_dim", &c->freq_dim, 2, BIG, what, err));
    VD_TRY(get_bool(root, "cross_attn_norm", &c->cross_attn_norm, what, err));
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(root, "eps");
    if (eps && !cJSON_IsNull(eps)) {
        if (!cJSON_IsNumber(eps) || !(eps->valuedouble > 0 && eps->valuedouble < 1))
            return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_config_parse_json: %s: 'eps' must be a number in (0, 1)", what);
        c->eps = (float)eps->valuedouble;
    }
    const cJSON *qk = cJSON_GetObjectItemCaseSensitive(root, "qk_norm");
    if (qk && !cJSON_IsNull(qk)) {
        if (cJSON_IsBool(qk)) {
            c->qk_norm = cJSON_IsTrue(qk);
        } else if (cJSON_IsString(qk) && !strcmp(qk->valuestring, "rms_norm_across_heads")) {
            c->qk_norm = true;
        } else {
            return vd_error_set(err, VD_ERR_UNSUPPORTED,
                                "vd_wan_config_parse_json: %s: qk_norm '%s' is not supported (allowed: \"rms_norm_across_heads\", true)",
                                what, cJSON_IsString(qk) ? qk->valuestring : "?");
        }
    }
    if (!c->qk_norm)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_wan_config_parse_json: %s: qk_norm off is not supported", what);
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(root, "patch_size");
    if (ps && !cJSON_IsNull(ps)) {
        if (!cJSON_IsArray(ps) || cJSON_GetArraySize(ps) != 3)
            return vd_error_set(err, VD_ERR_FORMAT, "vd_wan_config_parse_json: %s: 'patch_size' must be a list of 3 integers", what);
        for (int i = 0; i < 3; i++) {
            const cJSON *e = cJSON_GetArrayItem(ps, i);
            if (!cJSON_IsNumber(e) || e->valuedouble < 1 || e->valuedouble > 64)
                return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_config_parse_json: %s: patch_size[%d] must be in [1, 64]", what, i);
            c->patch[i] = (int)e->valuedouble;
        }
    }
    return VD_OK;
}

vd_status vd_wan_config_parse_json(vd_wan_config *c, const char *json, const char *what, vd_error *err) {
    cJSON *root = cJSON_Parse(json);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        return vd_error_set(err, VD_ERR_FORMAT, "vd_wan_config_parse_json: %s: not valid JSON (near '%.24s')", what,
                            at ? at : "?");
    }
    vd_status s = VD_OK;
    if (!cJSON_IsObject(root))
        s = vd_error_set(err, VD_ERR_FORMAT, "vd_wan_config_parse_json: %s: top level must be an object", what);
    else
        s = parse_root(c, root, what, err);
    cJSON_Delete(root);
    return s;
}

vd_status vd_wan_config_load_json(vd_wan_config *c, const char *path, vd_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return vd_error_set(err, VD_ERR_IO, "vd_wan_config_load_json: cannot open '%s'", path);
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || n > (16 << 20) || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return vd_error_set(err, VD_ERR_FORMAT, "vd_wan_config_load_json: '%s' size %ld outside [0, 16 MiB]", path, n);
    }
    buf = malloc((size_t)n + 1);
    if (!buf) {
        fclose(f);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_config_load_json: %ld bytes", n);
    }
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = 0;
    vd_status s = vd_wan_config_parse_json(c, buf, path, err);
    free(buf);
    return s;
}

vd_status vd_wan_config_validate(const vd_wan_config *c, vd_error *err) {
    const char *fn = "vd_wan_config_validate";
    if (c->n_layers < 1) return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: num_layers %d must be >= 1", fn, c->n_layers);
    if (c->n_heads < 1 || c->head_dim < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: heads %d x head_dim %d must both be >= 1", fn, c->n_heads, c->head_dim);
    if (c->dim != c->n_heads * c->head_dim)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: dim %d != heads %d x head_dim %d", fn, c->dim, c->n_heads, c->head_dim);
    if (c->head_dim % 2 || c->head_dim < 6)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "%s: head_dim %d must be even and >= 6 (3D RoPE splits it into three even parts)", fn, c->head_dim);
    if (c->ffn_dim < 1 || c->in_channels < 1 || c->out_channels < 1 || c->text_dim < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: ffn_dim %d, in %d, out %d, text_dim %d must all be >= 1", fn,
                            c->ffn_dim, c->in_channels, c->out_channels, c->text_dim);
    if (c->freq_dim < 2 || c->freq_dim % 2)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: freq_dim %d must be even and >= 2", fn, c->freq_dim);
    for (int i = 0; i < 3; i++)
        if (c->patch[i] < 1) return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: patch[%d] = %d must be >= 1", fn, i, c->patch[i]);
    if (!(c->eps > 0)) return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: eps %g must be > 0", fn, (double)c->eps);
    return VD_OK;
}

int64_t vd_wan_config_param_count(const vd_wan_config *c) {
    int64_t C = c->dim, F = c->ffn_dim, P = (int64_t)c->patch[0] * c->patch[1] * c->patch[2];
    int64_t lin = C * C + C; // one C -> C Linear
    int64_t block = 6 * C                     // scale_shift_table
                    + 4 * lin + 2 * C         // self-attention + q/k RMSNorm
                    + 4 * lin + 2 * C         // cross-attention + q/k RMSNorm
                    + (c->cross_attn_norm ? 2 * C : 0) //
                    + (C * F + F) + (F * C + C); // FFN
    int64_t top = (C * c->in_channels * P + C)          // patch embedding
                  + (C * c->text_dim + C) + lin         // text MLP
                  + (C * c->freq_dim + C) + lin        // time MLP
                  + (6 * C * C + 6 * C)                // time projection
                  + (c->out_channels * P * C + c->out_channels * P) + 2 * C; // head + modulation
    return top + (int64_t)c->n_layers * block;
}

void vd_wan_config_describe(const vd_wan_config *c, char *buf, size_t cap) {
    snprintf(buf, cap,
             "Wan2.1 DiT: %d layers, dim %d (%d heads x %d), ffn %d, in %d, out %d, patch %dx%dx%d, text_dim %d, freq_dim %d, "
             "eps %g, cross_attn_norm %s",
             c->n_layers, c->dim, c->n_heads, c->head_dim, c->ffn_dim, c->in_channels, c->out_channels, c->patch[0],
             c->patch[1], c->patch[2], c->text_dim, c->freq_dim, (double)c->eps, c->cross_attn_norm ? "on" : "off");
}
