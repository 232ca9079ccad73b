// UMT5 encoder: open weights, detect the config from tensor shapes (+ config.json), check every
// tensor's shape. Weights stay in the mapped files (vd_umt5.st).
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dit/umt5_model.h"
#include "lib/log.h"

static const vd_st_tensor *need(const vd_umt5 *m, const char *name, int ndim, int64_t d0, int64_t d1, vd_error *err) {
    const vd_st_tensor *t = vd_st_set_find(m->st, name);
    if (!t) {
        vd_error_set(err, VD_ERR_FORMAT, "umt5: tensor '%s' is missing (hint: expected HF UMT5EncoderModel names)", name);
        return NULL;
    }
    bool ok = t->ndim == ndim && t->shape[0] == d0 && (ndim == 1 || t->shape[1] == d1);
    if (t->dtype != VD_F32 && t->dtype != VD_F16 && t->dtype != VD_BF16) ok = false;
    if (!ok) {
        vd_error_set(err, VD_ERR_FORMAT, "umt5: tensor '%s' is %dD [%lld, %lld] %s; expected %dD [%lld%s%lld] float", name,
                     t->ndim, (long long)t->shape[0], (long long)(t->ndim > 1 ? t->shape[1] : 0), vd_dtype_name(t->dtype),
                     ndim, (long long)d0, ndim > 1 ? ", " : "", (long long)(ndim > 1 ? d1 : 0));
        return NULL;
    }
    return t;
}

// config.json next to the weights: relative_attention_max_distance, layer_norm_epsilon,
// feed_forward_proj. Missing file: defaults (128, 1e-6) with a log line.
static vd_status read_config_json(vd_umt5_config *c, const char *path, vd_error *err) {
    char cfg[4096];
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(cfg, sizeof cfg, "%s/config.json", path);
    } else {
        const char *slash = strrchr(path, '/');
        if (slash) snprintf(cfg, sizeof cfg, "%.*s/config.json", (int)(slash - path), path);
        else snprintf(cfg, sizeof cfg, "config.json");
    }
    FILE *f = fopen(cfg, "rb");
    if (!f) {
        VD_LOGI("umt5: no %s; using relative_attention_max_distance 128, layer_norm_epsilon 1e-6", cfg);
        return VD_OK;
    }
    char *buf = NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n > 0 && n < (1 << 24)) buf = (char *)malloc((size_t)n + 1);
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    cJSON *j = buf && got == (size_t)n ? cJSON_ParseWithLength(buf, (size_t)n) : NULL;
    free(buf);
    if (!j) return vd_error_set(err, VD_ERR_FORMAT, "umt5: %s is not valid JSON", cfg);
    vd_status s = VD_OK;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(j, "relative_attention_max_distance");
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(j, "layer_norm_epsilon");
    const cJSON *ff = cJSON_GetObjectItemCaseSensitive(j, "feed_forward_proj");
    const cJSON *nh = cJSON_GetObjectItemCaseSensitive(j, "num_heads");
    if (cJSON_IsNumber(md)) c->max_distance = (int64_t)md->valuedouble;
    if (cJSON_IsNumber(eps)) c->eps = (float)eps->valuedouble;
    if (cJSON_IsString(ff) && strcmp(ff->valuestring, "gated-gelu"))
        s = vd_error_set(err, VD_ERR_UNSUPPORTED, "umt5: %s: feed_forward_proj '%s' is not supported (umT5 uses gated-gelu)",
                         cfg, ff->valuestring);
    if (s == VD_OK && cJSON_IsNumber(nh) && (int64_t)nh->valuedouble != c->n_heads)
        s = vd_error_set(err, VD_ERR_FORMAT, "umt5: %s says num_heads %g but the weights have %lld", cfg, nh->valuedouble,
                         (long long)c->n_heads);
    if (s == VD_OK && (c->max_distance < 2 || c->eps <= 0.0f))
        s = vd_error_set(err, VD_ERR_FORMAT, "umt5: %s: relative_attention_max_distance %lld (needs >= 2), eps %g (> 0)",
                         cfg, (long long)c->max_distance, (double)c->eps);
    cJSON_Delete(j);
    return s;
}

