// Shared helpers of the attention tests (cpu and gpu): random cases, the fp64 oracle, the naive
// same-precision baselines that earn each tolerance (style.md 6), and mask helpers.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "attention/attention.h"
#include "test_util.h"

// One attention case: shapes, seed, optional strided layout. Buffers are f32 host, [B, N, heads, D]
// views inside larger allocations when `strided` (q/k/v interleaved like a fused qkv output).
typedef struct {
    int B, N_q, N_kv, NH, NKV, D;
    uint64_t seed;
    bool strided;
    float qk_std;     // std of q and k entries (sharper softmax when larger)
} at_case;

typedef struct {
    at_case c;
    float *qbuf, *kbuf, *vbuf;      // owning allocations
    vd_attn_params p;               // f32 CPU view (o/lse not set)
    int64_t q_elems, kv_elems;      // size of the q (o) and k (v) allocations
} at_inputs;

// Allocates and fills q, k, v (rounded to bf16 when round_bf16) and the params views.
void at_inputs_make(at_inputs *in, const at_case *c, bool round_bf16);
void at_inputs_free(at_inputs *in);
// "B=1,N_q=113,N_kv=203,NH=2,NKV=1,D=64,seed=7,strided=0"
void at_case_name(const at_case *c, char *buf, size_t cap);

// Output buffer for the view of p: o [B, N_q, NH, D] contiguous with guard regions of GUARD
// floats before and after filled with a canary; at_guard_ok checks them.
#define AT_GUARD 64
float *at_out_alloc(int64_t n);
bool at_guard_ok(const float *o, int64_t n);
void at_out_free(float *o);

// fp64 oracle (vd_attn_masked_ref_cpu computes in double) into o/lse (contiguous o).
void at_oracle(const at_inputs *in, vd_attn_mask_fn mask, const void *mctx, float *o, float *lse,
               const float *row_scale);

// Naive same-precision baselines (plain loops, no tiling), masked like the oracle:
//  at_naive_f32:  f32 dot products and sums (the CPU kernels' precision);
//  at_naive_bf16: f32 scores, P rounded to bf16 before P.V, f32 sums, output rounded to bf16
//                 (the CUDA kernels' precision).
void at_naive(const at_inputs *in, vd_attn_mask_fn mask, const void *mctx, float *o, float *lse,
              const float *row_scale, bool bf16);

// max |a - b| over n values, treating equal infinities as 0 and a NaN or unequal inf as +inf.
double at_max_abs(const float *a, const float *b, int64_t n);

// Token mask of a block-CSR (+ optional window), for the oracle.
typedef struct {
    const vd_block_csr *m;
    const vd_attn_window *win;
    int NH;
} at_csr_mask;
bool at_csr_mask_fn(const void *ctx, int b, int h, int64_t i, int64_t j);

// A random block-CSR with per-row density `dens` (some rows forced empty when allow_empty).
// Host arrays, owned by the returned struct (free with at_csr_free).
typedef struct {
    vd_block_csr m;
    int32_t *indptr, *indices;
} at_csr;
void at_csr_random(at_csr *out, vt_rng *r, int n_groups, int N_q, int N_kv, int tile_q, int tile_kv, float dens,
                   bool allow_empty);
void at_csr_free(at_csr *c);
