// UTF-8 and Unicode helpers for the tokenizer: decoding with replacement of invalid bytes,
// encoding, White_Space, and extended grapheme clusters (UAX #29), which the Precompiled
// normalizer of Hugging Face tokenizers works on. Property tables are generated
// (tokenizer_unicode_data.c, scripts/gen_tokenizer_unicode.pl).
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    VD_GCB_OTHER = 0,
    VD_GCB_CR,
    VD_GCB_LF,
    VD_GCB_CONTROL,
    VD_GCB_EXTEND,
    VD_GCB_ZWJ,
    VD_GCB_RI,
    VD_GCB_PREPEND,
    VD_GCB_SPACINGMARK,
    VD_GCB_L,
    VD_GCB_V,
    VD_GCB_T,
    VD_GCB_LV,
    VD_GCB_LVT,
    VD_GCB_COUNT
} vd_gcb;

typedef struct { uint32_t lo, hi; vd_gcb prop; } vd_gcb_range;
typedef struct { uint32_t lo, hi; } vd_cp_range;

extern const char vd_unicode_data_version[];
extern const vd_gcb_range vd_gcb_ranges[];
extern const int vd_gcb_ranges_count;
extern const vd_cp_range vd_ext_pict_ranges[];
extern const int vd_ext_pict_ranges_count;
extern const vd_cp_range vd_incb_consonant_ranges[];
extern const int vd_incb_consonant_ranges_count;

vd_gcb vd_unicode_gcb(uint32_t cp);
bool vd_unicode_is_ext_pict(uint32_t cp);
// Unicode White_Space (what Rust's char::is_whitespace tests).
bool vd_unicode_is_space(uint32_t cp);

// Decodes one UTF-8 sequence at s[0..len) (len >= 1). Returns the number of bytes consumed and
// stores the code point; an ill-formed sequence yields U+FFFD and consumes its maximal subpart
// (1..3 bytes, the W3C/Unicode "substitution of maximal subparts" that Python's
// bytes.decode('utf-8', 'replace') follows). *bad is set true for ill-formed input.
size_t vd_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp, bool *bad);
// Writes cp as UTF-8 into out (4 bytes room); returns bytes written.
size_t vd_utf8_encode(uint32_t cp, uint8_t *out);
// Byte length of the well-formed UTF-8 sequence starting with lead byte b (1..4).
static inline size_t vd_utf8_len(uint8_t b) { return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4; }

// True when s[0..len) is well-formed UTF-8.
bool vd_utf8_valid(const char *s, size_t len);

// Returns a malloc'ed well-formed copy of s[0..len) (NUL-terminated, *out_len bytes) with each
// ill-formed subpart replaced by U+FFFD; *n_replaced counts the replacements. NULL when out of memory.
char *vd_utf8_sanitize(const char *s, size_t len, size_t *out_len, size_t *n_replaced);

// Length in bytes of the extended grapheme cluster starting at s[0] in the well-formed UTF-8
// string s[0..len) (len >= 1). Rules GB3-GB13 of UAX #29, with GB9c (Indic conjuncts, Unicode
// 15.1) approximated: linkers are the six viramas U+094D 09CD 0ACD 0B4D 0C4D 0D4D, InCB=Extend
// is taken as GCB Extend/ZWJ. Such clusters are 9+ bytes, which the Precompiled normalizer
// treats code point by code point either way.
size_t vd_grapheme_len(const uint8_t *s, size_t len);

#ifdef __cplusplus
}
#endif
