// safetensors header parser and validator (format: 8-byte little-endian header length N, N bytes
// of JSON, then the data region). Nothing in the header is trusted until it has been checked:
//   - N <= 100 MB (the bound the reference implementation uses) and N <= file size - 8;
//   - the header is a JSON object without NUL bytes; "__metadata__", if present, is an object;
//   - each other entry is an object {dtype: string, shape: [ints], data_offsets: [begin, end]};
//   - dtype is known, ndim <= VD_MAX_DIMS, dims and offsets are integers in [0, 2^53] (JSON
//     numbers are doubles: above 2^53 they stop being exact);
//   - numel and numel x dtype size do not overflow 64 bits; begin <= end <= data region size;
//     end - begin == numel x dtype size;
//   - no name twice; no two non-empty tensors overlap (checked on the tensors sorted by begin).
// Holes between tensors are accepted (the reference writer never makes them, but they are harmless).
// Also here: conversion of a validated tensor to f32 (vd_st_read_f32 / vd_st_load_f32).
#include "safetensors.h"
#include "safetensors_internal.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ST_HEADER_MAX 100000000ull     // bytes; the reference implementation's limit
#define ST_INT_MAX 9007199254740992.0  // 2^53

// safetensors dtypes that vdit cannot hold: a file using them is valid but unsupported.
static const char *const k_foreign_dtypes[] = {"U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0",
                                               "F6_E2M3", "F6_E3M2", "F4", "C64"};

void vd_st_format_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

static const char *json_type_name(const cJSON *v) {
    if (!v) return "missing";
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    return "invalid";
}

// Accepts a JSON number that is an integer in [0, 2^53].
static bool json_u53(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0.0) || d > ST_INT_MAX || d != floor(d)) return false;
    *out = (uint64_t)d;
    return true;
}

// Describes a JSON value for a message: numbers in their shortest exact form, arrays as JSON
// text (cut to fit), else their type.
static void json_describe(const cJSON *v, char *buf, size_t cap) {
    if (cJSON_IsNumber(v)) {
        snprintf(buf, cap, "%.15g", v->valuedouble);
        if (strtod(buf, NULL) != v->valuedouble) snprintf(buf, cap, "%.17g", v->valuedouble);
    } else if (cJSON_IsArray(v)) {
        char *txt = cJSON_PrintUnformatted(v);
        snprintf(buf, cap, "%s", txt ? txt : "an array");
        cJSON_free(txt);
    } else {
        snprintf(buf, cap, "%s", json_type_name(v));
    }
}

static vd_status parse_dtype(const char *who, const char *name, const cJSON *e, vd_dtype *out, vd_error *err) {
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    if (!cJSON_IsString(d))
        return vd_error_set(err, VD_ERR_FORMAT, "%s: tensor '%s': 'dtype' is %s, must be a string such as \"F32\"",
                            who, name, json_type_name(d));
    if (vd_dtype_from_st_name(d->valuestring, strlen(d->valuestring), out) == 0) return VD_OK;
    for (size_t i = 0; i < sizeof k_foreign_dtypes / sizeof k_foreign_dtypes[0]; i++)
        if (strcmp(d->valuestring, k_foreign_dtypes[i]) == 0)
            return vd_error_set(err, VD_ERR_UNSUPPORTED,
                                "%s: tensor '%s' has dtype %s, which vdit does not support "
                                "(supported: F32 F16 BF16 F64 I64 I32 I16 I8 U8 BOOL)",
                                who, name, d->valuestring);
    return vd_error_set(err, VD_ERR_FORMAT,
                        "%s: tensor '%s' has unknown dtype '%.40s' (known: F32 F16 BF16 F64 I64 I32 I16 I8 U8 BOOL)",
                        who, name, d->valuestring);
}

