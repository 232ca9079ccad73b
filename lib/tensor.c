#include "tensor.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static const char *k_dev_names[VD_DEVICE_COUNT] = {"cpu", "cuda"};

const char *vd_device_name(vd_device_kind d) { return (d >= 0 && d < VD_DEVICE_COUNT) ? k_dev_names[d] : "?"; }

int vd_device_from_name(const char *name, vd_device_kind *out) {
    for (int i = 0; i < VD_DEVICE_COUNT; i++)
        if (name && strcmp(name, k_dev_names[i]) == 0) {
            *out = (vd_device_kind)i;
            return 0;
        }
    return -1;
}

int64_t vd_tensor_numel(const vd_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

size_t vd_tensor_nbytes(const vd_tensor *t) { return (size_t)vd_tensor_numel(t) * vd_dtype_size(t->dtype); }

void vd_tensor_set_contiguous_strides(vd_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        t->stride[i] = s;
        s *= t->shape[i];
    }
}

bool vd_tensor_is_contiguous(const vd_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != s) return false;
        s *= t->shape[i];
    }
    return true;
}

static vd_status check_shape(int ndim, const int64_t *shape, vd_error *err, const char *fn) {
    if (ndim < 0 || ndim > VD_MAX_DIMS)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: ndim %d outside [0, %d]", fn, ndim, VD_MAX_DIMS);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: dim %d is %lld, must be >= 0", fn, i, (long long)shape[i]);
        if (shape[i] > 0 && n > INT64_MAX / 8 / shape[i])
            return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: element count overflows at dim %d", fn, i);
        n *= shape[i];
    }
    return VD_OK;
}

vd_status vd_tensor_view(vd_tensor *t, vd_dtype dtype, vd_device_kind dev, void *data, int ndim,
                         const int64_t *shape, vd_error *err) {
    VD_TRY(check_shape(ndim, shape, err, "vd_tensor_view"));
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->device = dev;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    vd_tensor_set_contiguous_strides(t);
    t->data = data;
    return VD_OK;
}

vd_status vd_tensor_alloc(vd_tensor *t, vd_dtype dtype, int ndim, const int64_t *shape, vd_error *err) {
    VD_TRY(vd_tensor_view(t, dtype, VD_DEVICE_CPU, NULL, ndim, shape, err));
    size_t bytes = vd_tensor_nbytes(t);
    t->data = vd_host_alloc(bytes ? bytes : 1);
    if (!t->data) {
        char d[128];
        vd_tensor_describe(t, d, sizeof d);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_tensor_alloc: %zu bytes for %s", bytes, d);
    }
    memset(t->data, 0, bytes);
    t->owns = true;
    return VD_OK;
}

void vd_tensor_free(vd_tensor *t) {
    if (!t) return;
    if (t->owns) vd_host_free(t->data);
    memset(t, 0, sizeof *t);
}

void vd_tensor_describe(const vd_tensor *t, char *buf, size_t cap) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, cap - o, "[");
    for (int i = 0; i < t->ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (o < cap) snprintf(buf + o, cap - o, "] %s %s", vd_dtype_name(t->dtype), vd_device_name(t->device));
}

bool vd_tensor_shape_eq(const vd_tensor *t, int ndim, const int64_t *shape) {
    if (t->ndim != ndim) return false;
    for (int i = 0; i < ndim; i++)
        if (t->shape[i] != shape[i]) return false;
    return true;
}

void *vd_host_alloc(size_t bytes) {
    void *p = NULL;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0) return NULL;
    return p;
}

void vd_host_free(void *p) { free(p); }

size_t vd_host_peak_rss(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024; // Linux reports KiB
}
