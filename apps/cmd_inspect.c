// `vdit inspect FILE_OR_DIR [--json]`: lists the tensors of a safetensors file, a sharded index
// (*.safetensors.index.json) or a directory holding either: name, dtype, shape, bytes; then
// totals (tensors, parameters, bytes, per dtype) and each file's __metadata__. Reads only the
// headers (the files are mapped, tensor data is not touched).
// Exit codes: 0 ok; 1 the checkpoint is unreadable or malformed (the message names the tensor
// and byte offsets); 2 usage errors, including a directory that holds no single checkpoint.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "apps/commands.h"
#include "lib/progress.h"
#include "lib/safetensors.h"

static void usage(FILE *f) {
    fprintf(f, "usage: vdit inspect FILE_OR_DIR [--json]\n"
               "  FILE_OR_DIR  a .safetensors file, a *.safetensors.index.json, or a directory holding one\n"
               "  --json       print the listing as JSON on stdout\n");
}

static uint64_t numel_of(const vd_st_tensor *t) {
    uint64_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (uint64_t)t->shape[d];
    return n;
}

static void shape_str(const vd_st_tensor *t, char *buf, size_t cap) {
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < t->ndim && o < cap; d++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

typedef struct {
    uint64_t tensors, params, bytes;
    uint64_t dt_tensors[VD_DTYPE_COUNT], dt_bytes[VD_DTYPE_COUNT];
} totals;

static totals count(const vd_st_set *s) {
    totals t;
    memset(&t, 0, sizeof t);
    for (size_t i = 0; i < vd_st_set_count(s); i++) {
        const vd_st_tensor *x = vd_st_set_at(s, i);
        t.tensors++;
        t.params += numel_of(x);
        t.bytes += x->end - x->begin;
        t.dt_tensors[x->dtype]++;
        t.dt_bytes[x->dtype] += x->end - x->begin;
    }
    return t;
}

static void print_text(const vd_st_set *s, const char *path) {
    size_t nf = vd_st_set_n_files(s);
    int w = 4;
    for (size_t i = 0; i < vd_st_set_count(s); i++) {
        int len = (int)strlen(vd_st_set_at(s, i)->name);
        if (len > w) w = len < 72 ? len : 72;
    }
    printf("%s: %zu file%s\n", path, nf, nf == 1 ? "" : "s");
    printf("%-*s  %-5s  %-24s  %14s\n", w, "name", "dtype", "shape", "bytes");
    for (size_t f = 0; f < nf; f++) {
        const vd_st_file *file = vd_st_set_file(s, f);
        if (nf > 1) printf("# %s\n", vd_st_path(file));
        for (size_t i = 0; i < vd_st_count(file); i++) {
            const vd_st_tensor *t = vd_st_at(file, i);
            char sh[160];
            shape_str(t, sh, sizeof sh);
            printf("%-*s  %-5s  %-24s  %14llu\n", w, t->name, vd_dtype_st_name(t->dtype), sh,
                   (unsigned long long)(t->end - t->begin));
        }
    }
    totals tt = count(s);
    char hb[32];
    vd_format_bytes((size_t)tt.bytes, hb, sizeof hb);
    printf("total: %llu tensors, %llu parameters, %llu bytes (%s)\n", (unsigned long long)tt.tensors,
           (unsigned long long)tt.params, (unsigned long long)tt.bytes, hb);
    for (int d = 0; d < VD_DTYPE_COUNT; d++)
        if (tt.dt_tensors[d]) {
            vd_format_bytes((size_t)tt.dt_bytes[d], hb, sizeof hb);
            printf("  %-5s %llu tensors, %s\n", vd_dtype_st_name((vd_dtype)d), (unsigned long long)tt.dt_tensors[d], hb);
        }
    for (size_t f = 0; f < nf; f++) {
        const vd_st_file *file = vd_st_set_file(s, f);
        const char *m = vd_st_metadata(file);
        printf("metadata (%s): %s\n", vd_st_path(file), m ? m : "none");
    }
}

static int print_json(const vd_st_set *s, const char *path) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "path", path);
    cJSON *files = cJSON_AddArrayToObject(root, "files"), *tensors = cJSON_AddArrayToObject(root, "tensors");
    cJSON *tot = cJSON_AddObjectToObject(root, "totals");
    for (size_t f = 0; f < vd_st_set_n_files(s); f++) {
        const vd_st_file *file = vd_st_set_file(s, f);
        cJSON *jf = cJSON_CreateObject();
        cJSON_AddStringToObject(jf, "path", vd_st_path(file));
        cJSON_AddNumberToObject(jf, "bytes", (double)vd_st_size(file));
        const char *m = vd_st_metadata(file);
        cJSON_AddItemToObject(jf, "metadata", m ? cJSON_Parse(m) : cJSON_CreateNull());
        cJSON_AddItemToArray(files, jf);
        for (size_t i = 0; i < vd_st_count(file); i++) {
            const vd_st_tensor *t = vd_st_at(file, i);
            cJSON *jt = cJSON_CreateObject(), *sh = cJSON_CreateArray(), *off = cJSON_CreateArray();
            cJSON_AddStringToObject(jt, "name", t->name);
            cJSON_AddStringToObject(jt, "dtype", vd_dtype_st_name(t->dtype));
            for (int d = 0; d < t->ndim; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t->shape[d]));
            cJSON_AddItemToObject(jt, "shape", sh);
            cJSON_AddNumberToObject(jt, "bytes", (double)(t->end - t->begin));
            cJSON_AddItemToArray(off, cJSON_CreateNumber((double)t->begin));
            cJSON_AddItemToArray(off, cJSON_CreateNumber((double)t->end));
            cJSON_AddItemToObject(jt, "data_offsets", off);
            cJSON_AddNumberToObject(jt, "file", (double)f);
            cJSON_AddItemToArray(tensors, jt);
        }
    }
    totals tt = count(s);
    cJSON_AddNumberToObject(tot, "tensors", (double)tt.tensors);
    cJSON_AddNumberToObject(tot, "parameters", (double)tt.params);
    cJSON_AddNumberToObject(tot, "bytes", (double)tt.bytes);
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    if (!txt) {
        fprintf(stderr, "vdit inspect: out of memory while printing JSON\n");
        return 1;
    }
    puts(txt);
    cJSON_free(txt);
    return 0;
}

int cmd_inspect(int argc, char **argv) {
    const char *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "vdit inspect: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (path) {
            fprintf(stderr, "vdit inspect: one path expected, got '%s' and '%s'\n", path, argv[i]);
            usage(stderr);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    vd_st_set *s = NULL;
    vd_error err = {0};
    vd_status st = vd_st_set_open(&s, path, &err);
    if (st != VD_OK) {
        fprintf(stderr, "vdit inspect: %s: %s\n", vd_status_str(st), err.msg);
        return st == VD_ERR_INVALID_ARG ? 2 : 1;
    }
    int rc = 0;
    if (json) rc = print_json(s, path);
    else print_text(s, path);
    vd_st_set_close(s);
    return rc;
}
