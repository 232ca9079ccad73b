// Fast CPU attention (f32): dense and block-sparse, tile by tile with OpenBLAS sgemm. This is
// the CPU execution path of the DiT (the oracle is vd_attn_masked_ref_cpu in attention_ref.c;
// tests check this file against it).
//
// Per (b, h, q tile of TQ rows), with the list of kv tiles (all of them for dense, the CSR row
// for block-sparse):
//   S [TQ, n_sel * TK] = scale * Q_tile K_sel^T          (one sgemm per kv tile, f32)
//   window / tail masking -> -inf;  exact softmax per row (sums in double)
//   O_tile = row_scale * P V_sel                          (sgemm, accumulated over kv tiles)
// Memory per thread: TQ * n_sel * TK floats (64 x 32,760 x 4 B = 8 MB at the Wan 480p shape).
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention/attention.h"

typedef struct {
    const vd_attn_params *p;
    const vd_block_csr *m;      // NULL: dense
    const vd_attn_window *win;  // NULL: none
    int tq, tk;                 // tile sizes
    int n_qt, n_kt;
} cpu_job;

// Runs one (b, h, q tile). S: scratch [tq * n_kt * tk] floats. Returns 0.
static void run_tile(const cpu_job *J, int b, int h, int qt, float *S, int32_t *sel) {
    const vd_attn_params *p = J->p;
    const int D = p->D, g = p->NH / p->NKV;
    const int64_t i0 = (int64_t)qt * J->tq;
    const int rows = (int)((i0 + J->tq <= p->N_q) ? J->tq : p->N_q - i0);
    const float *Q = (const float *)p->q + b * p->q_sb + i0 * p->q_sn + h * p->q_sh;   // [rows, D] stride q_sn
    const float *K = (const float *)p->k + b * p->k_sb + (h / g) * p->k_sh;            // [N_kv, D] stride k_sn
    const float *V = (const float *)p->v + b * p->v_sb + (h / g) * p->v_sh;
    float *O = (float *)p->o + b * p->o_sb + i0 * p->o_sn + h * p->o_sh;
    const int64_t lse0 = ((int64_t)b * p->NH + h) * p->N_q + i0;

    int n_sel = 0;
    if (J->m) {
        int grp = J->m->n_groups == 1 ? 0 : (J->m->n_groups == p->NH ? h : b * p->NH + h);
        int64_t r = (int64_t)grp * J->n_qt + qt;
        for (int32_t e = J->m->indptr[r]; e < J->m->indptr[r + 1]; e++) sel[n_sel++] = J->m->indices[e];
    } else {
        for (int t = 0; t < J->n_kt; t++) sel[n_sel++] = t;
    }
    const int ld = n_sel * J->tk;   // S row stride
    for (int s = 0; s < n_sel; s++) {
        int64_t j0 = (int64_t)sel[s] * J->tk;
        int cols = (int)((j0 + J->tk <= p->N_kv) ? J->tk : p->N_kv - j0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, D, p->scale, Q, (int)p->q_sn,
                    K + j0 * p->k_sn, (int)p->k_sn, 0.0f, S + (int64_t)s * J->tk, ld);
        for (int r = 0; r < rows; r++) {
            float *sr = S + (int64_t)r * ld + (int64_t)s * J->tk;
            for (int c = cols; c < J->tk; c++) sr[c] = -INFINITY;   // keys past N_kv
            if (J->win)
                for (int c = 0; c < cols; c++)
                    if (!vd_attn_window_allows(J->win, i0 + r, j0 + c)) sr[c] = -INFINITY;
        }
    }
    // Softmax per row; P overwrites S. Empty rows (no tile or all masked) give 0 and LSE -inf.
    for (int r = 0; r < rows; r++) {
        float *sr = S + (int64_t)r * ld;
        float m = -INFINITY;
        for (int c = 0; c < ld; c++) m = sr[c] > m ? sr[c] : m;
        // One float exp per score, kept in place, summed in double: the exp was 14% of a
        // vdit-tiny CPU generate (perf, two double exps per score before).
        double l = 0;
        if (m != -INFINITY)
            for (int c = 0; c < ld; c++) {
                sr[c] = expf(sr[c] - m);
                l += sr[c];
            }
        double rs = p->row_scale ? p->row_scale[lse0 + r] : 1.0;
        float f = l > 0 ? (float)(rs / l) : 0.0f;
        for (int c = 0; c < ld; c++) sr[c] = (m == -INFINITY) ? 0.0f : sr[c] * f;
        if (p->lse) p->lse[lse0 + r] = l > 0 ? (float)(m + log(l)) : -INFINITY;
    }
    if (n_sel == 0) {
        for (int r = 0; r < rows; r++) memset(O + r * p->o_sn, 0, sizeof(float) * (size_t)D);
        return;
    }
    for (int s = 0; s < n_sel; s++) {
        int64_t j0 = (int64_t)sel[s] * J->tk;
        int cols = (int)((j0 + J->tk <= p->N_kv) ? J->tk : p->N_kv - j0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, D, cols, 1.0f, S + (int64_t)s * J->tk, ld,
                    V + j0 * p->v_sn, (int)p->v_sn, s == 0 ? 0.0f : 1.0f, O, (int)p->o_sn);
    }
}

