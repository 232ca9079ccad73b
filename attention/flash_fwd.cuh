// Flash attention forward for sm_80+ (tuned for sm_90), shared by flash_dense.cu and
// flash_sparse.cu. bf16 q/k/v/o, fp32 accumulation, online softmax in the log2 domain.
//
// Algorithm (FlashAttention-2 forward): one block per (q tile of BQ rows, head, batch item);
// each warp owns 16*MT query rows. For each kv tile of 64 keys (all of them for dense, the
// block-CSR row for sparse):
//   S = Q K^T                      mma.sync m16n8k16 (Q, K fragments by ldmatrix from swizzled smem)
//   mask: keys >= N_kv (tail tile), optional 3D window predicate (vd_attn_window semantics)
//   m' = max(m, rowmax(S) * scale*log2e);  P = 2^(S*scale*log2e - m');  l = l*2^(m-m') + rowsum(P)
//   O = O*2^(m-m') + P V           (P converted to bf16 in registers, V by ldmatrix.trans)
// Epilogue: O / l (* row_scale), bf16 store; LSE = m' ln2 + ln l (natural log) when asked.
// Rows with no key at all (empty CSR row or fully masked) give O = 0 and LSE = -inf.
// Matches vd_attn_masked_ref_cpu (attention_ref.c) within the bf16 tolerance of
// tests/gpu/test_attn_flash_cuda.c.
//
// Layout: q/o [B, N_q, NH, D], k/v [B, N_kv, NKV, D], strides in elements (multiples of 8),
// last dim contiguous. Shared memory rows are D bf16 = D/8 chunks of 16 B; chunk c of row r sits
// at c ^ (r & 7), so the 8 rows an ldmatrix phase reads hit 8 different bank groups.
//
// VD_FLASH_EMU: a host emulator of the warp-level instructions (not part of the build) may define
// this and provide the helpers below, to run this exact kernel body on the CPU.
#pragma once
#ifndef VD_FLASH_EMU
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#endif
#include <math.h>
#include <string.h>
#include <stdint.h>

#include "attention/flash_tuning.h"

namespace vdflash {

#ifndef VD_FLASH_EMU
typedef __nv_bfloat16 bf16;
#else
typedef uint16_t bf16;
#endif
constexpr int BKV = VD_FLASH_BKV;

struct Args {
    const bf16 *q, *k, *v;
    bf16 *o;
    int64_t q_sb, q_sn, q_sh, k_sb, k_sn, k_sh, v_sb, v_sn, v_sh, o_sb, o_sn, o_sh;
    int N_q, N_kv, NH, hk_div;   // hk_div = NH / NKV
    float scale_log2;            // scale * log2(e)
    float *lse;                  // [B, NH, N_q] or NULL
    const float *row_scale;      // [B, NH, N_q] or NULL
    // block-sparse (SPARSE kernels only)
    const int32_t *indptr, *indices;
    int n_groups, n_q_tiles, sub; // sub = tile_kv / BKV (1 or 2)
    // window predicate
    int use_win, inward;
    int wg[3], wsize[3];
};

#ifndef VD_FLASH_EMU
__device__ __forceinline__ uint32_t smem_u32(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

__device__ __forceinline__ void cp_async16(uint32_t dst, const void *src, bool valid) {
    int n = valid ? 16 : 0;   // src-size 0: the 16 bytes are zero-filled
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(n));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::); }

__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
__device__ __forceinline__ void ldsm_x4_t(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
// c[16x8 f32] += a[16x16 bf16, row] * b[16x8 bf16, col]
__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ float ex2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);   // .x (low half) = lo
    return *reinterpret_cast<uint32_t *>(&v);
}
#endif   // VD_FLASH_EMU

// Element offset of chunk c (8 bf16) of row r in a swizzled [rows, D] tile.
template <int D>
__device__ __forceinline__ int swz(int r, int c) {
    return r * D + ((c ^ (r & 7)) << 3);
}

// cp.async of ROWS rows (tokens t0..t0+ROWS-1, row stride sn) into a swizzled tile; rows >= N
// are zero-filled.
template <int D, int ROWS, int THREADS>
__device__ __forceinline__ void load_tile(bf16 *s, const bf16 *g, int64_t sn, int t0, int N, int tid) {
    constexpr int CH = D / 8, TOTAL = ROWS * CH;
    static_assert(TOTAL % THREADS == 0, "tile chunks must divide over the block");
#pragma unroll
    for (int it = 0; it < TOTAL / THREADS; it++) {
        int i = tid + it * THREADS;
        int r = i / CH, c = i % CH;
        int t = t0 + r;
        bool valid = t < N;
        const bf16 *src = g + (int64_t)(valid ? t : 0) * sn + c * 8;
        cp_async16(smem_u32(s + swz<D>(r, c)), src, valid);
    }
}

