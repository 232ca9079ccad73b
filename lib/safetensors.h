// safetensors reader. The file is mmap'ed; the JSON header is validated before anything is
// trusted: header length bound (<= 100 MB and inside the file), every tensor's dtype known,
// shape non-negative, byte size = dtype size x prod(shape) without integer overflow, offsets
// inside the data region, begin <= end, no two tensors overlapping. Any violation returns
// VD_ERR_FORMAT naming the tensor and the byte offsets; nothing crashes on hostile input.
// Sharded checkpoints: vd_st_open_dir / vd_st_open_index read `*.safetensors.index.json`
// (weight_map) and open each shard once.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char *name;
    vd_dtype dtype;
    int ndim;
    int64_t shape[VD_MAX_DIMS];
    uint64_t begin, end;   // byte offsets inside the data region
    const void *data;      // points into the mapping
} vd_st_tensor;

typedef struct vd_st_file vd_st_file;       // one mapped file
typedef struct vd_st_set vd_st_set;         // one or more files (a sharded checkpoint)

// Parses a header held in memory (buf = the whole file's bytes). Used by the mmap reader and the fuzzer.
vd_status vd_st_parse(const uint8_t *buf, size_t len, vd_st_tensor **tensors, size_t *n_tensors,
                      char **metadata_json, vd_error *err);
void vd_st_tensors_free(vd_st_tensor *tensors, size_t n, char *metadata_json);

vd_status vd_st_open(vd_st_file **out, const char *path, vd_error *err);
void vd_st_close(vd_st_file *f);
size_t vd_st_count(const vd_st_file *f);
const vd_st_tensor *vd_st_at(const vd_st_file *f, size_t i);
const vd_st_tensor *vd_st_find(const vd_st_file *f, const char *name);
const char *vd_st_metadata(const vd_st_file *f); // the "__metadata__" object as JSON text, or NULL
const char *vd_st_path(const vd_st_file *f);     // the path it was opened with
size_t vd_st_size(const vd_st_file *f);          // file size in bytes

// A set: a single file, a sharded index (*.index.json), or a directory holding either
// (prefers diffusion_pytorch_model*.safetensors / model*.safetensors; else the only *.safetensors).
vd_status vd_st_set_open(vd_st_set **out, const char *path, vd_error *err);
void vd_st_set_close(vd_st_set *s);
size_t vd_st_set_count(const vd_st_set *s);
const vd_st_tensor *vd_st_set_at(const vd_st_set *s, size_t i);
const vd_st_tensor *vd_st_set_find(const vd_st_set *s, const char *name);
// The files of a set (one, or the shards in order of first mention in the index).
size_t vd_st_set_n_files(const vd_st_set *s);
const vd_st_file *vd_st_set_file(const vd_st_set *s, size_t i);

// Copies a tensor converted to f32 into out (numel floats). Checks the expected shape when
// shape != NULL (ndim dims) and names both shapes on mismatch.
vd_status vd_st_read_f32(const vd_st_tensor *t, float *out, int ndim, const int64_t *shape, vd_error *err);
// Allocates a CPU f32 tensor holding the converted data.
vd_status vd_st_load_f32(const vd_st_tensor *t, vd_tensor *out, vd_error *err);

// Writer (fixtures, dit-forward outputs, latents): writes to path.tmp then renames.
typedef struct {
    const char *name;
    vd_dtype dtype;
    int ndim;
    const int64_t *shape;
    const void *data;
} vd_st_write_entry;
vd_status vd_st_write(const char *path, const vd_st_write_entry *entries, size_t n, const char *metadata_json, vd_error *err);

#ifdef __cplusplus
}
#endif
