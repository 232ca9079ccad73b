// SentencePiece precompiled charsmap: base64, blob parsing and the double-array prefix walk
// (see tokenizer_charsmap.h for the layout).
#include "dit/tokenizer_charsmap.h"

#include <stdlib.h>
#include <string.h>

#include "dit/tokenizer_unicode.h"

static int b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

vd_status vd_base64_decode(const char *b64, uint8_t **out, size_t *out_len, vd_error *err) {
    size_t n = strlen(b64);
    while (n > 0 && b64[n - 1] == '=') n--;
    if (n % 4 == 1)
        return vd_error_set(err, VD_ERR_FORMAT, "vd_base64_decode: %zu base64 characters is not a valid length", n);
    uint8_t *buf = (uint8_t *)malloc(n / 4 * 3 + 3);
    if (!buf) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_base64_decode: cannot allocate %zu bytes", n);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)b64[i]);
        if (v < 0) {
            free(buf);
            return vd_error_set(err, VD_ERR_FORMAT, "vd_base64_decode: invalid character 0x%02X at position %zu",
                                (unsigned char)b64[i], i);
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
        }
    }
    *out = buf;
    *out_len = o;
    return VD_OK;
}

static uint32_t rd_u32le(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

vd_status vd_charsmap_parse(vd_charsmap *cm, const uint8_t *blob, size_t len, vd_error *err) {
    memset(cm, 0, sizeof *cm);
    if (len < 4)
        return vd_error_set(err, VD_ERR_FORMAT, "vd_charsmap_parse: precompiled_charsmap has %zu bytes, needs >= 4", len);
    uint32_t trie_bytes = rd_u32le(blob);
    if (trie_bytes % 4 != 0 || (size_t)trie_bytes > len - 4 || trie_bytes == 0)
        return vd_error_set(err, VD_ERR_FORMAT,
                            "vd_charsmap_parse: trie size %u bytes does not fit the %zu-byte blob (must be a "
                            "non-zero multiple of 4 and <= %zu)", trie_bytes, len, len - 4);
    cm->n_units = trie_bytes / 4;
    cm->units = (uint32_t *)malloc(trie_bytes);
    cm->normalized_len = len - 4 - trie_bytes;
    cm->normalized = (char *)malloc(cm->normalized_len + 1);
    if (!cm->units || !cm->normalized) {
        vd_charsmap_free(cm);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_charsmap_parse: cannot allocate %zu bytes", len);
    }
    for (size_t i = 0; i < cm->n_units; i++) cm->units[i] = rd_u32le(blob + 4 + 4 * i);
    memcpy(cm->normalized, blob + 4 + trie_bytes, cm->normalized_len);
    cm->normalized[cm->normalized_len] = 0;
    // The replacement strings must be UTF-8 (tokenizers refuses the file otherwise).
    const uint8_t *u = (const uint8_t *)cm->normalized;
    for (size_t i = 0; i < cm->normalized_len;) {
        uint32_t cp;
        bool bad;
        size_t n = vd_utf8_decode(u + i, cm->normalized_len - i, &cp, &bad);
        if (bad) {
            vd_charsmap_free(cm);
            return vd_error_set(err, VD_ERR_FORMAT,
                                "vd_charsmap_parse: replacement strings are not valid UTF-8 (byte %zu of %zu)", i,
                                cm->normalized_len);
        }
        i += n;
    }
    return VD_OK;
}

void vd_charsmap_free(vd_charsmap *cm) {
    free(cm->units);
    free(cm->normalized);
    memset(cm, 0, sizeof *cm);
}

static inline uint32_t unit_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }
static inline uint32_t unit_label(uint32_t u) { return u & ((1u << 31) | 0xFFu); }
static inline bool unit_has_leaf(uint32_t u) { return (u >> 8) & 1u; }
static inline uint32_t unit_value(uint32_t u) { return u & ((1u << 31) - 1); }

size_t vd_charsmap_prefixes(const vd_charsmap *cm, const uint8_t *s, size_t len, size_t *key_len,
                            uint32_t *value, size_t cap) {
    size_t n = 0;
    if (cm->n_units == 0) return 0;
    size_t pos = unit_offset(cm->units[0]);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        if (c == 0) break;
        pos ^= c;
        if (pos >= cm->n_units) break;
        uint32_t u = cm->units[pos];
        if (unit_label(u) != c) break;
        pos ^= unit_offset(u);
        if (pos >= cm->n_units) break;
        if (unit_has_leaf(u)) {
            if (n < cap) {
                key_len[n] = i + 1;
                value[n] = unit_value(cm->units[pos]);
            }
            n++;
        }
    }
    return n < cap ? n : cap;
}

const char *vd_charsmap_replacement(const vd_charsmap *cm, uint32_t value, size_t *rep_len) {
    if ((size_t)value >= cm->normalized_len) {
        *rep_len = 0;
        return cm->normalized + cm->normalized_len;
    }
    const char *p = cm->normalized + value;
    if (((uint8_t)p[0] & 0xC0) == 0x80) {   // points inside a character: a corrupt map; no text
        *rep_len = 0;
        return p;
    }
    *rep_len = strnlen(p, cm->normalized_len - value);
    return p;
}
