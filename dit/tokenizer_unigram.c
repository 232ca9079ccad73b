// Unigram model: piece hash and Viterbi segmentation (see tokenizer_unigram.h).
#include "dit/tokenizer_unigram.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dit/tokenizer_unicode.h"

#define FNV_OFFSET 1469598103934665603ull
#define FNV_PRIME 1099511628211ull
#define UNK_PENALTY 10.0   // tokenizers' K_UNK_PENALTY

static inline uint64_t fnv_step(uint64_t h, uint8_t b) { return (h ^ b) * FNV_PRIME; }
static inline uint64_t mix(uint64_t h) { return h ^ (h >> 29); }

vd_status vd_unigram_init(vd_unigram *m, int32_t n, vd_error *err) {
    memset(m, 0, sizeof *m);
    if (n <= 0) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: Unigram vocab is empty (needs at least <unk>)");
    m->off = (uint64_t *)malloc((size_t)n * sizeof *m->off);
    m->len = (uint32_t *)malloc((size_t)n * sizeof *m->len);
    m->score = (double *)malloc((size_t)n * sizeof *m->score);
    if (!m->off || !m->len || !m->score) {
        vd_unigram_free(m);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: cannot allocate a %d-piece vocab", n);
    }
    m->n_pieces = n;
    m->min_score = INFINITY;
    m->unk_id = -1;
    return VD_OK;
}

vd_status vd_unigram_add(vd_unigram *m, int32_t id, const char *piece, size_t len, double score, vd_error *err) {
    VD_ASSERT(id >= 0 && id < m->n_pieces);
    if (len > UINT32_MAX / 2) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: piece %d is %zu bytes long", id, len);
    size_t need = m->blob_len + len + 1;
    if (need > m->blob_cap) {
        size_t ncap = m->blob_cap ? m->blob_cap : (size_t)1 << 20;
        while (ncap < need) ncap *= 2;
        char *b = (char *)realloc(m->blob, ncap);
        if (!b) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: cannot grow the piece blob to %zu bytes", ncap);
        m->blob = b;
        m->blob_cap = ncap;
    }
    memcpy(m->blob + m->blob_len, piece, len);
    m->blob[m->blob_len + len] = 0;
    m->off[id] = m->blob_len;
    m->len[id] = (uint32_t)len;
    m->score[id] = score;
    m->blob_len += len + 1;
    if (len > m->max_piece_len) m->max_piece_len = len;
    if (score < m->min_score) m->min_score = score;
    return VD_OK;
}

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++) h = fnv_step(h, (uint8_t)s[i]);
    return h;
}

static int32_t lookup(const vd_unigram *m, uint64_t h, const char *s, size_t n) {
    for (uint64_t slot = mix(h) & m->mask;; slot = (slot + 1) & m->mask) {
        int32_t id = m->table[slot];
        if (id < 0) return -1;
        if (m->len[id] == n && !memcmp(m->blob + m->off[id], s, n)) return id;
    }
}

vd_status vd_unigram_finish(vd_unigram *m, int32_t unk_id, bool byte_fallback, vd_error *err) {
    uint64_t size = 16;
    while (size < 2 * (uint64_t)m->n_pieces) size *= 2;
    m->table = (int32_t *)malloc(size * sizeof *m->table);
    if (!m->table) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: cannot allocate the piece hash");
    memset(m->table, 0xFF, size * sizeof *m->table);
    m->mask = size - 1;
    for (int32_t id = 0; id < m->n_pieces; id++) {
        const char *s = m->blob + m->off[id];
        uint64_t slot = mix(hash_bytes(s, m->len[id])) & m->mask;
        for (;; slot = (slot + 1) & m->mask) {
            int32_t o = m->table[slot];
            if (o < 0) break;
            if (m->len[o] == m->len[id] && !memcmp(m->blob + m->off[o], s, m->len[id])) break; // duplicate: later id wins
        }
        m->table[slot] = id;
    }
    if (unk_id >= m->n_pieces)
        return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: unk_id %d is outside the vocab [0, %d)", unk_id, m->n_pieces);
    m->unk_id = unk_id;
    m->byte_fallback = byte_fallback;
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        m->byte_id[b] = vd_unigram_find(m, name, 6);
    }
    return VD_OK;
}

void vd_unigram_free(vd_unigram *m) {
    free(m->blob);
    free(m->off);
    free(m->len);
    free(m->score);
    free(m->table);
    memset(m, 0, sizeof *m);
}

