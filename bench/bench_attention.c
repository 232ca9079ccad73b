// bench_attention: the attention kernels of vdit on the GPU at the Wan DiT's self-attention shapes.
// For each shape it validates first (sampled query rows of every kernel's output against an fp64
// computation on the host), then times, with CUDA events (median of --iters):
//   - vdit dense flash attention;
//   - vdit block-sparse flash attention at each density (random 128x128 tile masks, per head,
//     exactly round(d * T) kv tiles per q tile);
//   - radial at its default (Wan2.1 preset, mask of the shape's frame grid);
//   - the dynamic mask-building pipeline at each density (pool Q and K per tile, block scores,
//     per-row top-k, mask -> CSR), as a share of that density's sparse time: the fused entry point
//     vd_attn_topk_mask_cuda (mask_build.h, two kernels) is the "mask building" number; the same
//     pipeline as five single-step calls (pool q, pool k, scores, top-k, CSR) is printed beside it,
//     and the two CSR outputs are compared (they must be bit-identical). Mask building is timed
//     as the mean of --iters calls queued back to back (time_ms_queued), the per-call synchronized
//     median is printed beside it;
//   - producer-side pooling (the issue-5 fix for the mask-building share): the Wan RMSNorm + RoPE
//     kernel on q and k (inputs: the shape's bf16 q and k as the GEMM outputs) without and with
//     its tile means (vd_wan_rms_rope_pool_cuda, dit/wan_kernels.h), and the mask from those means
//     (vd_attn_topk_mask_pooled_cuda): the pooling's increment plus that mask is what mask
//     building adds to a layer, printed as a share of the sparse time at d = 0.1 beside the
//     standalone number (B = 1 shapes only, the DiT's batch);
// and prints dense-equivalent TFLOP/s (4 B H N^2 D / t) and effective TFLOP/s (x density), the
// issue-5 targets (dense >= 360 TFLOP/s; sparse(d) <= 1.2 d dense for d >= 0.1; mask <= 5 %), and
// the PyTorch SDPA anchor (bench/anchors/attention_sdpa.py, run in the same job) side by side.
// Appends a markdown section to bench/results/attention_<date>.md.
//
//   python3 bench/anchors/attention_sdpa.py --json /tmp/sdpa.json
//   BUILD/bench/bench_attention --anchor /tmp/sdpa.json [--shapes 1.3b,14b | --shape B,H,F,Hp,Wp,D]
//       [--densities 0.1,0.2,...] [--iters 10] [--warmup 3] [--results FILE]
#define _POSIX_C_SOURCE 200809L   // setenv
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attention/attention.h"
#include "attention/mask_build.h"
#include "attention/radial.h"
#include "dit/wan_kernels.h"
#include "lib/device.h"
#include "lib/dtype.h"
#include "lib/ops.h"
#ifdef VDIT_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

typedef struct {
    const char *label;
    int B, H, D, F, Hp, Wp;   // N = F * Hp * Wp
} bench_shape;

static const bench_shape k_shapes[] = {
    {"1.3b", 1, 12, 128, 21, 30, 52},   // Wan2.1-1.3B 480x832x81: N = 32,760
    {"14b", 1, 40, 128, 21, 45, 80},    // Wan2.1-14B 720x1280x81: N = 75,600
};

typedef struct {
    double densities[16];
    int n_dens, iters, warmup;
    const char *anchor, *results, *shapes;
    bench_shape custom;   // --shape B,H,F,Hp,Wp,D (replaces the presets)
    int has_custom;
} bench_opts;

#ifdef VDIT_HAVE_CUDA

