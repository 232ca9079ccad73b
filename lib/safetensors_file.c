// One mmap'ed safetensors file: open (map + validate the header through vd_st_parse_named)
// and lookup by name (binary search over a name-sorted index).
// The mapping is read-only and private; tensor data pointers stay valid until vd_st_close.
// A file truncated by another process after it was mapped can still raise SIGBUS on access;
// validation covers the file as it was when opened.
#include "safetensors.h"
#include "safetensors_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct vd_st_file {
    char *path;
    void *map;              // NULL for an empty file
    size_t map_len;
    vd_st_tensor *tensors;  // header order
    size_t n;
    char *metadata;         // "__metadata__" as JSON, or NULL
    const vd_st_tensor **by_name;
};

static int cmp_ptr_name(const void *a, const void *b) {
    return strcmp((*(const vd_st_tensor *const *)a)->name, (*(const vd_st_tensor *const *)b)->name);
}

const vd_st_tensor **vd_st_name_index(const vd_st_tensor *const *tensors, size_t n) {
    const vd_st_tensor **p = malloc((n ? n : 1) * sizeof *p);
    if (!p) return NULL;
    memcpy(p, tensors, n * sizeof *p);
    qsort(p, n, sizeof *p, cmp_ptr_name);
    return p;
}

const vd_st_tensor *vd_st_name_lookup(const vd_st_tensor *const *sorted, size_t n, const char *name) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(sorted[mid]->name, name);
        if (c == 0) return sorted[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

vd_status vd_st_open(vd_st_file **out, const char *path, vd_error *err) {
    *out = NULL;
    char who[320];
    snprintf(who, sizeof who, "vd_st_open: %s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return vd_error_set(err, VD_ERR_IO, "%s: cannot open: %s", who, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return vd_error_set(err, VD_ERR_IO, "%s: cannot stat: %s", who, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return vd_error_set(err, VD_ERR_IO, "%s: not a regular file (a directory? use vd_st_set_open)", who);
    }
    vd_st_file *f = calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "%s: file struct", who);
    }
    f->map_len = (size_t)st.st_size;
    f->path = strdup(path);
    if (!f->path) {
        close(fd);
        vd_st_close(f);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "%s: path copy", who);
    }
    if (f->map_len > 0) {
        f->map = mmap(NULL, f->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (f->map == MAP_FAILED) {
            int e = errno;
            f->map = NULL;
            close(fd);
            vd_st_close(f);
            return vd_error_set(err, VD_ERR_IO, "%s: mmap of %zu bytes failed: %s", who, (size_t)st.st_size, strerror(e));
        }
    }
    close(fd); // the mapping keeps the file alive
    static const uint8_t empty[1] = {0};
    vd_status s = vd_st_parse_named(who, f->map ? f->map : empty, f->map_len, &f->tensors, &f->n, &f->metadata, err);
    if (s != VD_OK) {
        vd_st_close(f);
        return s;
    }
    const vd_st_tensor **all = malloc((f->n ? f->n : 1) * sizeof *all);
    if (all) {
        for (size_t i = 0; i < f->n; i++) all[i] = &f->tensors[i];
        f->by_name = vd_st_name_index(all, f->n);
        free(all);
    }
    if (!f->by_name) {
        size_t n = f->n;
        vd_st_close(f);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "%s: name index of %zu tensors", who, n);
    }
    *out = f;
    return VD_OK;
}

void vd_st_close(vd_st_file *f) {
    if (!f) return;
    vd_st_tensors_free(f->tensors, f->n, f->metadata);
    free(f->by_name);
    if (f->map) munmap(f->map, f->map_len);
    free(f->path);
    free(f);
}

size_t vd_st_count(const vd_st_file *f) { return f ? f->n : 0; }
const vd_st_tensor *vd_st_at(const vd_st_file *f, size_t i) { return f && i < f->n ? &f->tensors[i] : NULL; }
const vd_st_tensor *vd_st_find(const vd_st_file *f, const char *name) {
    return f && name ? vd_st_name_lookup(f->by_name, f->n, name) : NULL;
}
const char *vd_st_metadata(const vd_st_file *f) { return f ? f->metadata : NULL; }
const char *vd_st_path(const vd_st_file *f) { return f ? f->path : NULL; }
size_t vd_st_size(const vd_st_file *f) { return f ? f->map_len : 0; }
