// Tensors: up to 6 dims, element strides, a device tag, and an optional owning buffer.
// A tensor either owns its data (vd_tensor_alloc*) or views memory it does not own
// (vd_tensor_view: safetensors mmap, arena slices). Shapes are outermost-first, as in torch.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VD_MAX_DIMS 6

typedef enum { VD_DEVICE_CPU = 0, VD_DEVICE_CUDA, VD_DEVICE_COUNT } vd_device_kind;

const char *vd_device_name(vd_device_kind d);
int vd_device_from_name(const char *name, vd_device_kind *out); // "cpu" | "cuda"; 0 ok

typedef struct {
    vd_dtype dtype;
    vd_device_kind device;
    int ndim;
    int64_t shape[VD_MAX_DIMS];
    int64_t stride[VD_MAX_DIMS]; // in elements
    void *data;                  // first element
    bool owns;                   // data was allocated by vd_tensor_alloc and is freed by vd_tensor_free
} vd_tensor;

int64_t vd_tensor_numel(const vd_tensor *t);
size_t vd_tensor_nbytes(const vd_tensor *t);
bool vd_tensor_is_contiguous(const vd_tensor *t);
// Row-major strides for t->shape.
void vd_tensor_set_contiguous_strides(vd_tensor *t);
// Validates ndim/shape and fills a contiguous view over data (not owned).
vd_status vd_tensor_view(vd_tensor *t, vd_dtype dtype, vd_device_kind dev, void *data, int ndim,
                         const int64_t *shape, vd_error *err);
// Allocates zeroed host memory (64-byte aligned) for a contiguous CPU tensor.
vd_status vd_tensor_alloc(vd_tensor *t, vd_dtype dtype, int ndim, const int64_t *shape, vd_error *err);
void vd_tensor_free(vd_tensor *t);
// "[2, 16, 21, 60, 104] bf16 cpu"
void vd_tensor_describe(const vd_tensor *t, char *buf, size_t cap);
// True when shapes are equal; else fills err with both shapes and what names them.
bool vd_tensor_shape_eq(const vd_tensor *t, int ndim, const int64_t *shape);

// Host memory, 64-byte aligned (AVX-512 lines). vd_host_free(NULL) is a no-op.
void *vd_host_alloc(size_t bytes);
void vd_host_free(void *p);
// Peak resident set size of this process in bytes (getrusage), for end-of-run reports.
size_t vd_host_peak_rss(void);

#ifdef __cplusplus
}
#endif
