// Radial's method state (internal to attention/): the cached tile mask as block-CSR on the host
// and its device copy. Shared by radial.c (CPU, cache logic) and radial.cu (upload, CUDA run).
#pragma once
#include "attention/radial.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int F, s, T;                 // shape the mask was built for; T tiles per side
    vd_radial_cfg cfg;           // config the mask was built with (cache key with F, s)
    int32_t *indptr, *indices;   // host CSR [T + 1], [nnz]
    int64_t nnz;
    int32_t *d_indptr, *d_indices; // device copies (NULL until the first CUDA run)
} vd_radial_state;

// Builds (or reuses) the host mask for (F, s, cfg); a rebuild drops the device copy.
vd_status vd_radial_state_mask(vd_radial_state *st, const vd_radial_cfg *c, int F, int s, vd_error *err);
vd_block_csr vd_radial_state_csr(const vd_radial_state *st, bool device);
void vd_radial_state_free_device(vd_radial_state *st);   // radial.cu / attention_nocuda.c
vd_status vd_radial_run_cuda(const void *cfg, void *state, const vd_attn_params *p, const vd_attn_ctx *c, void *ws,
                             void *stream, vd_error *err);

#ifdef __cplusplus
}
#endif
