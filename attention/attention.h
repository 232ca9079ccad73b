// The attention interface: one params struct with explicit strides, one per-call context, a
// method table (check -> workspace -> run) and the shared kernels every method composes.
//
// Layout (the DiT's): q [B, N_q, NH, D], k/v [B, N_kv, NKV, D], o [B, N_q, NH, D]; the last dim
// is contiguous and the other three strides are given in elements. CPU buffers are f32 (the
// reference); CUDA buffers are bf16 (uint16_t bit patterns) with fp32 accumulation inside.
// Optional LSE and per-row scale are f32 [B, NH, N_q], contiguous, natural-log LSE.
// Grouped-query attention: NKV divides NH; query head h reads kv head h / (NH / NKV).
//
// Tokens of a self-attention call are the video grid F x Hp x Wp, frame-major, raster order
// inside a frame: n = (f * Hp + y) * Wp + x (lib/shapes.h).
//
// Lifecycle of a configured method (vd_attn):
//   vd_attn_create(&a, "radial", err);                 defaults (vd_<method>_cfg_init)
//   vd_attn_load_preset(a, "configs/attention/radial.json", err);   preset (optional)
//   vd_attn_set(a, "dense_steps=8", err);              CLI overrides (optional, any number)
//   per call: vd_attn_check -> vd_attn_workspace_bytes -> vd_attn_run
//   vd_attn_reset(a) between generations (drops per-layer state), vd_attn_free(a) at the end.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/status.h"
#include "lib/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- per-call data --------------------------------------------------------------------------

// CFG branch of a call. VD_ATTN_BOTH: the call batches both branches, items [0, B/2) cond and
// [B/2, B) uncond (methods that keep per-branch state split the batch).
typedef enum { VD_ATTN_COND = 0, VD_ATTN_UNCOND, VD_ATTN_BOTH, VD_ATTN_BRANCH_COUNT } vd_attn_branch;
const char *vd_attn_branch_name(vd_attn_branch b); // "cond" | "uncond" | "both"

// The tensors of one attention call. Pointers are borrowed (owned by the caller).
typedef struct {
    vd_device_kind device;      // CPU: f32 buffers; CUDA: bf16 device buffers
    const void *q, *k, *v;      // [B, N_q, NH, D], [B, N_kv, NKV, D], [B, N_kv, NKV, D]
    void *o;                    // [B, N_q, NH, D]
    int64_t q_sb, q_sn, q_sh;   // strides (elements) per batch, token, head; last dim stride 1
    int64_t k_sb, k_sn, k_sh;
    int64_t v_sb, v_sn, v_sh;
    int64_t o_sb, o_sn, o_sh;
    int B, N_q, N_kv, NH, NKV, D;
    float scale;                // softmax scale, usually 1/sqrt(D)
    float *lse;                 // (optional) out: [B, NH, N_q] f32, log sum_j exp(scale*q.k_j); NULL: none
    const float *row_scale;     // (optional) in: [B, NH, N_q] f32, multiplies each output row; NULL: none
} vd_attn_params;

// Fills p for contiguous [B, N, heads, D] tensors (strides from the shape), scale 1/sqrt(D),
// no LSE, no row scale.
void vd_attn_params_contiguous(vd_attn_params *p, vd_device_kind dev, const void *q, const void *k,
                               const void *v, void *o, int B, int N_q, int N_kv, int NH, int NKV, int D);

// Where the call sits in the generation. Self-attention: F * Hp * Wp == N_q == N_kv.
typedef struct {
    int layer, n_layers;        // DiT block index in [0, n_layers)
    int step, n_steps;          // denoising step index in [0, n_steps), counted from 0
    float timestep;             // the scheduler's timestep value (e.g. 999 .. 0)
    vd_attn_branch branch;      // CFG branch of this call
    int F, Hp, Wp;              // token grid
    // (optional) method weights of this layer loaded with the checkpoint (e.g. SLA's proj
    // [D, D] + bias [D]), borrowed; NULL for training-free methods.
    const vd_tensor *layer_weights;
    int n_layer_weights;
} vd_attn_ctx;

// ---- method configuration ------------------------------------------------------------------

typedef enum {
    VD_ATTN_PARAM_INT = 0,
    VD_ATTN_PARAM_FLOAT,
    VD_ATTN_PARAM_BOOL,
    VD_ATTN_PARAM_ENUM,
    VD_ATTN_PARAM_STRING,
} vd_attn_param_type;

