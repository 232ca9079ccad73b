// The normalizers of a Hugging Face tokenizer.json that SentencePiece-derived files use,
// applied as the tokenizers library applies them (only the resulting text matters here;
// alignments are not tracked):
//   Sequence, Precompiled (SentencePiece charsmap, grapheme by grapheme: a grapheme shorter than
//   6 bytes is replaced whole by the rule of the SHORTEST charsmap key that is a prefix of it;
//   otherwise each code point is looked up alone), Replace (a literal, or a regex made of one
//   literal code point with a repeat such as " {2,}"), Strip (White_Space), Prepend.
// Anything else (NFKC, NFC, Lowercase, other regexes, ...) is refused at load time with
// VD_ERR_UNSUPPORTED: ids would silently differ from the reference otherwise.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "dit/tokenizer_charsmap.h"
#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { VD_NORM_PRECOMPILED = 0, VD_NORM_REPLACE, VD_NORM_STRIP, VD_NORM_PREPEND, VD_NORM_KIND_COUNT } vd_norm_kind;

typedef struct {
    vd_norm_kind kind;
    vd_charsmap cm;          // PRECOMPILED
    char *pat;               // REPLACE: the literal, or the repeated code point (UTF-8)
    size_t pat_len;
    bool repeat;             // REPLACE: pat repeated rep_min..rep_max times (rep_max < 0: unbounded)
    int rep_min, rep_max;
    char *content;           // REPLACE content / PREPEND string
    size_t content_len;
    bool strip_left, strip_right; // STRIP
} vd_norm_step;

typedef struct {
    vd_norm_step *steps;
    int n_steps;
} vd_normalizer;

// j: the "normalizer" JSON value (NULL or JSON null: no normalization).
vd_status vd_normalizer_from_json(vd_normalizer *nz, const cJSON *j, vd_error *err);
void vd_normalizer_free(vd_normalizer *nz);
// Normalizes well-formed UTF-8 in[0..len) into *out (malloc'ed, NUL-terminated, *out_len bytes).
// origin (may be NULL): cleared when the first output character no longer aligns with the first
// input byte in tokenizers' alignment bookkeeping (Replace of a multi-character match or by an
// empty content at the start, Strip of leading whitespace); Metaspace prepend_scheme "first" depends on it.
vd_status vd_normalizer_apply(const vd_normalizer *nz, const char *in, size_t len, char **out, size_t *out_len,
                              bool *origin, vd_error *err);

#ifdef __cplusplus
}
#endif
