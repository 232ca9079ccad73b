// Normalizers of a tokenizer.json (see tokenizer_normalize.h for what is supported and why).
#include "dit/tokenizer_normalize.h"

#include <stdlib.h>
#include <string.h>

#include "dit/tokenizer_buf.h"
#include "dit/tokenizer_unicode.h"

static char *dup_bytes(const char *s, size_t n) {
    char *p = (char *)malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

// Parses the supported regex subset of a Replace pattern: a literal (escaped metacharacters
// allowed), or one literal code point followed by {n}, {n,}, {n,m} or +, with n >= 1.
static vd_status parse_regex(vd_norm_step *st, const char *re, vd_error *err) {
    static const char *meta = "\\.^$|?*+()[]{}";
    vd_sbuf lit = {0};
    size_t i = 0, n = strlen(re);
    size_t last_atom = 0;   // byte offset in lit of the last code point
    int n_atoms = 0;
    while (i < n) {
        unsigned char c = (unsigned char)re[i];
        if (c == '\\') {
            if (i + 1 >= n || !strchr(meta, re[i + 1]) || re[i + 1] == 0) goto unsupported;
            last_atom = lit.len;
            if (vd_sbuf_append(&lit, re + i + 1, 1)) goto oom;
            i += 2;
            n_atoms++;
            continue;
        }
        if (c == '{' || c == '+') {
            // A repeat: must follow exactly one atom and end the pattern.
            if (n_atoms != 1) goto unsupported;
            int lo = 1, hi = -1;
            if (c == '+') {
                i++;
            } else {
                char *end;
                long a = strtol(re + i + 1, &end, 10);
                if (end == re + i + 1) goto unsupported;
                lo = (int)a;
                if (*end == '}') hi = lo;
                else if (*end == ',' && end[1] == '}') { hi = -1; end++; }
                else if (*end == ',') {
                    char *e2;
                    long b = strtol(end + 1, &e2, 10);
                    if (e2 == end + 1 || *e2 != '}' || b < a) goto unsupported;
                    hi = (int)b;
                    end = e2;
                } else goto unsupported;
                i = (size_t)(end - re) + 1;
            }
            if (i != n || lo < 1) goto unsupported;
            (void)last_atom;
            st->repeat = true;
            st->rep_min = lo;
            st->rep_max = hi;
            break;
        }
        if (strchr(meta, c)) goto unsupported;
        size_t cl = vd_utf8_len(c);
        if (i + cl > n) goto unsupported;
        last_atom = lit.len;
        if (vd_sbuf_append(&lit, re + i, cl)) goto oom;
        i += cl;
        n_atoms++;
    }
    if (lit.len == 0) goto unsupported;
    st->pat = lit.p;
    st->pat_len = lit.len;
    return VD_OK;
unsupported:
    vd_sbuf_free(&lit);
    return vd_error_set(err, VD_ERR_UNSUPPORTED,
                        "tokenizer: Replace normalizer regex '%s' is not supported (supported: a literal, or one "
                        "character repeated with {n}, {n,}, {n,m} or +, n >= 1)", re);
oom:
    vd_sbuf_free(&lit);
    return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory parsing a Replace pattern");
}

static vd_status step_check_utf8(vd_norm_step *st, vd_error *err) {
    if ((st->pat && !vd_utf8_valid(st->pat, st->pat_len)) || (st->content && !vd_utf8_valid(st->content, st->content_len)))
        return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: a normalizer's pattern or content is not valid UTF-8");
    return VD_OK;
}

static vd_status step_from_json(vd_norm_step *st, const cJSON *j, vd_error *err) {
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(type))
        return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: a normalizer has no \"type\" string");
    const char *t = type->valuestring;
    if (!strcmp(t, "Precompiled")) {
        const cJSON *cmj = cJSON_GetObjectItemCaseSensitive(j, "precompiled_charsmap");
        st->kind = VD_NORM_PRECOMPILED;
        if (cJSON_IsNull(cmj) || (cJSON_IsString(cmj) && cmj->valuestring[0] == 0)) return VD_OK; // empty map
        if (!cJSON_IsString(cmj))
            return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: Precompiled normalizer has no precompiled_charsmap string");
        uint8_t *blob;
        size_t blen;
        VD_TRY(vd_base64_decode(cmj->valuestring, &blob, &blen, err));
        vd_status s = vd_charsmap_parse(&st->cm, blob, blen, err);
        free(blob);
        if (s != VD_OK) vd_error_prefix(err, "tokenizer: Precompiled normalizer");
        return s;
    }
    if (!strcmp(t, "Replace")) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(j, "pattern");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(j, "content");
        st->kind = VD_NORM_REPLACE;
        if (!cJSON_IsObject(pat) || !cJSON_IsString(content))
            return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: Replace normalizer needs \"pattern\" {String|Regex} and \"content\"");
        st->content = dup_bytes(content->valuestring, strlen(content->valuestring));
        st->content_len = strlen(content->valuestring);
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(pat, "String");
        const cJSON *pr = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
        if (cJSON_IsString(ps)) {
            if (ps->valuestring[0] == 0)
                return vd_error_set(err, VD_ERR_UNSUPPORTED, "tokenizer: Replace normalizer with an empty pattern");
            st->pat_len = strlen(ps->valuestring);
            st->pat = dup_bytes(ps->valuestring, st->pat_len);
        } else if (cJSON_IsString(pr)) {
            VD_TRY(parse_regex(st, pr->valuestring, err));
        } else {
            return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: Replace normalizer pattern is neither String nor Regex");
        }
        if (!st->pat || !st->content) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        return step_check_utf8(st, err);
    }
    if (!strcmp(t, "Strip")) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "strip_left");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "strip_right");
        st->kind = VD_NORM_STRIP;
        st->strip_left = cJSON_IsTrue(l);
        st->strip_right = cJSON_IsTrue(r);
        return VD_OK;
    }
    if (!strcmp(t, "Prepend")) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "prepend");
        if (!cJSON_IsString(p)) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: Prepend normalizer has no \"prepend\" string");
        st->kind = VD_NORM_PREPEND;
        st->content_len = strlen(p->valuestring);
        st->content = dup_bytes(p->valuestring, st->content_len);
        return st->content ? step_check_utf8(st, err) : vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    return vd_error_set(err, VD_ERR_UNSUPPORTED,
                        "tokenizer: normalizer '%s' is not implemented (supported: Sequence, Precompiled, Replace, "
                        "Strip, Prepend); refusing the file rather than producing ids that differ from tokenizers", t);
}

