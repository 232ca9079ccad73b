// Fast vocab scanner for tokenizer.json (see tokenizer_json.h). Strings are decoded per the JSON
// grammar (\" \\ \/ \b \f \n \r \t \uXXXX with surrogate pairs); numbers go through strtod.
#include "dit/tokenizer_json.h"

#include <stdlib.h>
#include <string.h>

#include "dit/tokenizer_buf.h"
#include "dit/tokenizer_unicode.h"

static size_t ws(const char *s, size_t n, size_t i) {
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
    return i;
}

// s[i] == '"'; returns the index after the closing quote, or n + 1 on error.
static size_t skip_string(const char *s, size_t n, size_t i) {
    for (i++; i < n; i++) {
        if (s[i] == '\\') i++;
        else if (s[i] == '"') return i + 1;
    }
    return n + 1;
}

// Skips one value starting at s[i] (after whitespace); returns the index after it or n + 1.
static size_t skip_value(const char *s, size_t n, size_t i, int depth) {
    if (i >= n || depth > 64) return n + 1;
    char c = s[i];
    if (c == '"') return skip_string(s, n, i);
    if (c == '[' || c == '{') {
        char close = c == '[' ? ']' : '}';
        i = ws(s, n, i + 1);
        if (i < n && s[i] == close) return i + 1;
        for (;;) {
            if (c == '{') {
                if (i >= n || s[i] != '"') return n + 1;
                i = ws(s, n, skip_string(s, n, i));
                if (i >= n || s[i] != ':') return n + 1;
                i = ws(s, n, i + 1);
            }
            i = ws(s, n, skip_value(s, n, i, depth + 1));
            if (i >= n) return n + 1;
            if (s[i] == close) return i + 1;
            if (s[i] != ',') return n + 1;
            i = ws(s, n, i + 1);
        }
    }
    // number, true, false, null
    while (i < n && s[i] != ',' && s[i] != ']' && s[i] != '}' && s[i] != ' ' && s[i] != '\n' && s[i] != '\r' &&
           s[i] != '\t')
        i++;
    return i;
}

// Walks the object at s[i] == '{'; for the key `key` returns its value's start in *vs (and
// end in *ve). Returns 0 found, -1 not found or malformed.
static int find_key(const char *s, size_t n, size_t i, const char *key, size_t *vs, size_t *ve) {
    size_t kl = strlen(key);
    if (i >= n || s[i] != '{') return -1;
    i = ws(s, n, i + 1);
    if (i < n && s[i] == '}') return -1;
    while (i < n && s[i] == '"') {
        size_t ke = skip_string(s, n, i);
        if (ke > n) return -1;
        bool match = ke - i - 2 == kl && !memcmp(s + i + 1, key, kl);
        i = ws(s, n, ke);
        if (i >= n || s[i] != ':') return -1;
        i = ws(s, n, i + 1);
        size_t e = skip_value(s, n, i, 1);
        if (e > n) return -1;
        if (match) {
            *vs = i;
            *ve = e;
            return 0;
        }
        i = ws(s, n, e);
        if (i >= n || s[i] != ',') return -1;
        i = ws(s, n, i + 1);
    }
    return -1;
}

int vd_json_find_model_vocab(const char *s, size_t n, size_t *a, size_t *b) {
    size_t ms, me;
    if (find_key(s, n, ws(s, n, 0), "model", &ms, &me)) return -1;
    return find_key(s, n, ms, "vocab", a, b);
}

static int hex4(const char *p, uint32_t *v) {
    *v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        *v = *v * 16 + (uint32_t)d;
    }
    return 0;
}