// Shape: ndim, dims, and the byte size numel x elem size without 64-bit overflow.
static vd_status parse_shape(const char *who, vd_st_tensor *t, const cJSON *e, uint64_t *nbytes, vd_error *err) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "shape");
    if (!cJSON_IsArray(s))
        return vd_error_set(err, VD_ERR_FORMAT, "%s: tensor '%s': 'shape' is %s, must be an array of integers",
                            who, t->name, json_type_name(s));
    int n = cJSON_GetArraySize(s);
    if (n > VD_MAX_DIMS)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "%s: tensor '%s' has %d dims; vdit handles at most %d",
                            who, t->name, n, VD_MAX_DIMS);
    t->ndim = n;
    bool any_zero = false;
    int i = 0;
    for (const cJSON *d = s->child; d; d = d->next, i++) {
        uint64_t v;
        if (!json_u53(d, &v)) {
            char desc[48];
            json_describe(d, desc, sizeof desc);
            return vd_error_set(err, VD_ERR_FORMAT, "%s: tensor '%s': shape[%d] is %s, must be an integer in [0, 2^53]",
                                who, t->name, i, desc);
        }
        t->shape[i] = (int64_t)v;
        any_zero |= v == 0;
    }
    uint64_t numel = 1, esize = vd_dtype_size(t->dtype);
    if (!any_zero)
        for (i = 0; i < n; i++) {
            uint64_t v = (uint64_t)t->shape[i];
            if (numel > UINT64_MAX / v || numel * v > UINT64_MAX / esize) {
                char sh[160];
                vd_st_format_shape(sh, sizeof sh, n, t->shape);
                return vd_error_set(err, VD_ERR_FORMAT, "%s: tensor '%s': shape %s x %s (%" PRIu64
                                    " bytes) overflows 64-bit byte counts", who, t->name, sh,
                                    vd_dtype_st_name(t->dtype), esize);
            }
            numel *= v;
        }
    *nbytes = any_zero ? 0 : numel * esize;
    return VD_OK;
}

static vd_status parse_entry(const char *who, vd_st_tensor *t, const cJSON *e, uint64_t data_start, uint64_t data_len,
                             vd_error *err) {
    if (!cJSON_IsObject(e))
        return vd_error_set(err, VD_ERR_FORMAT,
                            "%s: tensor '%s': entry is %s, must be an object with dtype, shape and data_offsets",
                            who, t->name, json_type_name(e));
    VD_TRY(parse_dtype(who, t->name, e, &t->dtype, err));
    uint64_t nbytes = 0;
    VD_TRY(parse_shape(who, t, e, &nbytes, err));
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    uint64_t b, en;
    if (!cJSON_IsArray(o) || cJSON_GetArraySize(o) != 2 || !json_u53(o->child, &b) || !json_u53(o->child->next, &en)) {
        char desc[64];
        json_describe(o, desc, sizeof desc);
        return vd_error_set(err, VD_ERR_FORMAT,
                            "%s: tensor '%s': 'data_offsets' is %s, must be [begin, end] with integers in [0, 2^53]",
                            who, t->name, desc);
    }
    if (b > en)
        return vd_error_set(err, VD_ERR_FORMAT, "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] begin after end",
                            who, t->name, b, en);
    if (en > data_len)
        return vd_error_set(err, VD_ERR_FORMAT,
                            "%s: tensor '%s' ends at byte %" PRIu64 " but the data region has %" PRIu64 " bytes (file bytes %"
                            PRIu64 "..%" PRIu64 "; hint: the file looks truncated; re-download it)", who, t->name, en,
                            data_len, data_start, data_start + data_len);
    if (en - b != nbytes) {
        char sh[160];
        vd_st_format_shape(sh, sizeof sh, t->ndim, t->shape);
        return vd_error_set(err, VD_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] hold %" PRIu64
                            " bytes but %s x shape %s needs %" PRIu64, who, t->name, b, en, en - b,
                            vd_dtype_st_name(t->dtype), sh, nbytes);
    }
    t->begin = b;
    t->end = en;
    return VD_OK;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((*(const vd_st_tensor *const *)a)->name, (*(const vd_st_tensor *const *)b)->name);
}