static vd_status add_steps(vd_normalizer *nz, const cJSON *j, int depth, vd_error *err) {
    if (depth > 8) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: normalizer Sequence nested deeper than 8");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (cJSON_IsString(type) && !strcmp(type->valuestring, "Sequence")) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "normalizers");
        if (!cJSON_IsArray(list))
            return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: normalizer Sequence has no \"normalizers\" array");
        const cJSON *e;
        cJSON_ArrayForEach(e, list) VD_TRY(add_steps(nz, e, depth + 1, err));
        return VD_OK;
    }
    vd_norm_step *steps = (vd_norm_step *)realloc(nz->steps, (size_t)(nz->n_steps + 1) * sizeof *steps);
    if (!steps) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    nz->steps = steps;
    vd_norm_step *st = &steps[nz->n_steps++];
    memset(st, 0, sizeof *st);
    return step_from_json(st, j, err);
}

vd_status vd_normalizer_from_json(vd_normalizer *nz, const cJSON *j, vd_error *err) {
    memset(nz, 0, sizeof *nz);
    if (!j || cJSON_IsNull(j)) return VD_OK;
    if (!cJSON_IsObject(j)) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: \"normalizer\" is not an object");
    vd_status s = add_steps(nz, j, 0, err);
    if (s != VD_OK) vd_normalizer_free(nz);
    return s;
}

void vd_normalizer_free(vd_normalizer *nz) {
    for (int i = 0; i < nz->n_steps; i++) {
        vd_charsmap_free(&nz->steps[i].cm);
        free(nz->steps[i].pat);
        free(nz->steps[i].content);
    }
    free(nz->steps);
    memset(nz, 0, sizeof *nz);
}

// --- the steps -------------------------------------------------------------------------------

static size_t count_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((uint8_t)s[i] & 0xC0) != 0x80;
    return c;
}

