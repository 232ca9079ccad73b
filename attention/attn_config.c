// A configured attention method (vd_attn): the method, its typed config (defaults < JSON preset
// < key=value overrides) and its per-generation state. Parsing is table-driven by each method's
// vd_attn_param_desc list, so presets, overrides and `vdit attention list` cannot disagree.
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attention/attention.h"

struct vd_attn {
    const vd_attn_method *m;
    void *cfg;      // m->cfg_size bytes (NULL when 0)
    void *state;    // m->state_create, created on the first run
};

vd_status vd_attn_create(vd_attn **out, const char *method, vd_error *err) {
    *out = NULL;
    const vd_attn_method *m;
    VD_TRY(vd_attn_select(method, NULL, NULL, &m, err));
    vd_attn *a = calloc(1, sizeof *a);
    if (!a) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_attn_create: '%s'", method);
    a->m = m;
    if (m->cfg_size) {
        a->cfg = calloc(1, m->cfg_size);
        if (!a->cfg) {
            free(a);
            return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_attn_create: config of '%s'", method);
        }
        if (m->cfg_init) m->cfg_init(a->cfg);
    }
    *out = a;
    return VD_OK;
}

void vd_attn_reset(vd_attn *a) {
    if (a && a->state && a->m->state_free) a->m->state_free(a->state);
    if (a) a->state = NULL;
}

void vd_attn_free(vd_attn *a) {
    if (!a) return;
    vd_attn_reset(a);
    free(a->cfg);
    free(a);
}

const vd_attn_method *vd_attn_get_method(const vd_attn *a) { return a->m; }
const void *vd_attn_get_cfg(const vd_attn *a) { return a->cfg; }

static const vd_attn_param_desc *find_param(const vd_attn_method *m, const char *key) {
    for (int i = 0; i < m->n_params; i++)
        if (!strcmp(m->params[i].name, key)) return &m->params[i];
    return NULL;
}

static vd_status unknown_key(const vd_attn_method *m, const char *key, const char *what, vd_error *err) {
    char list[512] = "";
    for (int i = 0; i < m->n_params; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, m->params[i].name, sizeof list - strlen(list) - 1);
    }
    return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: method '%s' has no parameter '%s' (parameters: %s)", what,
                        m->name, key, m->n_params ? list : "none");
}

// Sets one field from text. what names the source ("override", "radial.json").
static vd_status set_from_text(vd_attn *a, const vd_attn_param_desc *d, const char *val, const char *what,
                               vd_error *err) {
    char *field = (char *)a->cfg + d->offset;
    char *end = NULL;
    errno = 0;
    switch (d->type) {
    case VD_ATTN_PARAM_INT: {
        long v = strtol(val, &end, 10);
        if (end == val || *end || errno || v < d->min || v > d->max)
            return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: %s.%s = '%s', need an integer in [%g, %g]", what,
                                a->m->name, d->name, val, d->min, d->max);
        *(int *)field = (int)v;
        return VD_OK;
    }
    case VD_ATTN_PARAM_FLOAT: {
        double v = strtod(val, &end);
        if (end == val || *end || errno || !isfinite(v) || v < d->min || v > d->max)
            return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: %s.%s = '%s', need a number in [%g, %g]", what,
                                a->m->name, d->name, val, d->min, d->max);
        *(float *)field = (float)v;
        return VD_OK;
    }
    case VD_ATTN_PARAM_BOOL:
        if (!strcasecmp(val, "true") || !strcmp(val, "1")) *(bool *)field = true;
        else if (!strcasecmp(val, "false") || !strcmp(val, "0")) *(bool *)field = false;
        else
            return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: %s.%s = '%s', need true or false", what, a->m->name,
                                d->name, val);
        return VD_OK;
    case VD_ATTN_PARAM_STRING:
        if (strlen(val) >= VD_ATTN_STRING_CAP)
            return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: %s.%s is %zu bytes long, at most %d", what, a->m->name, d->name,
                                strlen(val), VD_ATTN_STRING_CAP - 1);
        memcpy(field, val, strlen(val) + 1);
        return VD_OK;
    case VD_ATTN_PARAM_ENUM: {
        char list[256] = "";
        for (int i = 0; d->choices[i]; i++) {
            if (!strcmp(d->choices[i], val)) {
                *(int *)field = i;
                return VD_OK;
            }
            strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, d->choices[i], sizeof list - strlen(list) - 1);
        }
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: %s.%s = '%s', need one of: %s", what, a->m->name, d->name,
                            val, list);
    }
    }
    return vd_error_set(err, VD_ERR_INTERNAL, "%s: bad parameter type for %s", what, d->name);
}

