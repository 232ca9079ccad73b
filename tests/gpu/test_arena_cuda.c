// CUDA context, arena and copies (lib/device.h, lib/device.cu):
//  - context: describe string, bad device ids rejected with the allowed range;
//  - arena: 256-byte alignment, no overlap, mark/reset, peak, exact-fit and out-of-memory
//    messages (sizes named, arena unchanged after a failed alloc), absurd init size refused;
//  - copies: round trip of a pattern, a slice write leaves its neighbours untouched;
//  - VD_CUDA_TRY messages: a copy to an invalid device address returns VD_ERR_CUDA naming the
//    statement, file:line and device, and the context keeps working afterwards.
#include <stdint.h>
#include <string.h>

#include "gpu_util.h"

static bool contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

static void test_ctx(void) {
    vd_error e = {0};
    vd_cuda_ctx *c = NULL;
    vd_status st = vd_cuda_ctx_create(&c, 9999, &e);
    printf("     bad device: %s\n", e.msg);
    VT_EXPECT(st == VD_ERR_INVALID_ARG && c == NULL && contains(e.msg, "9999") && contains(e.msg, "allowed 0.."));
    st = vd_cuda_ctx_create(&c, -1, &e);
    VT_EXPECT(st == VD_ERR_INVALID_ARG && c == NULL);
    char desc[256];
    vd_cuda_describe(gt.ctx, desc, sizeof desc);
    VT_EXPECT(contains(desc, "sm_") && contains(desc, "GiB"));
    VT_EXPECT(vd_cuda_ctx_stream(gt.ctx) != NULL);
    VT_EXPECT(vd_cuda_available());
}

static void test_arena(void) {
    vd_error e = {0};
    vd_cuda_arena a;
    VT_EXPECT(vd_cuda_arena_init(&a, (size_t)1 << 20, &e) == VD_OK);
    void *p1 = NULL, *p2 = NULL, *p3 = NULL;
    VT_EXPECT(vd_cuda_arena_alloc(&a, 1, &p1, &e) == VD_OK);
    VT_EXPECT(vd_cuda_arena_alloc(&a, 1000, &p2, &e) == VD_OK);
    VT_EXPECT(((uintptr_t)p1 % 256) == 0 && ((uintptr_t)p2 % 256) == 0);
    VT_EXPECT((char *)p2 >= (char *)p1 + 1);
    size_t mark = vd_cuda_arena_mark(&a);
    VT_EXPECT(vd_cuda_arena_alloc(&a, 4096, &p3, &e) == VD_OK);
    VT_EXPECT((char *)p3 >= (char *)p2 + 1000 && ((uintptr_t)p3 % 256) == 0);
    size_t peak = a.peak;
    vd_cuda_arena_reset(&a, mark);
    void *p4 = NULL;
    VT_EXPECT(vd_cuda_arena_alloc(&a, 16, &p4, &e) == VD_OK && p4 == p3); // reuse after reset
    VT_EXPECT(a.peak == peak);                                            // peak keeps the high-water mark
    VT_EXPECT(vd_cuda_peak_bytes(gt.ctx) >= peak);
    // exact fit of the rest, then one byte more fails and leaves the arena as it was
    size_t start = (a.top + 255) & ~(size_t)255, rest = a.cap - start;
    size_t top_before = a.top;
    void *p5 = NULL;
    vd_status st = vd_cuda_arena_alloc(&a, rest + 1, &p5, &e);
    printf("     arena full: %s\n", e.msg);
    VT_EXPECT(st == VD_ERR_OUT_OF_MEMORY && p5 == NULL && a.top == top_before && contains(e.msg, "do not fit"));
    VT_EXPECT(vd_cuda_arena_alloc(&a, rest, &p5, &e) == VD_OK && a.top == a.cap);
    VT_EXPECT(vd_cuda_arena_alloc(&a, 1, &p5, &e) == VD_ERR_OUT_OF_MEMORY);
    VT_EXPECT(vd_cuda_arena_alloc(&a, SIZE_MAX, &p5, &e) == VD_ERR_OUT_OF_MEMORY); // no wrap-around
    vd_cuda_arena_free(&a);
    VT_EXPECT(a.base == NULL && a.cap == 0);

    vd_cuda_arena huge;
    st = vd_cuda_arena_init(&huge, (size_t)1 << 50, &e); // 1 PiB
    printf("     arena 1 PiB: %s\n", e.msg);
    VT_EXPECT(st == VD_ERR_OUT_OF_MEMORY && huge.base == NULL && contains(e.msg, "GiB free"));
}

static void test_copies(void) {
    const size_t n = 100003; // odd byte count
    unsigned char *h = malloc(n), *back = malloc(n);
    VD_ASSERT(h && back);
    for (size_t i = 0; i < n; i++) h[i] = (unsigned char)(i * 131 + 7);
    unsigned char *d = gt_dev(h, n);
    gt_get(back, d, n, "copy round trip");
    VT_EXPECT(memcmp(h, back, n) == 0);
    // write a slice in the middle; the bytes around it must stay
    unsigned char mid[777];
    memset(mid, 0x3C, sizeof mid);
    vd_error e = {0};
    VT_EXPECT(vd_cuda_upload(gt.ctx, d + 5001, mid, sizeof mid, &e) == VD_OK);
    memcpy(h + 5001, mid, sizeof mid);
    gt_get(back, d, n, "slice write");
    VT_EXPECT(memcmp(h, back, n) == 0);
    VT_EXPECT(vd_cuda_upload(gt.ctx, d, h, 0, &e) == VD_OK); // zero bytes: no-op
    free(h);
    free(back);
}

static void test_cuda_error_message(void) {
    vd_error e = {0};
    char buf[64] = {0};
    vd_status st = vd_cuda_upload(gt.ctx, (void *)(uintptr_t)0x10, buf, sizeof buf, &e);
    printf("     invalid device address: %s\n", e.msg);
    VT_EXPECT(st == VD_ERR_CUDA);
    // the statement named is the copy (checked by the driver at the call) or, should the driver
    // defer the check, the synchronize that reports it
    VT_EXPECT(contains(e.msg, "cudaMemcpyAsync") || contains(e.msg, "cudaStreamSynchronize"));
    VT_EXPECT(contains(e.msg, "vd_cuda_upload: ") && contains(e.msg, "device.cu:") && contains(e.msg, "on device 0"));
    // not sticky: the context still copies
    unsigned char *d = gt_dev(NULL, 64);
    VT_EXPECT(vd_cuda_upload(gt.ctx, d, buf, sizeof buf, &e) == VD_OK);
    VT_EXPECT(vd_cuda_sync(gt.ctx, &e) == VD_OK);
}

int main(void) {
    if (!vt_have_gpu()) {
        printf("test_arena_cuda: no CUDA device, skipped\n");
        return VD_TEST_SKIP;
    }
    gt_init((size_t)64 << 20);
    test_ctx();
    test_arena();
    test_copies();
    test_cuda_error_message();
    gt_free();
    return vt_finish("test_arena_cuda");
}
