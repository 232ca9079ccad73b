// Block-sparse flash attention forward (entry point vd_attn_block_sparse_cuda): the kernel of
// flash_fwd.cuh iterating over the block-CSR row of its (group, q tile), with the optional 3D
// window predicate, LSE and per-row output scale. Query tiles of 128 (4 warps x 32 rows) or 64
// (4 warps x 16 rows); kv tiles of 128 run as two 64-key sub-tiles.
// Matches vd_attn_block_sparse_cpu / the oracle on the expanded mask (tests/gpu/test_attn_flash_cuda.c).
#include <stdint.h>

#include "attention/attention.h"
#include "attention/flash_fwd.cuh"
#include "attention/flash_wgmma.h"
#include "lib/cuda_check.h"

extern "C" vd_status vd_attn_block_sparse_cuda(const vd_attn_params *p, const vd_block_csr *m, const vd_attn_window *win,
                                               void *stream, vd_error *err) {
    VD_TRY(vd_attn_flash_supports(p, err));
    VD_TRY(vd_block_csr_check(m, p, false, err));   // indices live on the device: shapes only
    if (m->tile_q != 64 && m->tile_q != 128)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_attn_block_sparse_cuda: tile_q=%d, supported 64 and 128", m->tile_q);
    if (m->tile_kv != 64 && m->tile_kv != 128)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_attn_block_sparse_cuda: tile_kv=%d, supported 64 and 128", m->tile_kv);
    vdflash::Args a = vdflash::make_args(p);
    a.indptr = m->indptr;
    a.indices = m->indices;
    a.n_groups = m->n_groups;
    a.n_q_tiles = m->n_q_tiles;
    a.sub = m->tile_kv / VD_FLASH_BKV;
    if (win) {
        if ((int64_t)win->grid[0] * win->grid[1] * win->grid[2] != p->N_q || p->N_q != p->N_kv)
            return vd_error_set(err, VD_ERR_INVALID_ARG,
                                "vd_attn_block_sparse_cuda: window grid %dx%dx%d must cover N_q=%d == N_kv=%d tokens",
                                win->grid[0], win->grid[1], win->grid[2], p->N_q, p->N_kv);
        a.use_win = 1;
        a.inward = win->inward ? 1 : 0;
        for (int d = 0; d < 3; d++) {
            a.wg[d] = win->grid[d];
            a.wsize[d] = win->size[d];
        }
    }
    cudaStream_t st = static_cast<cudaStream_t>(stream);
#ifdef VDIT_SM90A
    if (p->D == 128 && m->tile_q == 128 && m->tile_kv == 128 && vd_attn_wgmma_selected())
        return vd_attn_wgmma_sparse(&a, m->n_q_tiles, p->B, st, err);
#endif
    cudaError_t ce;
    if (m->tile_q == 128)
        ce = p->D == 64 ? vdflash::launch<64, 2, true>(a, m->n_q_tiles, p->B, st)
                        : vdflash::launch<128, 2, true>(a, m->n_q_tiles, p->B, st);
    else
        ce = p->D == 64 ? vdflash::launch<64, 1, true>(a, m->n_q_tiles, p->B, st)
                        : vdflash::launch<128, 1, true>(a, m->n_q_tiles, p->B, st);
    if (ce != cudaSuccess) return VD_CUDA_ERR_(err, "flash_fwd_kernel<sparse>", ce);
    VD_CUDA_LAUNCH_CHECK(err, st, "flash_fwd_kernel<sparse>");
    return VD_OK;
}
