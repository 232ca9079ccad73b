// Flash attention forward on Hopper warpgroup MMA (wgmma, sm_90a): dense and block-sparse, head
// dim 128. The entry points are called by flash_dense.cu / flash_sparse.cu when the device is
// sm_90 and this file was built (attention/CMakeLists.txt compiles it for sm_90a); otherwise the
// mma.sync kernel of flash_fwd.cuh runs. Same semantics as that kernel (masks, window predicate,
// LSE, row scale, empty rows -> O = 0, LSE = -inf); checked by tests/gpu/test_attn_flash_cuda.c.
//
// Block: 2 warpgroups (256 threads), 128 query rows (64 per warpgroup), kv tiles of 128 keys.
//   Q (128 x 128 bf16) stays in shared memory and is read by the MMA from there,
//   S = Q K^T : 8 x wgmma m64n128k16, A = Q and B = K tile from shared memory (K-major),
//   online softmax on the S accumulators (fp32, log2 domain, as flash_fwd.cuh),
//   O += P V  : 8 x wgmma m64n128k16, A = P (bf16 registers), B = V tile (N-major, transposed).
// Loads: by default TMA from a producer warpgroup (flash_wgmma_tma.cu, VDIT_WGMMA_PIPE=tma_ws);
// VDIT_WGMMA_PIPE=tma issues them from thread 0 with a block barrier per tile; the kernels here
// issue cp.async from all threads: `overlap` (the softmax of tile j runs while the tensor cores
// compute P(j-1) V(j-1); K and V in separate 3-slot rings, two tiles ahead: 32 KB Q + 6 x 32 KB =
// 224 KB, 1 block/SM) and `lockstep` (S, softmax, P V in turn, 2 stages of K+V), kept for comparison
// and as the fallback when a tensor map cannot be made.
//
// Shared-memory tiles use the 128-byte swizzle wgmma expects: a [rows, 128] bf16 tile is stored
// as two [rows, 64] halves (d 0-63, then d 64-127); row r of a half is 128 bytes and its 16-byte
// chunk c sits at c ^ (r & 7). Descriptors: K-major (K tiles): start + 32 B per 16-wide k step
// inside a half, stride between 8-row groups (SBO) 1024 B. N-major (V tiles): LBO = distance
// between the two d halves (128 rows x 128 B), SBO = 1024 B between 8-key groups.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attention/attention.h"
#include "attention/flash_fwd.cuh"
#include "attention/flash_wgmma.cuh"
#include "attention/flash_wgmma.h"
#include "lib/cuda_check.h"

namespace vdflash {
namespace wg {

// Overlapped loop (the default). Per kv tile `it`, each warpgroup issues S(it) = Q K(it)^T and then
// O += P(it-1) V(it-1), waits for S only, and runs the softmax of tile it while the tensor cores
// still work on P(it-1) V(it-1); O is rescaled once that MMA has finished. V(it-1) is read one
// iteration after K(it-1), so K and V have separate 3-slot rings (Q 32 KB + 6 x 32 KB = 224 KB):
// at the top of iteration it every thread has waited for S(it-1) and P(it-2) V(it-2), so the slots
// of K(it-1) and V(it-2) are free and take K(it+2) and V(it+1): loads run two iterations ahead.
// cp.async groups: prologue {Q, K0}, {K1, V0}; iteration it commits {K(it+2), V(it+1)} (maybe
// empty). At the top of iteration it, 2 + it groups are committed and group `it` (holding K(it)
// and V(it-1)) must have landed: cp.async.wait_group 1.
template <bool SPARSE>
__global__ void __launch_bounds__(THREADS, 1) flash_wgmma_overlap_kernel(const Args a) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    extern __shared__ unsigned char smem_raw[];
    const uint32_t sQ = (smem_u32(smem_raw) + 1023u) & ~1023u;   // swizzle atoms need 1024-B alignment
    const uint32_t sK0 = sQ + Q_BYTES, sV0 = sK0 + 3 * KV_BYTES;
    auto slotK = [&](int t) -> uint32_t { return sK0 + (uint32_t)(t % 3) * KV_BYTES; };
    auto slotV = [&](int t) -> uint32_t { return sV0 + (uint32_t)(t % 3) * KV_BYTES; };

    const Blk k = block_setup<SPARSE>(a);
    const bf16 *qg = a.q + k.b * a.q_sb + k.h * a.q_sh;
    const bf16 *kg = a.k + k.b * a.k_sb + k.hk * a.k_sh;
    const bf16 *vg = a.v + k.b * a.v_sb + k.hk * a.v_sh;
    const int n_iter = k.n_iter, tid = k.tid;
    auto kv_start = [&](int it) -> int { return kv_tile_start<SPARSE>(a, k, it); };

