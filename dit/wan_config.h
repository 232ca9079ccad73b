// Wan2.1 DiT configuration (wan21.md sec. 1.1). Read from a diffusers transformer/config.json
// (WanTransformer3DModel keys) or an original Wan config.json (WanModel keys: dim, num_heads,
// in_dim, ...), detected from the weights' names and shapes, and cross-checked: a config that
// disagrees with the weights is an error naming the tensor and both shapes.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int n_layers;        // L (30 for 1.3B, 40 for 14B)
    int n_heads;         // NH
    int head_dim;        // D (128 for both released models)
    int dim;             // C = NH * D
    int ffn_dim;         // FFN hidden width
    int in_channels;     // latent channels in (16)
    int out_channels;    // latent channels out (16)
    int patch[3];        // (pt, ph, pw) = (1, 2, 2)
    int text_dim;        // context width (4096, UMT5-XXL)
    int freq_dim;        // sinusoid width of the time embedding (256)
    float eps;           // every LayerNorm and RMSNorm (1e-6)
    bool cross_attn_norm;// affine LayerNorm before cross-attention (true)
    bool qk_norm;        // RMSNorm across heads on q and k (true; "rms_norm_across_heads")
    int rope_max_seq_len;// per-axis position table length (1024): grid axes must not exceed it
    double rope_theta;   // 10000
} vd_wan_config;

// Zeroes every size (sizes must then come from a config file or the weights) and sets the
// fixed Wan values: patch (1,2,2), eps 1e-6, norms on, rope 1024 / 10000.
void vd_wan_config_init(vd_wan_config *c);
// The two released configs (wan21.md sec. 1.1): "1.3B" and "14B". Returns VD_ERR_INVALID_ARG otherwise.
vd_status vd_wan_config_preset(vd_wan_config *c, const char *name, vd_error *err);
// Parses a config.json text (diffusers or original Wan keys). Missing optional keys keep their init
// values; unsupported variants (I2V image_dim, added_kv_proj_dim, qk_norm other than
// rms_norm_across_heads) return VD_ERR_UNSUPPORTED.
vd_status vd_wan_config_parse_json(vd_wan_config *c, const char *json, const char *what, vd_error *err);
vd_status vd_wan_config_load_json(vd_wan_config *c, const char *path, vd_error *err);
// Range and consistency checks (dim = NH*D, even rope parts, ...).
vd_status vd_wan_config_validate(const vd_wan_config *c, vd_error *err);
// Number of parameters the weights hold for this config.
int64_t vd_wan_config_param_count(const vd_wan_config *c);
// One line: "Wan2.1 DiT: 30 layers, dim 1536 (12 x 128), ffn 8960, in 16, out 16, patch 1x2x2, text 4096, freq 256".
void vd_wan_config_describe(const vd_wan_config *c, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