__device__ __forceinline__ bool window_allows(const Args &a, int i, int j) {
    const int plane = a.wg[1] * a.wg[2];
    int qc[3] = {i / plane, (i % plane) / a.wg[2], i % a.wg[2]};
    int kc[3] = {j / plane, (j % plane) / a.wg[2], j % a.wg[2]};
#pragma unroll
    for (int d = 0; d < 3; d++) {
        const int X = a.wg[d], size = a.wsize[d];
        if (size >= X) continue;
        const int left = size / 2, right = size - 1 - left;
        int c = qc[d];
        if (a.inward) c = min(max(c, left), X - 1 - right);
        if (kc[d] < c - left || kc[d] > c + right) return false;
    }
    return true;
}

// Block-sparse launches: the CSR entries [*e0, *e0 + return value) of the (group, q tile) row of
// block (qt, h, b). Groups: one mask for all heads, one per head, or one per (batch item, head).
__device__ __forceinline__ int csr_row(const Args &a, int qt, int h, int b, int *e0) {
    const int grp = a.n_groups == 1 ? 0 : (a.n_groups == a.NH ? h : b * a.NH + h);
    const int r = grp * a.n_q_tiles + qt;
    *e0 = a.indptr[r];
    return a.indptr[r + 1] - *e0;
}

