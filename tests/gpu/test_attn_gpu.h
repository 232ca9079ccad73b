// Helpers of the attention gpu tests: bf16 upload of a case's q/k/v (whole strided buffers),
// a run of the dense or block-sparse CUDA kernel, and the comparison against the fp64 oracle
// with the tolerance earned by the naive bf16 baseline (style.md 6):
//   max|kernel - oracle| <= 2 * max|naive bf16 - oracle| + floor
// floor: 2e-4 for outputs (well under one bf16 ulp at |o| ~ 0.1), 1e-4 for LSE (fp32 with
// ex2.approx: ~2^-22 relative per term).
#pragma once
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dtype.h"
#include "tests/gpu/gpu_util.h"
#include "tests/test_attn_common.h"

#define AG_FLOOR_OUT 2e-4
#define AG_FLOOR_LSE 1e-4

static inline uint16_t *ag_bf16(const float *x, int64_t n) {
    uint16_t *h = malloc(sizeof(uint16_t) * (size_t)n);
    VD_ASSERT(h);
    for (int64_t i = 0; i < n; i++) h[i] = vd_f32_to_bf16(x[i]);
    return h;
}

// Device copy of a host f32 buffer as bf16.
static inline void *ag_dev_bf16(const float *x, int64_t n) {
    uint16_t *h = ag_bf16(x, n);
    void *d = gt_dev(h, sizeof(uint16_t) * (size_t)n);
    free(h);
    return d;
}

