// The single CPU oracle for every attention kernel: dense attention under an arbitrary token
// mask, written for reading. Scores and softmax sums in double; f32 in/out.
//
//   for each (b, h, i):  s_j   = scale * q[b,i,h,:] . k[b,j,h/g,:]      for allowed j
//                        m     = max_j s_j
//                        l     = sum_j exp(s_j - m)
//                        o     = row_scale * sum_j exp(s_j - m) / l * v[b,j,h/g,:]
//                        lse   = m + log(l)
// A row with no allowed key gives o = 0 and lse = -inf (block-sparse kernels do the same).
// Also here: the window predicate, the params helper and the block-CSR validator, which every
// path (CPU and CUDA) shares.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention/attention.h"

const char *vd_attn_branch_name(vd_attn_branch b) {
    switch (b) {
    case VD_ATTN_COND: return "cond";
    case VD_ATTN_UNCOND: return "uncond";
    case VD_ATTN_BOTH: return "both";
    default: return "?";
    }
}

void vd_attn_params_contiguous(vd_attn_params *p, vd_device_kind dev, const void *q, const void *k,
                               const void *v, void *o, int B, int N_q, int N_kv, int NH, int NKV, int D) {
    memset(p, 0, sizeof *p);
    p->device = dev;
    p->q = q; p->k = k; p->v = v; p->o = o;
    p->B = B; p->N_q = N_q; p->N_kv = N_kv; p->NH = NH; p->NKV = NKV; p->D = D;
    p->q_sh = D; p->q_sn = (int64_t)NH * D; p->q_sb = (int64_t)N_q * NH * D;
    p->o_sh = D; p->o_sn = (int64_t)NH * D; p->o_sb = (int64_t)N_q * NH * D;
    p->k_sh = D; p->k_sn = (int64_t)NKV * D; p->k_sb = (int64_t)N_kv * NKV * D;
    p->v_sh = p->k_sh; p->v_sn = p->k_sn; p->v_sb = p->k_sb;
    p->scale = 1.0f / sqrtf((float)D);
}

// Coordinates of token n in the window's own grid view.
static void window_coords(const vd_attn_window *w, int64_t n, int c[3]) {
    int64_t plane = (int64_t)w->grid[1] * w->grid[2];
    c[0] = (int)(n / plane);
    int64_t r = n % plane;
    c[1] = (int)(r / w->grid[2]);
    c[2] = (int)(r % w->grid[2]);
}

bool vd_attn_window_allows(const vd_attn_window *w, int64_t q_token, int64_t k_token) {
    int a[3], b[3];
    window_coords(w, q_token, a);
    window_coords(w, k_token, b);
    for (int d = 0; d < 3; d++) {
        int X = w->grid[d], size = w->size[d];
        if (size >= X) continue;
        int left = size / 2, right = size - 1 - left;
        int centre = a[d];
        if (w->inward) {
            if (centre < left) centre = left;
            if (centre > X - 1 - right) centre = X - 1 - right;
        }
        if (b[d] < centre - left || b[d] > centre + right) return false;
    }
    return true;
}

