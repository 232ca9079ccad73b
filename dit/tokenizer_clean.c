// Wan's whitespace_clean (see tokenizer_clean.h).
#include "dit/tokenizer_clean.h"

#include <stdlib.h>
#include <string.h>

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
