// The DiT's single seam to attention. Every self- and cross-attention call of the Wan blocks goes
// through these two functions, which call the attention layer (attention/attention.h): the
// self-attention call carries the per-call context (layer, step, branch, token grid F x Hp x Wp)
// and goes through a configured method when one is given (sparse methods plug in here without
// touching the rest of dit/); cross-attention to the text rows is always dense.
//
// Layout: q [B, Nq, NH, D], k and v [B, Nk, NH, D], o [B, Nq, NH, D], contiguous; scale 1/sqrt(D);
// no mask (Wan attends bidirectionally over all tokens and over all text rows).
// CPU buffers are f32; CUDA buffers are bf16 device pointers (fp32 softmax/accumulation inside).
#pragma once
#include <stdint.h>

#include "attention/attention.h"
#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// One attention call. method: a configured attention method for self-attention, NULL = dense.
typedef struct {
    vd_attn *method;     // borrowed; NULL: dense (vd_attn_dense_cpu / vd_attn_dense_cuda)
    vd_attn_ctx ctx;     // layer, step, branch, grid (self-attention)
    void *ws;            // method workspace (host for CPU, device for CUDA), >= ws_bytes
    size_t ws_bytes;
    void *stream;        // CUDA stream (cudaStream_t), NULL on CPU
} vd_wan_attn_call;

// Self-attention over the token grid: Nq = Nk = F*Hp*Wp. device: where q/k/v/o live.
vd_status vd_wan_self_attention(const vd_wan_attn_call *call, vd_device_kind device, void *o, const void *q,
                                const void *k, const void *v, int64_t B, int64_t N, int64_t NH, int64_t D, vd_error *err);
// Cross-attention of Nq video tokens to Nk text rows (dense).
vd_status vd_wan_cross_attention(const vd_wan_attn_call *call, vd_device_kind device, void *o, const void *q,
                                 const void *k, const void *v, int64_t B, int64_t Nq, int64_t Nk, int64_t NH, int64_t D,
                                 vd_error *err);
// Bytes of workspace the self-attention method needs for this call (0 for dense).
size_t vd_wan_self_attention_ws(const vd_wan_attn_call *call, vd_device_kind device, int64_t B, int64_t N, int64_t NH,
                                int64_t D);

#ifdef __cplusplus
}
#endif
