// UMT5 encoder (transformers UMT5EncoderModel; Wan2.1's text encoder, umT5-XXL): config
// detected from the weights, weights as views into the mapped safetensors (no copy at load),
// the CPU fp32 forward (the reference), the CUDA bf16 forward, and the Wan text-conditioning
// entry point (tokenize -> encode -> rows past the real length set to zero).
//
// Per layer (pre-norm, no biases anywhere):
//   x += Wo @ Attn(RMSNorm0(x))           attention logits = q.k (NO 1/sqrt(d_kv)) + bias_l[h, i, j]
//   x += wo @ (gelu_tanh(wi_0 h) * wi_1 h),  h = RMSNorm1(x)
// then the final RMSNorm. RMSNorm (T5): x * rsqrt(mean(x^2) + eps) * w, no mean, no bias.
// umT5: EVERY layer has its own relative_attention_bias [n_buckets, n_heads] (T5 shares layer 0's).
// Bucket of rel = key_pos - query_pos (bidirectional): half = n_buckets/2, base = half if rel > 0,
// a = |rel|, exact = half/2; a < exact: base + a; else base + min(half-1, exact +
// trunc(logf(a/exact) / log(max_distance/exact) * (half - exact))), evaluated in fp32 as torch does.
//
// Padding: Wan runs the encoder on all 512 positions with the key mask and zeroes rows past the
// real length. Masked keys get exp(-inf) = 0 weight and the bias depends only on i - j, so the
// real rows equal an encoder run on the real tokens alone: the forwards here take only the
// n_real tokens and the caller zero-fills the rest (vd_umt5_encode_text).
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dit/tokenizer_hf.h"
#include "lib/safetensors.h"
#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int64_t d_model;      // 4096 (XXL)
    int64_t d_kv;         // 64
    int64_t n_heads;      // 64
    int64_t d_ff;         // 10240
    int64_t n_layers;     // 24
    int64_t vocab;        // 256384
    int64_t n_buckets;    // 32
    int64_t max_distance; // 128 (not in the weights: config.json, else 128)
    float eps;            // 1e-6
} vd_umt5_config;

typedef struct {
    const vd_st_tensor *ln0, *q, *k, *v, *o, *rel_bias, *ln1, *wi0, *wi1, *wo;
} vd_umt5_layer;

typedef struct vd_umt5 {
    vd_umt5_config cfg;
    vd_st_set *st;                 // owns the mappings
    const vd_st_tensor *embed;     // [vocab, d_model]
    const vd_st_tensor *final_ln;  // [d_model]
    vd_umt5_layer *layers;         // [n_layers]
    struct vd_umt5_cuda *cuda;     // device copy (bf16), NULL until vd_umt5_cuda_upload
} vd_umt5;

// Opens weights (a .safetensors file, a sharded index, or a directory such as Wan's
// text_encoder/ holding config.json + model-*.safetensors) with HF UMT5 names
// (shared.weight or encoder.embed_tokens.weight, encoder.block.N.layer.{0,1}..., encoder.final_layer_norm.weight).
// Shapes are checked against each other; config.json (same directory) supplies max_distance,
// eps and feed_forward_proj (must be gated-gelu).
vd_status vd_umt5_load(vd_umt5 **out, const char *path, vd_error *err);
void vd_umt5_free(vd_umt5 *m);   // frees the device copy too

// Bucket index for rel = key_pos - query_pos (encoder, bidirectional).
int vd_umt5_bucket(int64_t rel, int64_t n_buckets, int64_t max_distance);

// CPU fp32 forward on n real tokens: out[n, d_model] (last hidden state, final norm applied).
// Weights of any float dtype (F32 used in place, others converted per layer).
vd_status vd_umt5_forward_cpu(const vd_umt5 *m, const int32_t *ids, int n, float *out, vd_error *err);

// CUDA: upload all weights as bf16 (umT5-XXL: 11.4 GB), run, release. forward writes
// out[n, d_model] f32 on the host. Without CUDA in the build: VD_ERR_UNSUPPORTED.
vd_status vd_umt5_cuda_upload(vd_umt5 *m, int device_id, vd_error *err);
vd_status vd_umt5_forward_cuda(vd_umt5 *m, const int32_t *ids, int n, float *out, vd_error *err);
void vd_umt5_cuda_release(vd_umt5 *m);

typedef enum { VD_UMT5_CPU = 0, VD_UMT5_CUDA, VD_UMT5_DEVICE_COUNT } vd_umt5_device;

// Wan text conditioning for n_texts prompts: Wan's prompt_clean (HTML unescaping and whitespace
// collapsing exact; of ftfy only its HTML step and uncurl_quotes, see tokenizer_clean.h), tokenize
// (max_len, pad, </s>), encode the real
// tokens, write out[i] = [max_len, d_model] f32 with rows >= n_real zero. out[i] must hold
// max_len * d_model floats. n_real[i] (may be NULL) receives the real lengths. On CUDA, the
// weights are uploaded once for all prompts and released before returning.
vd_status vd_umt5_encode_texts(vd_umt5 *m, const vd_tokenizer *tok, const char *const *texts, int n_texts,
                               int max_len, vd_umt5_device dev, float **out, int *n_real, vd_error *err);

// The whole text step for a pipeline, one call: resolves `model` (a Wan Diffusers root holding
// text_encoder/ and tokenizer/, or a text_encoder directory, or UMT5 weights; tokenizer_path
// NULL = model/tokenizer/tokenizer.json, model/../tokenizer/tokenizer.json, model/tokenizer.json),
// loads tokenizer and encoder, encodes n_texts prompts (vd_umt5_encode_texts), and frees the
// encoder (host and device) before returning, so the DiT gets the memory. out[i] receives a
// malloc'ed [max_len, d_model] f32 array, ids[i] (ids may be NULL) a malloc'ed [max_len] i32 array
// of padded token ids; the caller frees them. *d_model (may be NULL) receives the width.
vd_status vd_wan_text_encode(const char *model, const char *tokenizer_path, const char *const *texts, int n_texts,
                             int max_len, vd_umt5_device dev, float **out, int *n_real, int32_t **ids,
                             int64_t *d_model, vd_error *err);

#ifdef __cplusplus
}
#endif