template <int D, int MT, bool SPARSE>
__global__ void __launch_bounds__(VD_FLASH_WARPS * 32, 2) flash_fwd_kernel(const Args a) {
    constexpr int NW = VD_FLASH_WARPS, THREADS = NW * 32, BQ = 16 * MT * NW;
    constexpr int NT = BKV / 8;   // n8 tiles of S per m16 tile
    constexpr int DT = D / 8;     // n8 tiles of O per m16 tile
#ifndef VD_FLASH_EMU
    extern __shared__ __align__(128) unsigned char smem_raw[];
#else
    unsigned char *smem_raw = emu_smem();
#endif
    bf16 *sQ = reinterpret_cast<bf16 *>(smem_raw);   // [BQ, D]
    bf16 *sK = sQ + BQ * D;                           // [BKV, D]
    bf16 *sV = sK + BKV * D;                          // [BKV, D]

    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const int qt = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int q0 = qt * BQ;
    const int hk = h / a.hk_div;
    const bf16 *qg = a.q + b * a.q_sb + h * a.q_sh;
    const bf16 *kg = a.k + b * a.k_sb + hk * a.k_sh;
    const bf16 *vg = a.v + b * a.v_sb + hk * a.v_sh;

    int n_iter, e0 = 0;
    if (SPARSE) {
        n_iter = csr_row(a, qt, h, b, &e0) * a.sub;
    } else {
        n_iter = (a.N_kv + BKV - 1) / BKV;
    }
    auto kv_start = [&](int it) -> int {
        if (!SPARSE) return it * BKV;
        if (a.sub == 2) return (a.indices[e0 + (it >> 1)] * 2 + (it & 1)) * BKV;
        return a.indices[e0 + it] * BKV;
    };

    load_tile<D, BQ, THREADS>(sQ, qg, a.q_sn, q0, a.N_q, tid);
    if (n_iter > 0) load_tile<D, BKV, THREADS>(sK, kg, a.k_sn, kv_start(0), a.N_kv, tid);
    cp_async_commit();

    float o[MT][DT][4];
    float m[MT][2], l[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
#pragma unroll
        for (int dt = 0; dt < DT; dt++)
#pragma unroll
            for (int e = 0; e < 4; e++) o[mt][dt][e] = 0.f;
        m[mt][0] = m[mt][1] = -INFINITY;
        l[mt][0] = l[mt][1] = 0.f;
    }
    const int wrow = warp * 16 * MT;   // first row of this warp inside the q tile
    // ldmatrix addresses. Every row an address names has (row & 7) == (lane & 7), so the swizzled
    // chunk of logical chunk 2k + c is (2k) ^ (c ^ (lane & 7)) = (2k) ^ y with y fixed per lane.
    const int yq = (lane >> 4) ^ (lane & 7);            // Q (A operand): rows lane&15, chunk 2kk + lane/16
    const int yk = ((lane >> 3) & 1) ^ (lane & 7);      // K (B operand): rows (lane&7) + 8*(lane/16), chunk 2kk + bit 3
    const int yv = (lane >> 4) ^ (lane & 7);            // V (B operand, .trans): rows (lane&7) + 8*bit 3, chunk 2dp + lane/16
    const uint32_t q_base = smem_u32(sQ + (wrow + (lane & 15)) * D);
    const uint32_t k_base = smem_u32(sK + ((lane & 7) + ((lane >> 4) << 3)) * D);
    const uint32_t v_base = smem_u32(sV + ((lane & 7) + (((lane >> 3) & 1) << 3)) * D);

    for (int it = 0; it < n_iter; it++) {
        const int k0 = kv_start(it);
        cp_async_wait_all();
        __syncthreads();   // K(it) (and Q) landed; every warp is done with V(it-1)
        load_tile<D, BKV, THREADS>(sV, vg, a.v_sn, k0, a.N_kv, tid);
        cp_async_commit();

        // ---- S = Q K^T ----
        float s[MT][NT][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < NT; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) s[mt][nt][e] = 0.f;
        // kk runs as a real loop: S indices do not depend on it, and computing the swizzled
        // addresses per step (chunk 2kk ^ y, y per lane) keeps ~16 address registers free.
#pragma unroll 1
        for (int kk = 0; kk < D / 16; kk++) {
            uint32_t qa[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) ldsm_x4(qa[mt], q_base + mt * 16 * D * 2 + (((2 * kk) ^ yq) << 4));
            const uint32_t k_addr = k_base + (((2 * kk) ^ yk) << 4);
#pragma unroll
            for (int np = 0; np < NT / 2; np++) {
                uint32_t kb[4];
                ldsm_x4(kb, k_addr + np * 16 * D * 2);
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma16816(s[mt][2 * np], qa[mt], kb[0], kb[1]);
                    mma16816(s[mt][2 * np + 1], qa[mt], kb[2], kb[3]);
                }
            }
        }

        // ---- masks: tail keys, window ----
        if (k0 + BKV > a.N_kv || a.use_win) {
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int nt = 0; nt < NT; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        const int col = k0 + nt * 8 + (lane & 3) * 2 + (e & 1);
                        const int row = q0 + wrow + mt * 16 + (lane >> 2) + ((e >> 1) << 3);
                        bool ok = col < a.N_kv;
                        if (ok && a.use_win) ok = row < a.N_q && window_allows(a, row, col);
                        if (!ok) s[mt][nt][e] = -INFINITY;
                    }
        }

        // ---- online softmax (log2 domain) ----
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int hr = 0; hr < 2; hr++) {
                float mx = m[mt][hr];
#pragma unroll
                for (int nt = 0; nt < NT; nt++)
                    mx = fmaxf(mx, fmaxf(s[mt][nt][2 * hr], s[mt][nt][2 * hr + 1]) * a.scale_log2);
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                const float mu = (mx == -INFINITY) ? 0.f : mx;   // all keys masked so far
                const float alpha = ex2(m[mt][hr] - mu);
                m[mt][hr] = mx;
                float rs = 0.f;
#pragma unroll
                for (int nt = 0; nt < NT; nt++) {
                    const float p0 = ex2(fmaf(s[mt][nt][2 * hr], a.scale_log2, -mu));
                    const float p1 = ex2(fmaf(s[mt][nt][2 * hr + 1], a.scale_log2, -mu));
                    s[mt][nt][2 * hr] = p0;
                    s[mt][nt][2 * hr + 1] = p1;
                    rs += p0 + p1;
                }
                l[mt][hr] = l[mt][hr] * alpha + rs;
#pragma unroll
                for (int dt = 0; dt < DT; dt++) {
                    o[mt][dt][2 * hr] *= alpha;
                    o[mt][dt][2 * hr + 1] *= alpha;
                }
            }

        cp_async_wait_all();
        __syncthreads();   // V(it) landed; every warp is done reading K(it)
        if (it + 1 < n_iter) {
            load_tile<D, BKV, THREADS>(sK, kg, a.k_sn, kv_start(it + 1), a.N_kv, tid);
            cp_async_commit();
        }

        // ---- O += P V ----
