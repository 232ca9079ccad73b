// Still images: stb_image decoding of files written by Pillow (scripts/gen_codecs_fixtures.py:
// an RGB JPEG, a greyscale PNG, an RGBA PNG) against the pattern regenerated here, and the
// libpng writer round trip (exact, with a row stride larger than W*3 and odd sizes).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/image.h"
#include "test_codecs_common.h"
#include "test_util.h"

static void still_pattern(uint8_t *a, int w, int h) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = a + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)((x * 10 + y * 3) % 256);
            p[1] = (uint8_t)((y * 15) % 256);
            p[2] = (uint8_t)((x * 5 + y * 7 + 60) % 256);
        }
}

static void test_fixtures(void) {
    const int w = 24, h = 16;
    uint8_t ref[24 * 16 * 3];
    still_pattern(ref, w, h);
    vd_error err = {0};
    uint8_t *px = NULL;
    int iw = 0, ih = 0;
    // JPEG q95 without chroma subsampling: lossy, must stay close (measured 42.4 dB on this pattern
    // of sharp diagonal wraps; 30 dB limit leaves room for other JPEG decoders' rounding).
    vd_status s = vd_image_read(vt_src_path("tests/data/codecs/image_rgb_q95.jpg"), &px, &iw, &ih, &err);
    if (s != VD_OK) printf("jpeg: %s\n", err.msg);
    VT_EXPECT(s == VD_OK && iw == w && ih == h);
    if (s == VD_OK && iw == w && ih == h) {
        double p = vtc_psnr_region(px, w, ref, w, h);
        printf("jpeg q95 %dx%d: PSNR %.2f dB vs the pattern (limit 30)\n", iw, ih, p);
        VT_EXPECT(p >= 30.0);
    }
    free(px);
    // Greyscale PNG of the green channel: expands to R = G = B exactly.
    s = vd_image_read(vt_src_path("tests/data/codecs/image_gray.png"), &px, &iw, &ih, &err);
    VT_EXPECT(s == VD_OK && iw == w && ih == h);
    int bad = 0;
    for (int i = 0; s == VD_OK && i < w * h; i++)
        bad += px[3 * i] != ref[3 * i + 1] || px[3 * i + 1] != ref[3 * i + 1] || px[3 * i + 2] != ref[3 * i + 1];
    printf("grey png: %d mismatching pixels\n", bad);
    VT_EXPECT(s == VD_OK && bad == 0);
    free(px);
    // RGBA PNG: alpha dropped, colour exact.
    s = vd_image_read(vt_src_path("tests/data/codecs/image_rgba.png"), &px, &iw, &ih, &err);
    VT_EXPECT(s == VD_OK && iw == w && ih == h && memcmp(px, ref, sizeof ref) == 0);
    printf("rgba png: %s\n", s == VD_OK && !memcmp(px, ref, sizeof ref) ? "colour exact" : "MISMATCH");
    free(px);
}

static void test_png_roundtrip(const char *dir) {
    const int sizes[3][2] = {{1, 1}, {37, 23}, {64, 48}};
    for (int k = 0; k < 3; k++) {
        int w = sizes[k][0], h = sizes[k][1];
        size_t stride = (size_t)w * 3 + 5; // padded rows
        uint8_t *img = malloc(stride * h), *packed = malloc((size_t)w * h * 3);
        memset(img, 0xEE, stride * h);
        vtc_pattern(packed, w, h, k);
        for (int y = 0; y < h; y++) memcpy(img + y * stride, packed + (size_t)y * w * 3, (size_t)w * 3);
        char p[1024];
        snprintf(p, sizeof p, "%s/rt.png", dir);
        vd_error err = {0};
        VT_EXPECT(vd_png_write(p, img, w, h, stride, &err) == VD_OK);
        uint8_t *back = NULL;
        int bw, bh;
        vd_status s = vd_image_read(p, &back, &bw, &bh, &err);
        bool ok = s == VD_OK && bw == w && bh == h && !memcmp(back, packed, (size_t)w * h * 3);
        printf("png round trip %dx%d (stride %zu): %s\n", w, h, stride, ok ? "exact" : "MISMATCH");
        VT_EXPECT(ok);
        VT_EXPECT(vtc_count_entries(dir, true) == 1); // only rt.png, no temporaries
        free(back);
        free(img);
        free(packed);
        unlink(p);
    }
}

int main(void) {
    test_fixtures();
    char dir[512];
    if (!vtc_scratch(dir, sizeof dir, "image")) return 1;
    test_png_roundtrip(dir);
    vtc_rm_rf(dir);
    return vt_finish("test_codecs_image");
}
