// Internal pieces of the CPU Wan forward (wan_embed.c, wan_block.c, wan_head.c), one sample at a
// time. Not a public API: wan_dit.h is. Shapes: N tokens, C = dim, Lt text rows.
#pragma once
#include <stdint.h>

#include "dit/wan_attention.h"
#include "dit/wan_weights.h"

// Scratch for one sample, sized by vd_wan_cpu_ws_alloc for (N, Lt).
typedef struct {
    int64_t N, Lt;
    float *x;      // [N, C] residual stream
    float *h;      // [N, C] normed/modulated input of a branch
    float *q, *k, *v, *o; // [N, C] each (q/k/v/o of self-attention; q/o reused by cross-attention)
    float *ffn;    // [N, max(ffn_dim, Cin*P, Cout*P)] FFN hidden, patch tokens, head output
    float *ctx;    // [Lt, C] embedded text
    float *ctx_h;  // [Lt, C] text MLP hidden
    float *ck, *cv;// [Lt, C] cross-attention keys/values
    float *e;      // [C] time embedding (temb)
    float *e6;     // [6C] time projection
    float *mod;    // [6C] block modulation = table + e6
    float *sin;    // [freq_dim] sinusoid; [C] scratch after
    float *tmp;    // [C]
    void *attn_ws; // self-attention method workspace (grown on demand)
    size_t attn_ws_bytes;
} vd_wan_cpu_ws;

vd_status vd_wan_cpu_ws_alloc(vd_wan_cpu_ws *ws, const vd_wan_config *c, int64_t N, int64_t Lt, vd_error *err);
void vd_wan_cpu_ws_free(vd_wan_cpu_ws *ws);

// e [C] = Lin2(SiLU(Lin1(sinusoid(t)))); e6 [6C] = Lin_proj(SiLU(e)).
void vd_wan_time_embed_cpu(const vd_wan_weights *w, float t, vd_wan_cpu_ws *ws);
// ws->ctx [Lt, C] = Lin_b(gelu_tanh(Lin_a(context [Lt, text_dim]))).
void vd_wan_text_embed_cpu(const vd_wan_weights *w, const float *context, vd_wan_cpu_ws *ws);
// ws->x [N, C] = conv3d patch embedding of latent [Cin, F, H, W] (patchify + GEMM).
vd_status vd_wan_patch_embed_cpu(const vd_wan_weights *w, const float *latent, int64_t F, int64_t H, int64_t W,
                                 vd_wan_cpu_ws *ws, vd_error *err);
// One transformer block, in place on ws->x. call: method, step, branch, grid filled by the caller;
// the block sets ctx.layer.
vd_status vd_wan_block_cpu(const vd_wan_weights *w, int layer, vd_wan_cpu_ws *ws, const vd_wan_attn_call *call,
                           vd_error *err);
// Output head + unpatchify: out [Cout, F, H, W] from ws->x and ws->e.
void vd_wan_head_cpu(const vd_wan_weights *w, int64_t Fp, int64_t Hp, int64_t Wp, vd_wan_cpu_ws *ws, float *out);
