// UTF-8 decoding with maximal-subpart replacement, White_Space, and UAX #29 extended grapheme
// clusters (see tokenizer_unicode.h).
#include "dit/tokenizer_unicode.h"

#include <stdlib.h>
#include <string.h>

vd_gcb vd_unicode_gcb(uint32_t cp) {
    int lo = 0, hi = vd_gcb_ranges_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < vd_gcb_ranges[mid].lo) hi = mid - 1;
        else if (cp > vd_gcb_ranges[mid].hi) lo = mid + 1;
        else return vd_gcb_ranges[mid].prop;
    }
    return VD_GCB_OTHER;
}

bool vd_unicode_is_ext_pict(uint32_t cp) {
    int lo = 0, hi = vd_ext_pict_ranges_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < vd_ext_pict_ranges[mid].lo) hi = mid - 1;
        else if (cp > vd_ext_pict_ranges[mid].hi) lo = mid + 1;
        else return true;
    }
    return false;
}

// The White_Space property (PropList.txt), 25 code points; stable since Unicode 6.3.
bool vd_unicode_is_space(uint32_t cp) {
    if (cp >= 0x09 && cp <= 0x0D) return true;
    if (cp >= 0x2000 && cp <= 0x200A) return true;
    switch (cp) {
    case 0x20: case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return false;
    }
}

size_t vd_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp, bool *bad) {
    uint8_t b0 = s[0];
    *bad = false;
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    size_t need;         // continuation bytes
    uint8_t lo2 = 0x80, hi2 = 0xBF;  // allowed range of the second byte
    uint32_t v;
    if (b0 >= 0xC2 && b0 <= 0xDF) { need = 1; v = b0 & 0x1F; }
    else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2; v = b0 & 0x0F;
        if (b0 == 0xE0) lo2 = 0xA0;       // overlong
        if (b0 == 0xED) hi2 = 0x9F;       // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3; v = b0 & 0x07;
        if (b0 == 0xF0) lo2 = 0x90;       // overlong
        if (b0 == 0xF4) hi2 = 0x8F;       // > U+10FFFF
    } else {                              // 80..C1, F5..FF: never valid as a lead
        *cp = 0xFFFD; *bad = true;
        return 1;
    }
    size_t i = 1;
    for (; i <= need; i++) {
        if (i >= len) break;
        uint8_t b = s[i];
        uint8_t lo = i == 1 ? lo2 : 0x80, hi = i == 1 ? hi2 : 0xBF;
        if (b < lo || b > hi) break;
        v = (v << 6) | (b & 0x3F);
    }
    if (i <= need) {                      // truncated or bad continuation: maximal subpart = i bytes
        *cp = 0xFFFD; *bad = true;
        return i;
    }
    *cp = v;
    return need + 1;
}

size_t vd_utf8_encode(uint32_t cp, uint8_t *out) {
    if (cp < 0x80) { out[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6)); out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12)); out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18)); out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

bool vd_utf8_valid(const char *s, size_t len) {
    const uint8_t *u = (const uint8_t *)s;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        bool bad;
        i += vd_utf8_decode(u + i, len - i, &cp, &bad);
        if (bad) return false;
    }
    return true;
}

char *vd_utf8_sanitize(const char *s, size_t len, size_t *out_len, size_t *n_replaced) {
    // Worst case: every byte becomes U+FFFD (3 bytes).
    if (len > (SIZE_MAX - 1) / 3) return NULL;
    char *out = (char *)malloc(len * 3 + 1);
    if (!out) return NULL;
    const uint8_t *u = (const uint8_t *)s;
    size_t o = 0, i = 0, nrep = 0;
    while (i < len) {
        uint32_t cp;
        bool bad;
        size_t n = vd_utf8_decode(u + i, len - i, &cp, &bad);
        if (bad) {
            nrep++;
            o += vd_utf8_encode(0xFFFD, (uint8_t *)out + o);
        } else {
            memcpy(out + o, s + i, n);
            o += n;
        }
        i += n;
    }
    out[o] = 0;
    *out_len = o;
    if (n_replaced) *n_replaced = nrep;
    return out;
}

