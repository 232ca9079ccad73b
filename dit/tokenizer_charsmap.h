// SentencePiece "precompiled_charsmap": the normalization rules of a SentencePiece model, as
// embedded (base64) in a Hugging Face tokenizer.json Precompiled normalizer.
// Blob layout (little-endian): u32 trie_bytes | trie: trie_bytes/4 u32 units (a Darts-clone
// double-array trie over UTF-8 bytes; each key's value is a byte offset into the next part) |
// normalized: NUL-separated UTF-8 replacement strings.
// Unit bits: label = u & (1<<31 | 0xFF); has_leaf = (u >> 8) & 1; value = u & 0x7FFFFFFF;
// offset = (u >> 10) << ((u & (1 << 9)) >> 6).
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t *units;    // [n_units] owned
    size_t n_units;
    char *normalized;   // [normalized_len] owned, not NUL-terminated at the end necessarily
    size_t normalized_len;
} vd_charsmap;

// Decodes standard base64 (padding optional). Returns a malloc'ed buffer in *out (*out_len bytes).
vd_status vd_base64_decode(const char *b64, uint8_t **out, size_t *out_len, vd_error *err);

// Parses a decoded blob (copies it). VD_ERR_FORMAT when sizes do not add up or the
// replacement strings are not valid UTF-8.
vd_status vd_charsmap_parse(vd_charsmap *cm, const uint8_t *blob, size_t len, vd_error *err);
void vd_charsmap_free(vd_charsmap *cm);

// Keys of the trie that are prefixes of s[0..len), shortest first (the walk stops at a NUL
// byte or at the first byte without a transition). Stores up to cap (key length, value)
// pairs; returns how many keys matched. Out-of-range positions in a corrupt trie end the walk.
size_t vd_charsmap_prefixes(const vd_charsmap *cm, const uint8_t *s, size_t len, size_t *key_len,
                            uint32_t *value, size_t cap);
// The replacement string stored at value (up to the next NUL); *rep_len bytes. Always
// well-formed UTF-8 (the blob is validated; an offset inside a character gives "").
const char *vd_charsmap_replacement(const vd_charsmap *cm, uint32_t value, size_t *rep_len);

#ifdef __cplusplus
}
#endif
