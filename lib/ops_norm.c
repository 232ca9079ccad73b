// Row reductions on the CPU: LayerNorm (with or without affine), RMSNorm and softmax over the
// last dim of x[M, C]. Row statistics are accumulated in double and LayerNorm uses two passes
// (mean, then mean of squared deviations), so rows with a large common offset (|mean| >> std)
// keep their precision; the CUDA twins accumulate in fp32 and are checked against these.
// Every op reads a whole row before writing it, so out == x (in place) is fine.
#include <math.h>

#include "ops.h"

// out[M,C] = (x - mean) / sqrt(var + eps) (* w + b); var is the biased (1/C) variance as in torch.
void vd_layernorm_cpu(float *out, const float *x, const float *w, const float *b, int64_t M, int64_t C, float eps) {
    if (C <= 0) return;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M; i++) {
        const float *xr = x + i * C;
        float *yr = out + i * C;
        double sum = 0.0;
        for (int64_t c = 0; c < C; c++) sum += xr[c];
        const double mean = sum / (double)C;
        double ss = 0.0;
        for (int64_t c = 0; c < C; c++) {
            const double d = xr[c] - mean;
            ss += d * d;
        }
        const double rstd = 1.0 / sqrt(ss / (double)C + (double)eps);
        for (int64_t c = 0; c < C; c++) {
            double v = (xr[c] - mean) * rstd;
            if (w) v *= w[c];
            if (b) v += b[c];
            yr[c] = (float)v;
        }
    }
}

// out[M,C] = x / sqrt(mean(x^2) + eps) (* w).
void vd_rmsnorm_cpu(float *out, const float *x, const float *w, int64_t M, int64_t C, float eps) {
    if (C <= 0) return;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M; i++) {
        const float *xr = x + i * C;
        float *yr = out + i * C;
        double ss = 0.0;
        for (int64_t c = 0; c < C; c++) ss += (double)xr[c] * xr[c];
        const double r = 1.0 / sqrt(ss / (double)C + (double)eps);
        for (int64_t c = 0; c < C; c++) {
            double v = xr[c] * r;
            if (w) v *= w[c];
            yr[c] = (float)v;
        }
    }
}

// out[M,C] = exp(x - max) / sum exp(x - max) per row. The max subtraction keeps exp() <= 1, so
// large logits cannot overflow; -inf entries give 0. A row that is all -inf (or has a NaN or
// +inf) gives NaN, as torch.softmax does.
void vd_softmax_cpu(float *out, const float *x, int64_t M, int64_t C) {
    if (C <= 0) return;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M; i++) {
        const float *xr = x + i * C;
        float *yr = out + i * C;
        float mx = xr[0];
        for (int64_t c = 1; c < C; c++) mx = xr[c] > mx ? xr[c] : mx;
        double sum = 0.0;
        for (int64_t c = 0; c < C; c++) {
            const float e = expf(xr[c] - mx);
            yr[c] = e;
            sum += e;
        }
        const float inv = (float)(1.0 / sum);
        for (int64_t c = 0; c < C; c++) yr[c] *= inv;
    }
}
