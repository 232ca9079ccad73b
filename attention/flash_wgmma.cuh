// Device building blocks of the Hopper (wgmma, sm_90a) flash kernels: swizzled shared-memory
// tiles, wgmma descriptors and wrappers, and the per-tile steps (S = Q K^T, mask, online softmax,
// O rescale, P packing, O = P V, epilogue) shared by the cp.async kernels of flash_wgmma.cu and
// the TMA kernel of flash_wgmma_tma.cu. Layouts and the register-fence rules: flash_wgmma.cu.
#pragma once
#include <stdint.h>

#include "attention/flash_fwd.cuh"

namespace vdflash {
namespace wg {

constexpr int D = 128, BQ = 128, BKV = 128, THREADS = 256;
constexpr uint32_t Q_BYTES = BQ * D * 2, KV_BYTES = BKV * D * 2;

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
// Byte offset of 16-byte chunk c (0..15) of row r in a swizzled [rows, 128] tile.
__device__ __forceinline__ uint32_t tile_off(int r, int c, int rows) {
    return (uint32_t)((c >> 3) * rows * 128 + r * 128 + (((c & 7) ^ (r & 7)) << 4));
}

// cp.async of ROWS tokens t0.. (row stride sn elements) into a swizzled tile; rows >= N zero-filled.
// Consecutive threads take consecutive 16-byte chunks of a row: 256 B contiguous global reads.
template <int ROWS>
__device__ __forceinline__ void load_tile(uint32_t s, const bf16 *g, int64_t sn, int t0, int N, int tid) {
#pragma unroll
    for (int it = 0; it < ROWS * 16 / THREADS; it++) {
        const int i = tid + it * THREADS, r = i >> 4, c = i & 15, t = t0 + r;
        const bool valid = t < N;
        cp_async16(s + tile_off(r, c, ROWS), g + (int64_t)(valid ? t : 0) * sn + c * 8, valid);
    }
}

__device__ __forceinline__ uint64_t desc_sw128(uint32_t addr, uint32_t lbo, uint32_t sbo) {
    return (uint64_t)((addr & 0x3FFFF) >> 4) | ((uint64_t)((lbo >> 4) & 0x3FFF) << 16) |
           ((uint64_t)((sbo >> 4) & 0x3FFF) << 32) | (1ull << 62);   // layout type 1: 128-byte swizzle
}

__device__ __forceinline__ void wg_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wg_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wg_wait_all() { asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory"); }
// cp.async writes shared memory through the generic proxy, wgmma reads it through the async proxy.
__device__ __forceinline__ void fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }
__device__ __forceinline__ void cp_async_wait_1() { asm volatile("cp.async.wait_group 1;\n" ::: "memory"); }
// Register fences for the compiler (no instruction): an empty volatile asm that "rewrites" each
// register. Placed after a wgmma wait, reads of the accumulators cannot move above the wait, and
// A-operand registers (Q, P: read asynchronously by the MMA) stay allocated until it; placed
// before wg_fence(), the writes that prepare wgmma operands (O rescaled, P packed) cannot sink below
// the wgmma.fence, which orders register writes before the asynchronous MMA reads them. Without
// them nvcc was free to move such register arithmetic across the volatile asm statements.
__device__ __forceinline__ void fence_regs(float (&d)[64]) {
#pragma unroll
    for (int i = 0; i < 64; i++) asm volatile("" : "+f"(d[i])::"memory");
}
__device__ __forceinline__ void fence_regs(uint32_t (&r)[8][4]) {
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) asm volatile("" : "+r"(r[i][j])::"memory");
}

// The 64 fp32 accumulator registers of an m64n128 wgmma: their place-holders %0..%63 in the
// instruction text and the matching "+f" operands of d[64].
#define VD_WG_ACC_TEXT \
    "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
    "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
    "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
    "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
#define VD_WG_ACC_OPS(d) \
    "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
    "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
    "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
    "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
    "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
    "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
    "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
    "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])

// d[64] (+)= A[64x16] (4 bf16x2 registers per thread, the m16n8k16 A layout per warp) * B[16x128]
// (shared-memory descriptor). scale_d = 0 ignores d's old value. TRANS_B = 0: B stored K-major (rows
// of N with K contiguous: K tiles); 1: N-major (rows of K with N contiguous: V tiles).
template <int TRANS_B>
__device__ __forceinline__ void wgmma_m64n128k16_rs(float (&d)[64], const uint32_t (&a)[4], uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"
        VD_WG_ACC_TEXT
        "}, {%64, %65, %66, %67}, %68, p, 1, 1, %70;\n}\n"
        :
          VD_WG_ACC_OPS(d)
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(scale_d), "n"(TRANS_B));
}
// d[64] (+)= A[64x16] * B[16x128], both from shared memory (descriptors, K-major: no transposes).
__device__ __forceinline__ void wgmma_m64n128k16_ss(float (&d)[64], uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"
        VD_WG_ACC_TEXT
        "}, %64, %65, p, 1, 1, 0, 0;\n}\n"
        :
          VD_WG_ACC_OPS(d)
        : "l"(desc_a), "l"(desc_b), "r"(scale_d));
}
__device__ __forceinline__ void wg_wait_1() { asm volatile("wgmma.wait_group.sync.aligned 1;\n" ::: "memory"); }

