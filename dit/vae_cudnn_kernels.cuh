// Wan VAE CUDA kernels for the channels-last runner (included by vae_cudnn.cu only). Tensors are
// [T, H, W, C] (one position's channels contiguous). Every conv's bias is added here, by the
// kernel that next reads the conv output ("pending bias" pb), so no pass only adds a bias.
// Kernels are grid-stride loops; the per-position kernels give each position a group of `lanes`
// threads (a warp on the GPU; fewer threads per block shrink it, down to 1).
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

static __device__ __forceinline__ int vdn_lanes(void) { return blockDim.x < 32 ? (int)blockDim.x : 32; }

static __device__ __forceinline__ float vdn_group_sum(float v, int lanes) {
    for (int o = lanes / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Per position p < n: v[c] = x[p, c] + pb[c] (pb may be NULL). mode 0: P[p, c] = v; mode 1:
// P = Wan RMS_norm(v) = v / max(||v||, 1e-12) * sqrt(C) * gamma; mode 2: SiLU of that.
// Write-back (xw non-NULL, may equal x): xw[p, c] = v + add[c] (add may be NULL): materializes the
// pending bias and pre-adds the bias of a conv that will accumulate into x (the residual).
__global__ void vdn_prep_kernel(float *P, const float *x, float *xw, const float *pb, const float *add,
                                const float *gamma, int C, int64_t n, int mode) {
    const int lanes = vdn_lanes(), lane = (int)threadIdx.x % lanes;
    const int groups = (int)blockDim.x / lanes;
    const int64_t g0 = (int64_t)blockIdx.x * groups + threadIdx.x / lanes, gs = (int64_t)gridDim.x * groups;
    const float scale = sqrtf((float)C);
    for (int64_t p = g0; p < n; p += gs) {
        const float *xi = x + p * C;
        float *po = P + p * C;
        float inv = 1.0f;
        if (mode) {
            float ss = 0.0f;
            for (int c = lane; c < C; c += lanes) {
                const float v = xi[c] + (pb ? pb[c] : 0.0f);
                ss = fmaf(v, v, ss);
            }
            ss = vdn_group_sum(ss, lanes);
            inv = 1.0f / fmaxf(sqrtf(ss), 1e-12f);
        }
        for (int c = lane; c < C; c += lanes) {
            const float v = xi[c] + (pb ? pb[c] : 0.0f);
            float o = v;
            if (mode) o = v * inv * scale * gamma[c];
            if (mode == 2) o = o / (1.0f + __expf(-o));
            po[c] = o;
            if (xw) xw[p * C + c] = v + (add ? add[c] : 0.0f);
        }
    }
}

// Upsample input, nearest x2 in space: P[f, Y, X, c] (Tz frames, 2H x 2W, C channels) from frame
// f of [x frame 0 if skip] ++ interleave(y), where y [n, H, W, 2C] is the time conv output
// (channel k*C + c -> frame 2i + k, bias pby pending); without y, from x frame f (pending bias
// pbx, may be NULL).
__global__ void vdn_up_kernel(float *P, int Tz, const float *x, const float *pbx, const float *y, const float *pby, int skip,
                              int C, int H, int W) {
    const int H2 = 2 * H, W2 = 2 * W;
    const int64_t total = (int64_t)Tz * H2 * W2 * C;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int c = (int)(i % C);
        const int64_t q = i / C;
        const int X = (int)(q % W2), Y = (int)((q / W2) % H2), f = (int)(q / ((int64_t)W2 * H2));
        const int64_t sp = (int64_t)(Y >> 1) * W + (X >> 1);
        float v;
        if (!y) {
            v = x[((int64_t)f * H * W + sp) * C + c] + (pbx ? pbx[c] : 0.0f);
        } else if (skip && f == 0) {
            v = x[sp * C + c] + (pbx ? pbx[c] : 0.0f);
        } else {
            const int j = f - skip, fi = j >> 1, k = j & 1;
            v = y[((int64_t)fi * H * W + sp) * 2 * C + k * C + c] + pby[k * C + c];
        }
        P[i] = v;
    }
}

// Upsample conv input without the x2 (phase form, see vae_cudnn.cu): Z[f, p, c] (Tz frames of
// HW positions) = frame f of [x frame 0 if skip] ++ interleave(y) (pending biases pbx, pby added),
// y [n, HW, 2C] the time conv output (channel k*C + c -> frame 2i + k); without y, x frame f.
__global__ void vdn_interleave_kernel(float *Z, int Tz, const float *x, const float *pbx, const float *y,
                                      const float *pby, int skip, int C, int64_t HW) {
    const int64_t total = (int64_t)Tz * HW * C;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int c = (int)(i % C);
        const int64_t q = i / C, p = q % HW;
        const int f = (int)(q / HW);
        float v;
        if (!y) {
            v = x[((int64_t)f * HW + p) * C + c] + (pbx ? pbx[c] : 0.0f);
        } else if (skip && f == 0) {
            v = x[p * C + c] + (pbx ? pbx[c] : 0.0f);
        } else {
            const int j = f - skip, fi = j >> 1, k = j & 1;
            v = y[((int64_t)fi * HW + p) * 2 * C + k * C + c] + pby[k * C + c];
        }
        Z[i] = v;
    }
}