static vd_status run_job(const cpu_job *J, const char *fn, vd_error *err) {
    const vd_attn_params *p = J->p;
    if (p->device != VD_DEVICE_CPU)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: params are on %s, need cpu", fn, vd_device_name(p->device));
    if (p->B <= 0 || p->N_q <= 0 || p->N_kv <= 0 || p->NH <= 0 || p->NKV <= 0 || p->D <= 0 || p->NH % p->NKV)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: B=%d N_q=%d N_kv=%d NH=%d NKV=%d D=%d (need all > 0, NH %% NKV == 0)",
                            fn, p->B, p->N_q, p->N_kv, p->NH, p->NKV, p->D);
    const int64_t n_work = (int64_t)p->B * p->NH * J->n_qt;
    const size_t s_floats = (size_t)J->tq * J->n_kt * J->tk;
    int failed = 0;
#pragma omp parallel
    {
        float *S = malloc(sizeof(float) * s_floats);
        int32_t *sel = malloc(sizeof(int32_t) * (size_t)J->n_kt);
        if (!S || !sel) {
#pragma omp atomic write
            failed = 1;
        } else {
#pragma omp for schedule(dynamic, 1)
            for (int64_t w = 0; w < n_work; w++) {
                int qt = (int)(w % J->n_qt), h = (int)(w / J->n_qt % p->NH), b = (int)(w / J->n_qt / p->NH);
                run_tile(J, b, h, qt, S, sel);
            }
        }
        free(S);
        free(sel);
    }
    if (failed)
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "%s: scratch of %zu floats per thread", fn, s_floats);
    return VD_OK;
}

vd_status vd_attn_dense_cpu(const vd_attn_params *p, vd_error *err) {
    cpu_job J = {.p = p, .m = NULL, .win = NULL, .tq = 64, .tk = 256};
    J.n_qt = (p->N_q + J.tq - 1) / J.tq;
    J.n_kt = (p->N_kv + J.tk - 1) / J.tk;
    return run_job(&J, "vd_attn_dense_cpu", err);
}

vd_status vd_attn_block_sparse_cpu(const vd_attn_params *p, const vd_block_csr *m, const vd_attn_window *win,
                                   vd_error *err) {
    VD_TRY(vd_block_csr_check(m, p, true, err));
    if (win && ((int64_t)win->grid[0] * win->grid[1] * win->grid[2] != p->N_q || p->N_q != p->N_kv))
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_attn_block_sparse_cpu: window grid %dx%dx%d must cover N_q=%d == N_kv=%d tokens",
                            win->grid[0], win->grid[1], win->grid[2], p->N_q, p->N_kv);
    cpu_job J = {.p = p, .m = m, .win = win, .tq = m->tile_q, .tk = m->tile_kv,
                 .n_qt = m->n_q_tiles, .n_kt = m->n_kv_tiles};
    return run_job(&J, "vd_attn_block_sparse_cpu", err);
}