    load_tile<BQ>(sQ, qg, a.q_sn, k.q0, a.N_q, tid);
    if (n_iter > 0) load_tile<BKV>(slotK(0), kg, a.k_sn, kv_start(0), a.N_kv, tid);
    cp_async_commit();
    if (n_iter > 1) load_tile<BKV>(slotK(1), kg, a.k_sn, kv_start(1), a.N_kv, tid);
    if (n_iter > 0) load_tile<BKV>(slotV(0), vg, a.v_sn, kv_start(0), a.N_kv, tid);
    cp_async_commit();

    float o[64], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f}, alpha[2];
    uint32_t p[8][4];
#pragma unroll
    for (int i = 0; i < 64; i++) o[i] = 0.f;

    // Top of iteration it: group `it` (K(it), V(it-1)) landed for this thread (wait) and for all
    // (barrier); every thread is past S(it-1) and P(it-2) V(it-2), so their slots take K(it+2), V(it+1).
    auto next_tiles = [&](int it) {
        cp_async_wait_1();
        fence_proxy_async();
        __syncthreads();
        if (it + 2 < n_iter) load_tile<BKV>(slotK(it + 2), kg, a.k_sn, kv_start(it + 2), a.N_kv, tid);
        if (it + 1 < n_iter) load_tile<BKV>(slotV(it + 1), vg, a.v_sn, kv_start(it + 1), a.N_kv, tid);
        cp_async_commit();
    };
    if (n_iter > 0) {
        next_tiles(0);
        overlap_first(m, l, alpha, p, a, k, sQ, slotK(0), kv_start(0));
    }
    for (int it = 1; it < n_iter; it++) {
        next_tiles(it);
        overlap_step(o, m, l, alpha, p, a, k, sQ, slotK(it), slotV(it - 1), kv_start(it));
    }
    if (n_iter > 0) {   // the last tile's P V
        cp_async_wait_all();
        fence_proxy_async();
        __syncthreads();
        overlap_last(o, p, slotV(n_iter - 1));
    }
    cp_async_wait_all();
    store_rows(a, o, m, l, k.b, k.h, k.row0, k.lane);
#else
    __trap();   // built without sm_90a: the host never launches this (vd_attn_wgmma_usable)
#endif
}

// Lockstep loop (VDIT_WGMMA_PIPE=lockstep, kept for comparison): per tile S, softmax, P V, each
// waited for before the next, K/V in 2 stages of (K, V) refilled two tiles ahead.
template <bool SPARSE>
__global__ void __launch_bounds__(THREADS, 1) flash_wgmma_lockstep_kernel(const Args a) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    extern __shared__ unsigned char smem_raw[];
    const uint32_t sQ = (smem_u32(smem_raw) + 1023u) & ~1023u;
    const uint32_t sKV = sQ + Q_BYTES;   // stage s: K at sKV + s*2*KV_BYTES, V after it

    const Blk k = block_setup<SPARSE>(a);
    const bf16 *qg = a.q + k.b * a.q_sb + k.h * a.q_sh;
    const bf16 *kg = a.k + k.b * a.k_sb + k.hk * a.k_sh;
    const bf16 *vg = a.v + k.b * a.v_sb + k.hk * a.v_sh;
    const int n_iter = k.n_iter, tid = k.tid, wgi = k.wgi, lane = k.lane, row0 = k.row0;
    auto kv_start = [&](int it) -> int { return kv_tile_start<SPARSE>(a, k, it); };

    // prologue: group 0 = Q + tile 0, group 1 = tile 1 (groups may be empty)
    load_tile<BQ>(sQ, qg, a.q_sn, k.q0, a.N_q, tid);
    if (n_iter > 0) {
        load_tile<BKV>(sKV, kg, a.k_sn, kv_start(0), a.N_kv, tid);
        load_tile<BKV>(sKV + KV_BYTES, vg, a.v_sn, kv_start(0), a.N_kv, tid);
    }
    cp_async_commit();
    if (n_iter > 1) {
        load_tile<BKV>(sKV + 2 * KV_BYTES, kg, a.k_sn, kv_start(1), a.N_kv, tid);
        load_tile<BKV>(sKV + 3 * KV_BYTES, vg, a.v_sn, kv_start(1), a.N_kv, tid);
    }
    cp_async_commit();

    float o[64], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f}, alpha[2];
#pragma unroll
    for (int i = 0; i < 64; i++) o[i] = 0.f;

    for (int it = 0; it < n_iter; it++) {
        const uint32_t sK = sKV + (uint32_t)(it & 1) * 2 * KV_BYTES, sV = sK + KV_BYTES;
        cp_async_wait_1();   // this tile's group landed (the next one may still be in flight)
        fence_proxy_async();
        __syncthreads();
        float s[64];
        start_s(s, sQ, sK, wgi);
        wg_wait_all();
        fence_regs(s);

        mask_tile(s, a, kv_start(it), row0, lane);
        softmax_tile(s, m, l, alpha, a.scale_log2);
        rescale_o(o, alpha);
        uint32_t p[8][4];
        pack_p(p, s);
        fence_regs(o);
        fence_regs(p);
        wg_fence();
        issue_pv(o, p, sV);
        wg_commit();
        wg_wait_all();
        fence_regs(o);
        fence_regs(p);   // P is read by the MMA until the wait: its registers must not be reused before

        __syncthreads();   // both warpgroups are done with this stage: refill it with tile it + 2
        if (it + 2 < n_iter) {
            load_tile<BKV>(sK, kg, a.k_sn, kv_start(it + 2), a.N_kv, tid);
            load_tile<BKV>(sV, vg, a.v_sn, kv_start(it + 2), a.N_kv, tid);
        }
        cp_async_commit();
    }
    cp_async_wait_all();
    store_rows(a, o, m, l, k.b, k.h, row0, lane);
