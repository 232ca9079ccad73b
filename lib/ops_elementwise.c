// Elementwise and row-broadcast ops on the CPU (fp32): activations (GELU tanh, SiLU), add / mul /
// scale, and the DiT's broadcast forms (adaLN modulate, gated residual, bias add) on x[M, C] with
// vectors of length C. Each output element depends only on the same input element(s), so every
// op is in-place safe (out may equal x, a or b).
#include <math.h>

#include "ops.h"

// gelu_tanh(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (torch approximate="tanh").
// For huge |x| the cube overflows to +-inf, tanh saturates to +-1 and the result is x or -0, no NaN.
void vd_gelu_tanh_cpu(float *out, const float *x, int64_t n) {
    const float k = 0.7978845608028654f; // sqrt(2/pi)
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        const float inner = k * (v + 0.044715f * v * v * v);
        out[i] = 0.5f * v * (1.0f + tanhf(inner));
    }
}

// silu(x) = x * sigmoid(x) = x / (1 + exp(-x)); exp overflow for x << 0 gives x / inf = -0.
void vd_silu_cpu(float *out, const float *x, int64_t n) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) out[i] = x[i] / (1.0f + expf(-x[i]));
}

void vd_add_cpu(float *out, const float *a, const float *b, int64_t n) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void vd_mul_cpu(float *out, const float *a, const float *b, int64_t n) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

void vd_scale_cpu(float *out, const float *x, float s, int64_t n) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) out[i] = x[i] * s;
}

// out[M,C] = x * (1 + scale[C]) + shift[C]. (1 + scale) is formed first in fp32, as Wan does.
void vd_modulate_cpu(float *out, const float *x, const float *shift, const float *scale, int64_t M, int64_t C) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M; i++) {
        const float *xr = x + i * C;
        float *yr = out + i * C;
        for (int64_t c = 0; c < C; c++) yr[c] = xr[c] * (1.0f + scale[c]) + shift[c];
    }
}

// out[M,C] = x + gate[C] * y (gate NULL: out = x + y).
void vd_gated_add_cpu(float *out, const float *x, const float *y, const float *gate, int64_t M, int64_t C) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M; i++) {
        const float *xr = x + i * C;
        const float *yr = y + i * C;
        float *orow = out + i * C;
        if (gate) {
            for (int64_t c = 0; c < C; c++) orow[c] = xr[c] + gate[c] * yr[c];
        } else {
            for (int64_t c = 0; c < C; c++) orow[c] = xr[c] + yr[c];
        }
    }
}

// out[M,C] = x + bias[C].
void vd_add_bias_cpu(float *out, const float *x, const float *bias, int64_t M, int64_t C) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M; i++) {
        const float *xr = x + i * C;
        float *yr = out + i * C;
        for (int64_t c = 0; c < C; c++) yr[c] = xr[c] + bias[c];
    }
}
