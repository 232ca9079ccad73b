// The encode pipeline of tokenizer_hf.h: UTF-8 repair -> added-token split -> normalize ->
// normalized added-token split -> pre-tokenize -> Unigram -> truncate -> template -> pad.
#include <stdlib.h>
#include <string.h>

#include "dit/tokenizer_buf.h"
#include "dit/tokenizer_hf.h"
#include "dit/tokenizer_unicode.h"
#include "lib/log.h"

typedef struct {
    size_t start, end;
    int32_t id;   // -1: text
} span;

typedef struct {
    span *v;
    size_t n, cap;
} span_list;

static int spans_push(span_list *l, size_t a, size_t b, int32_t id) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        span *v = (span *)realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (span){a, b, id};
    return 0;
}

static size_t space_len_at(const uint8_t *u, size_t len) {
    uint32_t cp;
    bool bad;
    size_t n = vd_utf8_decode(u, len, &cp, &bad);
    return vd_unicode_is_space(cp) ? n : 0;
}

// Splits s[0..len) around the added tokens whose `normalized` flag equals `normalized`:
// leftmost match first, the longest token at that position, then lstrip/rstrip whitespace.
static int split_added(const vd_tokenizer *t, bool normalized, const char *s, size_t len, span_list *out) {
    const uint8_t *u = (const uint8_t *)s;
    size_t pos = 0, start_offset = 0;
    while (pos < len) {
        int best = -1;
        for (int i = 0; i < t->n_added; i++) {
            const vd_added_token *a = &t->added[i];
            if (a->normalized != normalized || a->len > len - pos || (uint8_t)a->content[0] != u[pos]) continue;
            if (memcmp(s + pos, a->content, a->len)) continue;
            if (best < 0 || a->len > t->added[best].len) best = i;
        }
        if (best < 0) {
            pos++;
            continue;
        }
        const vd_added_token *a = &t->added[best];
        size_t start = pos, stop = pos + a->len;
        if (a->lstrip) {
            // Walk back over whitespace characters, not into the previous match.
            while (start > start_offset) {
                size_t p = start - 1;
                while (p > start_offset && (u[p] & 0xC0) == 0x80) p--;
                if (!space_len_at(u + p, start - p)) break;
                start = p;
            }
        }
        if (a->rstrip) {
            size_t n;
            while (stop < len && (n = space_len_at(u + stop, len - stop)) > 0) stop += n;
        }
        if (start_offset < start && spans_push(out, start_offset, start, -1)) return -1;
        if (spans_push(out, start, stop, a->id)) return -1;
        start_offset = pos = stop;
    }
    if (start_offset < len && spans_push(out, start_offset, len, -1)) return -1;
    return 0;
}

typedef struct {
    vd_sbuf s;
    bool at_origin;   // starts at offset 0 of the original text (Metaspace prepend_scheme "first")
} pre_piece;

typedef struct {
    pre_piece *v;
    size_t n, cap;
} piece_list;

static int pieces_push(piece_list *l, const char *s, size_t n, bool at_origin) {
    if (n == 0) return 0;   // empty splits are dropped, as tokenizers does
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        pre_piece *v = (pre_piece *)realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    pre_piece *p = &l->v[l->n++];
    memset(p, 0, sizeof *p);
    p->at_origin = at_origin;
    return vd_sbuf_append(&p->s, s, n);
}

