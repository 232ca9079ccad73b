// Text tokenizer read from a Hugging Face tokenizer.json with a Unigram model (umT5-XXL's
// 256,384-piece file as shipped in the Wan2.1 Diffusers repository, and SentencePiece
// conversions like it). Reproduces the ids of the tokenizers library for:
//   added tokens (matched leftmost-longest on the raw text, or on the normalized text when
//   "normalized": true; lstrip/rstrip honoured) -> normalizer (tokenizer_normalize.h) ->
//   pre-tokenizers WhitespaceSplit / Metaspace (replacement, prepend_scheme always|first|never,
//   split) -> Unigram Viterbi (tokenizer_unigram.h) -> truncation to max_len minus the
//   post-processor's special tokens -> TemplateProcessing ("$A </s>") -> padding to max_len.
// Refused with VD_ERR_UNSUPPORTED at load (never silently approximated): other model types,
// normalizers or pre-tokenizers, single_word added tokens, post-processors other than
// TemplateProcessing.
// Invalid UTF-8 in the input is replaced by U+FFFD (maximal subparts, as Python decodes with
// errors="replace") with a warning; over-long input is truncated with a warning.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dit/tokenizer_normalize.h"
#include "dit/tokenizer_unigram.h"
#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { VD_PRETOK_WHITESPACE_SPLIT = 0, VD_PRETOK_METASPACE, VD_PRETOK_KIND_COUNT } vd_pretok_kind;
typedef enum { VD_PREPEND_ALWAYS = 0, VD_PREPEND_FIRST, VD_PREPEND_NEVER } vd_prepend_scheme;

typedef struct {
    vd_pretok_kind kind;
    char rep[8];          // METASPACE replacement character, UTF-8
    size_t rep_len;
    vd_prepend_scheme prepend;
    bool split;
} vd_pretok_step;

typedef struct {
    char *content;        // UTF-8 (for normalized tokens: the normalized content)
    size_t len;
    int32_t id;
    bool lstrip, rstrip, normalized, special;
} vd_added_token;

typedef struct vd_tokenizer {
    vd_unigram model;
    vd_normalizer norm;
    vd_pretok_step pretok[4];
    int n_pretok;
    vd_added_token *added;
    int n_added;
    int32_t prefix_ids[8], suffix_ids[8];   // post-processor special tokens around $A
    int n_prefix, n_suffix;
    int32_t pad_id;       // -1 when the file names none and there is no "<pad>"
    int32_t vocab_size;   // max(model pieces, added ids + 1)
} vd_tokenizer;

typedef struct {
    int max_len;          // > 0: truncate (keeping room for the special tokens) and, with pad, pad to it
    bool pad;             // pad to max_len with pad_id (mask 0)
    bool add_special;     // apply the post-processor template (umT5: append </s>)
} vd_tokenize_opts;

// Wan defaults: max_len 512, pad, add_special.
void vd_tokenize_opts_init(vd_tokenize_opts *o);

typedef struct {
    int32_t *ids;         // [n]
    int32_t *mask;        // [n] 1 on real tokens (special included), 0 on padding
    int n;                // max_len when padded, else the real count
    int n_real;           // sum(mask)
    int n_before_truncation; // content tokens before truncation (special tokens excluded)
    bool truncated;
    size_t n_invalid_utf8;   // ill-formed subparts replaced by U+FFFD
} vd_tokens;

vd_status vd_tokenizer_load(vd_tokenizer **out, const char *path, vd_error *err);
// Same from JSON text in memory (len bytes).
vd_status vd_tokenizer_load_json(vd_tokenizer **out, const char *json, size_t len, vd_error *err);
void vd_tokenizer_free(vd_tokenizer *t);

vd_status vd_tokenizer_encode(const vd_tokenizer *t, const char *text, size_t len, const vd_tokenize_opts *o,
                              vd_tokens *out, vd_error *err);
void vd_tokens_free(vd_tokens *tk);

// The piece string of an id (model piece or added token), or NULL when out of range.
const char *vd_tokenizer_piece(const vd_tokenizer *t, int32_t id, size_t *len);

#ifdef __cplusplus
}
#endif