static void die(const char *what, const vd_error *e) {
    fprintf(stderr, "bench_attention: %s: %s\n", what, e->msg);
    exit(1);
}
#define OK(call)                                                                                       \
    do {                                                                                               \
        vd_error e_ = {0};                                                                             \
        vd_error *err = &e_;                                                                           \
        if ((call) != VD_OK) die(#call, &e_);                                                          \
        (void)err;                                                                                     \
    } while (0)
#define CU(call)                                                                                       \
    do {                                                                                               \
        cudaError_t ce_ = (call);                                                                      \
        if (ce_ != cudaSuccess) {                                                                      \
            fprintf(stderr, "bench_attention: %s: %s\n", #call, cudaGetErrorString(ce_));              \
            exit(1);                                                                                   \
        }                                                                                              \
    } while (0)

static uint64_t g_rng = 88172645463325252ull;
static float rnd_normal(void) {   // xorshift64 + Box-Muller; inputs only
    g_rng ^= g_rng << 13; g_rng ^= g_rng >> 7; g_rng ^= g_rng << 17;
    double u1 = ((g_rng >> 11) + 1.0) / 9007199254740993.0;
    g_rng ^= g_rng << 13; g_rng ^= g_rng >> 7; g_rng ^= g_rng << 17;
    double u2 = (g_rng >> 11) / 9007199254740992.0;
    return (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
}
static uint32_t rnd_u32(void) {
    g_rng ^= g_rng << 13; g_rng ^= g_rng >> 7; g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 32);
}

typedef struct {
    vd_cuda_ctx *ctx;
    cudaStream_t st;
    bench_shape s;
    int N, T;                       // tokens, 128-tiles per side
    uint16_t *hq, *hk, *hv;         // host bf16 [B, N, H, D]
    void *q, *k, *v, *o;            // device bf16
    vd_attn_params p;
} bench_ctx;

typedef vd_status (*run_fn)(bench_ctx *b, void *arg, vd_error *err);

static double time_ms(bench_ctx *b, run_fn fn, void *arg, int warmup, int iters) {
    cudaEvent_t e0, e1;
    CU(cudaEventCreate(&e0));
    CU(cudaEventCreate(&e1));
    vd_error err = {0};
    for (int i = 0; i < warmup; i++)
        if (fn(b, arg, &err) != VD_OK) die("warmup", &err);
    double *t = malloc(sizeof(double) * (size_t)iters);
    for (int i = 0; i < iters; i++) {
        CU(cudaEventRecord(e0, b->st));
        if (fn(b, arg, &err) != VD_OK) die("timed run", &err);
        CU(cudaEventRecord(e1, b->st));
        CU(cudaEventSynchronize(e1));
        float ms;
        CU(cudaEventElapsedTime(&ms, e0, e1));
        t[i] = ms;
    }
    for (int i = 1; i < iters; i++)   // insertion sort; median
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) { double x = t[j]; t[j] = t[j - 1]; t[j - 1] = x; }
    double med = t[iters / 2];
    free(t);
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    return med;
}

// Mean time of `iters` calls queued back to back (one event pair around the batch): the host
// stays ahead of the GPU, as in the DiT, so the launch latency of a call from an idle GPU is not
// counted. time_ms (synchronized after every call) adds that latency (~5-10 us) to each call,
// which matters for sub-0.1 ms operations such as mask building, not for attention itself.
static double time_ms_queued(bench_ctx *b, run_fn fn, void *arg, int warmup, int iters) {
    cudaEvent_t e0, e1;
    CU(cudaEventCreate(&e0));
    CU(cudaEventCreate(&e1));
    vd_error err = {0};
    for (int i = 0; i < warmup; i++)
        if (fn(b, arg, &err) != VD_OK) die("warmup", &err);
    CU(cudaStreamSynchronize(b->st));
    CU(cudaEventRecord(e0, b->st));
    for (int i = 0; i < iters; i++)
        if (fn(b, arg, &err) != VD_OK) die("timed run", &err);
    CU(cudaEventRecord(e1, b->st));
    CU(cudaEventSynchronize(e1));
    float ms;
    CU(cudaEventElapsedTime(&ms, e0, e1));
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    return ms / iters;
}

// ---- the timed operations ----

static vd_status run_dense(bench_ctx *b, void *arg, vd_error *err) { return vd_attn_dense_cuda(&b->p, b->st, err); }

static vd_status run_sparse(bench_ctx *b, void *arg, vd_error *err) {
    return vd_attn_block_sparse_cuda(&b->p, (const vd_block_csr *)arg, NULL, b->st, err);
}

typedef struct { vd_attn *a; vd_attn_ctx c; } radial_arg;
static vd_status run_radial(bench_ctx *b, void *arg, vd_error *err) {
    radial_arg *r = arg;
    return vd_attn_run(r->a, &b->p, &r->c, NULL, b->st, err);
}

typedef struct {
    float *qbar, *kbar, *scores;
    uint8_t *mask;
    int32_t *indptr, *indices;
    void *ws;
    int k;
    vd_attn_topk_mask_shape fs;      // the fused call: same shape, its own workspace and CSR
    void *fws;
    int32_t *findptr, *findices;
} maskgen_arg;
static vd_status run_maskgen(bench_ctx *b, void *arg, vd_error *err) {
    maskgen_arg *m = arg;
    const bench_shape *s = &b->s;
    const int64_t sn = (int64_t)s->H * s->D, sb = (int64_t)b->N * sn, rows = (int64_t)s->B * s->H * b->T;
    VD_TRY(vd_attn_pool_tiles_cuda(m->qbar, b->q, sb, sn, s->D, s->B, b->N, s->H, s->D, 128, b->st, err));
    VD_TRY(vd_attn_pool_tiles_cuda(m->kbar, b->k, sb, sn, s->D, s->B, b->N, s->H, s->D, 128, b->st, err));
    VD_TRY(vd_attn_block_scores_cuda(m->scores, m->qbar, m->kbar, s->B, s->H, s->H, b->T, b->T, s->D, b->p.scale, false,
                                     b->st, err));
    VD_TRY(vd_attn_topk_rows_cuda(m->mask, m->scores, rows, b->T, m->k, b->st, err));
    return vd_attn_mask_to_csr_cuda(m->indptr, m->indices, m->mask, rows, b->T, m->ws, b->st, err);
}

static vd_status run_maskgen_fused(bench_ctx *b, void *arg, vd_error *err) {
    maskgen_arg *m = arg;
    return vd_attn_topk_mask_cuda(m->findptr, m->findices, NULL, b->q, b->k, &m->fs, m->fws, b->st, err);
}

// Pooling alone (the single-step pool of q and of k: the same kernel as the fused path's first
// launch): the HBM-bound part of mask building.
static vd_status run_pool_only(bench_ctx *b, void *arg, vd_error *err) {
    maskgen_arg *m = arg;
    const bench_shape *s = &b->s;
    const int64_t sn = (int64_t)s->H * s->D, sb = (int64_t)b->N * sn;
    VD_TRY(vd_attn_pool_tiles_cuda(m->qbar, b->q, sb, sn, s->D, s->B, b->N, s->H, s->D, 128, b->st, err));
    return vd_attn_pool_tiles_cuda(m->kbar, b->k, sb, sn, s->D, s->B, b->N, s->H, s->D, 128, b->st, err);
}

// Whether the fused and the chained pipelines produced the same CSR (rows * k indices).
static bool maskgen_same(const maskgen_arg *m, int64_t rows) {
    const size_t ni = sizeof(int32_t) * (size_t)(rows * m->k), np = sizeof(int32_t) * (size_t)(rows + 1);
    int32_t *a = malloc(np + ni), *c = malloc(np + ni);
    CU(cudaDeviceSynchronize());
    CU(cudaMemcpy(a, m->indptr, np, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(c, m->findptr, np, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(a + rows + 1, m->indices, ni, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(c + rows + 1, m->findices, ni, cudaMemcpyDeviceToHost));
    const bool same = !memcmp(a, c, np + ni);
    free(a);
    free(c);
    return same;
}

// ---- validation: sampled rows against an fp64 computation on the host ----

typedef struct {
    const int32_t *indptr, *indices;   // host CSR, groups = 1 (shared) or H
    int n_groups;
} host_mask;

// Max |gpu - ref| / max |ref| over `rows` sampled (b=0, h, i) rows; mask NULL: dense.
static double validate(bench_ctx *b, const host_mask *hm, int n_rows) {
    const bench_shape *s = &b->s;
    const int D = s->D;
    const int64_t sn = (int64_t)s->H * D;
    uint16_t *orow = malloc(sizeof(uint16_t) * D);
    double *sc = malloc(sizeof(double) * b->N), *acc = malloc(sizeof(double) * D);
    double worst = 0, ref_max = 0;
    CU(cudaStreamSynchronize(b->st));
    for (int r = 0; r < n_rows; r++) {
        const int h = (r * 7) % s->H;
        const int64_t i = (int64_t)(((double)r + 0.5) / n_rows * b->N);
        CU(cudaMemcpy(orow, (uint16_t *)b->o + i * sn + (int64_t)h * D, sizeof(uint16_t) * D, cudaMemcpyDeviceToHost));
        double m = -INFINITY;
        for (int64_t j = 0; j < b->N; j++) {
            sc[j] = -INFINITY;
            if (hm) {
                const int64_t row = (int64_t)(hm->n_groups == 1 ? 0 : h) * b->T + i / 128;
                bool in = false;
                for (int32_t e = hm->indptr[row]; e < hm->indptr[row + 1]; e++)
                    if (hm->indices[e] == j / 128) { in = true; break; }
                if (!in) continue;
            }
            double dot = 0;
            for (int d = 0; d < D; d++)
                dot += (double)vd_bf16_to_f32(b->hq[i * sn + h * D + d]) * vd_bf16_to_f32(b->hk[j * sn + h * D + d]);
            sc[j] = dot * b->p.scale;
            if (sc[j] > m) m = sc[j];
        }
        double l = 0;
        for (int d = 0; d < D; d++) acc[d] = 0;
        for (int64_t j = 0; j < b->N; j++) {
            if (sc[j] == -INFINITY) continue;
            double e = exp(sc[j] - m);
            l += e;
            for (int d = 0; d < D; d++) acc[d] += e * vd_bf16_to_f32(b->hv[j * sn + h * D + d]);
        }
        for (int d = 0; d < D; d++) {
            double ref = acc[d] / l;
            worst = fmax(worst, fabs(vd_bf16_to_f32(orow[d]) - ref));
            ref_max = fmax(ref_max, fabs(ref));
        }
    }
    free(orow); free(sc); free(acc);
    return worst / (ref_max > 0 ? ref_max : 1);
}

// Random per-head mask with exactly k kv tiles per q tile (sorted), host arrays.
static void random_csr(int rows, int T, int k, int32_t **indptr, int32_t **indices) {
    *indptr = malloc(sizeof(int32_t) * (size_t)(rows + 1));
    *indices = malloc(sizeof(int32_t) * (size_t)rows * k + 1);
    uint8_t *pick = malloc((size_t)T);
    (*indptr)[0] = 0;
    for (int r = 0; r < rows; r++) {
        memset(pick, 0, (size_t)T);
        for (int c = 0; c < k;) {   // k distinct tiles
            int t = (int)(rnd_u32() % (uint32_t)T);
            if (!pick[t]) { pick[t] = 1; c++; }
        }
        int32_t at = (*indptr)[r];
        for (int t = 0; t < T; t++)
            if (pick[t]) (*indices)[at++] = t;
        (*indptr)[r + 1] = at;
    }
    free(pick);
}

static void *dev_copy(const void *h, size_t bytes) {
    void *d;
    CU(cudaMalloc(&d, bytes));
    CU(cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice));
    return d;
}

// Producer-side pooling: q and k through the DiT's RMSNorm + RoPE kernel, with or without the
// tile means; then the mask from the means.
typedef struct {
    const uint16_t *xq, *xk;   // producer inputs (GEMM outputs), bf16 [N, C]
    uint16_t *oq, *ok;         // producer outputs, bf16 [N, C]
    float *w, *pq, *pk;        // RMSNorm weight [C]; tile means [H, T, D]
    vd_wan_rope_desc rope;
    vd_attn_topk_mask_shape s;
    int32_t *indptr, *indices;
} prod_arg;
static vd_status run_rope(bench_ctx *b, void *arg, vd_error *err) {
    prod_arg *a = arg;
    const int64_t C = (int64_t)b->s.H * b->s.D;
    VD_TRY(vd_wan_rms_rope_cuda(b->st, a->oq, a->xq, 1, b->N, C, 1e-6f, a->w, &a->rope, err));
    return vd_wan_rms_rope_cuda(b->st, a->ok, a->xk, 1, b->N, C, 1e-6f, a->w, &a->rope, err);
}
static vd_status run_rope_pool(bench_ctx *b, void *arg, vd_error *err) {
    prod_arg *a = arg;
    const int64_t C = (int64_t)b->s.H * b->s.D;
    const vd_wan_pool_desc pq = {a->pq, b->s.D, 128}, pk = {a->pk, b->s.D, 128};
    VD_TRY(vd_wan_rms_rope_pool_cuda(b->st, a->oq, a->xq, 1, b->N, C, 1e-6f, a->w, &a->rope, &pq, err));
    return vd_wan_rms_rope_pool_cuda(b->st, a->ok, a->xk, 1, b->N, C, 1e-6f, a->w, &a->rope, &pk, err);
}
static vd_status run_mask_pooled(bench_ctx *b, void *arg, vd_error *err) {
    prod_arg *a = arg;
    return vd_attn_topk_mask_pooled_cuda(a->indptr, a->indices, NULL, a->pq, a->pk, &a->s, b->st, err);
}

typedef struct {
    double rope, rope_pool, mask;   // ms: q + k without / with means; mask from the means
    double common;                  // kept tiles shared with the fused builder on the same q, k
    double mask_br[3];              // mask from the means with block_rows 16, 32, 64 (auto: mask)
} prod_times;

// Times the producer-side path at density d (k = round(d T)); the fused builder's workspace and
// CSR buffers of mg are reused for the comparison. Returns false when the shape has B > 1.
static bool bench_producer(bench_ctx *b, maskgen_arg *mg, double d, const bench_opts *o, prod_times *pt) {
    const bench_shape *s = &b->s;
    if (s->B != 1) return false;
    const int64_t C = (int64_t)s->H * s->D, nt = (int64_t)s->H * b->T * s->D;
    const int k = (int)fmax(1, fmin(b->T, lround(d * b->T)));
    prod_arg a = {.xq = b->q, .xk = b->k};
    // RoPE tables cos/sin [3][maxp][D/2] (vd_wan_cuda_create's layout and formula, theta 10^4)
    const int maxp = s->F > s->Hp ? (s->F > s->Wp ? s->F : s->Wp) : (s->Hp > s->Wp ? s->Hp : s->Wp), P = s->D / 2;
    int64_t dt, dh, dw;
    vd_rope3d_split(s->D, &dt, &dh, &dw);
    const int64_t off[3] = {0, dt / 2, (dt + dh) / 2}, width[3] = {dt, dh, dw}, ntab = (int64_t)3 * maxp * P;
    float *tab = malloc(sizeof(float) * 2 * ntab), *w = malloc(sizeof(float) * C);
    for (int ax = 0; ax < 3; ax++)
        for (int p = 0; p < maxp; p++)
            for (int j = 0; j < P; j++) {
                const int64_t ja = j - off[ax], i = ((int64_t)ax * maxp + p) * P + j;
                const double ang = ja >= 0 && ja < width[ax] / 2 ? p * pow(1e4, -2.0 * ja / width[ax]) : 0;
                tab[i] = (float)cos(ang);
                tab[ntab + i] = (float)sin(ang);
            }
    for (int64_t c = 0; c < C; c++) w[c] = 0.5f + (float)fmod(c * 0.6180339887, 1.0);   // in [0.5, 1.5), no rng draw
    float *dtab = dev_copy(tab, sizeof(float) * 2 * ntab);
    a.rope = (vd_wan_rope_desc){dtab, dtab + ntab, maxp, s->D, (int)(dt / 2), (int)(dh / 2), s->Hp, s->Wp};
    a.w = dev_copy(w, sizeof(float) * C);
    CU(cudaMalloc((void **)&a.oq, sizeof(uint16_t) * b->N * C));
    CU(cudaMalloc((void **)&a.ok, sizeof(uint16_t) * b->N * C));
    CU(cudaMalloc((void **)&a.pq, sizeof(float) * nt));
    CU(cudaMalloc((void **)&a.pk, sizeof(float) * nt));
    CU(cudaMalloc((void **)&a.indptr, sizeof(int32_t) * (s->H * b->T + 1)));
    CU(cudaMalloc((void **)&a.indices, sizeof(int32_t) * (size_t)s->H * b->T * k));
    a.s = mg->fs;
    a.s.k = k;
    pt->rope = time_ms_queued(b, run_rope, &a, o->warmup, o->iters);
    pt->rope_pool = time_ms_queued(b, run_rope_pool, &a, o->warmup, o->iters);
    pt->mask = time_ms_queued(b, run_mask_pooled, &a, o->warmup, o->iters);
    for (int i = 0; i < 3; i++) {   // the automatic rows-per-block choice against each fixed one
        a.s.block_rows = 16 << i;
        pt->mask_br[i] = time_ms_queued(b, run_mask_pooled, &a, o->warmup, o->iters);
    }
    a.s.block_rows = mg->fs.block_rows;
    // the fused builder on the producer's outputs: which kept tiles agree
    vd_error e = {0};
    if (vd_attn_topk_mask_cuda(mg->findptr, mg->findices, NULL, a.oq, a.ok, &a.s, mg->fws, b->st, &e) != VD_OK)
        die("vd_attn_topk_mask_cuda (producer outputs)", &e);
    const int64_t nidx = (int64_t)s->H * b->T * k;
    int32_t *x = malloc(sizeof(int32_t) * nidx), *y = malloc(sizeof(int32_t) * nidx);
    CU(cudaDeviceSynchronize());
    CU(cudaMemcpy(x, a.indices, sizeof(int32_t) * nidx, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(y, mg->findices, sizeof(int32_t) * nidx, cudaMemcpyDeviceToHost));
    int64_t common = 0;
    for (int64_t r = 0; r < nidx; r += k)   // rows ascending: merge count
        for (int i = 0, j = 0; i < k && j < k;) {
            if (x[r + i] == y[r + j]) { common++; i++; j++; }
            else if (x[r + i] < y[r + j]) i++;
            else j++;
        }
    pt->common = (double)common / nidx;
    free(x); free(y); free(tab); free(w);
    cudaFree(dtab); cudaFree(a.w); cudaFree(a.oq); cudaFree(a.ok); cudaFree(a.pq); cudaFree(a.pk);
    cudaFree(a.indptr); cudaFree(a.indices);
    return true;
}

typedef struct {
    char kernel[48];
    double density, ms, val;
    const char *note;
} row_t;

static double anchor_ms(const cJSON *anchor, const bench_shape *s, int N, const char *backend) {
    const cJSON *res = anchor ? cJSON_GetObjectItemCaseSensitive(anchor, "results") : NULL, *it;
    cJSON_ArrayForEach(it, res) {
        const cJSON *bk = cJSON_GetObjectItemCaseSensitive(it, "backend"), *ms = cJSON_GetObjectItemCaseSensitive(it, "ms");
        if (cJSON_IsString(bk) && !strcmp(bk->valuestring, backend) && cJSON_IsNumber(ms) &&
            cJSON_GetObjectItemCaseSensitive(it, "H")->valueint == s->H && cJSON_GetObjectItemCaseSensitive(it, "N")->valueint == N &&
            cJSON_GetObjectItemCaseSensitive(it, "D")->valueint == s->D && cJSON_GetObjectItemCaseSensitive(it, "B")->valueint == s->B)
            return ms->valuedouble;
    }
    return -1;
}

static void bench_one(vd_cuda_ctx *ctx, const bench_shape *s, const bench_opts *o, const cJSON *anchor, FILE *md) {
    bench_ctx b = {.ctx = ctx, .st = (cudaStream_t)vd_cuda_ctx_stream(ctx), .s = *s};
    b.N = s->F * s->Hp * s->Wp;
    b.T = (b.N + 127) / 128;
    const int64_t n = (int64_t)s->B * b.N * s->H * s->D;
    const double flops = 4.0 * s->B * s->H * (double)b.N * b.N * s->D;
    printf("\n== shape %s: B=%d H=%d N=%d (F=%d Hp=%d Wp=%d) D=%d, %d x %d tiles of 128\n", s->label, s->B, s->H, b.N, s->F,
           s->Hp, s->Wp, s->D, b.T, b.T);
    b.hq = malloc(sizeof(uint16_t) * n); b.hk = malloc(sizeof(uint16_t) * n); b.hv = malloc(sizeof(uint16_t) * n);
    // 2^22 normal samples, read in 4096-element runs from random offsets (filling 3 x 387 M values
    // with fresh Box-Muller samples takes half a minute at the 14B shape).
    enum { POOL = 1 << 22, RUN = 4096 };
    uint16_t *pool = malloc(sizeof(uint16_t) * POOL);
    for (int i = 0; i < POOL; i++) pool[i] = vd_f32_to_bf16(rnd_normal());
    uint16_t *dst[3] = {b.hq, b.hk, b.hv};
    for (int t = 0; t < 3; t++)
        for (int64_t i = 0; i < n; i += RUN) {
            const uint32_t off = rnd_u32() % (POOL - RUN);
            memcpy(dst[t] + i, pool + off, sizeof(uint16_t) * (size_t)(n - i < RUN ? n - i : RUN));
        }
    free(pool);
    b.q = dev_copy(b.hq, 2 * n); b.k = dev_copy(b.hk, 2 * n); b.v = dev_copy(b.hv, 2 * n);
    CU(cudaMalloc(&b.o, 2 * n));
    vd_attn_params_contiguous(&b.p, VD_DEVICE_CUDA, b.q, b.k, b.v, b.o, s->B, b.N, b.N, s->H, s->H, s->D);

    row_t rows[40];
    int nr = 0;
    const int vrows = 6;   // sampled rows per validation
    // Validation bound: bf16 output rounding is 2^-9 relative; 1e-2 of max|o| leaves room for fp32 sums.
    const double vtol = 1e-2;

    // dense
    OK(vd_attn_dense_cuda(&b.p, b.st, err));
    double v = validate(&b, NULL, vrows);
    double t_dense = time_ms(&b, run_dense, NULL, o->warmup, o->iters);
    rows[nr++] = (row_t){"vdit dense (flash; wgmma TMA-WS on sm_90)", 1.0, t_dense, v, NULL};
    // The mma.sync kernel too (VDIT_FLASH_KERNEL=mma: what GPUs other than sm_90 run).
    setenv("VDIT_FLASH_KERNEL", "mma", 1);
    OK(vd_attn_dense_cuda(&b.p, b.st, err));
    v = validate(&b, NULL, vrows);
    rows[nr++] = (row_t){"vdit dense (mma.sync kernel)", 1.0, time_ms(&b, run_dense, NULL, o->warmup, o->iters), v, NULL};
    unsetenv("VDIT_FLASH_KERNEL");
    // The wgmma kernel's other pipelines (VDIT_WGMMA_PIPE): TMA with a producer warpgroup and
    // per-slot empty barriers (tma_ws), cp.async loads (overlap), and cp.async without the
    // softmax / P V overlap (lockstep). Other GPUs: the mma.sync kernel in every row.
    static const char *pipes[3][2] = {{"tma", "vdit dense (wgmma, TMA, block barrier)"},
                                      {"overlap", "vdit dense (wgmma, cp.async overlap)"},
                                      {"lockstep", "vdit dense (wgmma, cp.async lockstep)"}};
    for (int i = 0; i < 3; i++) {
        setenv("VDIT_WGMMA_PIPE", pipes[i][0], 1);
        OK(vd_attn_dense_cuda(&b.p, b.st, err));
        v = validate(&b, NULL, vrows);
        row_t r = {.density = 1.0, .ms = time_ms(&b, run_dense, NULL, o->warmup, o->iters), .val = v};
        snprintf(r.kernel, sizeof r.kernel, "%s", pipes[i][1]);
        rows[nr++] = r;
    }
    unsetenv("VDIT_WGMMA_PIPE");

    // block-sparse at each density (+ mask building)
    double t_mask[16] = {0}, t_mask_sync[16], t_chain[16], t_sparse[16] = {0}, dens_real[16] = {0};
    double t_pool = -1;   // pooling Q and K alone, once per shape
    bool mask_same[16];
    maskgen_arg mg = {0};
    const int64_t mrows = (int64_t)s->B * s->H * b.T;
    CU(cudaMalloc((void **)&mg.qbar, sizeof(float) * mrows * s->D));
    CU(cudaMalloc((void **)&mg.kbar, sizeof(float) * mrows * s->D));
    CU(cudaMalloc((void **)&mg.scores, sizeof(float) * mrows * b.T));
    CU(cudaMalloc((void **)&mg.mask, (size_t)mrows * b.T));
    CU(cudaMalloc((void **)&mg.indptr, sizeof(int32_t) * (mrows + 1)));
    CU(cudaMalloc((void **)&mg.indices, sizeof(int32_t) * mrows * b.T));
    CU(cudaMalloc(&mg.ws, vd_attn_mask_to_csr_cuda_ws_bytes(mrows)));
    mg.fs = vd_attn_topk_mask_shape_of(&b.p, 128, 128, 0);
    CU(cudaMalloc(&mg.fws, vd_attn_topk_mask_cuda_ws_bytes(&mg.fs)));
    CU(cudaMalloc((void **)&mg.findptr, sizeof(int32_t) * (mrows + 1)));
    CU(cudaMalloc((void **)&mg.findices, sizeof(int32_t) * mrows * b.T));
    for (int di = 0; di < o->n_dens; di++) {
        const double d = o->densities[di];
        int k = (int)lround(d * b.T);
        if (k < 1) k = 1;
        if (k > b.T) k = b.T;
        dens_real[di] = (double)k / b.T;
        int32_t *ip, *ix;
        random_csr(s->H * b.T, b.T, k, &ip, &ix);
        vd_block_csr m = {.tile_q = 128, .tile_kv = 128, .n_q_tiles = b.T, .n_kv_tiles = b.T, .n_groups = s->H};
        m.indptr = dev_copy(ip, sizeof(int32_t) * (s->H * b.T + 1));
        m.indices = dev_copy(ix, sizeof(int32_t) * ((size_t)s->H * b.T * k));
        OK(vd_attn_block_sparse_cuda(&b.p, &m, NULL, b.st, err));
        host_mask hm = {ip, ix, s->H};
        v = validate(&b, &hm, vrows);
        t_sparse[di] = time_ms(&b, run_sparse, &m, o->warmup, o->iters);
        row_t r = {"", dens_real[di], t_sparse[di], v, NULL};
        snprintf(r.kernel, sizeof r.kernel, "vdit block-sparse");
        rows[nr++] = r;
        mg.k = k;
        mg.fs.k = k;
        t_mask[di] = time_ms_queued(&b, run_maskgen_fused, &mg, o->warmup, o->iters);
        t_mask_sync[di] = time_ms(&b, run_maskgen_fused, &mg, o->warmup, o->iters);
        t_chain[di] = time_ms_queued(&b, run_maskgen, &mg, o->warmup, o->iters);
        if (t_pool < 0) t_pool = time_ms_queued(&b, run_pool_only, &mg, o->warmup, o->iters);
        mask_same[di] = maskgen_same(&mg, mrows);
        cudaFree((void *)m.indptr);
        cudaFree((void *)m.indices);
        free(ip);
        free(ix);
    }

    // producer-side pooling at the density nearest 0.1 (the target's density)
    int d10 = 0;
    for (int di = 1; di < o->n_dens; di++)
        if (fabs(dens_real[di] - 0.1) < fabs(dens_real[d10] - 0.1)) d10 = di;
    prod_times pt;
    const bool have_prod = bench_producer(&b, &mg, dens_real[d10], o, &pt);

    // radial at its default (Wan preset), a sparse call (step and layer past the dense ones)
    radial_arg ra = {0};
    OK(vd_attn_create(&ra.a, "radial", err));
    ra.c = (vd_attn_ctx){.layer = 10, .n_layers = 30, .step = 30, .n_steps = 50, .timestep = 300,
                         .F = s->F, .Hp = s->Hp, .Wp = s->Wp};
    const vd_radial_cfg *rc = vd_attn_get_cfg(ra.a);
    uint8_t *rmask = malloc((size_t)b.T * b.T);
    struct timespec r0, r1;
    clock_gettime(CLOCK_MONOTONIC, &r0);
    int64_t rkept = vd_radial_tile_mask(rmask, s->F, s->Hp * s->Wp, rc);
    clock_gettime(CLOCK_MONOTONIC, &r1);
    const double t_rmask = (r1.tv_sec - r0.tv_sec) * 1e3 + (r1.tv_nsec - r0.tv_nsec) * 1e-6;
    int32_t *rip = malloc(sizeof(int32_t) * (b.T + 1)), *rix = malloc(sizeof(int32_t) * ((size_t)b.T * b.T));
    vd_attn_mask_to_csr_cpu(rip, rix, rmask, b.T, b.T);
    OK(vd_attn_run(ra.a, &b.p, &ra.c, NULL, b.st, err));
    host_mask rhm = {rip, rix, 1};
    v = validate(&b, &rhm, vrows);
    double t_radial = time_ms(&b, run_radial, &ra, o->warmup, o->iters);
    rows[nr++] = (row_t){"vdit radial (Wan preset)", (double)rkept / ((double)b.T * b.T), t_radial, v, NULL};
    free(rmask); free(rip); free(rix);
    vd_attn_free(ra.a);

    // ---- print + markdown ----
    double a_flash = anchor_ms(anchor, s, b.N, "sdpa_flash"), a_cudnn = anchor_ms(anchor, s, b.N, "sdpa_cudnn");
    fprintf(md, "\n## %s: B=%d, H=%d, N=%d (F=%d x %d x %d), D=%d, bf16\n\n", s->label, s->B, s->H, b.N, s->F, s->Hp,
            s->Wp, s->D);
    fprintf(md, "| kernel | density | time (ms) | dense-equiv TFLOP/s | effective TFLOP/s | time / (density x vdit dense) | "
                "validation (max err / max ref, sampled rows) |\n|---|---|---|---|---|---|---|\n");
    printf("%-44s %8s %10s %12s %12s %10s %10s\n", "kernel", "density", "ms", "dense-eq TF", "effective TF", "t/(d*t_d)", "valid");
    for (int i = 0; i < nr; i++) {
        const row_t *r = &rows[i];
        double tf = flops / (r->ms * 1e-3) / 1e12;
        bool vok = r->val <= vtol;
        printf("%-44s %8.3f %10.3f %12.1f %12.1f %10.2f %7.2g %s\n", r->kernel, r->density, r->ms, tf, tf * r->density,
               r->ms / (r->density * t_dense), r->val, vok ? "ok" : "FAIL");
        fprintf(md, "| %s | %.3f | %.3f | %.1f | %.1f | %.2f | %.2g %s |\n", r->kernel, r->density, r->ms, tf,
                tf * r->density, r->ms / (r->density * t_dense), r->val, vok ? "ok" : "**FAIL**");
    }
    const char *names[] = {"PyTorch SDPA flash", "PyTorch SDPA cuDNN"};
    double ams[] = {a_flash, a_cudnn};
    for (int i = 0; i < 2; i++) {
        if (ams[i] <= 0) {
            fprintf(md, "| %s | 1 | (not measured) | | | | |\n", names[i]);
            continue;
        }
        double tf = flops / (ams[i] * 1e-3) / 1e12;
        printf("%-44s %8.3f %10.3f %12.1f %12.1f %10.2f\n", names[i], 1.0, ams[i], tf, tf, ams[i] / t_dense);
        fprintf(md, "| %s (anchor, same job) | 1 | %.3f | %.1f | %.1f | %.2f | (PyTorch) |\n", names[i], ams[i], tf, tf,
                ams[i] / t_dense);
    }
    // Targets of issue 5.
    const double tf_dense = flops / (t_dense * 1e-3) / 1e12;
    fprintf(md, "\nTargets (issue 5):\n\n- dense >= 360 TFLOP/s: %.1f -> %s\n", tf_dense, tf_dense >= 360 ? "met" : "**missed**");
    printf("target dense >= 360 TFLOP/s: %.1f -> %s\n", tf_dense, tf_dense >= 360 ? "met" : "MISSED");
    for (int di = 0; di < o->n_dens; di++) {
        if (dens_real[di] < 0.1) continue;
        double ratio = t_sparse[di] / (dens_real[di] * t_dense), share = t_mask[di] / t_sparse[di];
        fprintf(md, "- density %.3f: sparse %.3f ms = %.2f x (d x dense) (target <= 1.2: %s); mask building %.3f ms = %.1f %% "
                    "of sparse (target <= 5 %%: %s; fused vd_attn_topk_mask_cuda, mean of calls queued back to back; "
                    "synchronized after each call: %.3f ms; the five single-step calls, queued: %.3f ms; "
                    "CSR fused == single-step: %s)\n",
                dens_real[di], t_sparse[di], ratio, ratio <= 1.2 ? "met" : "**missed**", t_mask[di], 100 * share,
                share <= 0.05 ? "met" : "**missed**", t_mask_sync[di], t_chain[di], mask_same[di] ? "yes" : "**NO**");
        printf("target d=%.3f: sparse/(d*dense) %.2f (<= 1.2: %s), mask build %.3f ms = %.1f%% of sparse (<= 5%%: %s) "
               "[fused, queued; synchronized per call %.3f ms; single-step chain %.3f ms; fused == chain: %s]\n",
               dens_real[di], ratio, ratio <= 1.2 ? "met" : "MISSED", t_mask[di], 100 * share, share <= 0.05 ? "met" : "MISSED",
               t_mask_sync[di], t_chain[di], mask_same[di] ? "yes" : "NO");
    }
    if (t_pool > 0) {   // reads q and k once: 2 * B N H D bf16
        const double gbs = 2.0 * 2 * (double)n / (t_pool * 1e-3) / 1e9;
        fprintf(md, "- mask building, of which pooling Q and K per tile (reads both once, %.0f MB): %.3f ms = %.0f GB/s; "
                    "block scores + top-k + CSR: the rest\n", 4.0 * n / 1e6, t_pool, gbs);
        printf("mask build: pooling Q and K alone %.3f ms (%.0f GB/s over %.0f MB)\n", t_pool, gbs, 4.0 * n / 1e6);
    }
    if (have_prod) {
        // A negative increment (the pooling kernel is the faster producer) is counted as 0.
        const double inc = pt.rope_pool - pt.rope, added = (inc > 0 ? inc : 0) + pt.mask, share = added / t_sparse[d10];
        fprintf(md, "- producer-side pooling (density %.3f): RMSNorm + RoPE of q and k %.3f ms without tile means, %.3f ms "
                    "with (vd_wan_rms_rope_pool_cuda: +%.3f ms); mask from the means (vd_attn_topk_mask_pooled_cuda) "
                    "%.3f ms; added per layer %.3f ms = %.1f %% of sparse %.3f ms (target <= 5 %%: %s; standalone fused "
                    "builder above: %.1f %%); kept tiles in common with the fused builder on the same q, k: %.4f\n",
                dens_real[d10], pt.rope, pt.rope_pool, inc, pt.mask, added, 100 * share, t_sparse[d10],
                share <= 0.05 ? "met" : "**missed**", 100 * t_mask[d10] / t_sparse[d10], pt.common);
        printf("producer pooling d=%.3f: rms+rope q,k %.3f -> %.3f ms with means (+%.3f), mask from means %.3f ms; "
               "added %.3f ms = %.1f%% of sparse (<= 5%%: %s; standalone fused %.1f%%); tiles in common with fused %.4f\n",
               dens_real[d10], pt.rope, pt.rope_pool, inc, pt.mask, added, 100 * share, share <= 0.05 ? "met" : "MISSED",
               100 * t_mask[d10] / t_sparse[d10], pt.common);
        fprintf(md, "- mask from the means by rows per block: 16: %.3f ms, 32: %.3f ms, 64: %.3f ms (automatic: %.3f ms)\n",
                pt.mask_br[0], pt.mask_br[1], pt.mask_br[2], pt.mask);
        printf("mask from means by block_rows: 16 %.3f ms, 32 %.3f ms, 64 %.3f ms (auto %.3f ms)\n", pt.mask_br[0],
               pt.mask_br[1], pt.mask_br[2], pt.mask);
    }
    fprintf(md, "- radial: static mask built once per shape on the host in %.2f ms (then cached as CSR on the device); "
                "density %.3f\n", t_rmask, (double)rkept / ((double)b.T * b.T));
    printf("radial mask build (host, once per shape): %.2f ms\n", t_rmask);
    fflush(md);
    cudaFree(mg.qbar); cudaFree(mg.kbar); cudaFree(mg.scores); cudaFree(mg.mask); cudaFree(mg.indptr);
    cudaFree(mg.indices); cudaFree(mg.ws);
    cudaFree(mg.fws); cudaFree(mg.findptr); cudaFree(mg.findices);
    cudaFree(b.q); cudaFree(b.k); cudaFree(b.v); cudaFree(b.o);
    free(b.hq); free(b.hk); free(b.hv);
}

#endif   // VDIT_HAVE_CUDA

static int parse_list(const char *s, double *out, int cap) {
    int n = 0;
    const char *p = s;
    while (*p && n < cap) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || v <= 0 || v > 1) return -1;
        out[n++] = v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return n;
}

int main(int argc, char **argv) {
    bench_opts o = {.densities = {0.1, 0.2, 0.3, 0.5, 0.75, 1.0}, .n_dens = 6, .iters = 10, .warmup = 3, .shapes = "1.3b,14b"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--densities") && v) {
            o.n_dens = parse_list(v, o.densities, 16);
            if (o.n_dens <= 0) { fprintf(stderr, "bench_attention: --densities '%s': need values in (0, 1]\n", v); return 2; }
            i++;
        } else if (!strcmp(a, "--iters") && v) { o.iters = atoi(v); i++; }
        else if (!strcmp(a, "--warmup") && v) { o.warmup = atoi(v); i++; }
        else if (!strcmp(a, "--anchor") && v) { o.anchor = v; i++; }
        else if (!strcmp(a, "--results") && v) { o.results = v; i++; }
        else if (!strcmp(a, "--shapes") && v) { o.shapes = v; i++; }
        else if (!strcmp(a, "--shape") && v) {
            bench_shape *c = &o.custom;
            c->label = "custom";
            if (sscanf(v, "%d,%d,%d,%d,%d,%d", &c->B, &c->H, &c->F, &c->Hp, &c->Wp, &c->D) != 6 || c->B < 1 || c->H < 1 ||
                c->F < 1 || c->Hp < 1 || c->Wp < 1 || (c->D != 64 && c->D != 128)) {
                fprintf(stderr, "bench_attention: --shape '%s': need B,H,F,Hp,Wp,D with positive values and D 64 or 128\n", v);
                return 2;
            }
            o.has_custom = 1;
            i++;
        }
        else {
            fprintf(stderr, "usage: bench_attention [--anchor SDPA.json] [--shapes 1.3b,14b | --shape B,H,F,Hp,Wp,D] [--densities 0.1,0.2,...] "
                            "[--iters N] [--warmup N] [--results FILE]\n");
            return 2;
        }
    }
    if (o.iters < 1 || o.warmup < 0) { fprintf(stderr, "bench_attention: --iters >= 1, --warmup >= 0\n"); return 2; }
    int n_shapes = 0;
    for (size_t i = 0; i < sizeof k_shapes / sizeof k_shapes[0]; i++) n_shapes += strstr(o.shapes, k_shapes[i].label) != NULL;
    if (!n_shapes && !o.has_custom) { fprintf(stderr, "bench_attention: --shapes '%s': known shapes are 1.3b and 14b\n", o.shapes); return 2; }
#ifndef VDIT_HAVE_CUDA
    fprintf(stderr, "bench_attention: this build has no CUDA (configure with -DVDIT_CUDA=ON)\n");
    return 1;
#else
    if (!vd_cuda_available()) { fprintf(stderr, "bench_attention: no CUDA device\n"); return 1; }
    vd_cuda_ctx *ctx = NULL;
    OK(vd_cuda_ctx_create(&ctx, 0, err));
    cJSON *anchor = NULL;
    if (o.anchor) {
        FILE *f = fopen(o.anchor, "rb");
        if (!f) { fprintf(stderr, "bench_attention: cannot open anchor '%s'\n", o.anchor); return 1; }
        char buf[1 << 16];
        size_t nread = fread(buf, 1, sizeof buf - 1, f);
        buf[nread] = 0;
        fclose(f);
        anchor = cJSON_Parse(buf);
        if (!anchor) { fprintf(stderr, "bench_attention: anchor '%s' is not JSON\n", o.anchor); return 1; }
    }
    char date[32], path[256], dev[256];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    if (!o.results) {
        snprintf(path, sizeof path, "bench/results/attention_%s.md", date);
        o.results = path;
    }
    FILE *md = fopen(o.results, "a");
    if (!md) { fprintf(stderr, "bench_attention: cannot write '%s' (run from the repository root)\n", o.results); return 1; }
    vd_cuda_describe(ctx, dev, sizeof dev);
    const cJSON *adev = anchor ? cJSON_GetObjectItemCaseSensitive(anchor, "device") : NULL;
    const cJSON *atorch = anchor ? cJSON_GetObjectItemCaseSensitive(anchor, "torch") : NULL;
    fprintf(md, "\n# Attention kernels, %s\n\nDevice: %s. Written by bench/bench_attention (median of %d runs after %d warm-up). "
                "Anchor: %s (torch %s on %s).\nRandom N(0,1) bf16 q/k/v; block-sparse masks are random per head with exactly "
                "round(d*T) 128x128 kv tiles per q tile; radial uses configs/attention/radial.json on the shape's frame grid.\n",
            date, dev, o.iters, o.warmup, o.anchor ? "bench/anchors/attention_sdpa.py, same job" : "none",
            cJSON_IsString(atorch) ? atorch->valuestring : "-", cJSON_IsString(adev) ? adev->valuestring : "-");
    printf("device: %s\n", dev);
    if (o.has_custom) bench_one(ctx, &o.custom, &o, anchor, md);
    else
        for (size_t i = 0; i < sizeof k_shapes / sizeof k_shapes[0]; i++)
            if (strstr(o.shapes, k_shapes[i].label)) bench_one(ctx, &k_shapes[i], &o, anchor, md);
    fclose(md);
    cJSON_Delete(anchor);
    vd_cuda_ctx_free(ctx);
    printf("\nresults appended to %s\n", o.results);
    return 0;
#endif
}
