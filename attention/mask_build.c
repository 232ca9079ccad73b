// Mask-building references (CPU): tile pooling, block scores, per-row top-k, head-global
// cumulative threshold, dense tile mask -> block-CSR, token gather/scatter. The CUDA twins in
// mask_build.cu must match these exactly on whole-number inputs (tests/test_attn_mask*.c).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention/attention.h"
#include "attention/mask_build.h"

void vd_attn_pool_tiles_cpu(float *out, const float *x, int64_t sb, int64_t sn, int64_t sh, int B, int N,
                            int H, int D, int tile) {
    const int T = (N + tile - 1) / tile;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                int n0 = t * tile, n1 = n0 + tile < N ? n0 + tile : N;
                float *o = out + (((int64_t)b * H + h) * T + t) * D;   // [D]
                for (int d = 0; d < D; d++) {
                    double s = 0;
                    for (int n = n0; n < n1; n++) s += x[b * sb + n * sn + h * sh + d];
                    o[d] = (float)(s / (n1 - n0));
                }
            }
}

void vd_attn_block_scores_cpu(float *s, const float *qbar, const float *kbar, int B, int NH, int NKV, int Tq,
                              int Tk, int D, float scale, bool softmax_rows) {
    const int g = NH / NKV;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < Tq; i++) {
                const float *qi = qbar + (((int64_t)b * NH + h) * Tq + i) * D;
                float *row = s + (((int64_t)b * NH + h) * Tq + i) * Tk;   // [Tk]
                for (int j = 0; j < Tk; j++) {
                    const float *kj = kbar + (((int64_t)b * NKV + h / g) * Tk + j) * D;
                    double dot = 0;
                    for (int d = 0; d < D; d++) dot += (double)qi[d] * kj[d];
                    row[j] = (float)(dot * scale);
                }
                if (softmax_rows) {
                    float m = -INFINITY;
                    for (int j = 0; j < Tk; j++) m = row[j] > m ? row[j] : m;
                    double l = 0;
                    for (int j = 0; j < Tk; j++) l += exp((double)row[j] - m);
                    for (int j = 0; j < Tk; j++) row[j] = (float)(exp((double)row[j] - m) / l);
                }
            }
}

void vd_attn_topk_rows_cpu(uint8_t *mask, const float *scores, int64_t R, int C, int k) {
    if (k < 0) k = 0;
    if (k > C) k = C;
    for (int64_t r = 0; r < R; r++) {
        const float *row = scores + r * C;
        uint8_t *mr = mask + r * C;
        memset(mr, 0, (size_t)C);
        // k passes of "largest not yet taken, lowest column on ties": O(k C), plain on purpose.
        for (int t = 0; t < k; t++) {
            int best = -1;
            for (int c = 0; c < C; c++)
                if (!mr[c] && (best < 0 || row[c] > row[best])) best = c;
            mr[best] = 1;
        }
    }
}

static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

void vd_attn_cumthresh_cpu(uint8_t *mask, const float *scores, int G, int64_t R, int64_t C, float tau) {
    const int64_t n = R * C;
    float *sorted = malloc(sizeof(float) * (size_t)n);
    VD_ASSERT(sorted);
    for (int g = 0; g < G; g++) {
        const float *x = scores + (int64_t)g * n;
        memcpy(sorted, x, sizeof(float) * (size_t)n);
        qsort(sorted, (size_t)n, sizeof(float), cmp_desc);
        double total = 0;
        for (int64_t i = 0; i < n; i++) total += sorted[i];
        const double target = (double)tau * total;
        // The largest t with sum_{x >= t} x >= target: walk distinct values in descending order.
        float t = sorted[0];
        double above = 0;
        for (int64_t i = 0; i < n;) {
            int64_t j = i;
            double grp = 0;
            while (j < n && sorted[j] == sorted[i]) grp += sorted[j++];
            above += grp;
            t = sorted[i];
            if (above >= target) break;
            i = j;
        }
        uint8_t *m = mask + (int64_t)g * n;
        for (int64_t i = 0; i < n; i++) m[i] = x[i] >= t;
    }
    free(sorted);
}