static int cmp_begin(const void *a, const void *b) {
    const vd_st_tensor *x = *(const vd_st_tensor *const *)a, *y = *(const vd_st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

// Duplicate names and overlapping byte ranges, on pointer arrays sorted two ways.
static vd_status check_unique(const char *who, vd_st_tensor *ts, size_t n, vd_error *err) {
    if (n < 2) return VD_OK;
    vd_st_tensor **p = malloc(n * sizeof *p);
    if (!p) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "%s: %zu tensor pointers", who, n);
    vd_status s = VD_OK;
    for (size_t i = 0; i < n; i++) p[i] = &ts[i];
    qsort(p, n, sizeof *p, cmp_name);
    for (size_t i = 1; i < n && s == VD_OK; i++)
        if (strcmp(p[i - 1]->name, p[i]->name) == 0)
            s = vd_error_set(err, VD_ERR_FORMAT, "%s: tensor '%s' appears twice in the header", who, p[i]->name);
    if (s == VD_OK) {
        qsort(p, n, sizeof *p, cmp_begin);
        const vd_st_tensor *last = NULL; // the non-empty tensor with the largest end so far
        for (size_t i = 0; i < n && s == VD_OK; i++) {
            if (p[i]->begin == p[i]->end) continue;
            if (last && p[i]->begin < last->end)
                s = vd_error_set(err, VD_ERR_FORMAT,
                                 "%s: tensors '%s' (bytes %" PRIu64 "..%" PRIu64 ") and '%s' (bytes %" PRIu64 "..%" PRIu64
                                 ") overlap in the data region", who, last->name, last->begin, last->end,
                                 p[i]->name, p[i]->begin, p[i]->end);
            if (!last || p[i]->end > last->end) last = p[i];
        }
    }
    free(p);
    return s;
}

vd_status vd_st_parse_named(const char *who, const uint8_t *buf, size_t len, vd_st_tensor **tensors,
                            size_t *n_tensors, char **metadata_json, vd_error *err) {
    *tensors = NULL;
    *n_tensors = 0;
    if (metadata_json) *metadata_json = NULL;
    if (len < 8)
        return vd_error_set(err, VD_ERR_FORMAT, "%s: file is %zu bytes, shorter than the 8-byte header length "
                            "(hint: the file looks truncated or empty; re-download it)", who, len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | buf[i];
    if (hlen > ST_HEADER_MAX)
        return vd_error_set(err, VD_ERR_FORMAT, "%s: header length %" PRIu64 " exceeds the limit of %llu bytes "
                            "(hint: not a safetensors file, or its first 8 bytes are corrupt)", who, hlen, ST_HEADER_MAX);
    if (hlen > len - 8)
        return vd_error_set(err, VD_ERR_FORMAT, "%s: header length %" PRIu64 " but only %zu bytes follow the "
                            "8-byte length (hint: the file looks truncated; re-download it)", who, hlen, len - 8);
    const char *h = (const char *)buf + 8;
    const char *nul = memchr(h, 0, (size_t)hlen);
    if (nul)
        return vd_error_set(err, VD_ERR_FORMAT, "%s: header has a NUL byte at file byte %zu (header is bytes 8..%" PRIu64 ")",
                            who, (size_t)(nul - h) + 8, hlen + 8);
    char *txt = malloc((size_t)hlen + 1); // cJSON needs a terminated string
    if (!txt) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "%s: %" PRIu64 "-byte header copy", who, hlen);
    memcpy(txt, h, (size_t)hlen);
    txt[hlen] = 0;
    const char *stop = NULL;
    cJSON *root = cJSON_ParseWithOpts(txt, &stop, 1);
    vd_status s = VD_OK;
    vd_st_tensor *ts = NULL;
    size_t n = 0;
    char *meta = NULL;
    if (!root) {
        size_t at = stop && stop >= txt ? (size_t)(stop - txt) : 0;
        if (at >= hlen)
            s = vd_error_set(err, VD_ERR_FORMAT, "%s: header JSON is invalid: it ends at file byte %" PRIu64
                             " before the value is complete (unclosed object or array?)", who, hlen + 8);
        else
            s = vd_error_set(err, VD_ERR_FORMAT, "%s: header JSON is invalid at file byte %zu (header is bytes 8..%"
                             PRIu64 "), near \"%.24s\"", who, at + 8, hlen + 8, txt + at);
        goto fail;
    }
    if (!cJSON_IsObject(root)) {
        s = vd_error_set(err, VD_ERR_FORMAT, "%s: header is %s, must be a JSON object", who, json_type_name(root));
        goto fail;
    }
    size_t cap = 0;
    for (const cJSON *c = root->child; c; c = c->next) cap++;
    ts = calloc(cap ? cap : 1, sizeof *ts);
    if (!ts) {
        s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "%s: %zu header entries", who, cap);
        goto fail;
    }
    const uint64_t data_len = len - 8 - hlen;
    const uint8_t *data = buf + 8 + hlen;
    for (const cJSON *c = root->child; c; c = c->next) {
        const char *key = c->string ? c->string : "";
        if (strcmp(key, "__metadata__") == 0) {
            if (meta || !cJSON_IsObject(c)) {
                s = vd_error_set(err, VD_ERR_FORMAT, "%s: '__metadata__' is %s, must appear once as an object of strings",
                                 who, meta ? "repeated" : json_type_name(c));
                goto fail;
            }
            meta = cJSON_PrintUnformatted(c);
            continue;
        }
        vd_st_tensor *t = &ts[n++];
        t->name = strdup(key);
        if (!t->name) {
            s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "%s: tensor name copy", who);
            goto fail;
        }
        if ((s = parse_entry(who, t, c, 8 + hlen, data_len, err)) != VD_OK) goto fail;
        t->data = data + t->begin;
    }
    if ((s = check_unique(who, ts, n, err)) != VD_OK) goto fail;
    cJSON_Delete(root);
    free(txt);
    *tensors = ts;
    *n_tensors = n;
    if (metadata_json) *metadata_json = meta;
    else cJSON_free(meta);
    return VD_OK;
