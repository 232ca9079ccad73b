// Helpers shared by the safetensors reader, index and writer files (not a public interface).
#pragma once
#include "safetensors.h"

// vd_st_parse with the caller's name (e.g. "vd_st_open: path") leading every message.
vd_status vd_st_parse_named(const char *who, const uint8_t *buf, size_t len, vd_st_tensor **tensors,
                            size_t *n_tensors, char **metadata_json, vd_error *err);
// "[2, 3, 4]"
void vd_st_format_shape(char *buf, size_t cap, int ndim, const int64_t *shape);
// Builds a name-sorted pointer array over n tensors (for bsearch); NULL when out of memory.
const vd_st_tensor **vd_st_name_index(const vd_st_tensor *const *tensors, size_t n);
const vd_st_tensor *vd_st_name_lookup(const vd_st_tensor *const *sorted, size_t n, const char *name);