// Issue S = Q K^T for this warpgroup's 64 query rows (8 k steps of 16; scale_d = 0 on the first:
// S = Q K^T, not S +=). Q is read by the MMA straight from sQ (K-major descriptor of the
// warpgroup's rows). Q fragments held in registers across the kv loop were given away by ptxas
// (CUDA 13.0) inside the loop, and re-reading them every tile measured 380 vs 411 TFLOP/s.
__device__ __forceinline__ void issue_s(float (&s)[64], uint32_t sQ, uint32_t sK, int wgi) {
#pragma unroll
    for (int kk = 0; kk < 8; kk++) {
        const uint32_t koff = (kk >> 2) * BKV * 128 + (kk & 3) * 32;
        const uint32_t qoff = (kk >> 2) * BQ * 128 + wgi * 64 * 128 + (kk & 3) * 32;
        wgmma_m64n128k16_ss(s, desc_sw128(sQ + qoff, 16, 1024), desc_sw128(sK + koff, 16, 1024), kk > 0);
    }
}
// Issue O += P V: P (bf16, the register A operand, 16 keys per step), V tile N-major in sV.
__device__ __forceinline__ void issue_pv(float (&o)[64], const uint32_t (&p)[8][4], uint32_t sV) {
#pragma unroll
    for (int t = 0; t < 8; t++) wgmma_m64n128k16_rs<1>(o, p[t], desc_sw128(sV + t * 16 * 128, BKV * 128, 1024), 1);
}
// Tail keys (col >= N_kv) and the window predicate set S to -inf. Accumulator element i of a
// thread: row row0 + lane/4 + 8*((i>>1)&1), column k0 + 8*(i>>2) + 2*(lane&3) + (i&1).
__device__ __forceinline__ void mask_tile(float (&s)[64], const Args &a, int k0, int row0, int lane) {
    if (k0 + BKV <= a.N_kv && !a.use_win) return;
#pragma unroll
    for (int i = 0; i < 64; i++) {
        const int col = k0 + (i >> 2) * 8 + (lane & 3) * 2 + (i & 1);
        const int row = row0 + (lane >> 2) + ((i >> 1) & 1) * 8;
        bool ok = col < a.N_kv;
        if (ok && a.use_win) ok = row < a.N_q && window_allows(a, row, col);
        if (!ok) s[i] = -INFINITY;
    }
}
// Online softmax of one tile (log2 domain, as flash_fwd.cuh) for the thread's two rows hr = 0
// (lane/4) and 1 (lane/4 + 8): s becomes P = exp2(s * scale_log2 - m_new), m and l are updated and
// alpha = exp2(m_old - m_new) is returned for the rescale of O (applied by the caller: in the
// overlapped loop O is still being written by the previous tile's P V when this runs).
__device__ __forceinline__ void softmax_tile(float (&s)[64], float (&m)[2], float (&l)[2], float (&alpha)[2],
                                             float scale_log2) {
#pragma unroll
    for (int hr = 0; hr < 2; hr++) {
        float mx = m[hr];
#pragma unroll
        for (int t = 0; t < 16; t++) mx = fmaxf(mx, fmaxf(s[4 * t + 2 * hr], s[4 * t + 2 * hr + 1]) * scale_log2);
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        const float mu = (mx == -INFINITY) ? 0.f : mx;
        alpha[hr] = ex2(m[hr] - mu);
        m[hr] = mx;
        float rs = 0.f;
#pragma unroll
        for (int t = 0; t < 16; t++) {
            const float p0 = ex2(fmaf(s[4 * t + 2 * hr], scale_log2, -mu));
            const float p1 = ex2(fmaf(s[4 * t + 2 * hr + 1], scale_log2, -mu));
            s[4 * t + 2 * hr] = p0;
            s[4 * t + 2 * hr + 1] = p1;
            rs += p0 + p1;
        }
        l[hr] = l[hr] * alpha[hr] + rs;
    }
}
__device__ __forceinline__ void rescale_o(float (&o)[64], const float (&alpha)[2]) {
#pragma unroll
    for (int t = 0; t < 16; t++) {
        o[4 * t + 0] *= alpha[0];
        o[4 * t + 1] *= alpha[0];
        o[4 * t + 2] *= alpha[1];
        o[4 * t + 3] *= alpha[1];
    }
}
// P (fp32 accumulator layout of S) -> bf16 A fragments of the P V wgmma, 16 keys per k step.
__device__ __forceinline__ void pack_p(uint32_t (&p)[8][4], const float (&s)[64]) {
#pragma unroll
    for (int t = 0; t < 8; t++) {
        p[t][0] = pack_bf16(s[8 * t + 0], s[8 * t + 1]);
        p[t][1] = pack_bf16(s[8 * t + 2], s[8 * t + 3]);
        p[t][2] = pack_bf16(s[8 * t + 4], s[8 * t + 5]);
        p[t][3] = pack_bf16(s[8 * t + 6], s[8 * t + 7]);
    }
}
// Normalise and store O (bf16) and the LSE for the thread's two rows.
__device__ __forceinline__ void store_rows(const Args &a, const float (&o)[64], const float (&m)[2], const float (&l)[2],
                                           int b, int h, int row0, int lane) {
#pragma unroll
    for (int hr = 0; hr < 2; hr++) {
        float ls = l[hr];
        ls += __shfl_xor_sync(0xffffffffu, ls, 1);
        ls += __shfl_xor_sync(0xffffffffu, ls, 2);
        const int row = row0 + (lane >> 2) + hr * 8;
        if (row >= a.N_q) continue;
        const int64_t at = ((int64_t)b * a.NH + h) * a.N_q + row;
        float inv = ls > 0.f ? 1.f / ls : 0.f;
        if (a.row_scale) inv *= a.row_scale[at];
        bf16 *og = a.o + b * a.o_sb + (int64_t)row * a.o_sn + h * a.o_sh + (lane & 3) * 2;
#pragma unroll
        for (int t = 0; t < 16; t++)
            *reinterpret_cast<uint32_t *>(og + t * 8) = pack_bf16(o[4 * t + 2 * hr] * inv, o[4 * t + 2 * hr + 1] * inv);
        if (a.lse && (lane & 3) == 0) a.lse[at] = ls > 0.f ? m[hr] * 0.69314718055994531f + logf(ls) : -INFINITY;
    }
}

