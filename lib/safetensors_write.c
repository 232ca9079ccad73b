// safetensors writer. Layout matches the reference implementation, so its strict reader (which
// rejects holes) accepts our files: tensors are stored back to back with no gaps, ordered by
// element size (largest first; stable otherwise), and the header is padded with spaces to a
// multiple of 8 bytes. The data region then starts 8-aligned and every tensor is aligned to its
// element size. The file is written to `path.tmp` and renamed over `path` only when complete,
// so a failed write never leaves a half-written output; the temp file is removed on failure.
#include "safetensors.h"
#include "safetensors_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    size_t idx;      // position in the caller's entries
    uint64_t nbytes;
} plan_item;

static int cmp_plan(const void *a, const void *b, const vd_st_write_entry *e) {
    const plan_item *x = a, *y = b;
    size_t sx = vd_dtype_size(e[x->idx].dtype), sy = vd_dtype_size(e[y->idx].dtype);
    if (sx != sy) return sx > sy ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

// Insertion sort with the entries as context (qsort has none); n is a model's tensor count.
static void sort_plan(plan_item *p, size_t n, const vd_st_write_entry *e) {
    for (size_t i = 1; i < n; i++) {
        plan_item v = p[i];
        size_t j = i;
        while (j > 0 && cmp_plan(&p[j - 1], &v, e) > 0) {
            p[j] = p[j - 1];
            j--;
        }
        p[j] = v;
    }
}

static vd_status check_entry(const vd_st_write_entry *e, size_t i, uint64_t *nbytes, vd_error *err) {
    if (!e->name || !*e->name || strcmp(e->name, "__metadata__") == 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_st_write: entry %zu has name '%s'; need a non-empty name other "
                            "than __metadata__", i, e->name ? e->name : "(null)");
    if ((int)e->dtype < 0 || e->dtype >= VD_DTYPE_COUNT)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_st_write: tensor '%s': dtype %d outside [0, %d)", e->name,
                            (int)e->dtype, VD_DTYPE_COUNT);
    if (e->ndim < 0 || e->ndim > VD_MAX_DIMS || (e->ndim > 0 && !e->shape))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_st_write: tensor '%s': ndim %d outside [0, %d]", e->name,
                            e->ndim, VD_MAX_DIMS);
    uint64_t n = vd_dtype_size(e->dtype);
    for (int d = 0; d < e->ndim; d++) {
        if (e->shape[d] < 0 || e->shape[d] > ((int64_t)1 << 53))
            return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_st_write: tensor '%s': dim %d is %" PRId64
                                ", must be in [0, 2^53]", e->name, d, e->shape[d]);
        if (e->shape[d] && n > (((uint64_t)1 << 53) / (uint64_t)e->shape[d]))
            return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_st_write: tensor '%s': byte size exceeds 2^53", e->name);
        n *= (uint64_t)e->shape[d];
    }
    if (n && !e->data)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_st_write: tensor '%s': data is NULL for %" PRIu64 " bytes",
                            e->name, n);
    *nbytes = n;
    return VD_OK;
}

