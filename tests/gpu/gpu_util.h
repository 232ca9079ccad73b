// Helpers shared by the gpu tests of the CUDA foundation: a context + arena, device buffers
// with a guard region of canary bytes after the data (checked untouched after each op, ggml's
// sentinel idea), and host <-> device copies that abort the test on a CUDA error.
#pragma once
#include <stdlib.h>
#include <string.h>

#include "lib/device.h"
#include "tests/test_util.h"

#define GT_GUARD_BYTES 512
#define GT_CANARY 0xA5

typedef struct {
    vd_cuda_ctx *ctx;
    vd_cuda_arena arena;
} gt_env;

static gt_env gt;

static void gt_die(const char *what, const vd_error *e) {
    fprintf(stderr, "FAIL %s: %s\n", what, e->msg);
    exit(1);
}

static void gt_init(size_t arena_bytes) {
    vd_error e = {0};
    if (vd_cuda_ctx_create(&gt.ctx, 0, &e) != VD_OK) gt_die("vd_cuda_ctx_create", &e);
    if (vd_cuda_arena_init(&gt.arena, arena_bytes, &e) != VD_OK) gt_die("vd_cuda_arena_init", &e);
    char desc[256];
    vd_cuda_describe(gt.ctx, desc, sizeof desc);
    printf("device: %s\n", desc);
}

static void gt_free(void) {
    vd_cuda_arena_free(&gt.arena);
    vd_cuda_ctx_free(gt.ctx);
}

// Device buffer of `bytes` followed by GT_GUARD_BYTES; the whole span is filled with the canary,
// then the first `bytes` with src (when src != NULL).
static void *gt_dev(const void *src, size_t bytes) {
    vd_error e = {0};
    void *d = NULL;
    if (vd_cuda_arena_alloc(&gt.arena, bytes + GT_GUARD_BYTES, &d, &e) != VD_OK) gt_die("vd_cuda_arena_alloc", &e);
    unsigned char *fill = malloc(bytes + GT_GUARD_BYTES);
    VD_ASSERT(fill);
    memset(fill, GT_CANARY, bytes + GT_GUARD_BYTES);
    if (src) memcpy(fill, src, bytes);
    if (vd_cuda_upload(gt.ctx, d, fill, bytes + GT_GUARD_BYTES, &e) != VD_OK) gt_die("vd_cuda_upload", &e);
    free(fill);
    return d;
}

// Downloads `bytes` into dst and checks the guard after them; counts a failure naming the case.
static void gt_get(void *dst, const void *dev, size_t bytes, const char *case_name) {
    vd_error e = {0};
    if (vd_cuda_sync(gt.ctx, &e) != VD_OK) gt_die(case_name, &e);
    unsigned char *buf = malloc(bytes + GT_GUARD_BYTES);
    VD_ASSERT(buf);
    if (vd_cuda_download(gt.ctx, buf, dev, bytes + GT_GUARD_BYTES, &e) != VD_OK) gt_die("vd_cuda_download", &e);
    memcpy(dst, buf, bytes);
    for (size_t i = 0; i < GT_GUARD_BYTES; i++)
        if (buf[bytes + i] != GT_CANARY) {
            printf("FAIL %s: guard byte %zu after the %zu-byte output was overwritten (0x%02x)\n", case_name, i, bytes,
                   buf[bytes + i]);
            vt_failures++;
            break;
        }
    free(buf);
}

// Runs a CUDA op and fails the test with its message when it does not return VD_OK.
#define GT_OK(call)                                                                                   \
    do {                                                                                              \
        vd_error gt_e_ = {0};                                                                         \
        vd_error *err = &gt_e_;                                                                       \
        if ((call) != VD_OK) gt_die(#call, &gt_e_);                                                   \
        (void)err;                                                                                    \
    } while (0)