// A block's place: q tile blockIdx.x, head blockIdx.y, batch item blockIdx.z; this thread's
// warpgroup, lane and first of its warp's 16 rows; the kv tiles it visits (all, or its CSR row).
struct Blk {
    int tid, wgi, lane, h, b, hk, q0, row0, n_iter, e0;
};
template <bool SPARSE>
__device__ __forceinline__ Blk block_setup(const Args &a) {
    Blk k;
    k.tid = threadIdx.x;
    k.wgi = k.tid >> 7;
    k.lane = k.tid & 31;
    k.h = blockIdx.y;
    k.b = blockIdx.z;
    k.hk = k.h / a.hk_div;
    k.q0 = blockIdx.x * BQ;
    k.row0 = k.q0 + k.wgi * 64 + ((k.tid >> 5) & 3) * 16;
    k.e0 = 0;
    if (SPARSE) k.n_iter = csr_row(a, blockIdx.x, k.h, k.b, &k.e0);
    else k.n_iter = (a.N_kv + BKV - 1) / BKV;
    return k;
}
// First key of the it-th kv tile the block visits.
template <bool SPARSE>
__device__ __forceinline__ int kv_tile_start(const Args &a, const Blk &k, int it) {
    return SPARSE ? a.indices[k.e0 + it] * BKV : it * BKV;
}

