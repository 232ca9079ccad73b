// Radial Attention as a method (design/methods/radial.md): config, support check, the mask
// cache, and the CPU path. The mask is static: built once per (F, s, decay, model, tile, d1_half),
// kept as block-CSR in the method state (host, plus a device copy made by radial.cu), and shared
// by every layer, head, batch item, branch and step. Dense calls (step < dense_steps or
// layer < dense_layers, card c.4) run the dense kernel instead of an all-ones mask.
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "attention/radial.h"
#include "attention/radial_state.h"
#include "lib/log.h"

static const char *const k_models[] = {"wan", "hunyuan", NULL};

void vd_radial_cfg_init(vd_radial_cfg *c) {
    memset(c, 0, sizeof *c);
    c->decay = 0.2f;        // scripts/wan_t2v_inference.sh (Wan2.1-14B 1x)
    c->dense_steps = 12;    // of 50; paper's warm-up ablation peaks at 12
    c->dense_layers = 1;
    c->tile = 128;
    c->model = VD_RADIAL_MODEL_WAN;
    c->d1_half = false;     // current Wan rule: |i-j| == 1 pairs are fully kept
}

static void cfg_init(void *c) { vd_radial_cfg_init(c); }

static const vd_attn_param_desc k_params[] = {
    {"decay", VD_ATTN_PARAM_FLOAT, offsetof(vd_radial_cfg, decay), 0.0, 16.0, NULL,
     "band half-width factor lam: w = max(tile, lam * 2^bitlen(s) / 2^bitlen(|i-j|))"},
    {"dense_steps", VD_ATTN_PARAM_INT, offsetof(vd_radial_cfg, dense_steps), 0, 100000, NULL,
     "denoising steps [0, n) run dense attention"},
    {"dense_layers", VD_ATTN_PARAM_INT, offsetof(vd_radial_cfg, dense_layers), 0, 100000, NULL,
     "DiT blocks [0, n) run dense attention"},
    {"tile", VD_ATTN_PARAM_INT, offsetof(vd_radial_cfg, tile), 64, 128, NULL, "mask tile size in tokens (64 or 128)"},
    {"model", VD_ATTN_PARAM_ENUM, offsetof(vd_radial_cfg, model), 0, 0, k_models,
     "wan: key frame 0 is dense (attention sink); hunyuan: no sink"},
    {"d1_half", VD_ATTN_PARAM_BOOL, offsetof(vd_radial_cfg, d1_half), 0, 1, NULL,
     "old Wan rule: half width s/2 for adjacent frames (sparser)"},
};

static vd_status cfg_check(const void *cfg, vd_error *err) {
    const vd_radial_cfg *c = cfg;
    if (c->tile != 64 && c->tile != 128)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "radial: tile=%d, allowed 64 or 128", c->tile);
    return VD_OK;
}

bool vd_radial_is_dense(const vd_radial_cfg *c, const vd_attn_ctx *ctx) {
    return ctx->step < c->dense_steps || ctx->layer < c->dense_layers;
}

static vd_status check(const void *cfg, const vd_attn_params *p, const vd_attn_ctx *c, vd_error *err) {
    VD_TRY(cfg_check(cfg, err));
    const int64_t grid = (int64_t)c->F * c->Hp * c->Wp;
    if (c->F <= 0 || c->Hp <= 0 || c->Wp <= 0 || grid != p->N_q || p->N_q != p->N_kv)
        return vd_error_set(err, VD_ERR_UNSUPPORTED,
                            "radial: needs self-attention over the video grid: F*Hp*Wp = %d*%d*%d = %lld must equal "
                            "N_q=%d and N_kv=%d",
                            c->F, c->Hp, c->Wp, (long long)grid, p->N_q, p->N_kv);
    if (p->device == VD_DEVICE_CUDA) VD_TRY(vd_attn_flash_supports(p, err));
    return VD_OK;
}

static vd_status state_create(void **state, const void *cfg, vd_error *err) {
    vd_radial_state *st = calloc(1, sizeof *st);
    if (!st) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "radial: state");
    *state = st;
    return VD_OK;
}

static void state_drop_mask(vd_radial_state *st) {
    vd_radial_state_free_device(st);
    free(st->indptr);
    free(st->indices);
    st->indptr = st->indices = NULL;
    st->F = st->s = 0;
}

static void state_free(void *state) {
    vd_radial_state *st = state;
    if (!st) return;
    state_drop_mask(st);
    free(st);
}

vd_status vd_radial_state_mask(vd_radial_state *st, const vd_radial_cfg *c, int F, int s, vd_error *err) {
    if (st->indptr && st->F == F && st->s == s && !memcmp(&st->cfg, c, sizeof *c)) return VD_OK;
    state_drop_mask(st);
    const int64_t T = ((int64_t)F * s + c->tile - 1) / c->tile;
    uint8_t *m = malloc((size_t)(T * T));
    st->indptr = malloc(sizeof(int32_t) * (size_t)(T + 1));
    if (!m || !st->indptr) {
        free(m);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "radial: tile mask of %lld x %lld", (long long)T, (long long)T);
    }
    int64_t kept = vd_radial_tile_mask(m, F, s, c);
    st->indices = malloc(sizeof(int32_t) * (size_t)(kept > 0 ? kept : 1));
    if (!st->indices) {
        free(m);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "radial: %lld mask entries", (long long)kept);
    }
    st->nnz = vd_attn_mask_to_csr_cpu(st->indptr, st->indices, m, T, (int)T);
    free(m);
    st->F = F;
    st->s = s;
    st->T = (int)T;
    st->cfg = *c;
    VD_LOGI("radial: mask for F=%d s=%d (decay %.3g, tile %d): %lld of %lld tiles kept (density %.1f%%)", F, s,
            (double)c->decay, c->tile, (long long)st->nnz, (long long)(T * T), 100.0 * st->nnz / (double)(T * T));
    return VD_OK;
}

vd_block_csr vd_radial_state_csr(const vd_radial_state *st, bool device) {
    vd_block_csr m = {.tile_q = st->cfg.tile, .tile_kv = st->cfg.tile, .n_q_tiles = st->T, .n_kv_tiles = st->T,
                      .n_groups = 1};
    m.indptr = device ? st->d_indptr : st->indptr;
    m.indices = device ? st->d_indices : st->indices;
    return m;
}

static vd_status run_cpu(const void *cfg, void *state, const vd_attn_params *p, const vd_attn_ctx *c, void *ws,
                         vd_error *err) {
    const vd_radial_cfg *rc = cfg;
    if (vd_radial_is_dense(rc, c)) return vd_attn_dense_cpu(p, err);
    VD_TRY(vd_radial_state_mask(state, rc, c->F, c->Hp * c->Wp, err));
    vd_block_csr m = vd_radial_state_csr(state, false);
    return vd_attn_block_sparse_cpu(p, &m, NULL, err);
}

const vd_attn_method vd_attn_method_radial = {
    .name = "radial",
    .summary = "Radial Attention: static O(n log n) spatio-temporal tile mask (dense warm-up steps/layers)",
    .cfg_size = sizeof(vd_radial_cfg),
    .cfg_init = cfg_init,
    .params = k_params,
    .n_params = (int)(sizeof k_params / sizeof k_params[0]),
    .cfg_check = cfg_check,
    .check = check,
    .workspace_bytes = NULL,
    .state_create = state_create,
    .state_free = state_free,
    .run_cpu = run_cpu,
    .run_cuda = vd_radial_run_cuda,
};
