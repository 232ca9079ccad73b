// Radial Attention, CUDA path: the cached host mask (radial.c) is uploaded once per shape and
// run with the block-sparse flash kernel (flash_sparse.cu); dense steps/layers use the dense
// kernel. The mask is shared by all batch items and heads (n_groups = 1).
// Matches radial's run_cpu (tests/gpu/test_attn_radial_cuda.c).
#include <cuda_runtime.h>

#include "attention/radial_state.h"
#include "lib/cuda_check.h"

extern "C" void vd_radial_state_free_device(vd_radial_state *st) {
    if (st->d_indptr) cudaFree(st->d_indptr);
    if (st->d_indices) cudaFree(st->d_indices);
    st->d_indptr = st->d_indices = NULL;
}

// One-time upload per shape (synchronous; a few KB). Not an arena allocation: the mask outlives
// every per-step arena mark and is freed with the state.
static vd_status upload(vd_radial_state *st, vd_error *err) {
    if (st->d_indptr) return VD_OK;
    const size_t b_ptr = sizeof(int32_t) * (size_t)(st->T + 1), b_idx = sizeof(int32_t) * (size_t)(st->nnz > 0 ? st->nnz : 1);
    VD_CUDA_TRY(err, cudaMalloc((void **)&st->d_indptr, b_ptr));
    VD_CUDA_TRY(err, cudaMalloc((void **)&st->d_indices, b_idx));
    VD_CUDA_TRY(err, cudaMemcpy(st->d_indptr, st->indptr, b_ptr, cudaMemcpyHostToDevice));
    if (st->nnz > 0) VD_CUDA_TRY(err, cudaMemcpy(st->d_indices, st->indices, sizeof(int32_t) * (size_t)st->nnz, cudaMemcpyHostToDevice));
    return VD_OK;
}

extern "C" vd_status vd_radial_run_cuda(const void *cfg, void *state, const vd_attn_params *p, const vd_attn_ctx *c,
                                        void *ws, void *stream, vd_error *err) {
    const vd_radial_cfg *rc = static_cast<const vd_radial_cfg *>(cfg);
    if (vd_radial_is_dense(rc, c)) return vd_attn_dense_cuda(p, stream, err);
    vd_radial_state *st = static_cast<vd_radial_state *>(state);
    VD_TRY(vd_radial_state_mask(st, rc, c->F, c->Hp * c->Wp, err));
    VD_TRY(upload(st, err));
    vd_block_csr m = vd_radial_state_csr(st, true);
    return vd_attn_block_sparse_cuda(p, &m, NULL, stream, err);
}
