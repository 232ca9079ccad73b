// Wan VAE CUDA kernels (included by vae_cuda.cu only): padded-layout producers (norm/SiLU/copy,
// nearest x2 upsample with the upsample3d frame interleave), the conv output compaction and
// small bias/residual adds (the attention softmax is lib's vd_softmax_cuda). Layouts are described in vae_cuda.cu.
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

// Writes frames [toff, toff + T) of a frame-major padded buffer P[Tp, C, Hp, Wp] (border zeros) from
// x[c, f, y, x] at x + c*xcs + f*HW + y*W + x, optionally Wan-RMS-normalized over channels and
// SiLU'd. One thread per padded position.
__global__ void vae_norm_pad_kernel(float *P, int toff, int ph, int pw, int Wp, const float *x, int64_t xcs,
                                    const float *gamma, int C, int T, int H, int W, int mode /*0 copy, 1 norm, 2 norm+silu*/) {
    const int Hp = H + 2 * ph;
    const int64_t n = (int64_t)T * Hp * Wp;
    const int64_t pcs = (int64_t)Hp * Wp; // channel stride; frame stride C * pcs
    const float scale = sqrtf((float)C);
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int xp = (int)(i % Wp);
        const int yp = (int)((i / Wp) % Hp);
        const int f = (int)(i / ((int64_t)Wp * Hp));
        float *o = P + (int64_t)(f + toff) * C * pcs + (int64_t)yp * Wp + xp;
        const int yy = yp - ph, xx = xp - pw;
        if (yy < 0 || yy >= H || xx < 0 || xx >= W) {
            for (int c = 0; c < C; c++) o[c * pcs] = 0.0f;
            continue;
        }
        const float *xi = x + ((int64_t)f * H + yy) * W + xx;
        float inv = 1.0f;
        if (mode) {
            float ss = 0.0f;
            for (int c = 0; c < C; c++) {
                float v = xi[c * xcs];
                ss = fmaf(v, v, ss);
            }
            inv = 1.0f / fmaxf(sqrtf(ss), 1e-12f);
        }
        for (int c = 0; c < C; c++) {
            float v = xi[c * xcs];
            if (mode) v = v * inv * scale * gamma[c];
            if (mode == 2) v = v / (1.0f + __expf(-v));
            o[c * pcs] = v;
        }
    }
}

// Upsample3d/2d input: combined frame F' of the sequence [x frame 0 if skip] ++ interleave(y),
// nearest x2 in space, written zero-padded (pad 1) and frame-major into P[Tz, C, 2H+2, Wp].
// x: [C, Tx, H, W]; y: [2C, n, H, W] (time conv output, channel k*C + c -> frame 2i + k) or NULL.
__global__ void vae_up_pad_kernel(float *P, int Tz, int Wp, const float *x, int Tx, const float *y, int n, int skip,
                                  int C, int H, int W) {
    const int H2 = 2 * H, W2 = 2 * W, Hp = H2 + 2;
    const int64_t total = (int64_t)C * Tz * Hp * Wp;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int xp = (int)(i % Wp);
        const int yp = (int)((i / Wp) % Hp);
        const int c = (int)((i / ((int64_t)Wp * Hp)) % C);
        const int f = (int)(i / ((int64_t)Wp * Hp * C));
        const int yy = yp - 1, xx = xp - 1;
        float v = 0.0f;
        if (yy >= 0 && yy < H2 && xx >= 0 && xx < W2) {
            const int64_t sp = (int64_t)(yy >> 1) * W + (xx >> 1);
            if (!y) {
                v = x[((int64_t)c * Tx + f) * H * W + sp];
            } else if (skip && f == 0) {
                v = x[((int64_t)c * Tx) * H * W + sp];
            } else {
                const int j = f - skip, fi = j >> 1, k = j & 1;
                v = y[((int64_t)(k * C + c) * n + fi) * H * W + sp];
            }
        }
        P[i] = v;
    }
}

// One output frame: out[o, y, x] (channel stride ocs) = sum_{c < kw} Y[(c*Cout + o)*fr + y*Wp + x + c]
// + bias[o] (+ res[o, y, x], same strides as out).
__global__ void vae_compact_kernel(float *out, int64_t ocs, const float *Y, int64_t fr, int kw, const float *bias,
                                   const float *res, int Cout, int H, int W, int Wp) {
    const int64_t total = (int64_t)Cout * H * W;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int xx = (int)(i % W);
        const int yy = (int)((i / W) % H);
        const int o = (int)(i / ((int64_t)W * H));
        const int64_t q = (int64_t)yy * Wp + xx;
        float v = bias[o];
        for (int c = 0; c < kw; c++) v += Y[((int64_t)c * Cout + o) * fr + q + c];
        const int64_t oi = o * ocs + (int64_t)yy * W + xx;
        if (res) v += res[oi];
        out[oi] = v;
    }
}

// x[c, f, p] (channel stride xcs) += y[c, p] + bias[c], p < HW.
__global__ void vae_add_frame_kernel(float *x, int64_t xcs, const float *y, const float *bias, int C, int64_t HW) {
    const int64_t total = (int64_t)C * HW;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int c = (int)(i / HW);
        const int64_t p = i % HW;
        x[c * xcs + p] += y[i] + bias[c];
    }
}

// y[r, p] += bias[r]
__global__ void vae_add_rowbias_kernel(float *y, const float *bias, int R, int64_t n) {
    const int64_t total = (int64_t)R * n;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x)
        y[i] += bias[i / n];
}

static unsigned grid_for(int64_t n) {
    int64_t b = (n + 255) / 256;
    if (b < 1) b = 1;
    if (b > 132 * 32) b = 132 * 32;
    return (unsigned)b;
}