static vd_status load_impl(vd_umt5 *m, const char *path, vd_error *err) {
    VD_TRY(vd_st_set_open(&m->st, path, err));
    vd_umt5_config *c = &m->cfg;
    m->embed = vd_st_set_find(m->st, "shared.weight");
    if (!m->embed) m->embed = vd_st_set_find(m->st, "encoder.embed_tokens.weight");
    const vd_st_tensor *q0 = vd_st_set_find(m->st, "encoder.block.0.layer.0.SelfAttention.q.weight");
    const vd_st_tensor *b0 = vd_st_set_find(m->st, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
    const vd_st_tensor *f0 = vd_st_set_find(m->st, "encoder.block.0.layer.1.DenseReluDense.wi_0.weight");
    if (!m->embed || !q0 || !b0 || !f0 || m->embed->ndim != 2 || q0->ndim != 2 || b0->ndim != 2 || f0->ndim != 2)
        return vd_error_set(err, VD_ERR_FORMAT,
                            "umt5: %s does not look like a UMT5 encoder (needs shared.weight, encoder.block.0.layer.0."
                            "SelfAttention.{q,relative_attention_bias}.weight, ...DenseReluDense.wi_0.weight; a T5 "
                            "checkpoint without per-layer relative_attention_bias is not umT5)", path);
    c->vocab = m->embed->shape[0];
    c->d_model = m->embed->shape[1];
    c->n_buckets = b0->shape[0];
    c->n_heads = b0->shape[1];
    c->d_ff = f0->shape[0];
    c->max_distance = 128;
    c->eps = 1e-6f;
    if (c->n_heads <= 0 || q0->shape[0] % c->n_heads != 0 || c->n_buckets < 4)
        return vd_error_set(err, VD_ERR_FORMAT, "umt5: q rows %lld not divisible by %lld heads (or %lld buckets < 4)",
                            (long long)q0->shape[0], (long long)c->n_heads, (long long)c->n_buckets);
    c->d_kv = q0->shape[0] / c->n_heads;
    for (c->n_layers = 0;; c->n_layers++) {
        char name[160];
        snprintf(name, sizeof name, "encoder.block.%lld.layer.0.SelfAttention.q.weight", (long long)c->n_layers);
        if (!vd_st_set_find(m->st, name)) break;
    }
    VD_TRY(read_config_json(c, path, err));
    m->layers = (vd_umt5_layer *)calloc((size_t)c->n_layers, sizeof *m->layers);
    if (!m->layers) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "umt5: out of memory");
    const int64_t d = c->d_model, inner = c->n_heads * c->d_kv;
    if (!(m->final_ln = need(m, "encoder.final_layer_norm.weight", 1, d, 0, err))) return err ? err->code : VD_ERR_FORMAT;
    if (!need(m, m->embed->name, 2, c->vocab, d, err)) return err ? err->code : VD_ERR_FORMAT;
    for (int64_t l = 0; l < c->n_layers; l++) {
        vd_umt5_layer *L = &m->layers[l];
        char n[200];
#define GET(field, suffix, nd, a, b)                                                              \
        snprintf(n, sizeof n, "encoder.block.%lld.%s", (long long)l, suffix);                    \
        if (!(L->field = need(m, n, nd, a, b, err))) return err ? err->code : VD_ERR_FORMAT;
        GET(ln0, "layer.0.layer_norm.weight", 1, d, 0)
        GET(q, "layer.0.SelfAttention.q.weight", 2, inner, d)
        GET(k, "layer.0.SelfAttention.k.weight", 2, inner, d)
        GET(v, "layer.0.SelfAttention.v.weight", 2, inner, d)
        GET(o, "layer.0.SelfAttention.o.weight", 2, d, inner)
        GET(rel_bias, "layer.0.SelfAttention.relative_attention_bias.weight", 2, c->n_buckets, c->n_heads)
        GET(ln1, "layer.1.layer_norm.weight", 1, d, 0)
        GET(wi0, "layer.1.DenseReluDense.wi_0.weight", 2, c->d_ff, d)
        GET(wi1, "layer.1.DenseReluDense.wi_1.weight", 2, c->d_ff, d)
        GET(wo, "layer.1.DenseReluDense.wo.weight", 2, d, c->d_ff)
#undef GET
    }
    VD_LOGI("umt5: %s: d_model %lld, %lld heads x %lld, d_ff %lld, %lld layers, vocab %lld, %lld buckets, max distance "
            "%lld, eps %g, %s weights", path, (long long)d, (long long)c->n_heads, (long long)c->d_kv, (long long)c->d_ff,
            (long long)c->n_layers, (long long)c->vocab, (long long)c->n_buckets, (long long)c->max_distance,
            (double)c->eps, vd_dtype_name(m->embed->dtype));
    return VD_OK;
}

vd_status vd_umt5_load(vd_umt5 **out, const char *path, vd_error *err) {
    *out = NULL;
    vd_umt5 *m = (vd_umt5 *)calloc(1, sizeof *m);
    if (!m) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "umt5: out of memory");
    vd_status s = load_impl(m, path, err);
    if (s != VD_OK) {
        vd_umt5_free(m);
        return s;
    }
    *out = m;
    return VD_OK;
}

void vd_umt5_free(vd_umt5 *m) {
    if (!m) return;
    vd_umt5_cuda_release(m);
    free(m->layers);
    if (m->st) vd_st_set_close(m->st);
    free(m);
}

int vd_umt5_bucket(int64_t rel, int64_t n_buckets, int64_t max_distance) {
    int64_t half = n_buckets / 2;
    int64_t base = rel > 0 ? half : 0;
    int64_t a = rel < 0 ? -rel : rel;
    int64_t exact = half / 2;
    if (a < exact) return (int)(base + a);
    // fp32 as torch: log(a.float() / exact) / math.log(max_distance / exact) * (half - exact), truncated.
    float r = logf((float)a / (float)exact) / (float)log((double)max_distance / (double)exact) * (float)(half - exact);
    int64_t large = exact + (int64_t)r;
    if (large > half - 1) large = half - 1;
    return (int)(base + large);
}
