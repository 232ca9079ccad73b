// Device code of the Wan RMSNorm + RoPE kernels (included by wan_kernels.cu, whose launchers
// vd_wan_rms_rope_cuda / vd_wan_rms_rope_pool_cuda run them): the block reductions, the per-pair
// arithmetic both kernels share, rms_rope_kernel (one block per row) and rms_rope_pool_kernel
// (one block per tile of rows, with the tile means). Everything is static or a template (one copy
// per unit). VD_WAN_EMU: tests/test_wan_rope_pool_emu.cpp compiles this file as host C++ with
// its own definitions of the CUDA types and intrinsics (threads, barriers and shuffles emulated).
#pragma once
#ifndef VD_WAN_EMU
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#endif
#include <stdint.h>

#include "dit/wan_kernels.h"

#define ROW_THREADS 256

// ---- device helpers ------------------------------------------------------------------------

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Sum over the block; every thread gets the result. sh: 32 floats of shared memory.
static __device__ float block_sum(float v, float *sh) {
    const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) sh[wid] = v;
    __syncthreads();
    float t = lane < nw ? sh[lane] : 0.0f;
    return warp_sum(t);
}

// The per-pair arithmetic of RMSNorm + RoPE, shared by rms_rope_kernel and rms_rope_pool_kernel
// so that both produce the same bits: a pair's share of the row's sum of squares, the row's
// inverse RMS, and the rotation of a (normalized, weighted) pair by (cs, sn).
__device__ __forceinline__ float pair_sumsq(float2 v) { return v.x * v.x + v.y * v.y; }
__device__ __forceinline__ float rms_inv(float sumsq, int C, float eps) { return rsqrtf(sumsq / C + eps); }
__device__ __forceinline__ float2 rope_rotate(float a, float bb, float cs, float sn) {
    return make_float2(a * cs - bb * sn, a * sn + bb * cs);
}
// RoPE axis (0 t, 1 h, 2 w) of pair j inside a head.
#define ROPE_AXIS(j, r) ((j) < (r).pairs_t ? 0 : ((j) < (r).pairs_t + (r).pairs_h ? 1 : 2))

// ---- RMSNorm + RoPE, one block per row (vd_wan_rms_rope_cuda) ---------------------------------

__device__ __forceinline__ float2 load2(const float *x, int64_t p) { return reinterpret_cast<const float2 *>(x)[p]; }
__device__ __forceinline__ float2 load2(const __nv_bfloat16 *x, int64_t p) {
    return __bfloat1622float2(reinterpret_cast<const __nv_bfloat162 *>(x)[p]);
}

template <typename T>
__global__ void rms_rope_kernel(__nv_bfloat16 *out, const T *x, int C, float eps, const float *w, vd_wan_rope_desc r,
                                int rope) {
    __shared__ float sh[32];
    const int64_t row = blockIdx.x;
    const T *xr = x + row * C;
    const int P = C / 2; // pairs in the row
    float s = 0.0f;
    for (int p = threadIdx.x; p < P; p += blockDim.x) s += pair_sumsq(load2(xr, p));
    const float rn = rms_inv(block_sum(s, sh), C, eps);
    int pos[3] = {0, 0, 0};
    if (rope) {
        const int64_t plane = (int64_t)r.Hp * r.Wp;
        pos[0] = (int)(row / plane);
        pos[1] = (int)((row / r.Wp) % r.Hp);
        pos[2] = (int)(row % r.Wp);
    }
    __nv_bfloat162 *o = reinterpret_cast<__nv_bfloat162 *>(out + row * C);
    for (int p = threadIdx.x; p < P; p += blockDim.x) {
        float2 v = load2(xr, p);
        float a = v.x * rn * w[2 * p], bb = v.y * rn * w[2 * p + 1];
        if (rope) {
            const int j = p % (r.D / 2); // pair inside the head
            const int axis = ROPE_AXIS(j, r);
            const int64_t ti = ((int64_t)axis * r.max_pos + pos[axis]) * (r.D / 2) + j;
            const float2 ab = rope_rotate(a, bb, r.cos_t[ti], r.sin_t[ti]);
            a = ab.x;
            bb = ab.y;
        }
        o[p] = __floats2bfloat162_rn(a, bb);
    }
}

