// Flash attention forward on Hopper (sm_90a) with TMA loads, two variants: the warp-specialized
// kernel (default; see flash_wgmma_tma_ws_kernel) and the one below, where thread 0 of the consumers
// issues the copies. Both run the overlapped wgmma loop of
// flash_wgmma.cu (softmax of tile j under P(j-1) V(j-1), K and V in separate 3-slot rings, two
// tiles ahead), but Q, K and V tiles arrive by the Tensor Memory Accelerator instead of cp.async
// issued by all 256 threads. One thread issues, per 128-token tile, two 4D tensor copies (d 0-63 and
// d 64-127, each a [128 rows, 128 B] box with the 128-byte swizzle, which is exactly the tile layout
// the wgmma descriptors read) that complete on the slot's mbarrier; consumers wait on its phase.
// Rows past N (tail tiles) are zero-filled by the TMA unit. In the thread-0 variant slot reuse is
// ordered, as in the cp.async kernel, by the block barrier at the top of each iteration (every
// thread has then waited for the MMAs that read the slot); the warp-specialized one uses per-slot
// empty mbarriers instead.
//
// A tensor map describes a [B, N, H, 128] bf16 tensor with element strides sb, sn, sh: the map's
// dims are d, then N, H, B sorted by stride (the TMA unit wants growing strides), with box
// {64, 128 tokens, 1, 1}; TmaPerm records which map dim holds tokens, heads and batch items.
// cuTensorMapEncodeTiled comes through cudaGetDriverEntryPointByVersion (no libcuda link). When a
// tensor cannot be described (strides not multiples of 16 B, misaligned base) launch_tma returns
// cudaErrorNotSupported and the caller runs the cp.async kernel.
#include <cuda.h>
#include <stdint.h>

#include "attention/flash_wgmma.cuh"