#define VD_ATTN_STRING_CAP 256   // bytes of a STRING field (char[VD_ATTN_STRING_CAP]), e.g. a search-table path

// One typed config field of a method; drives JSON presets, key=value overrides and
// `vdit attention list`. INT fields are int, FLOAT float, BOOL bool, ENUM int (index in
// choices), STRING char[VD_ATTN_STRING_CAP].
typedef struct {
    const char *name;
    vd_attn_param_type type;
    size_t offset;              // offsetof(<method cfg struct>, field)
    double min, max;            // allowed range (INT, FLOAT)
    const char *const *choices; // ENUM: NULL-terminated names
    const char *help;
} vd_attn_param_desc;

// A method is a table of functions. Members marked (optional) may be NULL.
// cfg: the method's typed config struct (cfg_size bytes); state: its persistent state (below).
typedef struct vd_attn_method {
    const char *name;           // "dense", "radial", ...
    const char *summary;        // one line for `vdit attention list`
    size_t cfg_size;
    void (*cfg_init)(void *cfg);                                     // defaults
    const vd_attn_param_desc *params;
    int n_params;
    vd_status (*cfg_check)(const void *cfg, vd_error *err);          // (optional) cross-field checks
    // Support check: VD_ERR_UNSUPPORTED / VD_ERR_INVALID_ARG with the reason, else VD_OK.
    vd_status (*check)(const void *cfg, const vd_attn_params *p, const vd_attn_ctx *c, vd_error *err);
    // (optional) scratch for one call, on p->device (host bytes for CPU, device bytes for CUDA).
    size_t (*workspace_bytes)(const void *cfg, const vd_attn_params *p, const vd_attn_ctx *c);
    // (optional) persistent state of one generation: per-layer / per-branch data and shape caches.
    // The method owns it; it lives from the first run until vd_attn_reset / vd_attn_free.
    vd_status (*state_create)(void **state, const void *cfg, vd_error *err);
    void (*state_free)(void *state);
    // CPU reference (required): f32 buffers.
    vd_status (*run_cpu)(const void *cfg, void *state, const vd_attn_params *p, const vd_attn_ctx *c,
                         void *ws, vd_error *err);
    // (optional) CUDA path: bf16 device buffers; stream is a cudaStream_t (NULL: default stream).
    vd_status (*run_cuda)(const void *cfg, void *state, const vd_attn_params *p, const vd_attn_ctx *c,
                          void *ws, void *stream, vd_error *err);
} vd_attn_method;

// ---- registry ------------------------------------------------------------------------------

int vd_attn_method_count(void);
const vd_attn_method *vd_attn_method_at(int i);
const vd_attn_method *vd_attn_method_find(const char *name); // NULL when unknown
// The one selector for support queries and dispatch: the method `name` if it supports this
// call, else VD_ERR_UNSUPPORTED with its reason. name "auto" picks "dense" (logged once).
vd_status vd_attn_select(const char *name, const vd_attn_params *p, const vd_attn_ctx *c,
                         const vd_attn_method **out, vd_error *err);

// ---- a configured method (config + state), one per generation pipeline ----------------------

typedef struct vd_attn vd_attn;

vd_status vd_attn_create(vd_attn **out, const char *method, vd_error *err);
// Reads a preset: {"method": "<name>", "params": {"key": value, ...}} (method must match; params
// may also sit at top level). Unknown keys and out-of-range values are errors naming the file.
vd_status vd_attn_load_preset(vd_attn *a, const char *json_path, vd_error *err);
// Same, from a JSON string (tests, embedded presets). `what` names the source in messages.
vd_status vd_attn_load_json(vd_attn *a, const char *json_text, const char *what, vd_error *err);
// One override "key=value" (bool: true/false/1/0; enum: one of its names).
vd_status vd_attn_set(vd_attn *a, const char *key_eq_value, vd_error *err);
const vd_attn_method *vd_attn_get_method(const vd_attn *a);
const void *vd_attn_get_cfg(const vd_attn *a);
// Prints "name = value" lines of the effective config.
void vd_attn_print_config(const vd_attn *a, FILE *f);
// Formats one param's value from a cfg struct ("0.2", "true", "wan").
void vd_attn_param_format(const vd_attn_param_desc *d, const void *cfg, char *buf, size_t cap);