// ---- RMSNorm + RoPE with the tile means of its output (vd_wan_rms_rope_pool_cuda) -------------
//
// One block of ROW_THREADS per tile of `tile` rows. Thread t owns pairs p = t + ROW_THREADS * k
// (k < PPT) of every row, the same pairs as in rms_rope_kernel, so a row's sum of squares is
// added in the same order and reduced through the same shuffle tree: its output is bit-identical.
// The tile's rows go R at a time: the R rows' loads are in flight together, the R block
// reductions share one barrier (partials double-buffered in shared memory, so one barrier per R
// rows instead of two per row), and the next R rows are loaded before that barrier. Each thread
// adds its pairs' bf16-rounded outputs to fp32 registers in row order; at the end of the tile
// it writes sum / count to out [H, T, head_dim] (no atomics: the tile's rows are all in this block).
// Parallelism: one block per tile, e.g. 256 blocks at the Wan-1.3B shape (N = 32760), two per SM
// (__launch_bounds__ keeps them <= 128 registers), each with 2 x R rows of loads in flight (48 KB
// per SM at C = 1536), above what the HBM bandwidth needs. RoPE positions advance row by row.

template <typename T> struct pair_raw;   // one pair of x as loaded: bf16x2 or float2
template <> struct pair_raw<__nv_bfloat16> { typedef __nv_bfloat162 type; };
template <> struct pair_raw<float> { typedef float2 type; };
__device__ __forceinline__ float2 to_f2(__nv_bfloat162 v) { return __bfloat1622float2(v); }   // = load2
__device__ __forceinline__ float2 to_f2(float2 v) { return v; }

// Rows per batch: about 24 registers of raw pairs per batch (two batches live: the one being
// computed and the next one loading); f32 input pairs take two registers each.
template <typename T, int PPT> struct pool_rows {
    static constexpr int bf16 = PPT <= 3 ? 8 : (PPT <= 6 ? 4 : (PPT <= 10 ? 2 : 1));
    static constexpr int value = sizeof(T) == 2 ? bf16 : (bf16 > 1 ? bf16 / 2 : 1);
};