static void pieces_free(piece_list *l) {
    for (size_t i = 0; i < l->n; i++) vd_sbuf_free(&l->v[i].s);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int whitespace_split(const pre_piece *p, piece_list *out) {
    const uint8_t *u = (const uint8_t *)p->s.p;
    size_t i = 0, n = p->s.len;
    while (i < n) {
        size_t k;
        while (i < n && (k = space_len_at(u + i, n - i)) > 0) i += k;
        size_t a = i;
        while (i < n && space_len_at(u + i, n - i) == 0) i += vd_utf8_len(u[i]);
        if (i > a && pieces_push(out, p->s.p + a, i - a, p->at_origin && a == 0)) return -1;
    }
    return 0;
}

static int metaspace(const vd_pretok_step *st, const pre_piece *p, piece_list *out) {
    vd_sbuf q = {0};
    int rc = 0;
    bool prepend = st->prepend == VD_PREPEND_ALWAYS || (st->prepend == VD_PREPEND_FIRST && p->at_origin);
    if (prepend && p->s.len > 0 && !(p->s.len >= st->rep_len && !memcmp(p->s.p, st->rep, st->rep_len)) &&
        p->s.p[0] != ' ')
        rc |= vd_sbuf_append(&q, st->rep, st->rep_len);
    for (size_t i = 0; i < p->s.len && !rc; i++) {
        if (p->s.p[i] == ' ') rc |= vd_sbuf_append(&q, st->rep, st->rep_len);
        else rc |= vd_sbuf_append(&q, p->s.p + i, 1);
    }
    if (!rc && !st->split) rc = pieces_push(out, q.p, q.len, p->at_origin);
    if (!rc && st->split) {
        // MergedWithNext: every replacement character starts a new piece.
        size_t a = 0;
        for (size_t i = 0; i + st->rep_len <= q.len && !rc; i++) {
            if (i > a && !memcmp(q.p + i, st->rep, st->rep_len)) {
                rc = pieces_push(out, q.p + a, i - a, p->at_origin && a == 0);
                a = i;
            }
        }
        if (!rc && a < q.len) rc = pieces_push(out, q.p + a, q.len - a, p->at_origin && a == 0);
    }
    vd_sbuf_free(&q);
    return rc;
}

// Pre-tokenizes one text part and appends the Unigram ids of its pieces.
static vd_status encode_text(const vd_tokenizer *t, const char *s, size_t len, bool at_origin, vd_ibuf *ids,
                             vd_error *err) {
    piece_list cur = {0}, nxt = {0};
    vd_status st = VD_OK;
    if (pieces_push(&cur, s, len, at_origin)) goto oom;
    for (int k = 0; k < t->n_pretok; k++) {
        for (size_t i = 0; i < cur.n; i++) {
            int rc = t->pretok[k].kind == VD_PRETOK_WHITESPACE_SPLIT ? whitespace_split(&cur.v[i], &nxt)
                                                                     : metaspace(&t->pretok[k], &cur.v[i], &nxt);
            if (rc) goto oom;
        }
        pieces_free(&cur);
        cur = nxt;
        memset(&nxt, 0, sizeof nxt);
    }
    for (size_t i = 0; i < cur.n && st == VD_OK; i++) st = vd_unigram_encode(&t->model, cur.v[i].s.p, cur.v[i].s.len, ids, err);
    pieces_free(&cur);
    return st;
oom:
    pieces_free(&cur);
    pieces_free(&nxt);
    return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory pre-tokenizing %zu bytes", len);
}

static vd_status encode_content(const vd_tokenizer *t, const char *s, size_t len, vd_ibuf *ids, vd_error *err) {
    span_list raw = {0}, norm_spans = {0};
    vd_status st = VD_OK;
    if (split_added(t, false, s, len, &raw)) goto oom;
    for (size_t i = 0; i < raw.n && st == VD_OK; i++) {
        const span *r = &raw.v[i];
        if (r->id >= 0) {
            if (vd_ibuf_push(ids, r->id)) goto oom;
            continue;
        }
        char *nz;
        size_t nlen;
        bool origin = r->start == 0;
        st = vd_normalizer_apply(&t->norm, s + r->start, r->end - r->start, &nz, &nlen, &origin, err);
        if (st != VD_OK) break;
        norm_spans.n = 0;
        if (split_added(t, true, nz, nlen, &norm_spans)) {
            free(nz);
            goto oom;
        }
        for (size_t j = 0; j < norm_spans.n && st == VD_OK; j++) {
            const span *q = &norm_spans.v[j];
            if (q->id >= 0) {
                if (vd_ibuf_push(ids, q->id)) st = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
            } else {
                st = encode_text(t, nz + q->start, q->end - q->start, origin && q->start == 0, ids, err);
            }
        }
        free(nz);
    }
    free(raw.v);
    free(norm_spans.v);
    return st;
oom:
    free(raw.v);
    free(norm_spans.v);
    return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory on a %zu-byte text", len);
}

vd_status vd_tokenizer_encode(const vd_tokenizer *t, const char *text, size_t len, const vd_tokenize_opts *o,
                              vd_tokens *out, vd_error *err) {
    memset(out, 0, sizeof *out);
    int n_special = o->add_special ? t->n_prefix + t->n_suffix : 0;
    if (o->max_len < 0 || (o->max_len > 0 && o->max_len < n_special + 1))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_tokenizer_encode: max_len %d is too small (must be 0 or >= %d)",
                            o->max_len, n_special + 1);
    if (o->pad && o->max_len > 0 && t->pad_id < 0)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_tokenizer_encode: padding asked but the tokenizer has no pad id");
    size_t clen, nrep = 0;
    char *clean = vd_utf8_sanitize(text ? text : "", text ? len : 0, &clen, &nrep);
    if (!clean) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_tokenizer_encode: out of memory (%zu bytes)", len);
    if (nrep)
        VD_LOGW("tokenizer: the text has %zu invalid UTF-8 sequence(s); each was replaced by U+FFFD", nrep);
    vd_ibuf ids = {0};
    vd_status st = encode_content(t, clean, clen, &ids, err);
    free(clean);
    if (st != VD_OK) {
        vd_ibuf_free(&ids);
        return st;
    }
    out->n_invalid_utf8 = nrep;
    out->n_before_truncation = (int)ids.n;
    size_t keep = ids.n;
    if (o->max_len > 0 && keep > (size_t)(o->max_len - n_special)) {
        keep = (size_t)(o->max_len - n_special);
        out->truncated = true;
        VD_LOGW("tokenizer: the text has %zu tokens; truncated to the first %zu (max_len %d includes %d special "
                "token(s))", ids.n, keep, o->max_len, n_special);
    }
    int n_real = (int)keep + n_special;
    int n = o->pad && o->max_len > 0 ? o->max_len : n_real;
    out->ids = (int32_t *)malloc((size_t)(n ? n : 1) * sizeof *out->ids);
    out->mask = (int32_t *)malloc((size_t)(n ? n : 1) * sizeof *out->mask);
    if (!out->ids || !out->mask) {
        vd_ibuf_free(&ids);
        vd_tokens_free(out);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_tokenizer_encode: out of memory");
    }
    int k = 0;
    if (o->add_special)
        for (int i = 0; i < t->n_prefix; i++) out->ids[k++] = t->prefix_ids[i];
    for (size_t i = 0; i < keep; i++) out->ids[k++] = ids.v[i];
    if (o->add_special)
        for (int i = 0; i < t->n_suffix; i++) out->ids[k++] = t->suffix_ids[i];
    for (int i = 0; i < n; i++) {
        out->mask[i] = i < n_real;
        if (i >= n_real) out->ids[i] = t->pad_id;
    }
    out->n = n;
    out->n_real = n_real;
    vd_ibuf_free(&ids);
    return VD_OK;
}

void vd_tokens_free(vd_tokens *tk) {
    free(tk->ids);
    free(tk->mask);
    memset(tk, 0, sizeof *tk);
}