vd_status vd_attn_check(const vd_attn *a, const vd_attn_params *p, const vd_attn_ctx *c, vd_error *err);
size_t vd_attn_workspace_bytes(const vd_attn *a, const vd_attn_params *p, const vd_attn_ctx *c);
// Runs on p->device: checks, creates state on first use, then run_cpu or run_cuda.
// ws: vd_attn_workspace_bytes() bytes on p->device (may be NULL when that is 0).
vd_status vd_attn_run(vd_attn *a, const vd_attn_params *p, const vd_attn_ctx *c, void *ws, void *stream,
                      vd_error *err);
void vd_attn_reset(vd_attn *a);  // end of a generation: frees the state (next run recreates it)
void vd_attn_free(vd_attn *a);

// ---- shared kernels: dense attention --------------------------------------------------------

// o = softmax(scale * q k^T) v (per row scaled by row_scale when set), LSE when p->lse != NULL.
// CPU reference (f32, double accumulation of the softmax sums).
vd_status vd_attn_dense_cpu(const vd_attn_params *p, vd_error *err);
// CUDA flash attention: bf16 in/out, fp32 accumulate, D in {64, 128}, any N.
vd_status vd_attn_dense_cuda(const vd_attn_params *p, void *stream, vd_error *err);
// Why the CUDA kernels cannot take p (D, alignment, sizes); VD_OK when they can.
vd_status vd_attn_flash_supports(const vd_attn_params *p, vd_error *err);

// ---- shared kernels: block-sparse attention -------------------------------------------------

// Block-CSR list of kv tiles per (group, q tile). Row r = g * n_q_tiles + qt lists the kv tiles
// (ascending) that q tile qt of group g attends to. Groups: n_groups == 1 (all batch items and
// heads share the mask), NH (per head), or B * NH (g = b * NH + h). A row with no tiles gives
// output 0 and LSE -inf. Keys past N_kv inside the last tile are masked out.
typedef struct {
    int tile_q, tile_kv;        // tokens per tile; CUDA: tile_q in {64, 128}, tile_kv in {64, 128}
    int n_q_tiles, n_kv_tiles;  // ceil(N_q / tile_q), ceil(N_kv / tile_kv)
    int n_groups;
    const int32_t *indptr;      // [n_groups * n_q_tiles + 1]  (device memory for CUDA calls)
    const int32_t *indices;     // [indptr[last]]
} vd_block_csr;

// Exact token predicate inside kept tiles: a 3D window (NATTEN neighbourhood semantics,
// stride 1, no dilation). The predicate has its own view of the token index
// n = (t * grid[1] + y) * grid[2] + x, so 1D bands and per-frame raster bands fit too
// (grid = {1, 1, N} or {F, 1, Hp*Wp}). Per dim: left = size/2, right = size - 1 - left.
// inward: the window centre is clamped into [left, X-1-right] (every query sees exactly `size`
// keys; NA / FreeSwim); otherwise the window [x-left, x+right] is truncated at the borders.
// size >= X means no restriction along that dim.
typedef struct {
    int grid[3];
    int size[3];
    bool inward;
} vd_attn_window;

bool vd_attn_window_allows(const vd_attn_window *w, int64_t q_token, int64_t k_token);

// CPU reference: expands the CSR (and window) into a token mask and calls the masked reference.
vd_status vd_attn_block_sparse_cpu(const vd_attn_params *p, const vd_block_csr *m, const vd_attn_window *win,
                                   vd_error *err);
vd_status vd_attn_block_sparse_cuda(const vd_attn_params *p, const vd_block_csr *m, const vd_attn_window *win,
                                    void *stream, vd_error *err);
vd_status vd_block_csr_check(const vd_block_csr *m, const vd_attn_params *p, bool check_indices, vd_error *err);

// Masked dense reference, the single CPU oracle (attention_ref.c). mask(ctx, b, h, i, j) says
// whether query i may see key j (NULL: all). Rows with no allowed key give 0 and LSE -inf.
typedef bool (*vd_attn_mask_fn)(const void *mctx, int b, int h, int64_t i, int64_t j);
vd_status vd_attn_masked_ref_cpu(const vd_attn_params *p, vd_attn_mask_fn mask, const void *mctx, vd_error *err);

// ---- shared kernels: mask building (CPU reference + CUDA) ----------------------------------

// Mean of x over each tile of `tile` consecutive tokens (a partial last tile divides by its
// real count): x [B, N, H, D] (strides sb, sn, sh) -> out [B, H, T, D] f32, T = ceil(N / tile).
void vd_attn_pool_tiles_cpu(float *out, const float *x, int64_t sb, int64_t sn, int64_t sh, int B, int N,
                            int H, int D, int tile);