#pragma unroll
        for (int t = 0; t < BKV / 16; t++) {
            uint32_t pa[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                pa[mt][0] = pack_bf16(s[mt][2 * t][0], s[mt][2 * t][1]);
                pa[mt][1] = pack_bf16(s[mt][2 * t][2], s[mt][2 * t][3]);
                pa[mt][2] = pack_bf16(s[mt][2 * t + 1][0], s[mt][2 * t + 1][1]);
                pa[mt][3] = pack_bf16(s[mt][2 * t + 1][2], s[mt][2 * t + 1][3]);
            }
#pragma unroll
            for (int dp = 0; dp < D / 16; dp++) {
                uint32_t vb[4];
                ldsm_x4_t(vb, v_base + t * 16 * D * 2 + (((2 * dp) ^ yv) << 4));
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma16816(o[mt][2 * dp], pa[mt], vb[0], vb[1]);
                    mma16816(o[mt][2 * dp + 1], pa[mt], vb[2], vb[3]);
                }
            }
        }
    }
    cp_async_wait_all();   // nothing may stay in flight (n_iter == 0 leaves the Q load)

    // ---- epilogue ----
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int hr = 0; hr < 2; hr++) {
            float ls = l[mt][hr];
            ls += __shfl_xor_sync(0xffffffffu, ls, 1);
            ls += __shfl_xor_sync(0xffffffffu, ls, 2);
            const int row = q0 + wrow + mt * 16 + (lane >> 2) + hr * 8;
            if (row >= a.N_q) continue;
            const int64_t at = ((int64_t)b * a.NH + h) * a.N_q + row;
            float inv = ls > 0.f ? 1.f / ls : 0.f;
            if (a.row_scale) inv *= a.row_scale[at];
            bf16 *og = a.o + b * a.o_sb + (int64_t)row * a.o_sn + h * a.o_sh + (lane & 3) * 2;
#pragma unroll
            for (int dt = 0; dt < DT; dt++)
                *reinterpret_cast<uint32_t *>(og + dt * 8) = pack_bf16(o[mt][dt][2 * hr] * inv, o[mt][dt][2 * hr + 1] * inv);
            if (a.lse && (lane & 3) == 0)
                a.lse[at] = ls > 0.f ? m[mt][hr] * 0.69314718055994531f + logf(ls) : -INFINITY;
        }
}

template <int D, int MT>
constexpr size_t smem_bytes() {
    return (size_t)(16 * MT * VD_FLASH_WARPS + 2 * BKV) * D * sizeof(bf16);
}

#ifndef VD_FLASH_EMU
// Launches one instantiation over grid (q tiles, NH, B). Returns the cudaError of the launch.
template <int D, int MT, bool SPARSE>
cudaError_t launch(const Args &a, int n_q_tiles, int B, cudaStream_t stream) {
    constexpr size_t smem = smem_bytes<D, MT>();
    auto kern = flash_fwd_kernel<D, MT, SPARSE>;
    cudaError_t ce = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (ce != cudaSuccess) return ce;
    dim3 grid((unsigned)n_q_tiles, (unsigned)a.NH, (unsigned)B);
    kern<<<grid, VD_FLASH_WARPS * 32, smem, stream>>>(a);
    return cudaGetLastError();
}
#endif   // VD_FLASH_EMU

}   // namespace vdflash

// ---- host helpers shared by flash_dense.cu and flash_sparse.cu ------------------------------
#include "attention/attention.h"

namespace vdflash {

inline Args make_args(const vd_attn_params *p) {
    Args a;
    memset(&a, 0, sizeof a);
    a.q = static_cast<const bf16 *>(p->q);
    a.k = static_cast<const bf16 *>(p->k);
    a.v = static_cast<const bf16 *>(p->v);
    a.o = static_cast<bf16 *>(p->o);
    a.q_sb = p->q_sb; a.q_sn = p->q_sn; a.q_sh = p->q_sh;
    a.k_sb = p->k_sb; a.k_sn = p->k_sn; a.k_sh = p->k_sh;
    a.v_sb = p->v_sb; a.v_sn = p->v_sn; a.v_sh = p->v_sh;
    a.o_sb = p->o_sb; a.o_sn = p->o_sn; a.o_sh = p->o_sh;
    a.N_q = p->N_q; a.N_kv = p->N_kv; a.NH = p->NH; a.hk_div = p->NH / p->NKV;
    a.scale_log2 = p->scale * 1.4426950408889634f;
    a.lse = p->lse;
    a.row_scale = p->row_scale;
    a.sub = 1;
    a.n_groups = 1;
    return a;
}

}   // namespace vdflash