namespace vdflash {
namespace wg {

struct TmaPerm {
    int n, h, b;   // map dim (1..3) of the token, head and batch axes
};
struct TmaPerms {
    TmaPerm q, k, v;
};

// Q + 3 K slots + 3 V slots + 7 mbarriers (Q, K[3], V[3]); + 1 KB slack to align Q to 1024 B.
constexpr size_t SMEM_TMA = 1024 + Q_BYTES + 6 * KV_BYTES + 64;   // 230,464 B (max 232,448 on sm_90)

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
constexpr uint32_t TILE_TX = BKV * D * 2;   // bytes one tile's two boxes deliver (= Q_BYTES)

__device__ __forceinline__ void mbar_init(uint32_t bar, int count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void mbar_expect_tx(uint32_t bar, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
// Spin until the phase with the given parity of the mbarrier has completed.
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
    uint32_t done = 0;
    do {
        asm volatile(
            "{\n.reg .pred p;\n"
            "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
            "selp.u32 %0, 1, 0, p;\n}\n"
            : "=r"(done)
            : "r"(bar), "r"(parity)
            : "memory");
    } while (!done);
}
__device__ __forceinline__ void tma_load_4d(uint32_t dst, const CUtensorMap *map, uint32_t bar, int c0, int c1, int c2,
                                            int c3) {
    asm volatile(
        "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], [%6];\n" ::"r"(dst),
        "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar)
        : "memory");
}
// One 128-token tile (tokens n0.., head h, batch b) into a swizzled [128, 128] tile at dst; completes
// on bar. Called by one thread.
__device__ __forceinline__ void tma_tile(uint32_t dst, const CUtensorMap *map, TmaPerm pm, int n0, int h, int b,
                                         uint32_t bar) {
    const int c1 = pm.n == 1 ? n0 : pm.h == 1 ? h : b;
    const int c2 = pm.n == 2 ? n0 : pm.h == 2 ? h : b;
    const int c3 = pm.n == 3 ? n0 : pm.h == 3 ? h : b;
    mbar_expect_tx(bar, TILE_TX);
    tma_load_4d(dst, map, bar, 0, c1, c2, c3);
    tma_load_4d(dst + 128 * 128, map, bar, 64, c1, c2, c3);   // second d half: rows x 128 B further
}
// Shared-memory plan of both TMA kernels: Q, 3 K slots, 3 V slots (1024-B aligned: the swizzle
// atoms), then the mbarriers: Q, full K[3], full V[3] and, in the warp-specialized kernel, empty
// K[3], empty V[3]. Tile t lives in slot t % 3 and is use t / 3 of it.
struct TmaSmem {
    uint32_t q, k0, v0, bar;
    __device__ __forceinline__ explicit TmaSmem(const void *raw) {
        q = (smem_u32(raw) + 1023u) & ~1023u;
        k0 = q + Q_BYTES;
        v0 = k0 + 3 * KV_BYTES;
        bar = v0 + 3 * KV_BYTES;
    }
    __device__ __forceinline__ uint32_t slot_k(int t) const { return k0 + (uint32_t)(t % 3) * KV_BYTES; }
    __device__ __forceinline__ uint32_t slot_v(int t) const { return v0 + (uint32_t)(t % 3) * KV_BYTES; }
    __device__ __forceinline__ uint32_t full_q() const { return bar; }
    __device__ __forceinline__ uint32_t full_k(int t) const { return bar + 8 + 8 * (uint32_t)(t % 3); }
    __device__ __forceinline__ uint32_t full_v(int t) const { return bar + 32 + 8 * (uint32_t)(t % 3); }
    __device__ __forceinline__ uint32_t empty_k(int t) const { return bar + 56 + 8 * (uint32_t)(t % 3); }
    __device__ __forceinline__ uint32_t empty_v(int t) const { return bar + 80 + 8 * (uint32_t)(t % 3); }
    __device__ __forceinline__ static uint32_t parity(int t) { return (uint32_t)(t / 3) & 1u; }
};
#endif

template <bool SPARSE>
__global__ void __launch_bounds__(THREADS, 1)
    flash_wgmma_tma_kernel(const Args a, const __grid_constant__ CUtensorMap tq, const __grid_constant__ CUtensorMap tk,
                           const __grid_constant__ CUtensorMap tv, const TmaPerms pm) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    extern __shared__ unsigned char smem_raw[];
    const TmaSmem sm(smem_raw);

    const Blk k = block_setup<SPARSE>(a);
    const int n_iter = k.n_iter, tid = k.tid, h = k.h, b = k.b, hk = k.hk;
    auto kv_start = [&](int it) -> int { return kv_tile_start<SPARSE>(a, k, it); };

    if (tid == 0) {
        for (int i = 0; i < 7; i++) mbar_init(sm.bar + 8 * i, 1);
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();
    // Prologue: Q, K0, K1, V0 (V(t) is first read one iteration after K(t)). A block with no kv tile
    // (empty CSR row) loads nothing: every copy issued must be waited for before the block exits,
    // or it could land in the shared memory of the next block on this SM.
    if (tid == 0 && n_iter > 0) {
        tma_tile(sm.q, &tq, pm.q, k.q0, h, b, sm.full_q());
        tma_tile(sm.slot_k(0), &tk, pm.k, kv_start(0), hk, b, sm.full_k(0));
        if (n_iter > 1) tma_tile(sm.slot_k(1), &tk, pm.k, kv_start(1), hk, b, sm.full_k(1));
        tma_tile(sm.slot_v(0), &tv, pm.v, kv_start(0), hk, b, sm.full_v(0));
    }

    float o[64], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f}, alpha[2];
    uint32_t p[8][4];
#pragma unroll
    for (int i = 0; i < 64; i++) o[i] = 0.f;

    // Top of iteration it: after the barrier every thread is past S(it-1) and P(it-2) V(it-2), so
    // the slots of K(it-1) and V(it-2) take K(it+2) and V(it+1); then wait for K(it) and V(it-1).
    auto next_tiles = [&](int it) {
        __syncthreads();
        if (tid == 0) {
            if (it + 2 < n_iter) tma_tile(sm.slot_k(it + 2), &tk, pm.k, kv_start(it + 2), hk, b, sm.full_k(it + 2));
            if (it + 1 < n_iter) tma_tile(sm.slot_v(it + 1), &tv, pm.v, kv_start(it + 1), hk, b, sm.full_v(it + 1));
        }
        mbar_wait(sm.full_k(it), TmaSmem::parity(it));
        if (it > 0) mbar_wait(sm.full_v(it - 1), TmaSmem::parity(it - 1));
    };
    if (n_iter > 0) {
        next_tiles(0);
        mbar_wait(sm.full_q(), 0);
        overlap_first(m, l, alpha, p, a, k, sm.q, sm.slot_k(0), kv_start(0));
    }
    for (int it = 1; it < n_iter; it++) {
        next_tiles(it);
        overlap_step(o, m, l, alpha, p, a, k, sm.q, sm.slot_k(it), sm.slot_v(it - 1), kv_start(it));
    }
    if (n_iter > 0) {   // the last tile's P V
        mbar_wait(sm.full_v(n_iter - 1), TmaSmem::parity(n_iter - 1));
        overlap_last(o, p, sm.slot_v(n_iter - 1));
    }
    store_rows(a, o, m, l, b, h, k.row0, k.lane);
#else
    __trap();   // built without sm_90a: the host never launches this (vd_attn_wgmma_usable)
#endif
}

// Warp-specialized variant (VDIT_WGMMA_PIPE=tma_ws): a producer warpgroup (one thread of it) issues
// every TMA copy, and slot
// reuse is ordered by per-slot "empty" mbarriers (each of the 8 consumer warps arrives once its MMAs
// that read the slot have finished) instead of a block barrier per tile, so the two consumer
// warpgroups are no longer held in step. Producer order: K0, then K(t), V(t-1) for t = 1.., then
// V(n-1); before use u >= 1 of a slot it waits for the release of use u - 1 (parity (u-1) & 1).
constexpr int THREADS_WS = THREADS + 128;   // + a producer warpgroup (register allocation is per warpgroup)
constexpr size_t SMEM_TMA_WS = SMEM_TMA + 64;   // + 6 empty mbarriers

template <bool SPARSE>
__global__ void __launch_bounds__(THREADS_WS, 1)
    flash_wgmma_tma_ws_kernel(const Args a, const __grid_constant__ CUtensorMap tq, const __grid_constant__ CUtensorMap tk,
                              const __grid_constant__ CUtensorMap tv, const TmaPerms pm) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    extern __shared__ unsigned char smem_raw[];
    const TmaSmem sm(smem_raw);

