// Growable byte and id buffers used inside the tokenizer (header-only helpers).
#pragma once
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *p;     // NUL-terminated when non-NULL
    size_t len, cap;
} vd_sbuf;

// Returns 0, or -1 when out of memory.
static inline int vd_sbuf_reserve(vd_sbuf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = (char *)realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}
static inline int vd_sbuf_append(vd_sbuf *b, const char *s, size_t n) {
    if (vd_sbuf_reserve(b, n)) return -1;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}
static inline void vd_sbuf_free(vd_sbuf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

typedef struct {
    int32_t *v;
    size_t n, cap;
} vd_ibuf;

static inline int vd_ibuf_push(vd_ibuf *b, int32_t x) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        int32_t *v = (int32_t *)realloc(b->v, cap * sizeof *v);
        if (!v) return -1;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = x;
    return 0;
}
static inline void vd_ibuf_free(vd_ibuf *b) {
    free(b->v);
    b->v = NULL;
    b->n = b->cap = 0;
}