vd_status vd_attn_set(vd_attn *a, const char *kv, vd_error *err) {
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "attention override '%s': expected key=value", kv);
    char key[64];
    size_t n = (size_t)(eq - kv);
    if (n >= sizeof key) return vd_error_set(err, VD_ERR_INVALID_ARG, "attention override '%s': key too long", kv);
    memcpy(key, kv, n);
    key[n] = 0;
    const vd_attn_param_desc *d = find_param(a->m, key);
    if (!d) return unknown_key(a->m, key, "attention override", err);
    VD_TRY(set_from_text(a, d, eq + 1, "attention override", err));
    if (a->m->cfg_check) VD_TRY(a->m->cfg_check(a->cfg, err));
    vd_attn_reset(a);   // state may depend on the config
    return VD_OK;
}

static vd_status set_from_json(vd_attn *a, const cJSON *item, const char *what, vd_error *err) {
    const vd_attn_param_desc *d = find_param(a->m, item->string);
    if (!d) return unknown_key(a->m, item->string, what, err);
    char buf[64];
    if (d->type == VD_ATTN_PARAM_ENUM || d->type == VD_ATTN_PARAM_STRING) {
        if (!cJSON_IsString(item))
            return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: %s must be a string", what, d->name);
        return set_from_text(a, d, item->valuestring, what, err);
    }
    if (d->type == VD_ATTN_PARAM_BOOL) {
        if (!cJSON_IsBool(item))
            return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: %s must be true or false", what, d->name);
        *(bool *)((char *)a->cfg + d->offset) = cJSON_IsTrue(item);
        return VD_OK;
    }
    if (!cJSON_IsNumber(item)) return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: %s must be a number", what, d->name);
    if (d->type == VD_ATTN_PARAM_INT) {
        if (item->valuedouble != floor(item->valuedouble))
            return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: %s = %g must be an integer", what, d->name,
                                item->valuedouble);
        snprintf(buf, sizeof buf, "%.0f", item->valuedouble);
    } else {
        snprintf(buf, sizeof buf, "%.9g", item->valuedouble);
    }
    return set_from_text(a, d, buf, what, err);
}

