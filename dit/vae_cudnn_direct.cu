// Direct channels-last conv3d (see vae_cudnn_direct.h).
//
// Work item: (output-channel group g of VDC_COG channels, tile of blockDim.x * VDC_NPX output
// pixels); thread t of the block owns pixels tile_base + t + k * blockDim.x (k < VDC_NPX), so a
// warp's pixels are consecutive. Per tap (a, b, c) and chunk of up to VDC_CK input channels the
// block stages the group's weights as ws[ci][co] (fp32) in shared memory; each thread then reads
// its pixels' input vectors (16-byte loads when possible) and does VDC_COG * VDC_NPX FMAs per input
// channel, the weights read as broadcast float4s shared by its VDC_NPX pixels. A pixel whose tap
// falls outside the frame (spatial padding) contributes zero. Work items are a grid-stride loop
// that every thread of a block runs the same number of times (the __syncthreads stay uniform).
#include <cuda_runtime.h>
#include <stdint.h>

#include "dit/vae_cudnn_direct.h"

#define VDC_COG 8    // output channels per thread (a multiple of 4)
#define VDC_NPX 2    // output pixels per thread
#define VDC_CK 128   // input channels of weights staged at a time (a multiple of 8)
#define VDC_THREADS 128

static __device__ __forceinline__ float vdc_bf2f(unsigned h) { return __uint_as_float((h & 0xffffu) << 16); }
// f32 -> bf16, round to nearest even (NaN stays NaN)
static __device__ __forceinline__ uint16_t vdc_f2bf(float f) {
    const uint32_t u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static __device__ __forceinline__ float vdc_load(const void *p, int bf16, int64_t i) {
    return bf16 ? vdc_bf2f(((const uint16_t *)p)[i]) : ((const float *)p)[i];
}

// V consecutive input channels from p (element address): V = 1 (f32 or bf16), 4 (f32, one float4)
// or 8 (bf16, one 16-byte load, element 0 in the low half of the first word).
template <int BF16, int V>
static __device__ __forceinline__ void vdc_load_vec(const char *p, float *v) {
    if (V == 1) {
        v[0] = BF16 ? vdc_bf2f(*(const uint16_t *)p) : *(const float *)p;
    } else if (!BF16) {
        const float4 q = *(const float4 *)p;
        v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
    } else {
        const uint4 q = *(const uint4 *)p;
        const unsigned u[4] = {q.x, q.y, q.z, q.w};
        for (int e = 0; e < 4; e++) v[2 * e] = vdc_bf2f(u[e]), v[2 * e + 1] = vdc_bf2f(u[e] >> 16);
    }
}

// The conv for element type BF16 (0: f32, 1: bf16) reading V input channels per load (cin % V = 0
// and x 16-byte aligned when V > 1). ws: the block's shared weight tile [VDC_CK][VDC_COG / 4].
template <int BF16, int V>
static __device__ __forceinline__ void vdc_conv_body(float4 *ws, const void *x, const void *w, void *y, int cin, int cout,
                                                     int kt, int kh, int kw, int H, int W, int Ho, int Wo, int64_t npix,
                                                     int acc) {
    const int es = BF16 ? 2 : 4, taps = kt * kh * kw, ng = (cout + VDC_COG - 1) / VDC_COG;
    const int64_t per_tile = (int64_t)blockDim.x * VDC_NPX, ntile = (npix + per_tile - 1) / per_tile;
    float *wsf = (float *)ws; // [ci][co]
    for (int64_t item = blockIdx.x; item < ntile * ng; item += gridDim.x) {
        const int g = (int)(item % ng);
        const int64_t base = (item / ng) * per_tile + threadIdx.x;
        int ot[VDC_NPX], oy[VDC_NPX], ox[VDC_NPX];
        float s[VDC_NPX][VDC_COG];
        #pragma unroll
        for (int k = 0; k < VDC_NPX; k++) {
            const int64_t p = base + (int64_t)k * blockDim.x;
            ox[k] = (int)(p % Wo);
            oy[k] = (int)((p / Wo) % Ho);
            ot[k] = p < npix ? (int)(p / ((int64_t)Wo * Ho)) : -1; // -1: past the end
            for (int j = 0; j < VDC_COG; j++) s[k][j] = 0.0f;
        }
        for (int tap = 0; tap < taps; tap++) {
            const int a = tap / (kh * kw), b = (tap / kw) % kh, c = tap % kw;
            const char *xr[VDC_NPX]; // the tap's input vector of pixel k, NULL outside the frame
            #pragma unroll
            for (int k = 0; k < VDC_NPX; k++) {
                const int iy = oy[k] + b - kh / 2, ix = ox[k] + c - kw / 2;
                xr[k] = ot[k] >= 0 && iy >= 0 && iy < H && ix >= 0 && ix < W
                            ? (const char *)x + ((((int64_t)(ot[k] + a) * H + iy) * W + ix) * cin) * es
                            : NULL;
            }
            for (int c0 = 0; c0 < cin; c0 += VDC_CK) {
                const int nc = cin - c0 < VDC_CK ? cin - c0 : VDC_CK;
                __syncthreads(); // the previous chunk's weights are no longer read
                for (int i = threadIdx.x; i < VDC_COG * nc; i += blockDim.x) {
                    const int j = i / nc, ci = i % nc, co = g * VDC_COG + j;
                    wsf[ci * VDC_COG + j] = co < cout ? vdc_load(w, BF16, ((int64_t)co * taps + tap) * cin + c0 + ci) : 0.0f;
                }
                __syncthreads();
                for (int ci = 0; ci < nc; ci += V) {
                    float xv[VDC_NPX][V];
                    #pragma unroll
                    for (int k = 0; k < VDC_NPX; k++) {
                        if (xr[k]) vdc_load_vec<BF16, V>(xr[k] + (int64_t)(c0 + ci) * es, xv[k]);
                        else
                            for (int e = 0; e < V; e++) xv[k][e] = 0.0f;
                    }
                    #pragma unroll
                    for (int e = 0; e < V; e++) {
                        #pragma unroll
                        for (int q = 0; q < VDC_COG / 4; q++) {
                            const float4 wq = ws[(ci + e) * (VDC_COG / 4) + q];
                            #pragma unroll
                            for (int k = 0; k < VDC_NPX; k++) {
                                s[k][4 * q + 0] = fmaf(xv[k][e], wq.x, s[k][4 * q + 0]);
                                s[k][4 * q + 1] = fmaf(xv[k][e], wq.y, s[k][4 * q + 1]);
                                s[k][4 * q + 2] = fmaf(xv[k][e], wq.z, s[k][4 * q + 2]);
                                s[k][4 * q + 3] = fmaf(xv[k][e], wq.w, s[k][4 * q + 3]);
                            }
                        }
                    }
                }
            }
        }
        #pragma unroll
        for (int k = 0; k < VDC_NPX; k++) {
            if (ot[k] < 0) continue;
            const int64_t p = base + (int64_t)k * blockDim.x;
            #pragma unroll
            for (int j = 0; j < VDC_COG; j++) {
                const int co = g * VDC_COG + j;
                if (co >= cout) break;
                const int64_t i = p * cout + co;
                const float v = s[k][j] + (acc ? vdc_load(y, BF16, i) : 0.0f);
                if (BF16) ((uint16_t *)y)[i] = vdc_f2bf(v);
                else ((float *)y)[i] = v;
            }
        }
    }
}

// One kernel for the four forms (the branch is uniform over the grid).
__global__ void vdc_conv_kernel(const void *x, const void *w, void *y, int cin, int cout, int kt, int kh, int kw, int H,
                                int W, int Ho, int Wo, int64_t npix, int acc, int bf16, int vec) {
    __shared__ float4 ws[VDC_CK * VDC_COG / 4];
    if (bf16) {
        if (vec) vdc_conv_body<1, 8>(ws, x, w, y, cin, cout, kt, kh, kw, H, W, Ho, Wo, npix, acc);
        else vdc_conv_body<1, 1>(ws, x, w, y, cin, cout, kt, kh, kw, H, W, Ho, Wo, npix, acc);
    } else {
        if (vec) vdc_conv_body<0, 4>(ws, x, w, y, cin, cout, kt, kh, kw, H, W, Ho, Wo, npix, acc);
        else vdc_conv_body<0, 1>(ws, x, w, y, cin, cout, kt, kh, kw, H, W, Ho, Wo, npix, acc);
    }
}

extern "C" vd_status vd_cudnn_direct_run(const vd_cudnn_conv_shape *s, const void *x, const void *w, void *y,
                                         bool accumulate, void *stream, vd_error *err) {
    if (s->ncdhw)
        return vd_error_set(err, VD_ERR_UNSUPPORTED,
                            "vd_cudnn_direct_run: NCDHW layouts are not supported (channels-last only)");
    if (s->cin < 1 || s->cout < 1 || s->kt < 1 || s->kh < 1 || s->kw < 1 || s->ti < s->kt || s->h < 1 || s->w < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_cudnn_direct_run: cin %d cout %d kernel %dx%dx%d input %dx%dx%d; need sizes >= 1 and "
                            "input frames >= kt",
                            s->cin, s->cout, s->kt, s->kh, s->kw, s->ti, s->h, s->w);
    const int to = s->ti - s->kt + 1, ho = vd_cudnn_conv_out_dim(s->h, s->kh), wo = vd_cudnn_conv_out_dim(s->w, s->kw);
    const int64_t npix = (int64_t)to * ho * wo;
    const int ng = (s->cout + VDC_COG - 1) / VDC_COG;
    const int64_t per_tile = (int64_t)VDC_THREADS * VDC_NPX, items = (npix + per_tile - 1) / per_tile * ng;
    const unsigned grid = (unsigned)(items < 132 * 16 ? items : 132 * 16);
    const int vec = s->cin % (s->bf16 ? 8 : 4) == 0 && (uintptr_t)x % 16 == 0;
    vdc_conv_kernel<<<grid, VDC_THREADS, 0, (cudaStream_t)stream>>>(x, w, y, s->cin, s->cout, s->kt, s->kh, s->kw, s->h,
                                                                   s->w, ho, wo, npix, accumulate ? 1 : 0,
                                                                   s->bf16 ? 1 : 0, vec);
    const cudaError_t ce = cudaGetLastError();
    if (ce != cudaSuccess)
        return vd_error_set(err, VD_ERR_CUDA, "vd_cudnn_direct_run: launch (cin %d cout %d kernel %dx%dx%d input %dx%dx%d): %s",
                            s->cin, s->cout, s->kt, s->kh, s->kw, s->ti, s->h, s->w, cudaGetErrorString(ce));
    return VD_OK;
}
