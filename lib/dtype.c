#include "dtype.h"
#include <string.h>

typedef struct {
    const char *name, *alt, *st;
    size_t size;
} dtype_info;

static const dtype_info k_info[VD_DTYPE_COUNT] = {
    [VD_F32] = {"f32", "float32", "F32", 4},  [VD_F16] = {"f16", "float16", "F16", 2},
    [VD_BF16] = {"bf16", "bfloat16", "BF16", 2}, [VD_F64] = {"f64", "float64", "F64", 8},
    [VD_I64] = {"i64", "int64", "I64", 8},    [VD_I32] = {"i32", "int32", "I32", 4},
    [VD_I16] = {"i16", "int16", "I16", 2},    [VD_I8] = {"i8", "int8", "I8", 1},
    [VD_U8] = {"u8", "uint8", "U8", 1},       [VD_BOOL] = {"bool", "bool", "BOOL", 1},
};

size_t vd_dtype_size(vd_dtype t) { return (t >= 0 && t < VD_DTYPE_COUNT) ? k_info[t].size : 0; }
const char *vd_dtype_name(vd_dtype t) { return (t >= 0 && t < VD_DTYPE_COUNT) ? k_info[t].name : "?"; }
const char *vd_dtype_st_name(vd_dtype t) { return (t >= 0 && t < VD_DTYPE_COUNT) ? k_info[t].st : "?"; }

int vd_dtype_from_name(const char *name, vd_dtype *out) {
    for (int i = 0; i < VD_DTYPE_COUNT; i++)
        if (name && (strcmp(name, k_info[i].name) == 0 || strcmp(name, k_info[i].alt) == 0)) {
            *out = (vd_dtype)i;
            return 0;
        }
    return -1;
}

int vd_dtype_from_st_name(const char *name, size_t len, vd_dtype *out) {
    for (int i = 0; i < VD_DTYPE_COUNT; i++)
        if (strlen(k_info[i].st) == len && memcmp(name, k_info[i].st, len) == 0) {
            *out = (vd_dtype)i;
            return 0;
        }
    return -1;
}

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

uint16_t vd_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u); // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even
    return (uint16_t)(u >> 16);
}

float vd_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t vd_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);      // NaN
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);     // >= 65520 rounds to Inf
    if (a < 0x38800000u) {                                       // below 2^-14: subnormal or 0
        if (a < 0x33000000u) return (uint16_t)sign;              // < 2^-25 rounds to 0 (tie goes to 0, even)
        uint32_t m = (a & 0x7fffffu) | 0x800000u;
        int e = (int)(a >> 23);                                  // 102..112
        int shift = 126 - e;                                     // 14..24: m >> shift gives the subnormal mantissa
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t r = a - 0x38000000u;              // rebias exponent 127 -> 15 (still in the f32 position)
    uint32_t q = r >> 13, rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u))) q++;  // carry may bump the exponent: correct
    return (uint16_t)(sign | q);
}

float vd_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0) {
        if (m == 0) return bits_f32(sign);
        float v = (float)m * (1.0f / 16777216.0f);  // m * 2^-24
        return sign ? -v : v;
    }
    if (e == 31) return bits_f32(sign | 0x7f800000u | (m << 13));
    return bits_f32(sign | ((e + 112u) << 23) | (m << 13));
}

int vd_convert_to_f32(float *dst, const void *src, vd_dtype t, size_t n) {
    switch (t) {
    case VD_F32: memmove(dst, src, n * 4); return 0;
    case VD_F16: { const uint16_t *s = src; for (size_t i = 0; i < n; i++) dst[i] = vd_f16_to_f32(s[i]); return 0; }
    case VD_BF16: { const uint16_t *s = src; for (size_t i = 0; i < n; i++) dst[i] = vd_bf16_to_f32(s[i]); return 0; }
    case VD_F64: { const double *s = src; for (size_t i = 0; i < n; i++) dst[i] = (float)s[i]; return 0; }
    case VD_I64: { const int64_t *s = src; for (size_t i = 0; i < n; i++) dst[i] = (float)s[i]; return 0; }
    case VD_I32: { const int32_t *s = src; for (size_t i = 0; i < n; i++) dst[i] = (float)s[i]; return 0; }
    case VD_I16: { const int16_t *s = src; for (size_t i = 0; i < n; i++) dst[i] = (float)s[i]; return 0; }
    case VD_I8: { const int8_t *s = src; for (size_t i = 0; i < n; i++) dst[i] = (float)s[i]; return 0; }
    case VD_U8: { const uint8_t *s = src; for (size_t i = 0; i < n; i++) dst[i] = (float)s[i]; return 0; }
    default: return -1;
    }
}

int vd_convert_from_f32(void *dst, vd_dtype t, const float *src, size_t n) {
    switch (t) {
    case VD_F32: memmove(dst, src, n * 4); return 0;
    case VD_F16: { uint16_t *d = dst; for (size_t i = 0; i < n; i++) d[i] = vd_f32_to_f16(src[i]); return 0; }
    case VD_BF16: { uint16_t *d = dst; for (size_t i = 0; i < n; i++) d[i] = vd_f32_to_bf16(src[i]); return 0; }
    default: return -1;
    }
}