// Alignment note: tokenizers keeps the first output character of Precompiled aligned with the
// first input character, even when a rule shrinks or deletes it (no effect on `origin`).
static int apply_precompiled(const vd_charsmap *cm, const char *in, size_t len, vd_sbuf *out) {
    const uint8_t *u = (const uint8_t *)in;
    size_t klen[1];
    uint32_t val[1];
    size_t i = 0;
    while (i < len) {
        size_t g = vd_grapheme_len(u + i, len - i);
        size_t rl;
        if (g < 6 && vd_charsmap_prefixes(cm, u + i, g, klen, val, 1) > 0) {
            const char *rep = vd_charsmap_replacement(cm, val[0], &rl);
            if (vd_sbuf_append(out, rep, rl)) return -1;
            i += g;
            continue;
        }
        for (size_t end = i + g; i < end;) {
            size_t cl = vd_utf8_len(u[i]);
            if (vd_charsmap_prefixes(cm, u + i, cl, klen, val, 1) > 0) {
                const char *rep = vd_charsmap_replacement(cm, val[0], &rl);
                if (vd_sbuf_append(out, rep, rl)) return -1;
            } else if (vd_sbuf_append(out, in + i, cl)) {
                return -1;
            }
            i += cl;
        }
    }
    return 0;
}

static int apply_replace(const vd_norm_step *st, const char *in, size_t len, vd_sbuf *out, bool *origin) {
    size_t i = 0;
    while (i < len) {
        if (st->repeat) {
            size_t k = 0, j = i;
            while (j + st->pat_len <= len && !memcmp(in + j, st->pat, st->pat_len) &&
                   (st->rep_max < 0 || (int)k < st->rep_max)) {
                j += st->pat_len;
                k++;
            }
            if ((int)k >= st->rep_min) {
                if (origin && i == 0 && (k > 1 || count_chars(st->pat, st->pat_len) > 1 || !st->content_len)) *origin = false;
                if (vd_sbuf_append(out, st->content, st->content_len)) return -1;
                i = j;
                continue;
            }
        } else if (i + st->pat_len <= len && !memcmp(in + i, st->pat, st->pat_len)) {
            if (origin && i == 0 && (count_chars(st->pat, st->pat_len) > 1 || !st->content_len)) *origin = false;
            if (vd_sbuf_append(out, st->content, st->content_len)) return -1;
            i += st->pat_len;
            continue;
        }
        size_t cl = vd_utf8_len((uint8_t)in[i]);
        if (vd_sbuf_append(out, in + i, cl)) return -1;
        i += cl;
    }
    return 0;
}

static int apply_strip(const vd_norm_step *st, const char *in, size_t len, vd_sbuf *out, bool *origin) {
    const uint8_t *u = (const uint8_t *)in;
    size_t a = 0, b = len;
    uint32_t cp;
    bool bad;
    if (st->strip_left) {
        while (a < b) {
            size_t n = vd_utf8_decode(u + a, b - a, &cp, &bad);
            if (!vd_unicode_is_space(cp)) break;
            a += n;
        }
    }
    if (st->strip_right) {
        while (b > a) {
            size_t s = b - 1;
            while (s > a && (u[s] & 0xC0) == 0x80) s--;
            vd_utf8_decode(u + s, b - s, &cp, &bad);
            if (!vd_unicode_is_space(cp)) break;
            b = s;
        }
    }
    if (origin && a > 0) *origin = false;
    return vd_sbuf_append(out, in + a, b - a);
}

vd_status vd_normalizer_apply(const vd_normalizer *nz, const char *in, size_t len, char **out, size_t *out_len,
                              bool *origin, vd_error *err) {
    vd_sbuf cur = {0}, next = {0};
    if (vd_sbuf_append(&cur, in, len)) goto oom;
    for (int s = 0; s < nz->n_steps; s++) {
        const vd_norm_step *st = &nz->steps[s];
        next.len = 0;
        if (vd_sbuf_reserve(&next, cur.len)) goto oom;
        next.p[0] = 0;
        int rc = 0;
        switch (st->kind) {
        case VD_NORM_PRECOMPILED:
            rc = st->cm.n_units ? apply_precompiled(&st->cm, cur.p, cur.len, &next) : vd_sbuf_append(&next, cur.p, cur.len);
            break;
        case VD_NORM_REPLACE: rc = apply_replace(st, cur.p, cur.len, &next, origin); break;
        case VD_NORM_STRIP: rc = apply_strip(st, cur.p, cur.len, &next, origin); break;
        case VD_NORM_PREPEND:
            if (cur.len) rc = vd_sbuf_append(&next, st->content, st->content_len);
            if (!rc) rc = vd_sbuf_append(&next, cur.p, cur.len);
            break;
        default: VD_ASSERT(0);
        }
        if (rc) goto oom;
        vd_sbuf t = cur;
        cur = next;
        next = t;
    }
    vd_sbuf_free(&next);
    *out = cur.p;
    *out_len = cur.len;
    return VD_OK;
oom:
    vd_sbuf_free(&cur);
    vd_sbuf_free(&next);
    return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_normalizer_apply: out of memory on a %zu-byte text", len);
}