    const Blk k = block_setup<SPARSE>(a);
    const int n_iter = k.n_iter, tid = k.tid;
    auto kv_start = [&](int it) -> int { return kv_tile_start<SPARSE>(a, k, it); };

    if (tid == 0) {
        for (int i = 0; i < 7; i++) mbar_init(sm.bar + 8 * i, 1);        // full: Q, K[3], V[3]
        for (int i = 7; i < 13; i++) mbar_init(sm.bar + 8 * i, 8);       // empty: K[3], V[3]
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();   // the last block-wide barrier: the producer warp leaves after its loop

    if (tid >= THREADS) {   // producer warpgroup; one thread issues. No copies for an empty CSR row.
        // Registers: 384 threads get 168 each at launch; the producer gives most of its share to
        // the consumers (128 x 40 + 256 x 232 <= 65,536).
        asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n" ::: "memory");
        if (tid == THREADS && n_iter > 0) {
            auto load_k = [&](int t) {
                if (t >= 3) mbar_wait(sm.empty_k(t), TmaSmem::parity(t - 3));
                tma_tile(sm.slot_k(t), &tk, pm.k, kv_start(t), k.hk, k.b, sm.full_k(t));
            };
            auto load_v = [&](int t) {
                if (t >= 3) mbar_wait(sm.empty_v(t), TmaSmem::parity(t - 3));
                tma_tile(sm.slot_v(t), &tv, pm.v, kv_start(t), k.hk, k.b, sm.full_v(t));
            };
            tma_tile(sm.q, &tq, pm.q, k.q0, k.h, k.b, sm.full_q());
            load_k(0);
            for (int t = 1; t < n_iter; t++) {
                load_k(t);
                load_v(t - 1);
            }
            load_v(n_iter - 1);
        }
        return;
    }
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n" ::: "memory");

    float o[64], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f}, alpha[2];
    uint32_t p[8][4];
#pragma unroll
    for (int i = 0; i < 64; i++) o[i] = 0.f;
    // A warp releases a slot once its wait for the MMAs reading it has returned.
    auto release = [&](uint32_t bar) {
        __syncwarp();
        if (k.lane == 0) mbar_arrive(bar);
    };
    if (n_iter > 0) {
        mbar_wait(sm.full_q(), 0);
        mbar_wait(sm.full_k(0), TmaSmem::parity(0));
        overlap_first(m, l, alpha, p, a, k, sm.q, sm.slot_k(0), kv_start(0));
        release(sm.empty_k(0));
    }
    for (int it = 1; it < n_iter; it++) {
        mbar_wait(sm.full_k(it), TmaSmem::parity(it));
        mbar_wait(sm.full_v(it - 1), TmaSmem::parity(it - 1));
        overlap_step(o, m, l, alpha, p, a, k, sm.q, sm.slot_k(it), sm.slot_v(it - 1), kv_start(it));
        release(sm.empty_k(it));
        release(sm.empty_v(it - 1));
    }
    if (n_iter > 0) {   // the last tile's P V (no release: nothing waits for that slot)
        mbar_wait(sm.full_v(n_iter - 1), TmaSmem::parity(n_iter - 1));
        overlap_last(o, p, sm.slot_v(n_iter - 1));
    }
    store_rows(a, o, m, l, k.b, k.h, k.row0, k.lane);
#else
    __trap();
#endif
}

// ---- host: tensor maps ----------------------------------------------------------------------

typedef CUresult (*encode_tiled_fn)(CUtensorMap *, CUtensorMapDataType, cuuint32_t, void *, const cuuint64_t *,
                                    const cuuint64_t *, const cuuint32_t *, const cuuint32_t *, CUtensorMapInterleave,
                                    CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill);

static encode_tiled_fn encode_fn(void) {
    static encode_tiled_fn fn = []() -> encode_tiled_fn {
        void *ptr = nullptr;
        cudaDriverEntryPointQueryResult q;
        if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &ptr, 12000, cudaEnableDefault, &q) != cudaSuccess ||
            q != cudaDriverEntryPointSuccess)
            return nullptr;
        return reinterpret_cast<encode_tiled_fn>(ptr);
    }();
    return fn;
}