// Decodes the JSON string at s[i] == '"' into out; returns the index after it, or 0 on error.
static size_t read_string(const char *s, size_t n, size_t i, vd_sbuf *out) {
    out->len = 0;
    if (vd_sbuf_reserve(out, 16)) return 0;
    out->p[0] = 0;
    for (i++; i < n; i++) {
        size_t run = i;
        while (i < n && s[i] != '"' && s[i] != '\\' && (uint8_t)s[i] >= 0x20) i++;
        if (i > run && vd_sbuf_append(out, s + run, i - run)) return 0;
        if (i >= n || (uint8_t)s[i] < 0x20) return 0;
        if (s[i] == '"') return i + 1;
        if (++i >= n) return 0;
        char e = s[i], c;
        switch (e) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (i + 4 >= n || hex4(s + i + 1, &cp)) return 0;
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {   // surrogate pair
                if (i + 6 >= n || s[i + 1] != '\\' || s[i + 2] != 'u' || hex4(s + i + 3, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return 0;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return 0;
            }
            uint8_t u8[4];
            size_t k = vd_utf8_encode(cp, u8);
            if (vd_sbuf_append(out, (const char *)u8, k)) return 0;
            continue;
        }
        default: return 0;
        }
        if (vd_sbuf_append(out, &c, 1)) return 0;
    }
    return 0;
}

vd_status vd_json_parse_vocab(const char *s, size_t n, vd_unigram *m, vd_error *err) {
    // Pass 1: count entries.
    size_t i = ws(s, n, 0);
    if (i >= n || s[i] != '[') return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: model.vocab is not an array");
    int64_t count = 0;
    size_t j = ws(s, n, i + 1);
    if (j < n && s[j] != ']') {
        for (;;) {
            j = ws(s, n, skip_value(s, n, j, 1));
            count++;
            if (j >= n) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: model.vocab array is not closed (truncated file?)");
            if (s[j] == ']') break;
            if (s[j] != ',') return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: model.vocab entry %lld is malformed (byte %zu)", (long long)count, j);
            j = ws(s, n, j + 1);
        }
    }
    if (count > INT32_MAX) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: %lld vocab entries", (long long)count);
    VD_TRY(vd_unigram_init(m, (int32_t)count, err));
    // Pass 2: read [string, number] pairs.
    vd_sbuf str = {0};
    vd_status st = VD_OK;
    i = ws(s, n, i + 1);
    for (int32_t id = 0; id < (int32_t)count; id++) {
        size_t at = i;
        if (i >= n || s[i] != '[') goto bad;
        i = ws(s, n, i + 1);
        if (i >= n || s[i] != '"') goto bad;
        i = read_string(s, n, i, &str);
        if (!i) goto bad;
        i = ws(s, n, i);
        if (i >= n || s[i] != ',') goto bad;
        i = ws(s, n, i + 1);
        {
            char *end;
            double score = strtod(s + i, &end);
            if (end == s + i) goto bad;
            i = ws(s, n, (size_t)(end - s));
            if (i >= n || s[i] != ']') goto bad;
            i = ws(s, n, i + 1);
            if (i < n && s[i] == ',') i = ws(s, n, i + 1);
            if (str.len == 0) {
                st = vd_error_set(err, VD_ERR_FORMAT, "tokenizer: vocab piece %d is empty", id);
                goto done;
            }
            const uint8_t *u = (const uint8_t *)str.p;
            for (size_t k = 0; k < str.len;) {
                uint32_t cp;
                bool badu;
                k += vd_utf8_decode(u + k, str.len - k, &cp, &badu);
                if (badu) {
                    st = vd_error_set(err, VD_ERR_FORMAT, "tokenizer: vocab piece %d is not valid UTF-8", id);
                    goto done;
                }
            }
            if ((st = vd_unigram_add(m, id, str.p, str.len, score, err)) != VD_OK) goto done;
        }
        continue;
    bad:
        st = vd_error_set(err, VD_ERR_FORMAT, "tokenizer: vocab entry %d (byte %zu of the array) is not [piece string, score number]",
                          id, at);
        goto done;
    }
done:
    vd_sbuf_free(&str);
    if (st != VD_OK) vd_unigram_free(m);
    return st;
}
