// Fast path for the big part of a tokenizer.json: the Unigram vocab ([[piece, score], ...],
// 256,384 entries / ~15 MB for umT5). cJSON builds three nodes per entry and takes ~0.7 s on
// a loaded 2-core machine; this scanner reads the array straight into the model in ~0.1 s,
// and the rest of the document (with the vocab cut out) still goes through cJSON.
#pragma once
#include <stddef.h>

#include "dit/tokenizer_unigram.h"
#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// Byte range [*a, *b) of the value of the top-level "model" object's "vocab" key.
// Returns 0 when found, -1 when absent or when the text is not well-formed enough to tell.
int vd_json_find_model_vocab(const char *s, size_t n, size_t *a, size_t *b);

// Parses s[0..n) = [[string, number], ...] into m (vd_unigram_init + vd_unigram_add).
// VD_ERR_FORMAT names the entry and byte offset of the first problem.
vd_status vd_json_parse_vocab(const char *s, size_t n, vd_unigram *m, vd_error *err);

#ifdef __cplusplus
}
#endif
