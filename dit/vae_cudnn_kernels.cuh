// Wan VAE CUDA kernels for the channels-last runner (included by vae_cudnn.cu only). Tensors are
// [T, H, W, C] (one position's channels contiguous). Every conv's bias is added here, by the
// kernel that next reads the conv output ("pending bias" pb), so no pass only adds a bias.
// Kernels are grid-stride loops; the per-position kernels give each position a group of `lanes`
// threads (a warp on the GPU; fewer threads per block shrink it, down to 1).
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

// f32 -> bf16 bit pattern, round to nearest even (NaN stays NaN); bf16 -> f32 is exact.
static __device__ __forceinline__ uint16_t vdn_f2bf(float f) {
    const uint32_t u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
static __device__ __forceinline__ float vdn_bf2f(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }

// Loads element i of an f32 (bf16 = 0) or bf16 (bf16 = 1) buffer.
static __device__ __forceinline__ float vdn_load(const void *P, int bf16, int64_t i) {
    return bf16 ? vdn_bf2f(((const uint16_t *)P)[i]) : ((const float *)P)[i];
}

// Stores element i of an f32 (bf16 = 0) or bf16 (bf16 = 1) buffer.
static __device__ __forceinline__ void vdn_store(void *P, int bf16, int64_t i, float v) {
    if (bf16) ((uint16_t *)P)[i] = vdn_f2bf(v);
    else ((float *)P)[i] = v;
}

static __device__ __forceinline__ int vdn_lanes(void) { return blockDim.x < 32 ? (int)blockDim.x : 32; }

static __device__ __forceinline__ float vdn_group_sum(float v, int lanes) {
    for (int o = lanes / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Per position p < n: v[c] = x[p, c] + pb[c] (pb may be NULL). mode 0: P[p, c] = v; mode 1:
// P = Wan RMS_norm(v) = v / max(||v||, 1e-12) * sqrt(C) * gamma; mode 2: SiLU of that.
// Write-back (xw non-NULL, may equal x): xw[p, c] = v + add[c] (add may be NULL): materializes the
// pending bias and pre-adds the bias of a conv that will accumulate into x (the residual).
// P is f32, or bf16 with pbf16 (the conv input of the bf16 mode); x is f32, or bf16 with xbf16
// (a bf16 conv output; then xw must be NULL). P2 (may be NULL): positions p >= p2_from are also
// stored at P2[p - p2_from] (the conv's next feature cache: its input's last two frames).
__global__ void vdn_prep_kernel(void *P, const void *x, int xbf16, float *xw, const float *pb, const float *add,
                                const float *gamma, int C, int64_t n, int mode, int pbf16, void *P2, int64_t p2_from) {
    const int lanes = vdn_lanes(), lane = (int)threadIdx.x % lanes;
    const int groups = (int)blockDim.x / lanes;
    const int64_t g0 = (int64_t)blockIdx.x * groups + threadIdx.x / lanes, gs = (int64_t)gridDim.x * groups;
    const float scale = sqrtf((float)C);
    for (int64_t p = g0; p < n; p += gs) {
        float inv = 1.0f;
        if (mode) {
            float ss = 0.0f;
            for (int c = lane; c < C; c += lanes) {
                const float v = vdn_load(x, xbf16, p * C + c) + (pb ? pb[c] : 0.0f);
                ss = fmaf(v, v, ss);
            }
            ss = vdn_group_sum(ss, lanes);
            inv = 1.0f / fmaxf(sqrtf(ss), 1e-12f);
        }
        for (int c = lane; c < C; c += lanes) {
            const float v = vdn_load(x, xbf16, p * C + c) + (pb ? pb[c] : 0.0f);
            float o = v;
            if (mode) o = v * inv * scale * gamma[c];
            if (mode == 2) o = o / (1.0f + __expf(-o));
            vdn_store(P, pbf16, p * C + c, o);
            if (P2 && p >= p2_from) vdn_store(P2, pbf16, (p - p2_from) * C + c, o);
            if (xw) xw[p * C + c] = v + (add ? add[c] : 0.0f);
        }
    }
}

// Upsample input, nearest x2 in space: P[f, Y, X, c] (Tz frames, 2H x 2W, C channels) from frame
// f of [x frame 0 if skip] ++ interleave(y), where y [n, H, W, 2C] is the time conv output
// (channel k*C + c -> frame 2i + k, bias pby pending); without y, from x frame f (pending bias
// pbx, may be NULL).
__global__ void vdn_up_kernel(void *P, int Tz, const float *x, const float *pbx, const float *y, const float *pby, int skip,
                              int C, int H, int W, int pbf16) {
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
        vdn_store(P, pbf16, i, v);
    }
}

// The elementwise layout kernels below give each thread one position and a group of g channels
// (g = 4, float4 loads and stores, when the channel count is a multiple of 4; else 1) and index
// in 32 bits: their callers check that the number of groups is below 2^31.
static __device__ __forceinline__ void vdn_add4(float *dst, const float *a, const float *b) {
    float4 v = *reinterpret_cast<const float4 *>(a);
    if (b) {
        const float4 w = *reinterpret_cast<const float4 *>(b);
        v.x += w.x, v.y += w.y, v.z += w.z, v.w += w.w;
    }
    *reinterpret_cast<float4 *>(dst) = v;
}

// Upsample conv input without the x2 (phase form, see vae_cudnn.cu): Z[f, p, c] (Tz frames of
// HW positions) = frame f of [x frame 0 if skip] ++ interleave(y) (pending biases pbx, pby added),
// y [n, HW, 2C] the time conv output (channel k*C + c -> frame 2i + k); without y, x frame f.
// Z is f32, or bf16 with zbf16 (then element by element).
__global__ void vdn_interleave_kernel(void *Z, int Tz, const float *x, const float *pbx, const float *y,
                                      const float *pby, int skip, int C, int HW, int g, int zbf16) {
    const unsigned G = (unsigned)(C / g), total = (unsigned)Tz * (unsigned)HW * G;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        const unsigned gi = i % G, q = i / G, p = q % (unsigned)HW, f = q / (unsigned)HW, c = gi * g;
        const float *src, *b;
        if (!y || (skip && f == 0)) {
            src = x + ((size_t)(y ? 0 : f) * HW + p) * C + c;
            b = pbx ? pbx + c : NULL;
        } else {
            const unsigned j = f - skip, fi = j >> 1, k = j & 1;
            src = y + ((size_t)fi * HW + p) * 2 * C + k * C + c;
            b = pby + k * C + c;
        }
        const size_t di = (size_t)q * C + c;
        if (zbf16) {
            for (int e = 0; e < g; e++) vdn_store(Z, 1, (int64_t)(di + e), src[e] + (b ? b[e] : 0.0f));
        } else if (g == 4) {
            vdn_add4((float *)Z + di, src, b);
        } else {
            ((float *)Z)[di] = src[0] + (b ? b[0] : 0.0f);
        }
    }
}

// Phase outputs to the x2 frame: out[f, 2y + py, 2x + px, o] = R[f, y + py, x + px, (2 py + px) Cout + o]
// + bias[o], R [T, H + 1, W + 1, 4 Cout].
__global__ void vdn_phase_out_kernel(float *out, const float *R, const float *bias, int Cout, int T, int H, int W,
                                     int g) {
    const unsigned W2 = 2u * W, H2 = 2u * H, G = (unsigned)(Cout / g), total = (unsigned)T * H2 * W2 * G;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        const unsigned gi = i % G, q = i / G;
        const unsigned X = q % W2, r = q / W2, Y = r % H2, f = r / H2;
        const unsigned py = Y & 1, px = X & 1, yy = (Y >> 1) + py, xx = (X >> 1) + px, c = gi * g;
        const float *src = R + (((size_t)f * (H + 1) + yy) * (W + 1) + xx) * 4 * Cout + (2 * py + px) * Cout + c;
        float *dst = out + (size_t)q * Cout + c;
        if (g == 4) vdn_add4(dst, src, bias + c);
        else dst[0] = src[0] + bias[c];
    }
}