fail:
    vd_st_tensors_free(ts, n, meta);
    cJSON_Delete(root);
    free(txt);
    return s;
}

vd_status vd_st_parse(const uint8_t *buf, size_t len, vd_st_tensor **tensors, size_t *n_tensors,
                      char **metadata_json, vd_error *err) {
    return vd_st_parse_named("vd_st_parse", buf, len, tensors, n_tensors, metadata_json, err);
}

void vd_st_tensors_free(vd_st_tensor *tensors, size_t n, char *metadata_json) {
    for (size_t i = 0; tensors && i < n; i++) free(tensors[i].name);
    free(tensors);
    cJSON_free(metadata_json);
}

vd_status vd_st_read_f32(const vd_st_tensor *t, float *out, int ndim, const int64_t *shape, vd_error *err) {
    if (shape) {
        bool same = t->ndim == ndim;
        for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
        if (!same) {
            char want[160], have[160];
            vd_st_format_shape(want, sizeof want, ndim, shape);
            vd_st_format_shape(have, sizeof have, t->ndim, t->shape);
            return vd_error_set(err, VD_ERR_FORMAT, "vd_st_read_f32: tensor '%s' has shape %s but %s was expected "
                                "(hint: the checkpoint does not match the model config)", t->name, have, want);
        }
    }
    if (t->dtype == VD_BOOL)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_st_read_f32: tensor '%s' is BOOL; only numeric dtypes convert to f32",
                            t->name);
    size_t esize = vd_dtype_size(t->dtype);
    size_t numel = esize ? (size_t)(t->end - t->begin) / esize : 0;
    if (numel == 0) return VD_OK;
    // The data region starts at 8 + header length, which writers need not align: convert
    // misaligned tensors through an aligned bounce buffer (typed loads must be aligned).
    if ((uintptr_t)t->data % esize == 0) {
        vd_convert_to_f32(out, t->data, t->dtype, numel);
        return VD_OK;
    }
    uint64_t bounce[2048];
    size_t chunk = sizeof bounce / esize;
    const uint8_t *src = t->data;
    for (size_t i = 0; i < numel; i += chunk) {
        size_t k = numel - i < chunk ? numel - i : chunk;
        memcpy(bounce, src + i * esize, k * esize);
        vd_convert_to_f32(out + i, bounce, t->dtype, k);
    }
    return VD_OK;
}

vd_status vd_st_load_f32(const vd_st_tensor *t, vd_tensor *out, vd_error *err) {
    VD_TRY(vd_tensor_alloc(out, VD_F32, t->ndim, t->shape, err));
    vd_status s = vd_st_read_f32(t, out->data, 0, NULL, err);
    if (s != VD_OK) vd_tensor_free(out);
    return s;
}
