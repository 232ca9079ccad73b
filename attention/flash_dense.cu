// Dense flash attention forward (entry point vd_attn_dense_cuda) and the support check shared
// by every flash-kernel path. Kernel and tiles: flash_fwd.cuh, flash_tuning.h.
// Matches vd_attn_masked_ref_cpu with no mask (tests/gpu/test_attn_flash_cuda.c).
// Measured (bench/bench_attention, H200): see bench/results/attention_*.md.
#include <stdint.h>

#include "attention/attention.h"
#include "attention/flash_fwd.cuh"
#include "attention/flash_wgmma.h"
#include "lib/cuda_check.h"

static bool aligned16(const void *ptr) { return ((uintptr_t)ptr & 15u) == 0; }

extern "C" vd_status vd_attn_flash_supports(const vd_attn_params *p, vd_error *err) {
    if (p->device != VD_DEVICE_CUDA)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "flash attention: params are on %s, need cuda (bf16 device buffers)",
                            vd_device_name(p->device));
    if (p->D != 64 && p->D != 128)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "flash attention: head dim D=%d, supported 64 and 128", p->D);
    if (p->B <= 0 || p->N_q <= 0 || p->N_kv <= 0 || p->NH <= 0 || p->NKV <= 0 || p->NH % p->NKV)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "flash attention: B=%d N_q=%d N_kv=%d NH=%d NKV=%d (need > 0, NH %% NKV == 0)",
                            p->B, p->N_q, p->N_kv, p->NH, p->NKV);
    if (p->B > 65535 || p->NH > 65535)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "flash attention: B=%d, NH=%d, each at most 65535 (grid limits)", p->B, p->NH);
    const int64_t s[] = {p->q_sb, p->q_sn, p->q_sh, p->k_sb, p->k_sn, p->k_sh,
                         p->v_sb, p->v_sn, p->v_sh, p->o_sb, p->o_sn, p->o_sh};
    for (int i = 0; i < 12; i++)
        if (s[i] % 8)
            return vd_error_set(err, VD_ERR_UNSUPPORTED,
                                "flash attention: stride %lld (q/k/v/o batch,token,head #%d) is not a multiple of 8 elements "
                                "(16-byte loads)", (long long)s[i], i);
    if (!aligned16(p->q) || !aligned16(p->k) || !aligned16(p->v) || !aligned16(p->o))
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "flash attention: q, k, v and o must be 16-byte aligned");
    return VD_OK;
}

extern "C" vd_status vd_attn_dense_cuda(const vd_attn_params *p, void *stream, vd_error *err) {
    VD_TRY(vd_attn_flash_supports(p, err));
#ifdef VDIT_SM90A
    if (p->D == 128 && vd_attn_wgmma_selected()) return vd_attn_wgmma_dense(p, stream, err);
#endif
    vdflash::Args a = vdflash::make_args(p);
    cudaStream_t st = static_cast<cudaStream_t>(stream);
    constexpr int BQ = 16 * 2 * VD_FLASH_WARPS;
    const int nqt = (p->N_q + BQ - 1) / BQ;
    cudaError_t ce = p->D == 64 ? vdflash::launch<64, 2, false>(a, nqt, p->B, st)
                                : vdflash::launch<128, 2, false>(a, nqt, p->B, st);
    if (ce != cudaSuccess) return VD_CUDA_ERR_(err, "flash_fwd_kernel<dense>", ce);
    VD_CUDA_LAUNCH_CHECK(err, st, "flash_fwd_kernel<dense>");
    return VD_OK;
}
