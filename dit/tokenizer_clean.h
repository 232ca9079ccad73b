// Prompt cleaning of the Wan pipelines before tokenization:
//   prompt_clean(t) = whitespace_clean(basic_clean(t)),
//   basic_clean(t) = html.unescape(html.unescape(ftfy.fix_text(t))).strip(),
//   whitespace_clean(t) = re.sub(r"\s+", " ", t).strip().
// Exact here: whitespace_clean (Python str.isspace() runs -> one space, ends stripped) and
// html.unescape (Python's algorithm and tables, generated into tokenizer_html_data.c).
// ftfy.fix_text is only partly reproduced, by the two of its default steps that the umT5
// charsmap (NFKC) does not already cover: HTML unescaping when the text has no '<', and
// uncurl_quotes (U+2018..U+201B -> ', U+201C..U+201F -> "). Not reproduced: mojibake repair
// (fix_encoding and friends), C1-control and terminal-escape fixes, control-character removal
// and NFC; prompts that need those tokenize differently from Wan.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct { const char *name, *value; } vd_html_entity;   // name without '&'; may end in ';'
typedef struct { uint32_t cp; const char *value; } vd_html_charref;
extern const vd_html_entity vd_html_entities[];
extern const int vd_html_entities_count;
extern const vd_html_charref vd_html_invalid_charrefs[];
extern const int vd_html_invalid_charrefs_count;
extern const uint32_t vd_html_invalid_codepoints[];
extern const int vd_html_invalid_codepoints_count;

// Python's html.unescape on well-formed UTF-8 s[0..len): malloc'ed, NUL-terminated, *out_len bytes.
char *vd_text_html_unescape(const char *s, size_t len, size_t *out_len);
// ftfy's uncurl_quotes.
char *vd_text_uncurl_quotes(const char *s, size_t len, size_t *out_len);
// Wan's prompt_clean with the partial ftfy step described above. NULL when out of memory.
char *vd_wan_prompt_clean(const char *s, size_t len, size_t *out_len);

// Python's str.isspace(): bidirectional class WS, B or S, or category Zs (includes U+001C..001F,
// which Unicode White_Space does not).
bool vd_py_isspace(uint32_t cp);

// Returns a malloc'ed cleaned copy of well-formed UTF-8 s[0..len) (NUL-terminated, *out_len
// bytes), or NULL when out of memory.
char *vd_text_whitespace_clean(const char *s, size_t len, size_t *out_len);

#ifdef __cplusplus
}
#endif