vd_status vd_attn_masked_ref_cpu(const vd_attn_params *p, vd_attn_mask_fn mask, const void *mctx, vd_error *err) {
    if (p->device != VD_DEVICE_CPU)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_attn_masked_ref_cpu: params are on %s, need cpu",
                            vd_device_name(p->device));
    if (p->NKV <= 0 || p->NH % p->NKV != 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_attn_masked_ref_cpu: NH=%d is not a multiple of NKV=%d",
                            p->NH, p->NKV);
    const float *q = p->q, *k = p->k, *v = p->v;
    float *o = p->o;
    const int g = p->NH / p->NKV, D = p->D;
    const int64_t rows = (int64_t)p->B * p->NH * p->N_q;
    double *s = malloc(sizeof(double) * (size_t)p->N_kv);   // [N_kv] scores of one row
    double *acc = malloc(sizeof(double) * (size_t)D);       // [D]
    if (!s || !acc) {
        free(s); free(acc);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_attn_masked_ref_cpu: N_kv=%d", p->N_kv);
    }
    for (int64_t r = 0; r < rows; r++) {
        const int b = (int)(r / ((int64_t)p->NH * p->N_q));
        const int h = (int)(r / p->N_q % p->NH);
        const int64_t i = r % p->N_q;
        const float *qi = q + b * p->q_sb + i * p->q_sn + h * p->q_sh;       // [D]
        double m = -INFINITY;
        for (int64_t j = 0; j < p->N_kv; j++) {
            if (mask && !mask(mctx, b, h, i, j)) { s[j] = -INFINITY; continue; }
            const float *kj = k + b * p->k_sb + j * p->k_sn + (h / g) * p->k_sh;   // [D]
            double dot = 0;
            for (int d = 0; d < D; d++) dot += (double)qi[d] * kj[d];
            s[j] = dot * p->scale;
            if (s[j] > m) m = s[j];
        }
        float *oi = o + b * p->o_sb + i * p->o_sn + h * p->o_sh;
        const int64_t lse_at = ((int64_t)b * p->NH + h) * p->N_q + i;
        if (m == -INFINITY) {   // no allowed key
            for (int d = 0; d < D; d++) oi[d] = 0.0f;
            if (p->lse) p->lse[lse_at] = -INFINITY;
            continue;
        }
        double l = 0;
        for (int d = 0; d < D; d++) acc[d] = 0;
        for (int64_t j = 0; j < p->N_kv; j++) {
            if (s[j] == -INFINITY) continue;
            double e = exp(s[j] - m);
            l += e;
            const float *vj = v + b * p->v_sb + j * p->v_sn + (h / g) * p->v_sh;
            for (int d = 0; d < D; d++) acc[d] += e * vj[d];
        }
        double rs = p->row_scale ? p->row_scale[lse_at] : 1.0;
        for (int d = 0; d < D; d++) oi[d] = (float)(acc[d] / l * rs);
        if (p->lse) p->lse[lse_at] = (float)(m + log(l));
    }
    free(s);
    free(acc);
    return VD_OK;
}

vd_status vd_block_csr_check(const vd_block_csr *m, const vd_attn_params *p, bool check_indices, vd_error *err) {
    if (m->tile_q <= 0 || m->tile_kv <= 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_block_csr: tile sizes %d x %d must be positive",
                            m->tile_q, m->tile_kv);
    int nq = (p->N_q + m->tile_q - 1) / m->tile_q, nk = (p->N_kv + m->tile_kv - 1) / m->tile_kv;
    if (m->n_q_tiles != nq || m->n_kv_tiles != nk)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_block_csr: %d x %d tiles, but N_q=%d, N_kv=%d with tiles %d x %d need %d x %d",
                            m->n_q_tiles, m->n_kv_tiles, p->N_q, p->N_kv, m->tile_q, m->tile_kv, nq, nk);
    if (!(m->n_groups == 1 || m->n_groups == p->NH || m->n_groups == p->B * p->NH))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_block_csr: n_groups=%d, allowed 1, NH=%d or B*NH=%d",
                            m->n_groups, p->NH, p->B * p->NH);
    if (!m->indptr || !m->indices)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_block_csr: indptr or indices is NULL");
    if (!check_indices) return VD_OK;
    int64_t rows = (int64_t)m->n_groups * m->n_q_tiles;
    if (m->indptr[0] != 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_block_csr: indptr[0]=%d, must be 0", m->indptr[0]);
    for (int64_t r = 0; r < rows; r++) {
        if (m->indptr[r + 1] < m->indptr[r])
            return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_block_csr: indptr decreases at row %lld",
                                (long long)r);
        for (int32_t e = m->indptr[r]; e < m->indptr[r + 1]; e++) {
            int32_t t = m->indices[e];
            if (t < 0 || t >= m->n_kv_tiles || (e > m->indptr[r] && t <= m->indices[e - 1]))
                return vd_error_set(err, VD_ERR_INVALID_ARG,
                                    "vd_block_csr: row %lld entry %d = %d (need ascending, in [0, %d))",
                                    (long long)r, e - m->indptr[r], t, m->n_kv_tiles);
        }
    }
    return VD_OK;
}