// The overlapped loop's steps (flash_wgmma.cu, flash_wgmma_tma.cu). Tile 0 is a step of its own so
// that the loop body has no branch around its wgmma waits: with one, ptxas (CUDA 13.0) assumed MMAs
// in flight on paths that cannot happen and serialized them.
// Zero S, then issue and commit S = Q K^T (the first wgmma group of a tile).
__device__ __forceinline__ void start_s(float (&s)[64], uint32_t sQ, uint32_t sK, int wgi) {
#pragma unroll
    for (int i = 0; i < 64; i++) s[i] = 0.f;
    fence_regs(s);
    wg_fence();
    issue_s(s, sQ, sK, wgi);
    wg_commit();
}
// Tile 0: S(0), softmax, P(0) packed (O is still 0: no P V, no rescale).
__device__ __forceinline__ void overlap_first(float (&m)[2], float (&l)[2], float (&alpha)[2], uint32_t (&p)[8][4],
                                              const Args &a, const Blk &k, uint32_t sQ, uint32_t sK, int k0) {
    float s[64];
    start_s(s, sQ, sK, k.wgi);
    wg_wait_all();
    fence_regs(s);
    mask_tile(s, a, k0, k.row0, k.lane);
    softmax_tile(s, m, l, alpha, a.scale_log2);
    pack_p(p, s);
    fence_regs(p);
}
// Tile it >= 1: issue S(it), then O += P(it-1) V(it-1) (sVp); wait for S only and run the softmax
// of tile it while the tensor cores still work on P(it-1) V(it-1); then rescale O and pack P(it).
__device__ __forceinline__ void overlap_step(float (&o)[64], float (&m)[2], float (&l)[2], float (&alpha)[2],
                                             uint32_t (&p)[8][4], const Args &a, const Blk &k, uint32_t sQ, uint32_t sK,
                                             uint32_t sVp, int k0) {
    float s[64];
    start_s(s, sQ, sK, k.wgi);
    issue_pv(o, p, sVp);
    wg_commit();
    wg_wait_1();   // S(it) done; P(it-1) V(it-1) may still run
    fence_regs(s);

    mask_tile(s, a, k0, k.row0, k.lane);
    softmax_tile(s, m, l, alpha, a.scale_log2);
    wg_wait_all();   // P(it-1) V(it-1) done: O final for m(it-1), P's registers free
    fence_regs(o);
    fence_regs(p);
    rescale_o(o, alpha);
    pack_p(p, s);
    fence_regs(o);   // O rescaled and P packed before the next wgmma.fence reads them
    fence_regs(p);
}
// After the last tile: O += P(n-1) V(n-1).
__device__ __forceinline__ void overlap_last(float (&o)[64], uint32_t (&p)[8][4], uint32_t sV) {
    wg_fence();
    issue_pv(o, p, sV);
    wg_commit();
    wg_wait_all();
    fence_regs(o);
    fence_regs(p);
}
#endif   // __CUDA_ARCH_FEAT_SM90_ALL

// flash_wgmma_tma.cu: the overlapped kernel with TMA loads. cudaErrorNotSupported when q, k or v
// cannot be described by a tensor map (the caller then runs the cp.async kernel).
// warp_specialized: a producer warp and per-slot empty barriers instead of a block barrier per tile.
cudaError_t launch_tma(const Args &a, bool sparse, bool warp_specialized, int n_q_tiles, int B, cudaStream_t stream);

}   // namespace wg
}   // namespace vdflash