void vd_attn_topk_global_cpu(uint8_t *mask, const float *scores, int G, int64_t n, int64_t k) {
    if (k < 0) k = 0;
    if (k > n) k = n;
    float *sorted = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    VD_ASSERT(sorted);
    for (int g = 0; g < G; g++) {
        const float *x = scores + (int64_t)g * n;
        uint8_t *m = mask + (int64_t)g * n;
        if (k == 0) {
            memset(m, 0, (size_t)n);
            continue;
        }
        memcpy(sorted, x, sizeof(float) * (size_t)n);
        qsort(sorted, (size_t)n, sizeof(float), cmp_desc);
        const float t = sorted[k - 1];   // the k-th largest value
        for (int64_t i = 0; i < n; i++) m[i] = x[i] >= t;
    }
    free(sorted);
}

int64_t vd_attn_mask_to_csr_cpu(int32_t *indptr, int32_t *indices, const uint8_t *mask, int64_t rows, int C) {
    int64_t nnz = 0;
    indptr[0] = 0;
    for (int64_t r = 0; r < rows; r++) {
        for (int c = 0; c < C; c++)
            if (mask[r * C + c]) indices[nnz++] = c;
        indptr[r + 1] = (int32_t)nnz;
    }
    return nnz;
}

void vd_attn_gather_tokens_cpu(float *out, const float *x, const int32_t *idx, int B, int64_t N, int64_t row) {
    for (int b = 0; b < B; b++)
        for (int64_t i = 0; i < N; i++)
            memcpy(out + (b * N + i) * row, x + (b * N + idx[i]) * row, sizeof(float) * (size_t)row);
}

void vd_attn_scatter_tokens_cpu(float *out, const float *x, const int32_t *idx, int B, int64_t N, int64_t row) {
    for (int b = 0; b < B; b++)
        for (int64_t i = 0; i < N; i++)
            memcpy(out + (b * N + idx[i]) * row, x + (b * N + i) * row, sizeof(float) * (size_t)row);
}

// ---- fused top-k mask (mask_build.h): the composition, on the CPU ----------------------------

vd_attn_topk_mask_shape vd_attn_topk_mask_shape_of(const vd_attn_params *p, int tile_q, int tile_kv, int k) {
    return (vd_attn_topk_mask_shape){.q_sb = p->q_sb, .q_sn = p->q_sn, .q_sh = p->q_sh, .k_sb = p->k_sb, .k_sn = p->k_sn,
                                     .k_sh = p->k_sh, .B = p->B, .N_q = p->N_q, .N_kv = p->N_kv, .NH = p->NH,
                                     .NKV = p->NKV, .D = p->D, .tile_q = tile_q, .tile_kv = tile_kv, .scale = p->scale,
                                     .k = k};
}

int vd_attn_topk_mask_rows(const vd_attn_topk_mask_shape *s) {
    return s->B * s->NH * ((s->N_q + s->tile_q - 1) / s->tile_q);
}

int vd_attn_topk_mask_k(const vd_attn_topk_mask_shape *s) {
    const int Tk = (s->N_kv + s->tile_kv - 1) / s->tile_kv;
    return s->k < 0 ? 0 : (s->k > Tk ? Tk : s->k);
}

