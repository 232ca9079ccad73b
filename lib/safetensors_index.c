// Tensor sets: one safetensors file, a sharded checkpoint (`*.safetensors.index.json`, whose
// "weight_map" maps tensor name -> shard file), or a directory holding either. Each shard is
// opened once. The set lists every tensor of every shard (shard order, then header order);
// a name found in two shards, or a weight_map entry missing from its shard, is a format error.
// Directory preference: diffusion_pytorch_model.safetensors.index.json, diffusion_pytorch_model.safetensors,
// model.safetensors.index.json, model.safetensors, the only *.safetensors.index.json, the only *.safetensors.
#include "safetensors.h"
#include "safetensors_internal.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ST_INDEX_MAX (64u << 20) // index files of the largest public models are < 1 MB

struct vd_st_set {
    vd_st_file **files;
    size_t n_files;
    const vd_st_tensor **all;     // shard order, then header order
    const vd_st_tensor **by_name; // sorted by name
    size_t n;
};

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static char *join_path(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p) snprintf(p, a + b + 2, "%s%s%s", dir, (a && dir[a - 1] == '/') ? "" : "/", name);
    return p;
}

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = 0;
    }
    return d;
}

// Shard names must stay inside the index's directory: relative, no ".." component.
static bool shard_name_ok(const char *s) {
    if (!*s || *s == '/') return false;
    for (const char *c = s; *c;) {
        const char *e = strchr(c, '/');
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (len == 2 && c[0] == '.' && c[1] == '.') return false;
        c += len + (e ? 1 : 0);
    }
    return true;
}

static vd_status read_small_file(const char *path, char **out, vd_error *err) {
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return vd_error_set(err, VD_ERR_IO, "vd_st_set_open: cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > ST_INDEX_MAX) {
        fclose(fp);
        return vd_error_set(err, VD_ERR_FORMAT, "vd_st_set_open: %s: size %lld outside [0, %u] bytes (not an index?)",
                            path, (long long)st.st_size, ST_INDEX_MAX);
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    size_t n = buf ? fread(buf, 1, size, fp) : 0;
    int bad = ferror(fp);
    fclose(fp);
    if (!buf) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_st_set_open: %zu-byte buffer for %s", size + 1, path);
    if (bad || n != size) {
        free(buf);
        return vd_error_set(err, VD_ERR_IO, "vd_st_set_open: %s: read %zu of %zu bytes", path, n, size);
    }
    buf[n] = 0;
    *out = buf;
    return VD_OK;
}

static vd_status set_add_file(vd_st_set *s, vd_st_file *f, vd_error *err) {
    vd_st_file **nf = realloc(s->files, (s->n_files + 1) * sizeof *nf);
    if (!nf) {
        vd_st_close(f);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_st_set_open: shard list");
    }
    s->files = nf;
    s->files[s->n_files++] = f;
    return VD_OK;
}

// Flattens the shards' tensors, builds the name index and rejects names found in two shards.
static vd_status set_finish(vd_st_set *s, const char *path, vd_error *err) {
    size_t n = 0;
    for (size_t i = 0; i < s->n_files; i++) n += vd_st_count(s->files[i]);
    s->all = malloc((n ? n : 1) * sizeof *s->all);
    if (!s->all) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_st_set_open: %zu tensor pointers", n);
    for (size_t i = 0; i < s->n_files; i++)
        for (size_t j = 0; j < vd_st_count(s->files[i]); j++) s->all[s->n++] = vd_st_at(s->files[i], j);
    s->by_name = vd_st_name_index(s->all, s->n);
    if (!s->by_name) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_st_set_open: name index");
    for (size_t i = 1; i < s->n; i++)
        if (strcmp(s->by_name[i - 1]->name, s->by_name[i]->name) == 0)
            return vd_error_set(err, VD_ERR_FORMAT, "vd_st_set_open: %s: tensor '%s' is stored in two shards",
                                path, s->by_name[i]->name);
    return VD_OK;
}

static vd_status open_index(vd_st_set *s, const char *path, vd_error *err) {
    char *txt = NULL, *dir = NULL;
    VD_TRY(read_small_file(path, &txt, err));
    vd_status st = VD_OK;
    char **shard_names = NULL;
    size_t n_shards = 0;
    cJSON *root = cJSON_Parse(txt);
    const cJSON *wm = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!cJSON_IsObject(wm)) {
        st = vd_error_set(err, VD_ERR_FORMAT, "vd_st_set_open: %s: %s", path,
                          root ? "no \"weight_map\" object (not a safetensors index?)" : "invalid JSON");
        goto done;
    }
    dir = dir_of(path);
    size_t cap = (size_t)cJSON_GetArraySize(wm);
    shard_names = calloc(cap ? cap : 1, sizeof *shard_names);
    if (!dir || !shard_names) {
        st = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_st_set_open: %s: shard list", path);
        goto done;
    }
    for (const cJSON *e = wm->child; e; e = e->next) { // distinct shards, in order of first mention
        if (!cJSON_IsString(e) || !shard_name_ok(e->valuestring)) {
            st = vd_error_set(err, VD_ERR_FORMAT, "vd_st_set_open: %s: weight_map['%s'] must be a shard file name in "
                              "the index's directory (got %s)", path, e->string,
                              cJSON_IsString(e) ? e->valuestring : "a non-string");
            goto done;
        }
        size_t k = 0;
        while (k < n_shards && strcmp(shard_names[k], e->valuestring) != 0) k++;
        if (k == n_shards) shard_names[n_shards++] = e->valuestring;
    }
    for (size_t k = 0; k < n_shards; k++) {
        char *p = join_path(dir, shard_names[k]);
        vd_st_file *f = NULL;
        st = p ? vd_st_open(&f, p, err) : vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_st_set_open: path");
        free(p);
        if (st != VD_OK || (st = set_add_file(s, f, err)) != VD_OK) goto done;
    }
    if ((st = set_finish(s, path, err)) != VD_OK) goto done;
    for (const cJSON *e = wm->child; e; e = e->next) {
        size_t k = 0;
        while (strcmp(shard_names[k], e->valuestring) != 0) k++;
        if (!vd_st_find(s->files[k], e->string)) {
            st = vd_error_set(err, VD_ERR_FORMAT, "vd_st_set_open: %s maps tensor '%s' to %s, which has no such tensor "
                              "(hint: shards and index are from different downloads)", path, e->string, e->valuestring);
            goto done;
        }
    }
done:
    free(shard_names);
    free(dir);
    cJSON_Delete(root);
    free(txt);
    return st;
}

