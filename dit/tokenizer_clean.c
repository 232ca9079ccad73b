// Wan's prompt cleaning: whitespace_clean, html.unescape, uncurl_quotes (see tokenizer_clean.h).
#include "dit/tokenizer_clean.h"

#include <stdlib.h>
#include <string.h>

#include "dit/tokenizer_buf.h"
#include "dit/tokenizer_unicode.h"

bool vd_py_isspace(uint32_t cp) {
    if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20)) return true;
    if (cp >= 0x2000 && cp <= 0x200A) return true;
    switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return false;
    }
}

char *vd_text_whitespace_clean(const char *s, size_t len, size_t *out_len) {
    char *out = (char *)malloc(len + 1);
    if (!out) return NULL;
    const uint8_t *u = (const uint8_t *)s;
    size_t o = 0, i = 0;
    bool pending = false;   // a whitespace run seen since the last kept character
    while (i < len) {
        uint32_t cp;
        bool bad;
        size_t n = vd_utf8_decode(u + i, len - i, &cp, &bad);
        if (vd_py_isspace(cp)) {
            pending = true;
        } else {
            if (pending && o > 0) out[o++] = ' ';
            pending = false;
            memcpy(out + o, s + i, n);
            o += n;
        }
        i += n;
    }
    out[o] = 0;
    *out_len = o;
    return out;
}

// ---- html.unescape (CPython Lib/html/__init__.py semantics) ------------------------------------

static int entity_cmp(const char *a, size_t an, const char *b) {
    size_t bn = strlen(b);
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c) return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

static const char *entity_find(const char *name, size_t n) {
    int lo = 0, hi = vd_html_entities_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = entity_cmp(name, n, vd_html_entities[mid].name);
        if (c == 0) return vd_html_entities[mid].value;
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return NULL;
}

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

// Appends the replacement of the numeric reference num (saturated at 0x110000).
static int numeric_ref(vd_sbuf *o, uint32_t num) {
    for (int i = 0; i < vd_html_invalid_charrefs_count; i++)
        if (vd_html_invalid_charrefs[i].cp == num)
            return vd_sbuf_append(o, vd_html_invalid_charrefs[i].value, strlen(vd_html_invalid_charrefs[i].value));
    uint8_t u[4];
    if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) return vd_sbuf_append(o, "\xef\xbf\xbd", 3);
    for (int i = 0; i < vd_html_invalid_codepoints_count; i++)
        if (vd_html_invalid_codepoints[i] == num) return 0;
    return vd_sbuf_append(o, (const char *)u, vd_utf8_encode(num, u));
}

char *vd_text_html_unescape(const char *s, size_t len, size_t *out_len) {
    vd_sbuf o = {0};
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0;
    int rc = vd_sbuf_reserve(&o, len);
    while (!rc && i < len) {
        if (s[i] != '&') {
            size_t j = i;
            while (j < len && s[j] != '&') j++;
            rc = vd_sbuf_append(&o, s + i, j - i);
            i = j;
            continue;
        }
        size_t j = i + 1;
        if (j < len && s[j] == '#') {
            bool hex = j + 2 < len && (s[j + 1] == 'x' || s[j + 1] == 'X') && hexval(s[j + 2]) >= 0;
            bool dec = j + 1 < len && s[j + 1] >= '0' && s[j + 1] <= '9';
            if (!hex && !dec) {
                rc = vd_sbuf_append(&o, "&", 1);
                i++;
                continue;
            }
            size_t k = j + (hex ? 2 : 1);
            uint32_t num = 0;
            for (; k < len && (hex ? hexval(s[k]) >= 0 : (s[k] >= '0' && s[k] <= '9')); k++) {
                uint32_t d = (uint32_t)(hex ? hexval(s[k]) : s[k] - '0');
                num = num > 0x10FFFF ? 0x110000 : num * (hex ? 16u : 10u) + d;
                if (num > 0x10FFFF) num = 0x110000;
            }
            if (k < len && s[k] == ';') k++;
            rc = numeric_ref(&o, num);
            i = k;
            continue;
        }
        // Named: 1..32 code points outside "\t\n\f <&#;", then an optional ';'.
        size_t k = j, cps[34];
        int nc = 0;
        while (k < len && nc < 32) {
            uint32_t cp;
            bool bad;
            size_t n = vd_utf8_decode(u + k, len - k, &cp, &bad);
            if (cp == '\t' || cp == '\n' || cp == '\f' || cp == ' ' || cp == '<' || cp == '&' || cp == '#' || cp == ';') break;
            cps[nc++] = k;
            k += n;
        }
        if (nc == 0) {
            rc = vd_sbuf_append(&o, "&", 1);
            i++;
            continue;
        }
        size_t end = k;
        if (end < len && s[end] == ';') {
            cps[nc++] = end;
            end++;
        }
        cps[nc] = end;   // cps[x] = byte offset of code point x of the name; cps[nc] = end
        const char *v = entity_find(s + j, end - j);
        if (v) {
            rc = vd_sbuf_append(&o, v, strlen(v));
        } else {
            // The longest prefix of >= 2 code points that is a reference, then the rest verbatim.
            int x = nc - 1;
            for (; x >= 2; x--)
                if ((v = entity_find(s + j, cps[x] - j)) != NULL) break;
            if (x >= 2) {
                rc = vd_sbuf_append(&o, v, strlen(v));
                if (!rc) rc = vd_sbuf_append(&o, s + cps[x], end - cps[x]);
            } else {
                rc = vd_sbuf_append(&o, s + i, end - i);
            }
        }
        i = end;
    }
    if (rc) {
        vd_sbuf_free(&o);
        return NULL;
    }
    *out_len = o.len;
    return o.p;
}

char *vd_text_uncurl_quotes(const char *s, size_t len, size_t *out_len) {
    char *o = (char *)malloc(len + 1);
    if (!o) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        const uint8_t *u = (const uint8_t *)s + i;
        if (i + 2 < len && u[0] == 0xE2 && u[1] == 0x80 && u[2] >= 0x98 && u[2] <= 0x9F) {
            o[n++] = u[2] <= 0x9B ? '\'' : '"';   // U+2018..201B, U+201C..201F
            i += 2;
        } else {
            o[n++] = s[i];
        }
    }
    o[n] = 0;
    *out_len = n;
    return o;
}

char *vd_wan_prompt_clean(const char *s, size_t len, size_t *out_len) {
    // ftfy part: HTML unescape unless the text has '<', then uncurl_quotes; then Wan's
    // html.unescape twice; then whitespace_clean (whose strip covers basic_clean's).
    char *cur = (char *)malloc(len + 1), *next;
    if (!cur) return NULL;
    memcpy(cur, s, len);
    cur[len] = 0;
    size_t n = len;
    for (int step = 0; step < 5; step++) {
        if (step == 0 && memchr(cur, '<', n)) continue;
        next = step == 1 ? vd_text_uncurl_quotes(cur, n, &n)
             : step == 4 ? vd_text_whitespace_clean(cur, n, &n)
                         : vd_text_html_unescape(cur, n, &n);
        free(cur);
        if (!next) return NULL;
        cur = next;
    }
    *out_len = n;
    return cur;
}
