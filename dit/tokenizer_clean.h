// Prompt cleaning of the Wan pipelines before tokenization. Implemented: `whitespace_clean`
// (re.sub(r"\s+", " ", text).strip() on a Python str: every run of str.isspace() characters
// becomes one space, then the ends are stripped). Not implemented: the `basic_clean` step
// before it (ftfy.fix_text and html.unescape twice), so prompts with mojibake, HTML entities,
// fullwidth forms or ligatures that ftfy would rewrite can tokenize differently from Wan.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Python's str.isspace(): bidirectional class WS, B or S, or category Zs (includes U+001C..001F,
// which Unicode White_Space does not).
bool vd_py_isspace(uint32_t cp);

// Returns a malloc'ed cleaned copy of well-formed UTF-8 s[0..len) (NUL-terminated, *out_len
// bytes), or NULL when out of memory.
char *vd_text_whitespace_clean(const char *s, size_t len, size_t *out_len);

#ifdef __cplusplus
}
#endif
