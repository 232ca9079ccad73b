// Device code shared by mask_build.cu (the single-step entry points) and mask_build_fused.cu
// (the fused top-k mask): the tile-pooling kernel and the per-row top-k of one warp.
// Include only from .cu files; everything here is static or a template (one copy per unit).
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>

// float -> uint32 whose unsigned order is the float order; -0 maps to +0's key so that the two
// zeros tie, as they do under the CPU's float comparisons.
static __device__ __forceinline__ uint32_t vd_mask_key(float f) {
    uint32_t u = __float_as_uint(f);
    if (u == 0x80000000u) u = 0u;
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// ---- tile pooling ------------------------------------------------------------------------------

// One pooled tensor: x [B, N, H, D] bf16 (strides sb, sn, sh) -> out [B, H, T, D] f32.
struct vd_pool_src {
    const __nv_bfloat16 *x;
    float *out;
    int64_t sb, sn, sh;
    int H, N, tile, T;
};

enum { VD_POOL_THREADS = 256, VD_POOL_RED = 2048 };

// Whether the 16-byte path can read src: D a multiple of 8 (8 bf16 per load) with D / 8 <= 256
// threads, every stride a multiple of 8 elements and a 16-byte aligned base.
static inline bool vd_pool_vec_ok(const void *x, int64_t sb, int64_t sn, int64_t sh, int D) {
    return D % 8 == 0 && D / 8 <= VD_POOL_THREADS && sb % 8 == 0 && sn % 8 == 0 && sh % 8 == 0 &&
           ((uintptr_t)x & 15) == 0;
}

// Mean over the tile of each column d. grid.x = n0 + (B * H1 * T1) work items: item < n0 is a
// (b, t, h) tile of s0 (h fastest), the rest of s1 (one launch pools Q and K). block
// VD_POOL_THREADS.
// VEC: thread (p, c) sums 8 columns [8c, 8c + 8) over tokens p, p + P, ... (P = 256 / (D / 8)
// token phases, 16 at D = 128: 8 independent 16-byte loads per thread for a 128-token tile),
// then the P partial sums of each column are added in phase order through shared memory.
// Scalar (any D and strides): thread d sums column d over the tile.
template <bool VEC>
__global__ void __launch_bounds__(VD_POOL_THREADS) vd_pool_tiles_kernel(vd_pool_src s0, vd_pool_src s1, int64_t n0,
                                                                         int D) {
    __shared__ float red[VD_POOL_RED];
    int64_t item = blockIdx.x;
    const bool second = item >= n0;
    const vd_pool_src s = second ? s1 : s0;
    if (second) item -= n0;
    // Heads fastest: the blocks in flight together read whole token rows (all heads of the same
    // tokens: long contiguous runs of DRAM) rather than one head's 256-byte slices of many rows.
    const int h = (int)(item % s.H);
    const int64_t bt = item / s.H;
    const int t = (int)(bt % s.T), b = (int)(bt / s.T);
    const int64_t bh = (int64_t)b * s.H + h;
    const int t0 = t * s.tile, t1 = min(t0 + s.tile, s.N);
    const float cnt = (float)(t1 - t0);
    const __nv_bfloat16 *base = s.x + b * s.sb + h * s.sh;
    float *out = s.out + (bh * s.T + t) * D;
    if (VEC) {
        const int cpr = D / 8, P = VD_POOL_THREADS / cpr, c = threadIdx.x % cpr, p = threadIdx.x / cpr;
        if (p < P) {
            float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
            const __nv_bfloat16 *col = base + c * 8;
#pragma unroll 4
            for (int n = t0 + p; n < t1; n += P) {
                const uint4 v = __ldg(reinterpret_cast<const uint4 *>(col + (int64_t)n * s.sn));
                const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
                for (int e = 0; e < 4; e++) {   // bf16 -> f32 is a 16-bit shift (exact)
                    acc[2 * e] += __uint_as_float(w[e] << 16);
                    acc[2 * e + 1] += __uint_as_float(w[e] & 0xFFFF0000u);
                }
            }
#pragma unroll
            for (int e = 0; e < 8; e++) red[p * D + c * 8 + e] = acc[e];
        }
        __syncthreads();
        for (int d = threadIdx.x; d < D; d += VD_POOL_THREADS) {
            float sum = 0.f;
            for (int q = 0; q < P; q++) sum += red[q * D + d];
            out[d] = sum / cnt;
        }
    } else {
        for (int d = threadIdx.x; d < D; d += VD_POOL_THREADS) {
            float sum = 0.f;
            for (int n = t0; n < t1; n++) sum += __bfloat162float(base[(int64_t)n * s.sn + d]);
            out[d] = sum / cnt;
        }
    }
}

// ---- per-row top-k, one warp -------------------------------------------------------------------

static __device__ __forceinline__ int vd_warp_sum_int(int x) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    return (int)__reduce_add_sync(0xffffffffu, (unsigned)x);   // one redux.sync instead of 5 shuffles
#else
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
#endif
}