int32_t vd_unigram_find(const vd_unigram *m, const char *s, size_t len) {
    if (!m->table) return -1;
    return lookup(m, hash_bytes(s, len), s, len);
}

typedef struct {
    double score;
    int64_t start;   // -1: not reached
    int32_t id;
} best_node;

// Emits the id(s) for one fused-or-plain token string.
static vd_status emit(const vd_unigram *m, const char *s, size_t n, vd_ibuf *out, vd_error *err) {
    int32_t id = vd_unigram_find(m, s, n);
    if (id < 0 && m->byte_fallback) {
        bool all = true;
        for (size_t i = 0; i < n; i++) all = all && m->byte_id[(uint8_t)s[i]] >= 0;
        if (all) {
            for (size_t i = 0; i < n; i++)
                if (vd_ibuf_push(out, m->byte_id[(uint8_t)s[i]])) goto oom;
            return VD_OK;
        }
    }
    if (id < 0) id = m->unk_id;
    if (id < 0) return vd_error_set(err, VD_ERR_UNSUPPORTED, "tokenizer: unknown text and the model has no unk_id");
    if (vd_ibuf_push(out, id)) goto oom;
    return VD_OK;
oom:
    return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
}

vd_status vd_unigram_encode(const vd_unigram *m, const char *s, size_t len, vd_ibuf *out, vd_error *err) {
    if (len == 0) return VD_OK;
    const uint8_t *u = (const uint8_t *)s;
    best_node *best = (best_node *)malloc((len + 1) * sizeof *best);
    // Token boundaries collected back to front: (start, end, is_unk).
    int64_t *seg = (int64_t *)malloc((len + 1) * 3 * sizeof *seg);
    if (!best || !seg) {
        free(best);
        free(seg);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory on a %zu-byte pre-token", len);
    }
    for (size_t i = 0; i <= len; i++) best[i] = (best_node){0.0, -1, 0};
    const double unk_score = m->min_score - UNK_PENALTY;
    vd_status st = VD_OK;
    for (size_t start = 0; start < len;) {
        double base = best[start].score;
        size_t mblen = vd_utf8_len(u[start]);
        if (start + mblen > len) mblen = len - start;
        bool has_single = false;
        uint64_t h = FNV_OFFSET;
        size_t lim = len - start < m->max_piece_len ? len - start : m->max_piece_len;
        for (size_t k = 0; k < lim; k++) {
            h = fnv_step(h, u[start + k]);
            size_t end = start + k + 1;
            if (end < len && (u[end] & 0xC0) == 0x80) continue;   // not a character boundary
            int32_t id = lookup(m, h, s + start, k + 1);
            if (id < 0) continue;
            double cand = base + m->score[id];
            if (best[end].start < 0 || cand > best[end].score) best[end] = (best_node){cand, (int64_t)start, id};
            if (k + 1 == mblen) has_single = true;
        }
        if (!has_single) {
            if (m->unk_id < 0) {
                st = vd_error_set(err, VD_ERR_UNSUPPORTED,
                                  "tokenizer: character at byte %zu is not in the vocab and the model has no unk_id", start);
                goto done;
            }
            double cand = base + unk_score;
            size_t end = start + mblen;
            if (best[end].start < 0 || cand > best[end].score) best[end] = (best_node){cand, (int64_t)start, m->unk_id};
        }
        start += mblen;
    }
    // Backtrack, fusing runs of unk nodes.
    size_t n_seg = 0;
    for (int64_t end = (int64_t)len; end > 0;) {
        const best_node *b = &best[end];
        VD_ASSERT(b->start >= 0);
        bool unk = b->id == m->unk_id;
        if (unk && n_seg > 0 && seg[3 * (n_seg - 1) + 2] && seg[3 * (n_seg - 1)] == end) {
            seg[3 * (n_seg - 1)] = b->start;   // extend the fused run leftwards
        } else {
            seg[3 * n_seg] = b->start;
            seg[3 * n_seg + 1] = end;
            seg[3 * n_seg + 2] = unk;
            n_seg++;
        }
        end = b->start;
    }
    for (size_t i = n_seg; i-- > 0;) {
        int64_t a = seg[3 * i], e = seg[3 * i + 1];
        if (seg[3 * i + 2]) {
            st = emit(m, s + a, (size_t)(e - a), out, err);
        } else {
            // A non-unk node: its own id (the looked-up piece).
            st = vd_ibuf_push(out, best[e].id) ? vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory") : VD_OK;
        }
        if (st != VD_OK) goto done;
    }
done:
    free(best);
    free(seg);
    return st;
}