template <typename T, int PPT>
__global__ void __launch_bounds__(ROW_THREADS, PPT <= 10 ? 2 : 1)
    rms_rope_pool_kernel(__nv_bfloat16 *out, float *pooled, const T *x, int64_t M, int C, float eps, const float *w,
                         vd_wan_rope_desc r, int rope, int hd, int tile, int Tn) {
    typedef typename pair_raw<T>::type raw_t;
    constexpr int R = pool_rows<T, PPT>::value;
    __shared__ float sh[2][R][32];
    const int P = C / 2, lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    const int t = blockIdx.x;
    const int64_t n0 = (int64_t)t * tile, n1 = min(n0 + (int64_t)tile, M);
    const raw_t *xp = reinterpret_cast<const raw_t *>(x);
    __nv_bfloat162 *op = reinterpret_cast<__nv_bfloat162 *>(out);
    const int half = r.D / 2;
    float2 wk[PPT], acc[PPT];
    int ak[PPT], tk[PPT];   // per owned pair: RoPE axis; table entry at position 0 (axis, 0, j)
#pragma unroll
    for (int k = 0; k < PPT; k++) {
        const int p = threadIdx.x + k * ROW_THREADS;
        acc[k] = make_float2(0.0f, 0.0f);
        wk[k] = p < P ? make_float2(w[2 * p], w[2 * p + 1]) : make_float2(0.0f, 0.0f);
        const int j = rope ? p % half : 0;   // pair inside the head
        ak[k] = rope ? ROPE_AXIS(j, r) : 0;
        tk[k] = ak[k] * r.max_pos * half + j;
    }
    // grid position (f, h, w) of the next output row, advanced row by row (no divisions per row)
    int pos0 = 0, pos1 = 0, pos2 = 0;
    if (rope) {
        const int64_t plane = (int64_t)r.Hp * r.Wp;
        pos0 = (int)(n0 / plane);
        pos1 = (int)((n0 / r.Wp) % r.Hp);
        pos2 = (int)(n0 % r.Wp);
    }
    raw_t cur[R][PPT], nxt[R][PPT];
#pragma unroll
    for (int i = 0; i < R; i++)
#pragma unroll
        for (int k = 0; k < PPT; k++) {
            const int p = threadIdx.x + k * ROW_THREADS;
            if (n0 + i < n1 && p < P) cur[i][k] = xp[(n0 + i) * P + p];
        }
    int buf = 0;
    for (int64_t b0 = n0; b0 < n1; b0 += R, buf ^= 1) {
        // 1. this thread's share of each row's sum of squares; warp sums to shared memory
#pragma unroll
        for (int i = 0; i < R; i++) {
            float s = 0.0f;
#pragma unroll
            for (int k = 0; k < PPT; k++) {
                const int p = threadIdx.x + k * ROW_THREADS;
                if (b0 + i < n1 && p < P) s += pair_sumsq(to_f2(cur[i][k]));
            }
            s = warp_sum(s);
            if (lane == 0) sh[buf][i][wid] = s;
        }
        // 2. the next R rows' loads, issued before the barrier
#pragma unroll
        for (int i = 0; i < R; i++)
#pragma unroll
            for (int k = 0; k < PPT; k++) {
                const int p = threadIdx.x + k * ROW_THREADS;
                if (b0 + R + i < n1 && p < P) nxt[i][k] = xp[(b0 + R + i) * P + p];
            }
        __syncthreads();
        // 3. outputs of the R rows, added to the running sums after bf16 rounding
#pragma unroll
        for (int i = 0; i < R; i++) {
            const int64_t row = b0 + i;
            const float rn = rms_inv(warp_sum(lane < nw ? sh[buf][i][lane] : 0.0f), C, eps);
            if (row >= n1) continue;   // uniform over the block
#pragma unroll
            for (int k = 0; k < PPT; k++) {
                const int p = threadIdx.x + k * ROW_THREADS;
                if (p >= P) continue;
                const float2 v = to_f2(cur[i][k]);
                float a = v.x * rn * wk[k].x, bb = v.y * rn * wk[k].y;
                if (rope) {   // the table entry (axis, pos[axis], j), as in rms_rope_kernel
                    const int ti = tk[k] + (ak[k] == 0 ? pos0 : (ak[k] == 1 ? pos1 : pos2)) * half;
                    const float2 ab = rope_rotate(a, bb, r.cos_t[ti], r.sin_t[ti]);
                    a = ab.x;
                    bb = ab.y;
                }
                const __nv_bfloat162 o = __floats2bfloat162_rn(a, bb);
                op[row * P + p] = o;
                const float2 of = __bfloat1622float2(o);
                acc[k].x += of.x;
                acc[k].y += of.y;
            }
            if (rope && ++pos2 == r.Wp) {
                pos2 = 0;
                if (++pos1 == r.Hp) {
                    pos1 = 0;
                    pos0++;
                }
            }
        }
#pragma unroll
        for (int i = 0; i < R; i++)
#pragma unroll
            for (int k = 0; k < PPT; k++) cur[i][k] = nxt[i][k];
    }
    // 4. tile means: channel c = 2p (and 2p + 1, the same head since hd is even) -> [h, t, d]
    const float cnt = (float)(n1 - n0);
#pragma unroll
    for (int k = 0; k < PPT; k++) {
        const int p = threadIdx.x + k * ROW_THREADS;
        if (p >= P) continue;
        const int c = 2 * p, h = c / hd, d = c - h * hd;
        float *po = pooled + ((int64_t)h * Tn + t) * hd + d;
        po[0] = acc[k].x / cnt;
        po[1] = acc[k].y / cnt;
    }
}

// Pairs per thread of the rms_rope_pool_kernel instance that covers C channels (ROW_THREADS
// threads own C / 2 pairs): 1, 3 (Wan 1.3B: C 1536), 6, 10 (Wan 14B: C 5120) or 16; 0 when
// C > 8192.
static inline int rms_rope_pool_ppt(int64_t C) {
    const int64_t need = (C / 2 + ROW_THREADS - 1) / ROW_THREADS;
    return need <= 1 ? 1 : need <= 3 ? 3 : need <= 6 ? 6 : need <= 10 ? 10 : need <= 16 ? 16 : 0;
}