// Runs the CUDA kernel (m == NULL and win == NULL: dense) on `in` and compares with the oracle
// under the same mask. m holds host CSR arrays; they are uploaded here. With a method `a`, the
// call goes through vd_attn_run(a, ..., ctx) instead and m only defines the oracle's mask.
// Returns pass/fail.
static inline bool ag_run_compare_method(const at_inputs *in, const vd_block_csr *m, const vd_attn_window *win, bool with_rs,
                                  const char *name, vd_attn *a, const vd_attn_ctx *ctx) {
    const vd_attn_params *hp = &in->p;
    const int64_t no = (int64_t)hp->B * hp->N_q * hp->NH * hp->D, nl = (int64_t)hp->B * hp->NH * hp->N_q;
    const size_t mark = vd_cuda_arena_mark(&gt.arena);
    float *rs = NULL;
    if (with_rs) {
        rs = malloc(sizeof(float) * (size_t)nl);
        vt_rng r;
        vt_rng_seed(&r, in->c.seed + 77);
        vt_fill_uniform(&r, rs, nl, 0.5f, 1.5f);
    }
    at_csr_mask cm = {.m = m, .win = win, .NH = hp->NH};
    vd_attn_mask_fn fn = (m || win) ? at_csr_mask_fn : NULL;
    float *o_ref = malloc(sizeof(float) * no), *lse_ref = malloc(sizeof(float) * nl);
    float *o_nv = malloc(sizeof(float) * no), *lse_nv = malloc(sizeof(float) * nl);
    at_oracle(in, fn, &cm, o_ref, lse_ref, rs);
    at_naive(in, fn, &cm, o_nv, lse_nv, rs, true);

    vd_attn_params p = *hp;
    p.device = VD_DEVICE_CUDA;
    p.q = ag_dev_bf16(in->qbuf, in->q_elems);
    p.k = ag_dev_bf16(in->kbuf, in->kv_elems);
    p.v = ag_dev_bf16(in->vbuf, in->kv_elems);
    p.o = gt_dev(NULL, sizeof(uint16_t) * (size_t)no);
    p.o_sh = p.D; p.o_sn = (int64_t)p.NH * p.D; p.o_sb = (int64_t)p.N_q * p.o_sn;
    p.lse = gt_dev(NULL, sizeof(float) * (size_t)nl);
    p.row_scale = rs ? gt_dev(rs, sizeof(float) * (size_t)nl) : NULL;
    vd_block_csr dm;
    if (m) {
        dm = *m;
        const int64_t rows = (int64_t)m->n_groups * m->n_q_tiles;
        dm.indptr = gt_dev(m->indptr, sizeof(int32_t) * (size_t)(rows + 1));
        dm.indices = gt_dev(m->indices, sizeof(int32_t) * (size_t)(m->indptr[rows] + 1));
    }
    vd_error err = {0};
    vd_status st;
    if (a) {
        st = vd_attn_run(a, &p, ctx, NULL, vd_cuda_ctx_stream(gt.ctx), &err);
    } else if (m || win) {
        vd_block_csr all;
        int32_t *ip = NULL, *ix = NULL;
        if (!m) {   // window alone: an all-tiles CSR of 128 x 64 tiles
            all.tile_q = 128; all.tile_kv = 64; all.n_groups = 1;
            all.n_q_tiles = (p.N_q + 127) / 128;
            all.n_kv_tiles = (p.N_kv + 63) / 64;
            ip = malloc(sizeof(int32_t) * (size_t)(all.n_q_tiles + 1));
            ix = malloc(sizeof(int32_t) * (size_t)all.n_q_tiles * all.n_kv_tiles);
            for (int r = 0; r <= all.n_q_tiles; r++) ip[r] = r * all.n_kv_tiles;
            for (int r = 0; r < all.n_q_tiles; r++)
                for (int t = 0; t < all.n_kv_tiles; t++) ix[r * all.n_kv_tiles + t] = t;
            all.indptr = gt_dev(ip, sizeof(int32_t) * (size_t)(all.n_q_tiles + 1));
            all.indices = gt_dev(ix, sizeof(int32_t) * (size_t)all.n_q_tiles * all.n_kv_tiles);
        }
        st = vd_attn_block_sparse_cuda(&p, m ? &dm : &all, win, vd_cuda_ctx_stream(gt.ctx), &err);
        free(ip);
        free(ix);
    } else {
        st = vd_attn_dense_cuda(&p, vd_cuda_ctx_stream(gt.ctx), &err);
    }
    bool ok = st == VD_OK;
    if (!ok) {
        printf("FAIL %s: %s\n", name, err.msg);
    } else {
        uint16_t *ob = malloc(sizeof(uint16_t) * (size_t)no);
        float *o = malloc(sizeof(float) * (size_t)no), *lse = malloc(sizeof(float) * (size_t)nl);
        gt_get(ob, p.o, sizeof(uint16_t) * (size_t)no, name);
        gt_get(lse, p.lse, sizeof(float) * (size_t)nl, name);
        for (int64_t i = 0; i < no; i++) o[i] = vd_bf16_to_f32(ob[i]);
        double e_k = at_max_abs(o, o_ref, no), e_n = at_max_abs(o_nv, o_ref, no);
        double l_k = at_max_abs(lse, lse_ref, nl), l_n = at_max_abs(lse_nv, lse_ref, nl);
        double t_o = 2 * e_n + AG_FLOOR_OUT, t_l = 2 * l_n + AG_FLOOR_LSE;
        ok = e_k <= t_o && l_k <= t_l;
        printf("%s %s: out err %.3g (naive bf16 %.3g, tol %.3g) lse err %.3g (naive %.3g, tol %.3g)\n",
               ok ? "ok  " : "FAIL", name, e_k, e_n, t_o, l_k, l_n, t_l);
        if (!ok) {   // first pairs and the worst element, as (b, n, h, d)
            int64_t worst = 0;
            double we = -1;
            for (int64_t i = 0; i < no; i++) {
                double e = fabs((double)o[i] - o_ref[i]);
                if (!(e <= we)) { we = e; worst = i; }
            }
            int D = p.D, NH = p.NH, N = p.N_q;
            printf("     worst out at (b=%lld, n=%lld, h=%lld, d=%lld): got %.5f want %.5f\n",
                   (long long)(worst / ((int64_t)N * NH * D)), (long long)(worst / ((int64_t)NH * D) % N),
                   (long long)(worst / D % NH), (long long)(worst % D), o[worst], o_ref[worst]);
            for (int i = 0; i < 5 && i < no; i++) printf("     out[%d]: got %.5f want %.5f\n", i, o[i], o_ref[i]);
        }
        free(ob); free(o); free(lse);
    }
    if (!ok) vt_failures++;
    vd_cuda_arena_reset(&gt.arena, mark);
    free(o_ref); free(lse_ref); free(o_nv); free(lse_nv); free(rs);
    return ok;
}

static inline bool ag_run_compare(const at_inputs *in, const vd_block_csr *m, const vd_attn_window *win, bool with_rs,
                           const char *name) {
    return ag_run_compare_method(in, m, win, with_rs, name, NULL, NULL);
}