static bool in_ranges(const vd_cp_range *r, int n, uint32_t cp) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < r[mid].lo) hi = mid - 1;
        else if (cp > r[mid].hi) lo = mid + 1;
        else return true;
    }
    return false;
}

static bool incb_linker(uint32_t cp) {
    return cp == 0x94D || cp == 0x9CD || cp == 0xACD || cp == 0xB4D || cp == 0xC4D || cp == 0xD4D;
}

static bool gcb_is_control(vd_gcb g) { return g == VD_GCB_CONTROL || g == VD_GCB_CR || g == VD_GCB_LF; }

size_t vd_grapheme_len(const uint8_t *s, size_t len) {
    uint32_t cp;
    bool bad;
    size_t pos = vd_utf8_decode(s, len, &cp, &bad);
    vd_gcb prev = vd_unicode_gcb(cp);
    int ri_run = prev == VD_GCB_RI ? 1 : 0;
    // GB11 state: 0 none, 1 after ExtPict Extend*, 2 after ExtPict Extend* ZWJ.
    int emoji = vd_unicode_is_ext_pict(cp) ? 1 : 0;
    // GB9c state: 0 none, 1 after Consonant [Extend]*, 2 after Consonant [Extend Linker]* Linker [...]*.
    int conj = in_ranges(vd_incb_consonant_ranges, vd_incb_consonant_ranges_count, cp) ? 1 : 0;
    while (pos < len) {
        size_t n = vd_utf8_decode(s + pos, len - pos, &cp, &bad);
        vd_gcb cur = vd_unicode_gcb(cp);
        bool pict = vd_unicode_is_ext_pict(cp);
        bool cons = in_ranges(vd_incb_consonant_ranges, vd_incb_consonant_ranges_count, cp);
        bool join;
        if (prev == VD_GCB_CR && cur == VD_GCB_LF) join = true;                     // GB3
        else if (gcb_is_control(prev) || gcb_is_control(cur)) join = false;         // GB4, GB5
        else if (prev == VD_GCB_L && (cur == VD_GCB_L || cur == VD_GCB_V || cur == VD_GCB_LV || cur == VD_GCB_LVT))
            join = true;                                                           // GB6
        else if ((prev == VD_GCB_LV || prev == VD_GCB_V) && (cur == VD_GCB_V || cur == VD_GCB_T))
            join = true;                                                           // GB7
        else if ((prev == VD_GCB_LVT || prev == VD_GCB_T) && cur == VD_GCB_T) join = true; // GB8
        else if (cur == VD_GCB_EXTEND || cur == VD_GCB_ZWJ) join = true;            // GB9
        else if (cur == VD_GCB_SPACINGMARK) join = true;                           // GB9a
        else if (prev == VD_GCB_PREPEND) join = true;                              // GB9b
        else if (conj == 2 && cons) join = true;                                   // GB9c
        else if (emoji == 2 && pict) join = true;                                  // GB11
        else if (prev == VD_GCB_RI && cur == VD_GCB_RI && (ri_run & 1)) join = true; // GB12, GB13
        else join = false;                                                         // GB999
        if (!join) break;
        if (pict) emoji = 1;
        else if (emoji == 1 && cur == VD_GCB_EXTEND) emoji = 1;
        else if (emoji == 1 && cur == VD_GCB_ZWJ) emoji = 2;
        else emoji = 0;
        ri_run = cur == VD_GCB_RI ? ri_run + 1 : 0;
        if (cons) conj = 1;
        else if (conj && incb_linker(cp)) conj = 2;
        else if (conj && (cur == VD_GCB_EXTEND || cur == VD_GCB_ZWJ)) conj = conj;
        else conj = 0;
        prev = cur;
        pos += n;
    }
    return pos;
}