// Picks the checkpoint inside a directory (see the header comment for the order). *out is malloc'ed.
static vd_status resolve_dir(const char *dir, char **out, vd_error *err) {
    static const char *const preferred[] = {"diffusion_pytorch_model.safetensors.index.json",
                                            "diffusion_pytorch_model.safetensors", "model.safetensors.index.json",
                                            "model.safetensors"};
    *out = NULL;
    for (size_t i = 0; i < sizeof preferred / sizeof preferred[0]; i++) {
        char *p = join_path(dir, preferred[i]);
        struct stat st;
        if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            *out = p;
            return VD_OK;
        }
        free(p);
    }
    DIR *d = opendir(dir);
    if (!d) return vd_error_set(err, VD_ERR_IO, "vd_st_set_open: cannot list %s: %s", dir, strerror(errno));
    char idx[256] = "", one[256] = "", names[200] = "";
    int n_idx = 0, n_one = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (ends_with(e->d_name, ".safetensors.index.json") && ++n_idx == 1) snprintf(idx, sizeof idx, "%s", e->d_name);
        if (ends_with(e->d_name, ".safetensors")) {
            if (++n_one == 1) snprintf(one, sizeof one, "%s", e->d_name);
            size_t o = strlen(names);
            if (n_one <= 4) snprintf(names + o, sizeof names - o, "%s%s", n_one > 1 ? ", " : "", e->d_name);
        }
    }
    closedir(d);
    const char *pick = n_idx == 1 ? idx : (n_idx == 0 && n_one == 1) ? one : NULL;
    if (!pick) {
        if (n_idx > 1)
            return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_st_set_open: %s holds %d *.safetensors.index.json files; "
                                "pass the one to use", dir, n_idx);
        if (n_one == 0)
            return vd_error_set(err, VD_ERR_IO, "vd_st_set_open: %s holds no .safetensors file", dir);
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_st_set_open: %s holds %d .safetensors files (%s%s) and no "
                            "index; pass the file to use", dir, n_one, names, n_one > 4 ? ", ..." : "");
    }
    *out = join_path(dir, pick);
    return *out ? VD_OK : vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_st_set_open: path");
}

vd_status vd_st_set_open(vd_st_set **out, const char *path, vd_error *err) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) return vd_error_set(err, VD_ERR_IO, "vd_st_set_open: %s: %s", path, strerror(errno));
    char *resolved = NULL;
    if (S_ISDIR(st.st_mode)) VD_TRY(resolve_dir(path, &resolved, err));
    const char *p = resolved ? resolved : path;
    vd_st_set *s = calloc(1, sizeof *s);
    vd_status r = s ? VD_OK : vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_st_set_open: set struct");
    if (r == VD_OK && ends_with(p, ".json")) {
        r = open_index(s, p, err);
    } else if (r == VD_OK) {
        vd_st_file *f = NULL;
        r = vd_st_open(&f, p, err);
        if (r == VD_OK) r = set_add_file(s, f, err);
        if (r == VD_OK) r = set_finish(s, p, err);
    }
    free(resolved);
    if (r != VD_OK) {
        vd_st_set_close(s);
        return r;
    }
    *out = s;
    return VD_OK;
}

void vd_st_set_close(vd_st_set *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_files; i++) vd_st_close(s->files[i]);
    free(s->files);
    free(s->all);
    free(s->by_name);
    free(s);
}

size_t vd_st_set_count(const vd_st_set *s) { return s ? s->n : 0; }
size_t vd_st_set_n_files(const vd_st_set *s) { return s ? s->n_files : 0; }
const vd_st_file *vd_st_set_file(const vd_st_set *s, size_t i) { return s && i < s->n_files ? s->files[i] : NULL; }
const vd_st_tensor *vd_st_set_at(const vd_st_set *s, size_t i) { return s && i < s->n ? s->all[i] : NULL; }
const vd_st_tensor *vd_st_set_find(const vd_st_set *s, const char *name) {
    return s && name ? vd_st_name_lookup(s->by_name, s->n, name) : NULL;
}
