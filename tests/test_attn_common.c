#include "test_attn_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dtype.h"

#define CANARY 12345.678f

void at_case_name(const at_case *c, char *buf, size_t cap) {
    snprintf(buf, cap, "B=%d,N_q=%d,N_kv=%d,NH=%d,NKV=%d,D=%d,seed=%llu,strided=%d", c->B, c->N_q, c->N_kv, c->NH,
             c->NKV, c->D, (unsigned long long)c->seed, (int)c->strided);
}

// Strides of one [B, N, heads, D] tensor; strided layouts pad the head, token and batch strides
// by 8 elements (keeps 16-byte alignment for bf16 copies).
static void strides(const at_case *c, int N, int heads, int64_t *sb, int64_t *sn, int64_t *sh) {
    int pad = c->strided ? 8 : 0;
    *sh = c->D + pad;
    *sn = heads * *sh + pad;
    *sb = N * *sn + pad;
}

static float *alloc_fill(vt_rng *r, int64_t n, float std, bool round_bf16) {
    float *x = malloc(sizeof(float) * (size_t)n);
    VD_ASSERT(x);
    vt_fill_normal(r, x, n, std);
    if (round_bf16) vt_round_bf16(x, n);
    return x;
}

void at_inputs_make(at_inputs *in, const at_case *c, bool round_bf16) {
    memset(in, 0, sizeof *in);
    in->c = *c;
    vd_attn_params *p = &in->p;
    vd_attn_params_contiguous(p, VD_DEVICE_CPU, NULL, NULL, NULL, NULL, c->B, c->N_q, c->N_kv, c->NH, c->NKV, c->D);
    strides(c, c->N_q, c->NH, &p->q_sb, &p->q_sn, &p->q_sh);
    strides(c, c->N_kv, c->NKV, &p->k_sb, &p->k_sn, &p->k_sh);
    p->v_sb = p->k_sb; p->v_sn = p->k_sn; p->v_sh = p->k_sh;
    in->q_elems = c->B * p->q_sb;
    in->kv_elems = c->B * p->k_sb;
    vt_rng r;
    vt_rng_seed(&r, c->seed);
    float std = c->qk_std > 0 ? c->qk_std : 1.0f;
    in->qbuf = alloc_fill(&r, in->q_elems, std, round_bf16);
    in->kbuf = alloc_fill(&r, in->kv_elems, std, round_bf16);
    in->vbuf = alloc_fill(&r, in->kv_elems, 1.0f, round_bf16);
    p->q = in->qbuf; p->k = in->kbuf; p->v = in->vbuf;
}

void at_inputs_free(at_inputs *in) {
    free(in->qbuf); free(in->kbuf); free(in->vbuf);
    memset(in, 0, sizeof *in);
}

float *at_out_alloc(int64_t n) {
    float *o = malloc(sizeof(float) * (size_t)(n + 2 * AT_GUARD));
    VD_ASSERT(o);
    for (int64_t i = 0; i < n + 2 * AT_GUARD; i++) o[i] = CANARY;
    return o + AT_GUARD;
}

bool at_guard_ok(const float *o, int64_t n) {
    for (int i = 0; i < AT_GUARD; i++)
        if (o[-1 - i] != CANARY || o[n + i] != CANARY) return false;
    return true;
}

void at_out_free(float *o) { if (o) free(o - AT_GUARD); }

void at_oracle(const at_inputs *in, vd_attn_mask_fn mask, const void *mctx, float *o, float *lse,
               const float *row_scale) {
    vd_attn_params p = in->p;
    p.o = o;
    p.o_sh = p.D; p.o_sn = (int64_t)p.NH * p.D; p.o_sb = (int64_t)p.N_q * p.o_sn;
    p.lse = lse;
    p.row_scale = row_scale;
    vd_error err = {0};
    vd_status st = vd_attn_masked_ref_cpu(&p, mask, mctx, &err);
    if (st != VD_OK) fprintf(stderr, "oracle: %s\n", err.msg);
    VD_ASSERT(st == VD_OK);
}

static float bf(float x) { return vd_bf16_to_f32(vd_f32_to_bf16(x)); }

