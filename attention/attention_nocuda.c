// Stand-ins for the CUDA entry points of attention/ when the build has no CUDA: each returns
// VD_ERR_UNSUPPORTED saying so, so callers need no #ifdefs.
#include "attention/attention.h"
#include "attention/radial_state.h"

#define NO_CUDA(err) vd_error_set(err, VD_ERR_UNSUPPORTED, "%s: this build of vdit has no CUDA (rebuild with -DVDIT_CUDA=ON)", __func__)

vd_status vd_attn_flash_supports(const vd_attn_params *p, vd_error *err) { return NO_CUDA(err); }
vd_status vd_attn_dense_cuda(const vd_attn_params *p, void *stream, vd_error *err) { return NO_CUDA(err); }
vd_status vd_attn_block_sparse_cuda(const vd_attn_params *p, const vd_block_csr *m, const vd_attn_window *win,
                                    void *stream, vd_error *err) { return NO_CUDA(err); }
vd_status vd_attn_pool_tiles_cuda(float *out, const uint16_t *x, int64_t sb, int64_t sn, int64_t sh, int B, int N,
                                  int H, int D, int tile, void *stream, vd_error *err) { return NO_CUDA(err); }
vd_status vd_attn_block_scores_cuda(float *s, const float *qbar, const float *kbar, int B, int NH, int NKV, int Tq,
                                    int Tk, int D, float scale, bool softmax_rows, void *stream, vd_error *err) {
    return NO_CUDA(err);
}
vd_status vd_attn_topk_rows_cuda(uint8_t *mask, const float *scores, int64_t R, int C, int k, void *stream,
                                 vd_error *err) { return NO_CUDA(err); }
size_t vd_attn_cumthresh_cuda_ws_bytes(int G) { return 0; }
vd_status vd_attn_cumthresh_cuda(uint8_t *mask, const float *scores, int G, int64_t R, int64_t C, float tau,
                                 void *ws, void *stream, vd_error *err) { return NO_CUDA(err); }
size_t vd_attn_topk_global_cuda_ws_bytes(int G) { return 0; }
vd_status vd_attn_topk_global_cuda(uint8_t *mask, const float *scores, int G, int64_t n, int64_t k, void *ws,
                                   void *stream, vd_error *err) { return NO_CUDA(err); }
size_t vd_attn_mask_to_csr_cuda_ws_bytes(int64_t rows) { return 0; }
vd_status vd_attn_mask_to_csr_cuda(int32_t *indptr, int32_t *indices, const uint8_t *mask, int64_t rows, int C,
                                   void *ws, void *stream, vd_error *err) { return NO_CUDA(err); }
vd_status vd_attn_gather_tokens_cuda(uint16_t *out, const uint16_t *x, const int32_t *idx, int B, int64_t N,
                                     int64_t row, void *stream, vd_error *err) { return NO_CUDA(err); }
vd_status vd_attn_scatter_tokens_cuda(uint16_t *out, const uint16_t *x, const int32_t *idx, int B, int64_t N,
                                      int64_t row, void *stream, vd_error *err) { return NO_CUDA(err); }
void vd_radial_state_free_device(vd_radial_state *st) { (void)st; }
vd_status vd_radial_run_cuda(const void *cfg, void *state, const vd_attn_params *p, const vd_attn_ctx *c, void *ws,
                             void *stream, vd_error *err) { return NO_CUDA(err); }