// The k largest of each of NR rows of keys (vd_mask_key values; row i at keys + i * stride, any
// memory the warp can read), ties broken by the lower column: the CPU's "k passes of the largest
// not yet taken, lowest column first". 1 <= k <= C. Bitwise radix select of T = the k-th largest
// key (32 rounds of counting keys >= candidate; the NR rows advance together so that their
// reductions overlap), then keep key > T and the first (k - #{key > T}) columns with key == T.
// Only rows i < n_valid are written: kept columns in ascending order to idx[i] + [0, k) when
// idx[i] != NULL, mask[i][j] = kept for every j < C when mask[i] != NULL. All 32 lanes must call
// it (warp-uniform arguments).
template <int NR>
static __device__ void vd_warp_topk_rows(const uint32_t *keys, int64_t stride, int C, int k, int n_valid,
                                         int32_t *const *idx, uint8_t *const *mask) {
    const int lane = threadIdx.x & 31;
    uint32_t T[NR];
#pragma unroll
    for (int i = 0; i < NR; i++) T[i] = 0;
    for (int bit = 31; bit >= 0; bit--) {
        int cnt[NR];
#pragma unroll
        for (int i = 0; i < NR; i++) cnt[i] = 0;
        for (int j = lane; j < C; j += 32)
#pragma unroll
            for (int i = 0; i < NR; i++) cnt[i] += keys[i * stride + j] >= (T[i] | (1u << bit));
#pragma unroll
        for (int i = 0; i < NR; i++)
            if (vd_warp_sum_int(cnt[i]) >= k) T[i] |= 1u << bit;
    }
    const unsigned lt = (1u << lane) - 1u;
#pragma unroll
    for (int i = 0; i < NR; i++) {   // unrolled: T[i], idx[i] stay in registers
        if (i >= n_valid) break;
        const uint32_t *row = keys + i * stride;
        int gt = 0;
        for (int j = lane; j < C; j += 32) gt += row[j] > T[i];
        const int need = k - vd_warp_sum_int(gt);   // >= 1 keys equal to T, taken by ascending column
        int eq_seen = 0, at = 0;
        for (int j0 = 0; j0 < C; j0 += 32) {
            const int j = j0 + lane;
            const uint32_t key = j < C ? row[j] : 0u;
            const bool eq = j < C && key == T[i];
            const unsigned beq = __ballot_sync(0xffffffffu, eq);
            const bool keep = j < C && (key > T[i] || (eq && eq_seen + __popc(beq & lt) < need));
            eq_seen += __popc(beq);
            const unsigned bk = __ballot_sync(0xffffffffu, keep);
            if (idx[i] && keep) idx[i][at + __popc(bk & lt)] = j;
            if (mask[i] && j < C) mask[i][j] = keep;
            at += __popc(bk);
        }
    }
}
