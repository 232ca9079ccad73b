// Radial Attention (design/methods/radial.md): a static O(n log n) spatio-temporal tile mask,
// built from (F, tokens per frame) by the reference-code rule (card c.2), once per shape, and
// run with the block-sparse kernel. Dense for the first dense_steps steps and dense_layers layers.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "attention/attention.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { VD_RADIAL_MODEL_WAN = 0, VD_RADIAL_MODEL_HUNYUAN, VD_RADIAL_MODEL_COUNT } vd_radial_model;

typedef struct {
    float decay;          // lam (decay_factor): band half-width = max(tile, lam * P / 2^bitlen(d))
    int dense_steps;      // steps [0, dense_steps) run dense
    int dense_layers;     // layers [0, dense_layers) run dense
    int tile;             // tile size of the mask (tokens), 64 or 128
    int model;            // vd_radial_model: wan keeps key frame 0 dense (attention sink)
    bool d1_half;         // old Wan rule (before Nov 2025): half width s/2 at |i-j| == 1
} vd_radial_cfg;

void vd_radial_cfg_init(vd_radial_cfg *c); // Wan2.1 defaults: decay 0.2, 12 dense steps, 1 dense layer, tile 128

// The tile mask for F frames of s tokens: mask [T, T] (1 = keep), T = ceil(F*s / tile).
// Row = query tile, column = key tile. Partial tiles are treated as normal tiles (card c.6:
// the canvas uses ceil). Returns the number of kept tiles.
int64_t vd_radial_tile_mask(uint8_t *mask, int F, int s, const vd_radial_cfg *c);
// Kept-tile fraction of that mask (allocates a T x T scratch).
double vd_radial_density(int F, int s, const vd_radial_cfg *c);
// True when the call (step, layer) runs dense under c (card c.4).
bool vd_radial_is_dense(const vd_radial_cfg *c, const vd_attn_ctx *ctx);

extern const vd_attn_method vd_attn_method_radial;
extern const vd_attn_method vd_attn_method_dense;

#ifdef __cplusplus
}
#endif