vd_status vd_attn_load_json(vd_attn *a, const char *text, const char *what, vd_error *err) {
    cJSON *root = cJSON_Parse(text);
    if (!root) return vd_error_set(err, VD_ERR_FORMAT, "%s: not valid JSON (near '%.20s')", what, cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "?");
    vd_status st = VD_OK;
    if (!cJSON_IsObject(root)) {
        st = vd_error_set(err, VD_ERR_FORMAT, "%s: the preset must be a JSON object", what);
        goto done;
    }
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(root, "method");
    if (method && (!cJSON_IsString(method) || strcmp(method->valuestring, a->m->name))) {
        st = vd_error_set(err, VD_ERR_INVALID_ARG, "%s: preset is for method '%s', not '%s'", what,
                          cJSON_IsString(method) ? method->valuestring : "?", a->m->name);
        goto done;
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
    const cJSON *it;
    if (params) {
        if (!cJSON_IsObject(params)) {
            st = vd_error_set(err, VD_ERR_FORMAT, "%s: \"params\" must be an object", what);
            goto done;
        }
        cJSON_ArrayForEach(it, params) if ((st = set_from_json(a, it, what, err)) != VD_OK) goto done;
    }
    cJSON_ArrayForEach(it, root) {   // top-level keys other than method/params/description are params too
        if (!strcmp(it->string, "method") || !strcmp(it->string, "params") || !strcmp(it->string, "description"))
            continue;
        if ((st = set_from_json(a, it, what, err)) != VD_OK) goto done;
    }
    if (a->m->cfg_check) st = a->m->cfg_check(a->cfg, err);
    vd_attn_reset(a);
done:
    cJSON_Delete(root);
    return st;
}

vd_status vd_attn_load_preset(vd_attn *a, const char *path, vd_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return vd_error_set(err, VD_ERR_IO, "attention preset '%s': cannot open", path);
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || n > (1 << 20) || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return vd_error_set(err, VD_ERR_IO, "attention preset '%s': cannot read (size %ld, limit 1 MiB)", path, n);
    }
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return vd_error_set(err, VD_ERR_IO, "attention preset '%s': read failed", path);
    }
    fclose(f);
    buf[n] = 0;
    vd_status st = vd_attn_load_json(a, buf, path, err);
    free(buf);
    return st;
}

void vd_attn_param_format(const vd_attn_param_desc *d, const void *cfg, char *buf, size_t cap) {
    const char *field = (const char *)cfg + d->offset;
    switch (d->type) {
    case VD_ATTN_PARAM_INT: snprintf(buf, cap, "%d", *(const int *)field); break;
    case VD_ATTN_PARAM_FLOAT: snprintf(buf, cap, "%g", (double)*(const float *)field); break;
    case VD_ATTN_PARAM_BOOL: snprintf(buf, cap, "%s", *(const bool *)field ? "true" : "false"); break;
    case VD_ATTN_PARAM_ENUM: snprintf(buf, cap, "%s", d->choices[*(const int *)field]); break;
    case VD_ATTN_PARAM_STRING: snprintf(buf, cap, "\"%s\"", field); break;
    }
}

void vd_attn_print_config(const vd_attn *a, FILE *f) {
    fprintf(f, "attention = %s\n", a->m->name);
    char buf[64];
    for (int i = 0; i < a->m->n_params; i++) {
        vd_attn_param_format(&a->m->params[i], a->cfg, buf, sizeof buf);
        fprintf(f, "  %s = %s\n", a->m->params[i].name, buf);
    }
}

vd_status vd_attn_check(const vd_attn *a, const vd_attn_params *p, const vd_attn_ctx *c, vd_error *err) {
    if (p->device == VD_DEVICE_CUDA && !a->m->run_cuda)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "attention: method '%s' has no CUDA path", a->m->name);
    if (p->B <= 0 || p->N_q <= 0 || p->N_kv <= 0 || p->NH <= 0 || p->NKV <= 0 || p->D <= 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "attention '%s': B=%d N_q=%d N_kv=%d NH=%d NKV=%d D=%d, all must be > 0",
                            a->m->name, p->B, p->N_q, p->N_kv, p->NH, p->NKV, p->D);
    return a->m->check(a->cfg, p, c, err);
}

size_t vd_attn_workspace_bytes(const vd_attn *a, const vd_attn_params *p, const vd_attn_ctx *c) {
    return a->m->workspace_bytes ? a->m->workspace_bytes(a->cfg, p, c) : 0;
}

vd_status vd_attn_run(vd_attn *a, const vd_attn_params *p, const vd_attn_ctx *c, void *ws, void *stream,
                      vd_error *err) {
    VD_TRY(vd_attn_check(a, p, c, err));
    if (!a->state && a->m->state_create) VD_TRY(a->m->state_create(&a->state, a->cfg, err));
    if (p->device == VD_DEVICE_CUDA) return a->m->run_cuda(a->cfg, a->state, p, c, ws, stream, err);
    return a->m->run_cpu(a->cfg, a->state, p, c, ws, err);
}
