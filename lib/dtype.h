// Element types and conversions. f32 <-> f16/bf16 conversions round to nearest, ties to even,
// and keep NaN a NaN (quiet) and Inf an Inf. These are the reference for the CUDA converters.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    VD_F32 = 0,
    VD_F16,
    VD_BF16,
    VD_F64,
    VD_I64,
    VD_I32,
    VD_I16,
    VD_I8,
    VD_U8,
    VD_BOOL,
    VD_DTYPE_COUNT
} vd_dtype;

size_t vd_dtype_size(vd_dtype t);
const char *vd_dtype_name(vd_dtype t);            // "f32", "bf16", ...
int vd_dtype_from_name(const char *name, vd_dtype *out); // accepts "f32"/"float32"; 0 ok, -1 unknown
const char *vd_dtype_st_name(vd_dtype t);         // safetensors spelling: "F32", "BF16", ...
int vd_dtype_from_st_name(const char *name, size_t len, vd_dtype *out); // 0 ok, -1 unknown

uint16_t vd_f32_to_bf16(float f);
float vd_bf16_to_f32(uint16_t h);
uint16_t vd_f32_to_f16(float f);
float vd_f16_to_f32(uint16_t h);

// Converts n elements of type src_t at src to f32 at dst (f32, f16, bf16, f64, integer types).
// Returns 0, or -1 when src_t cannot be converted (bool).
int vd_convert_to_f32(float *dst, const void *src, vd_dtype src_t, size_t n);
// Converts n f32 values to dst_t (f32, f16, bf16). Returns -1 for other targets.
int vd_convert_from_f32(void *dst, vd_dtype dst_t, const float *src, size_t n);

#ifdef __cplusplus
}
#endif
