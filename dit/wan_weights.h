// Wan2.1 DiT weights: the tensor table for a config (names in both checkpoint layouts, expected
// shapes, which tensors are GEMM weights), layout detection from key names, config detection
// from shapes, and the CPU fp32 loader. Key map: wan21.md sec. 2.1/2.2.
//
// Layouts:
//   diffusers: blocks.N.attn1.to_q.weight, condition_embedder.time_embedder.linear_1.weight, ...
//   orig:      blocks.N.self_attn.q.weight, time_embedding.0.weight, ... (Wan-Video, ComfyUI; an
//              optional "model.diffusion_model." prefix is stripped). Naming trap: orig norm3 is the
//              cross-attention LayerNorm that diffusers calls norm2.
#pragma once
#include <stdint.h>

#include "dit/wan_config.h"
#include "lib/safetensors.h"
#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { VD_WAN_LAYOUT_DIFFUSERS = 0, VD_WAN_LAYOUT_ORIG, VD_WAN_LAYOUT_COUNT } vd_wan_layout;
const char *vd_wan_layout_name(vd_wan_layout l); // "diffusers" | "orig"

// Tensor roles. Block tensors (first group) exist once per layer; the rest once per model.
typedef enum {
    VD_WAN_B_MOD = 0,                      // [6, C] modulation table (stored [1, 6, C])
    VD_WAN_B_SA_QW, VD_WAN_B_SA_QB, VD_WAN_B_SA_KW, VD_WAN_B_SA_KB,
    VD_WAN_B_SA_VW, VD_WAN_B_SA_VB, VD_WAN_B_SA_OW, VD_WAN_B_SA_OB,
    VD_WAN_B_SA_NQ, VD_WAN_B_SA_NK,        // [C] RMSNorm weights (across heads)
    VD_WAN_B_CN_W, VD_WAN_B_CN_B,          // [C] cross-attention LayerNorm (absent when !cross_attn_norm)
    VD_WAN_B_CA_QW, VD_WAN_B_CA_QB, VD_WAN_B_CA_KW, VD_WAN_B_CA_KB,
    VD_WAN_B_CA_VW, VD_WAN_B_CA_VB, VD_WAN_B_CA_OW, VD_WAN_B_CA_OB,
    VD_WAN_B_CA_NQ, VD_WAN_B_CA_NK,
    VD_WAN_B_FF1_W, VD_WAN_B_FF1_B,        // [ffn, C], [ffn]
    VD_WAN_B_FF2_W, VD_WAN_B_FF2_B,        // [C, ffn], [C]
    VD_WAN_BLOCK_COUNT,
} vd_wan_block_tensor;

typedef enum {
    VD_WAN_PATCH_W = 0, VD_WAN_PATCH_B,    // [C, Cin, pt, ph, pw], [C]
    VD_WAN_TEXT1_W, VD_WAN_TEXT1_B,        // [C, text_dim]
    VD_WAN_TEXT2_W, VD_WAN_TEXT2_B,        // [C, C]
    VD_WAN_TIME1_W, VD_WAN_TIME1_B,        // [C, freq_dim]
    VD_WAN_TIME2_W, VD_WAN_TIME2_B,        // [C, C]
    VD_WAN_TPROJ_W, VD_WAN_TPROJ_B,        // [6C, C]
    VD_WAN_HEAD_W, VD_WAN_HEAD_B,          // [Cout*pt*ph*pw, C]
    VD_WAN_HEAD_MOD,                       // [2, C] (stored [1, 2, C])
    VD_WAN_TOP_COUNT,
} vd_wan_top_tensor;

// One expected tensor: its name in the chosen layout and its expected shape.
typedef struct {
    char name[96];
    int block;         // layer index, or -1 for top-level tensors
    int role;          // vd_wan_block_tensor or vd_wan_top_tensor
    int ndim;
    int64_t shape[5];
    bool gemm;         // a Linear/conv weight used as a GEMM operand (bf16 on CUDA); else fp32 param
} vd_wan_tensor_spec;

// Number of specs for this config (top-level + layers x per-block; cross-attn LN omitted when off).
int vd_wan_spec_count(const vd_wan_config *c);
// Fills specs[i] for i < vd_wan_spec_count(c).
void vd_wan_spec_fill(const vd_wan_config *c, vd_wan_layout layout, vd_wan_tensor_spec *specs);

// Layout detection from the key names (with or without a "model.diffusion_model." prefix).
// VD_ERR_FORMAT naming a few keys when neither layout's marker tensors are present.
vd_status vd_wan_detect_layout(const vd_st_set *set, vd_wan_layout *layout, const char **prefix, vd_error *err);
// Finds a tensor by its layout name under the detected prefix.
const vd_st_tensor *vd_wan_find(const vd_st_set *set, const char *prefix, const char *name);

// Fills every size the weights determine (dim, in/out channels, patch, text_dim, freq_dim, ffn_dim,
// layers, cross_attn_norm). Head count is not in the weights: when cfg->n_heads == 0 it is taken
// as dim / 128 (both released models use head_dim 128). When cfg already has a value that the
// weights contradict, VD_ERR_INVALID_ARG names the tensor, the expected and the found shapes.
vd_status vd_wan_config_from_weights(vd_wan_config *cfg, const vd_st_set *set, vd_wan_layout layout,
                                     const char *prefix, vd_error *err);

// Opens a model: `path` is a directory (config.json optional, safetensors file(s) or an index),
// a .safetensors file, or an index json. Detects the layout, reads config.json when present
// (next to the weights), cross-checks it with the weights and validates it.
typedef struct {
    vd_st_set *set;
    vd_wan_config config;
    vd_wan_layout layout;
    const char *prefix;     // "" or "model.diffusion_model."
    bool have_config_json;
} vd_wan_model_files;
vd_status vd_wan_model_open(vd_wan_model_files *m, const char *path, vd_error *err);
void vd_wan_model_close(vd_wan_model_files *m);
// Checks every spec tensor exists with its exact shape (leading 1s of [1,6,C] tables allowed) and
// reports extra tensors the model does not use as an error (mismatched checkpoint).
vd_status vd_wan_model_check(const vd_wan_model_files *m, vd_error *err);

// CPU fp32 weights: one host allocation, pointers into it.
typedef struct {
    vd_wan_config config;
    float *top[VD_WAN_TOP_COUNT];
    float *(*blocks)[VD_WAN_BLOCK_COUNT]; // [n_layers][VD_WAN_BLOCK_COUNT]; unused roles are NULL
    float *storage;
    int64_t n_floats;
} vd_wan_weights;

vd_status vd_wan_weights_load_cpu(vd_wan_weights *w, const vd_wan_model_files *m, vd_error *err);
void vd_wan_weights_free(vd_wan_weights *w);

#ifdef __cplusplus
}
#endif