// Phase outputs to the x2 frame: out[f, 2y + py, 2x + px, o] = R[f, y + py, x + px, (2 py + px) Cout + o]
// + bias[o], R [T, H + 1, W + 1, 4 Cout].
__global__ void vdn_phase_out_kernel(float *out, const float *R, const float *bias, int Cout, int T, int H, int W) {
    const int H2 = 2 * H, W2 = 2 * W;
    const int64_t total = (int64_t)T * H2 * W2 * Cout;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int o = (int)(i % Cout);
        const int64_t q = i / Cout;
        const int X = (int)(q % W2), Y = (int)((q / W2) % H2), f = (int)(q / ((int64_t)W2 * H2));
        const int py = Y & 1, px = X & 1, yy = (Y >> 1) + py, xx = (X >> 1) + px;
        out[i] = R[(((int64_t)f * (H + 1) + yy) * (W + 1) + xx) * 4 * Cout + (2 * py + px) * Cout + o] + bias[o];
    }
}

// Decoder output to the host layout: out[c, f, p] = y[f, p, c] (channel stride cy) + bias[c], c < C.
__global__ void vdn_out_kernel(float *out, const float *y, const float *bias, int C, int cy, int64_t HW, int T) {
    const int64_t total = (int64_t)C * T * HW;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t p = i % HW;
        const int f = (int)((i / HW) % T), c = (int)(i / (HW * T));
        out[i] = y[((int64_t)f * HW + p) * cy + c] + bias[c];
    }
}

// y[p, c] += b1[c] (+ b2[c]), p < n (b2 may be NULL).
__global__ void vdn_bias_kernel(float *y, const float *b1, const float *b2, int C, int64_t n) {
    const int64_t total = n * C;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int c = (int)(i % C);
        y[i] += b1[c] + (b2 ? b2[c] : 0.0f);
    }
}

// Row softmax of s[rows, n] in place, one block per row (blockDim a multiple of 32, <= 1024).
__global__ void vdn_softmax_kernel(float *s, int n) {
    float *r = s + (int64_t)blockIdx.x * n;
    __shared__ float red[32];
    float m = -INFINITY;
    for (int j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, r[j]);
    for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = m;
    __syncthreads();
    if (threadIdx.x < 32) {
        float v = threadIdx.x < (blockDim.x >> 5) ? red[threadIdx.x] : -INFINITY;
        for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
        if (threadIdx.x == 0) red[0] = v;
    }
    __syncthreads();
    m = red[0];
    __syncthreads();
    float sum = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        const float e = __expf(r[j] - m);
        r[j] = e;
        sum += e;
    }
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = sum;
    __syncthreads();
    if (threadIdx.x < 32) {
        float v = threadIdx.x < (blockDim.x >> 5) ? red[threadIdx.x] : 0.0f;
        for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
        if (threadIdx.x == 0) red[0] = v;
    }
    __syncthreads();
    const float inv = 1.0f / red[0];
    for (int j = threadIdx.x; j < n; j += blockDim.x) r[j] *= inv;
}

static unsigned vdn_grid(int64_t n, int per_block) {
    int64_t b = (n + per_block - 1) / per_block;
    if (b < 1) b = 1;
    if (b > 132 * 32) b = 132 * 32;
    return (unsigned)b;
}