void at_naive(const at_inputs *in, vd_attn_mask_fn mask, const void *mctx, float *o, float *lse,
              const float *row_scale, bool bf16) {
    const vd_attn_params *p = &in->p;
    const int g = p->NH / p->NKV, D = p->D;
    float *s = malloc(sizeof(float) * (size_t)p->N_kv);
    float *acc = malloc(sizeof(float) * (size_t)D);
    for (int b = 0; b < p->B; b++)
        for (int h = 0; h < p->NH; h++)
            for (int64_t i = 0; i < p->N_q; i++) {
                const float *qi = (const float *)p->q + b * p->q_sb + i * p->q_sn + h * p->q_sh;
                float m = -INFINITY;
                for (int64_t j = 0; j < p->N_kv; j++) {
                    if (mask && !mask(mctx, b, h, i, j)) { s[j] = -INFINITY; continue; }
                    const float *kj = (const float *)p->k + b * p->k_sb + j * p->k_sn + (h / g) * p->k_sh;
                    float dot = 0;
                    for (int d = 0; d < D; d++) dot += qi[d] * kj[d];
                    s[j] = dot * p->scale;
                    if (s[j] > m) m = s[j];
                }
                float *oi = o + ((int64_t)b * p->N_q + i) * p->NH * D + (int64_t)h * D;
                int64_t at = ((int64_t)b * p->NH + h) * p->N_q + i;
                float l = 0;
                for (int d = 0; d < D; d++) acc[d] = 0;
                if (m != -INFINITY)
                    for (int64_t j = 0; j < p->N_kv; j++) {
                        if (s[j] == -INFINITY) continue;
                        float e = expf(s[j] - m);
                        l += e;
                        float pe = bf16 ? bf(e) : e;
                        const float *vj = (const float *)p->v + b * p->v_sb + j * p->v_sn + (h / g) * p->v_sh;
                        for (int d = 0; d < D; d++) acc[d] += pe * vj[d];
                    }
                float rs = row_scale ? row_scale[at] : 1.0f;
                for (int d = 0; d < D; d++) {
                    float x = l > 0 ? acc[d] / l * rs : 0.0f;
                    oi[d] = bf16 ? bf(x) : x;
                }
                if (lse) lse[at] = l > 0 ? m + logf(l) : -INFINITY;
            }
    free(s);
    free(acc);
}

double at_max_abs(const float *a, const float *b, int64_t n) {
    double mx = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isinf(a[i]) || isinf(b[i])) {
            if (a[i] != b[i]) return INFINITY;
            continue;
        }
        if (isnan(a[i]) || isnan(b[i])) return INFINITY;
        double e = fabs((double)a[i] - b[i]);
        if (e > mx) mx = e;
    }
    return mx;
}

bool at_csr_mask_fn(const void *ctx, int b, int h, int64_t i, int64_t j) {
    const at_csr_mask *cm = ctx;
    const vd_block_csr *m = cm->m;
    if (!m) return !cm->win || vd_attn_window_allows(cm->win, i, j);   // window alone
    int grp = m->n_groups == 1 ? 0 : (m->n_groups == cm->NH ? h : b * cm->NH + h);
    int64_t r = (int64_t)grp * m->n_q_tiles + i / m->tile_q;
    int32_t t = (int32_t)(j / m->tile_kv);
    bool in = false;
    for (int32_t e = m->indptr[r]; e < m->indptr[r + 1]; e++)
        if (m->indices[e] == t) { in = true; break; }
    return in && (!cm->win || vd_attn_window_allows(cm->win, i, j));
}

void at_csr_random(at_csr *out, vt_rng *r, int n_groups, int N_q, int N_kv, int tile_q, int tile_kv, float dens,
                   bool allow_empty) {
    vd_block_csr *m = &out->m;
    m->tile_q = tile_q; m->tile_kv = tile_kv;
    m->n_q_tiles = (N_q + tile_q - 1) / tile_q;
    m->n_kv_tiles = (N_kv + tile_kv - 1) / tile_kv;
    m->n_groups = n_groups;
    int64_t rows = (int64_t)n_groups * m->n_q_tiles;
    out->indptr = malloc(sizeof(int32_t) * (size_t)(rows + 1));
    out->indices = malloc(sizeof(int32_t) * (size_t)(rows * m->n_kv_tiles + 1));
    int64_t nnz = 0;
    out->indptr[0] = 0;
    for (int64_t row = 0; row < rows; row++) {
        bool empty = allow_empty && vt_uniform(r) < 0.1f;
        for (int t = 0; t < m->n_kv_tiles && !empty; t++)
            if (vt_uniform(r) < dens) out->indices[nnz++] = t;
        out->indptr[row + 1] = (int32_t)nnz;
    }
    m->indptr = out->indptr;
    m->indices = out->indices;
}

void at_csr_free(at_csr *c) {
    free(c->indptr);
    free(c->indices);
}