// Header JSON: "__metadata__" first, then the tensors in storage order.
static vd_status build_header(const vd_st_write_entry *entries, const plan_item *plan, size_t n, const char *metadata_json,
                              char **out, vd_error *err) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_st_write: header");
    if (metadata_json) {
        cJSON *m = cJSON_Parse(metadata_json);
        bool ok = cJSON_IsObject(m);
        for (cJSON *c = ok ? m->child : NULL; c; c = c->next) ok &= cJSON_IsString(c) != 0;
        if (!ok) {
            cJSON_Delete(m);
            cJSON_Delete(root);
            return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_st_write: metadata must be a JSON object of strings "
                                "(safetensors readers reject other values), got: %.60s", metadata_json);
        }
        cJSON_AddItemToObject(root, "__metadata__", m);
    }
    uint64_t off = 0;
    for (size_t k = 0; k < n; k++) {
        const vd_st_write_entry *e = &entries[plan[k].idx];
        if (cJSON_GetObjectItemCaseSensitive(root, e->name)) {
            cJSON_Delete(root);
            return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_st_write: tensor name '%s' given twice", e->name);
        }
        cJSON *t = cJSON_AddObjectToObject(root, e->name);
        cJSON *shape = t ? cJSON_AddArrayToObject(t, "shape") : NULL;
        cJSON *offs = t ? cJSON_AddArrayToObject(t, "data_offsets") : NULL;
        bool ok = t && shape && offs && cJSON_AddStringToObject(t, "dtype", vd_dtype_st_name(e->dtype));
        for (int d = 0; ok && d < e->ndim; d++) ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)e->shape[d]));
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        off += plan[k].nbytes;
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        if (!ok) {
            cJSON_Delete(root);
            return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_st_write: header entry '%s'", e->name);
        }
    }
    *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return *out ? VD_OK : vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_st_write: header text");
}

static vd_status write_all(FILE *fp, const void *p, size_t n, const char *tmp, vd_error *err) {
    if (n && fwrite(p, 1, n, fp) != n)
        return vd_error_set(err, VD_ERR_IO, "vd_st_write: writing %s failed: %s", tmp, strerror(errno));
    return VD_OK;
}

vd_status vd_st_write(const char *path, const vd_st_write_entry *entries, size_t n, const char *metadata_json,
                      vd_error *err) {
    plan_item *plan = calloc(n ? n : 1, sizeof *plan);
    if (!plan) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_st_write: %zu entries", n);
    vd_status s = VD_OK;
    for (size_t i = 0; i < n && s == VD_OK; i++) {
        plan[i].idx = i;
        s = check_entry(&entries[i], i, &plan[i].nbytes, err);
    }
    char *header = NULL, *tmp = NULL;
    FILE *fp = NULL;
    if (s != VD_OK) goto done;
    sort_plan(plan, n, entries);
    if ((s = build_header(entries, plan, n, metadata_json, &header, err)) != VD_OK) goto done;
    size_t hlen = strlen(header), padded = (hlen + 7) & ~(size_t)7;
    size_t plen = strlen(path);
    tmp = malloc(plen + 5);
    if (!tmp) {
        s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_st_write: temp path");
        goto done;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    fp = fopen(tmp, "wb");
    if (!fp) {
        s = vd_error_set(err, VD_ERR_IO, "vd_st_write: cannot create %s: %s", tmp, strerror(errno));
        goto done;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)padded >> (8 * i)); // little-endian
    static const char spaces[8] = "        ";
    if ((s = write_all(fp, len8, 8, tmp, err)) != VD_OK || (s = write_all(fp, header, hlen, tmp, err)) != VD_OK ||
        (s = write_all(fp, spaces, padded - hlen, tmp, err)) != VD_OK)
        goto done;
    for (size_t k = 0; k < n; k++)
        if ((s = write_all(fp, entries[plan[k].idx].data, (size_t)plan[k].nbytes, tmp, err)) != VD_OK) goto done;
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
        s = vd_error_set(err, VD_ERR_IO, "vd_st_write: flushing %s failed: %s", tmp, strerror(errno));
        goto done;
    }
    int rc = fclose(fp);
    fp = NULL;
    if (rc != 0) {
        s = vd_error_set(err, VD_ERR_IO, "vd_st_write: closing %s failed: %s", tmp, strerror(errno));
        goto done;
    }
    if (rename(tmp, path) != 0) s = vd_error_set(err, VD_ERR_IO, "vd_st_write: renaming %s to %s failed: %s", tmp,
                                                 path, strerror(errno));
done:
    if (fp) fclose(fp);
    if (s != VD_OK && tmp) remove(tmp);
    free(tmp);
    cJSON_free(header);
    free(plan);
    return s;
}