// Decoder output to the host layout: out[c, f, p] = y[f, p, c] (channel stride cy) + bias[c], c < C.
// 32-bit indices: the caller checks C * T * HW < 2^31.
__global__ void vdn_out_kernel(float *out, const float *y, const float *bias, int C, int cy, int HW, int T) {
    const unsigned total = (unsigned)C * T * HW;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        const unsigned p = i % (unsigned)HW, r = i / (unsigned)HW, f = r % (unsigned)T, c = r / (unsigned)T;
        out[i] = y[((size_t)f * HW + p) * cy + c] + bias[c];
    }
}

// bf16 conv output into the f32 destination: dst[i] = src[i] (acc 0) or dst[i] += src[i] (acc 1).
__global__ void vdn_bf16_out_kernel(float *dst, const uint16_t *src, int64_t n, int acc) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        dst[i] = (acc ? dst[i] : 0.0f) + vdn_bf2f(src[i]);
}

// y[p, c] += b1[c] (+ b2[c]), p < n (b2 may be NULL).
__global__ void vdn_bias_kernel(float *y, const float *b1, const float *b2, int C, int64_t n) {
    const int64_t total = n * C;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int c = (int)(i % C);
        y[i] += b1[c] + (b2 ? b2[c] : 0.0f);
    }
}

static unsigned vdn_grid(int64_t n, int per_block) {
    int64_t b = (n + per_block - 1) / per_block;
    if (b < 1) b = 1;
    if (b > 132 * 32) b = 132 * 32;
    return (unsigned)b;
}