vd_status vd_attn_pool_tiles_cuda(float *out, const uint16_t *x_bf16, int64_t sb, int64_t sn, int64_t sh,
                                  int B, int N, int H, int D, int tile, void *stream, vd_error *err);

// Block scores s [B, NH, Tq, Tk] = scale * qbar[b, h, i] . kbar[b, h / (NH/NKV), j];
// softmax_rows: a row softmax afterwards (DraftAttention's draft map).
void vd_attn_block_scores_cpu(float *s, const float *qbar, const float *kbar, int B, int NH, int NKV, int Tq,
                              int Tk, int D, float scale, bool softmax_rows);
vd_status vd_attn_block_scores_cuda(float *s, const float *qbar, const float *kbar, int B, int NH, int NKV,
                                    int Tq, int Tk, int D, float scale, bool softmax_rows, void *stream,
                                    vd_error *err);

// Per-row top-k of scores [R, C] -> mask [R, C] (1 = keep). Ties: the lower column wins.
// k is clamped to [0, C]. CUDA: C <= 4096.
void vd_attn_topk_rows_cpu(uint8_t *mask, const float *scores, int64_t R, int C, int k);
vd_status vd_attn_topk_rows_cuda(uint8_t *mask, const float *scores, int64_t R, int C, int k, void *stream,
                                 vd_error *err);

// Head-global cumulative threshold: scores [G, R, C] >= 0 (a mass per block). Per group g,
// t_g = the largest value t with sum_{x >= t} x >= tau * sum x; keep every entry >= t_g (ties
// included; the shortest descending prefix reaching tau, as in VMoBA). tau in [0, 1];
// tau = 0 keeps the single largest entry (and its ties). Mask [G, R, C].
void vd_attn_cumthresh_cpu(uint8_t *mask, const float *scores, int G, int64_t R, int64_t C, float tau);
// ws: vd_attn_cumthresh_cuda_ws_bytes(G) bytes of device memory.
size_t vd_attn_cumthresh_cuda_ws_bytes(int G);
vd_status vd_attn_cumthresh_cuda(uint8_t *mask, const float *scores, int G, int64_t R, int64_t C, float tau,
                                 void *ws, void *stream, vd_error *err);

// Head-global top-k by value: scores [G, n]; per group keep every entry >= the k-th largest
// value (ties included, so possibly more than k; DraftAttention's per-head draft-map select).
// k is clamped to [0, n]; k = 0 keeps nothing. Any finite values (negative too).
void vd_attn_topk_global_cpu(uint8_t *mask, const float *scores, int G, int64_t n, int64_t k);
size_t vd_attn_topk_global_cuda_ws_bytes(int G);
vd_status vd_attn_topk_global_cuda(uint8_t *mask, const float *scores, int G, int64_t n, int64_t k, void *ws,
                                   void *stream, vd_error *err);

// Dense tile mask [rows, C] -> CSR (indptr [rows + 1], indices ascending). Returns nnz (CPU).
// CUDA: indices must hold rows * C entries (worst case); ws: vd_attn_mask_to_csr_cuda_ws_bytes.
int64_t vd_attn_mask_to_csr_cpu(int32_t *indptr, int32_t *indices, const uint8_t *mask, int64_t rows, int C);
size_t vd_attn_mask_to_csr_cuda_ws_bytes(int64_t rows);
vd_status vd_attn_mask_to_csr_cuda(int32_t *indptr, int32_t *indices, const uint8_t *mask, int64_t rows, int C,
                                   void *ws, void *stream, vd_error *err);

// Token permutation for methods that regroup tokens: out[b, i] = x[b, idx[i]] (gather) or
// out[b, idx[i]] = x[b, i] (scatter), rows of `row` contiguous elements, token stride = row,
// batch stride = N * row. idx is a permutation of [0, N).
void vd_attn_gather_tokens_cpu(float *out, const float *x, const int32_t *idx, int B, int64_t N, int64_t row);
void vd_attn_scatter_tokens_cpu(float *out, const float *x, const int32_t *idx, int B, int64_t N, int64_t row);
vd_status vd_attn_gather_tokens_cuda(uint16_t *out, const uint16_t *x, const int32_t *idx, int B, int64_t N,
                                     int64_t row, void *stream, vd_error *err);
vd_status vd_attn_scatter_tokens_cuda(uint16_t *out, const uint16_t *x, const int32_t *idx, int B, int64_t N,
                                      int64_t row, void *stream, vd_error *err);

#ifdef __cplusplus
}
#endif
