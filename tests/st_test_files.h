// Helpers for the safetensors tests: a scratch directory and raw file builders that write the
// format by hand (8-byte little-endian length, header text, data), independently of the
// library's writer, so malformed files can be made byte by byte.
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Creates a fresh directory under $TMPDIR (or /tmp); returns its path (static buffer per call site).
static inline int st_mkdtemp(char *buf, size_t cap, const char *tag) {
    const char *base = getenv("TMPDIR");
    snprintf(buf, cap, "%s/vdit_%s_XXXXXX", base && *base ? base : "/tmp", tag);
    return mkdtemp(buf) ? 0 : -1;
}

// Builds an in-memory file: hlen (the length field) may differ from strlen(header) to make
// inconsistent files. Returns malloc'ed bytes and their count.
static inline uint8_t *st_build(uint64_t hlen_field, const char *header, const void *data, size_t data_len,
                                size_t *out_len) {
    size_t h = strlen(header);
    uint8_t *b = malloc(8 + h + data_len + 1);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(hlen_field >> (8 * i));
    memcpy(b + 8, header, h);
    if (data_len) memcpy(b + 8 + h, data, data_len);
    *out_len = 8 + h + data_len;
    return b;
}

static inline int st_write_bytes(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = n ? fwrite(bytes, 1, n, f) : 0;
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

static inline uint8_t *st_read_bytes(const char *path, size_t *n) {
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

static inline int st_file_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}
