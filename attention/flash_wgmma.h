// The Hopper (wgmma, sm_90a) flash kernels of flash_wgmma.cu, used by flash_dense.cu and
// flash_sparse.cu for head dim 128 (and 128 x 128 block-CSR tiles) when vd_attn_wgmma_usable().
// Built only when the CUDA architectures include Hopper (VDIT_SM90A is then defined).
#pragma once
#include "attention/attention.h"

#ifdef __cplusplus
extern "C" {
#endif

// 1 when the current device is sm_90 and the environment does not force VDIT_FLASH_KERNEL=mma.
int vd_attn_wgmma_usable(void);
// Dense forward, D = 128 (the caller checked vd_attn_flash_supports).
vd_status vd_attn_wgmma_dense(const vd_attn_params *p, void *stream, vd_error *err);
// Block-sparse forward; args: the vdflash::Args prepared by flash_sparse.cu (tile_q = tile_kv = 128).
vd_status vd_attn_wgmma_sparse(const void *args, int n_q_tiles, int B, void *stream, vd_error *err);

#ifdef __cplusplus
}
#endif

#include <stdlib.h>
#include <string.h>
// Dispatch policy: on sm_90 the wgmma kernels run unless VDIT_FLASH_KERNEL=mma (the mma.sync
// kernel, kept for comparison and used by every other GPU, head dim 64 and 64-token tiles).
static inline int vd_attn_wgmma_selected(void) {
    const char *k = getenv("VDIT_FLASH_KERNEL");
    if (k && !strcmp(k, "mma")) return 0;
    return vd_attn_wgmma_usable();
}