// Map of a [B, N, H, 128] bf16 tensor (element strides sb, sn, sh; d contiguous) read in boxes of
// 64 d x 128 tokens. Axes of extent 1 go last with a synthetic stride (theirs is never used).
static bool make_map(CUtensorMap *map, TmaPerm *pm, const void *base, int B, int N, int H, int64_t sb, int64_t sn,
                     int64_t sh) {
    encode_tiled_fn fn = encode_fn();
    if (!fn || ((uintptr_t)base & 15u)) return false;
    struct axis {
        int role;   // 0 tokens, 1 heads, 2 batch
        uint64_t dim, stride;
        uint32_t box;
    } ax[3] = {{0, (uint64_t)N, (uint64_t)sn * 2, 128}, {1, (uint64_t)H, (uint64_t)sh * 2, 1}, {2, (uint64_t)B, (uint64_t)sb * 2, 1}};
    auto key = [](const axis &x) { return x.dim == 1 ? UINT64_MAX : x.stride; };
    for (int i = 1; i < 3; i++)
        for (int j = i; j > 0 && key(ax[j]) < key(ax[j - 1]); j--) {
            axis t = ax[j];
            ax[j] = ax[j - 1];
            ax[j - 1] = t;
        }
    uint64_t prev_stride = 2, prev_dim = D;
    cuuint64_t dims[4] = {D, 0, 0, 0}, strides[3];
    cuuint32_t box[4] = {64, 1, 1, 1}, estr[4] = {1, 1, 1, 1};
    for (int i = 0; i < 3; i++) {
        if (ax[i].dim == 1) ax[i].stride = prev_stride * prev_dim;
        if (ax[i].stride % 16 || ax[i].stride >= (1ull << 40) || ax[i].dim >= (1ull << 32)) return false;
        dims[i + 1] = ax[i].dim;
        strides[i] = ax[i].stride;
        box[i + 1] = ax[i].box;
        if (ax[i].role == 0) pm->n = i + 1;
        else if (ax[i].role == 1) pm->h = i + 1;
        else pm->b = i + 1;
        prev_stride = ax[i].stride;
        prev_dim = ax[i].dim;
    }
    return fn(map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 4, const_cast<void *>(base), dims, strides, box, estr,
              CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
              CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

cudaError_t launch_tma(const Args &a, bool sparse, bool warp_specialized, int n_q_tiles, int B, cudaStream_t stream) {
    CUtensorMap tq, tk, tv;
    TmaPerms pm;
    const int NKV = a.NH / a.hk_div;
    if (!make_map(&tq, &pm.q, a.q, B, a.N_q, a.NH, a.q_sb, a.q_sn, a.q_sh) ||
        !make_map(&tk, &pm.k, a.k, B, a.N_kv, NKV, a.k_sb, a.k_sn, a.k_sh) ||
        !make_map(&tv, &pm.v, a.v, B, a.N_kv, NKV, a.v_sb, a.v_sn, a.v_sh))
        return cudaErrorNotSupported;
    auto kern = warp_specialized ? (sparse ? flash_wgmma_tma_ws_kernel<true> : flash_wgmma_tma_ws_kernel<false>)
                                 : (sparse ? flash_wgmma_tma_kernel<true> : flash_wgmma_tma_kernel<false>);
    const size_t smem = warp_specialized ? SMEM_TMA_WS : SMEM_TMA;
    const int threads = warp_specialized ? THREADS_WS : THREADS;
    cudaError_t ce = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (ce != cudaSuccess) return ce;
    dim3 grid((unsigned)n_q_tiles, (unsigned)a.NH, (unsigned)B);
    kern<<<grid, threads, smem, stream>>>(a, tq, tk, tv, pm);
    return cudaGetLastError();
}

}   // namespace wg
}   // namespace vdflash