// Shared by the CPU and CUDA entry points (mask_build_fused.cu): sizes and the int32 limits.
vd_status vd_attn_topk_mask_check(const vd_attn_topk_mask_shape *s, const char *fn, vd_error *err) {
    if (s->B <= 0 || s->N_q <= 0 || s->N_kv <= 0 || s->NH <= 0 || s->NKV <= 0 || s->NH % s->NKV || s->D <= 0 ||
        s->tile_q <= 0 || s->tile_kv <= 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "%s: B=%d N_q=%d N_kv=%d NH=%d NKV=%d D=%d tile_q=%d tile_kv=%d (all must be > 0, NKV | NH)", fn,
                            s->B, s->N_q, s->N_kv, s->NH, s->NKV, s->D, s->tile_q, s->tile_kv);
    const int64_t Tq = (s->N_q + s->tile_q - 1) / s->tile_q, Tk = (s->N_kv + s->tile_kv - 1) / s->tile_kv;
    const int64_t rows = (int64_t)s->B * s->NH * Tq;
    if (rows * Tk >= 2147483647LL)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "%s: B*NH*T_q*T_kv = %lld, must be < 2^31 (int32 CSR)", fn,
                            (long long)(rows * Tk));
    if (s->block_rows != 0 && s->block_rows != 16 && s->block_rows != 32 && s->block_rows != 64)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: block_rows=%d (allowed 0 = automatic, 16, 32, 64)", fn,
                            s->block_rows);
    return VD_OK;
}

vd_status vd_attn_topk_mask_pooled_cpu(int32_t *indptr, int32_t *indices, uint8_t *mask, const float *qbar,
                                       const float *kbar, const vd_attn_topk_mask_shape *s, vd_error *err) {
    VD_TRY(vd_attn_topk_mask_check(s, __func__, err));
    if (!indptr || !indices || !qbar || !kbar)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: indptr=%p indices=%p qbar=%p kbar=%p (all needed)", __func__,
                            (void *)indptr, (void *)indices, (const void *)qbar, (const void *)kbar);
    const int Tq = (s->N_q + s->tile_q - 1) / s->tile_q, Tk = (s->N_kv + s->tile_kv - 1) / s->tile_kv;
    const int64_t rows = (int64_t)s->B * s->NH * Tq;
    float *sc = malloc(sizeof(float) * (size_t)(rows * Tk));
    uint8_t *m = mask ? mask : malloc((size_t)(rows * Tk));
    if (!sc || !m) {
        free(sc);
        if (m != mask) free(m);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "%s: %lld x %d scores", __func__, (long long)rows, Tk);
    }
    vd_attn_block_scores_cpu(sc, qbar, kbar, s->B, s->NH, s->NKV, Tq, Tk, s->D, s->scale, false);
    vd_attn_topk_rows_cpu(m, sc, rows, Tk, s->k);
    vd_attn_mask_to_csr_cpu(indptr, indices, m, rows, Tk);
    free(sc);
    if (m != mask) free(m);
    return VD_OK;
}

vd_status vd_attn_topk_mask_cpu(int32_t *indptr, int32_t *indices, uint8_t *mask, const float *q, const float *k,
                                const vd_attn_topk_mask_shape *s, vd_error *err) {
    VD_TRY(vd_attn_topk_mask_check(s, __func__, err));
    const int Tq = (s->N_q + s->tile_q - 1) / s->tile_q, Tk = (s->N_kv + s->tile_kv - 1) / s->tile_kv;
    float *qbar = malloc(sizeof(float) * (size_t)s->B * s->NH * Tq * s->D);
    float *kbar = malloc(sizeof(float) * (size_t)s->B * s->NKV * Tk * s->D);
    if (!qbar || !kbar) {
        free(qbar); free(kbar);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "%s: pooled q and k of %d + %d tiles", __func__, Tq, Tk);
    }
    vd_attn_pool_tiles_cpu(qbar, q, s->q_sb, s->q_sn, s->q_sh, s->B, s->N_q, s->NH, s->D, s->tile_q);
    vd_attn_pool_tiles_cpu(kbar, k, s->k_sb, s->k_sn, s->k_sh, s->B, s->N_kv, s->NKV, s->D, s->tile_kv);
    const vd_status st = vd_attn_topk_mask_pooled_cpu(indptr, indices, mask, qbar, kbar, s, err);
    free(qbar); free(kbar);
    return st;
}