#else
    __trap();
#endif
}

// Shared memory per block: + 1 KB slack to align Q to 1024 B.
constexpr size_t SMEM_OVERLAP = 1024 + Q_BYTES + 6 * KV_BYTES;        // 230,400 B (max 232,448 on sm_90)
constexpr size_t SMEM_LOCKSTEP = 1024 + Q_BYTES + 2 * 2 * KV_BYTES;   // 164,864 B

enum Pipe { PIPE_TMA, PIPE_TMA_WS, PIPE_OVERLAP, PIPE_LOCKSTEP };

// TMA loads (default; the cp.async overlapped kernel when a tensor map cannot be made), or
// VDIT_WGMMA_PIPE=overlap | lockstep for comparison.
template <bool SPARSE>
cudaError_t launch(const Args &a, int n_q_tiles, int B, Pipe pipe, cudaStream_t stream) {
    if (pipe == PIPE_TMA || pipe == PIPE_TMA_WS) {
        cudaError_t ce = launch_tma(a, SPARSE, pipe == PIPE_TMA_WS, n_q_tiles, B, stream);
        if (ce != cudaErrorNotSupported) return ce;
        pipe = PIPE_OVERLAP;
    }
    const bool lockstep = pipe == PIPE_LOCKSTEP;
    auto kern = lockstep ? flash_wgmma_lockstep_kernel<SPARSE> : flash_wgmma_overlap_kernel<SPARSE>;
    const size_t smem = lockstep ? SMEM_LOCKSTEP : SMEM_OVERLAP;
    cudaError_t ce = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (ce != cudaSuccess) return ce;
    dim3 grid((unsigned)n_q_tiles, (unsigned)a.NH, (unsigned)B);
    kern<<<grid, THREADS, smem, stream>>>(a);
    return cudaGetLastError();
}

}   // namespace wg
}   // namespace vdflash

// 1 when the current device is sm_90 (H100/H200): the kernels here are built for sm_90a only.
extern "C" int vd_attn_wgmma_usable(void) {
    int dev = 0, major = 0, minor = 0;
    if (cudaGetDevice(&dev) != cudaSuccess) return 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess) return 0;
    if (cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess) return 0;
    return major == 9 && minor == 0;
}

// VDIT_WGMMA_PIPE: tma_ws (default: TMA, producer warpgroup) | tma (TMA, block barrier per tile) |
// overlap (cp.async loads) | lockstep (cp.async, no overlap).
static vdflash::wg::Pipe pipe_choice(void) {
    const char *e = getenv("VDIT_WGMMA_PIPE");
    if (e && !strcmp(e, "lockstep")) return vdflash::wg::PIPE_LOCKSTEP;
    if (e && !strcmp(e, "overlap")) return vdflash::wg::PIPE_OVERLAP;
    if (e && !strcmp(e, "tma")) return vdflash::wg::PIPE_TMA;
    return vdflash::wg::PIPE_TMA_WS;
}

extern "C" vd_status vd_attn_wgmma_dense(const vd_attn_params *p, void *stream, vd_error *err) {
    vdflash::Args a = vdflash::make_args(p);
    const int nqt = (p->N_q + vdflash::wg::BQ - 1) / vdflash::wg::BQ;
    cudaStream_t st = static_cast<cudaStream_t>(stream);
    cudaError_t ce = vdflash::wg::launch<false>(a, nqt, p->B, pipe_choice(), st);
    if (ce != cudaSuccess) return VD_CUDA_ERR_(err, "flash_wgmma_kernel<dense>", ce);
    VD_CUDA_LAUNCH_CHECK(err, st, "flash_wgmma_kernel<dense>");
    return VD_OK;
}

// a: the block-sparse Args built by flash_sparse.cu (tile_q = tile_kv = 128, so sub = 1).
extern "C" vd_status vd_attn_wgmma_sparse(const void *args, int n_q_tiles, int B, void *stream, vd_error *err) {
    const vdflash::Args &a = *static_cast<const vdflash::Args *>(args);
    cudaStream_t st = static_cast<cudaStream_t>(stream);
    cudaError_t ce = vdflash::wg::launch<true>(a, n_q_tiles, B, pipe_choice(), st);
    if (ce != cudaSuccess) return VD_CUDA_ERR_(err, "flash_wgmma_kernel<sparse>", ce);
    VD_CUDA_LAUNCH_CHECK(err, st, "flash_wgmma_kernel<sparse>");
    return VD_OK;
}
