// Metrics: PSNR (RGB) and SSIM (BT.601 luma, Gaussian 11x11 sigma 1.5) against
//   1. identical inputs: PSNR = inf, SSIM = 1;
//   2. analytic cases: +-d on a known share of samples (MSE known exactly, hence PSNR), constant
//      frames (SSIM reduces to the luminance term (2ab + C1) / (a^2 + b^2 + C1));
//   3. scikit-image values from tests/data/codecs/metrics_skimage.txt (scripts/gen_codecs_fixtures.py),
//      on image pairs regenerated here bit-exactly from the same integer recipes;
//   4. properties: symmetry, SSIM falling with noise amplitude, the too-small-frame error, and the
//      video summaries (mean of per-frame PSNR vs PSNR of pooled MSE).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/metrics.h"
#include "test_util.h"

static uint8_t clip8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

static uint32_t xorshift32(uint32_t s) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
}

// --- the integer recipes of scripts/gen_codecs_fixtures.py ---------------------------------
static void box3(const uint8_t *in, uint8_t *out, int w, int h) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                int acc = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = y + dy < 0 ? 0 : y + dy >= h ? h - 1 : y + dy;
                        int xx = x + dx < 0 ? 0 : x + dx >= w ? w - 1 : x + dx;
                        acc += in[((size_t)yy * w + xx) * 3 + c];
                    }
                out[((size_t)y * w + x) * 3 + c] = (uint8_t)(acc / 9);
            }
}

static void gen_base(uint8_t *a, int w, int h, int seed) {
    uint8_t *raw = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                raw[((size_t)y * w + x) * 3 + c] =
                    (uint8_t)((x * 7 + y * 3 + c * 50 + seed * 17 + ((x / 4 + y / 4) % 2) * 60) % 256);
    box3(raw, a, w, h);
    free(raw);
}

static int gen_distort(const uint8_t *a, uint8_t *b, int w, int h, const char *kind, int param, int seed) {
    size_t n = (size_t)w * h * 3;
    if (!strcmp(kind, "same")) memcpy(b, a, n);
    else if (!strcmp(kind, "shift")) for (size_t i = 0; i < n; i++) b[i] = clip8(a[i] + param);
    else if (!strcmp(kind, "blur")) box3(a, b, w, h);
    else if (!strcmp(kind, "noise")) {
        uint32_t st = (uint32_t)((uint64_t)seed * 2654435761u + 1u);
        for (size_t i = 0; i < n; i++) {
            st = xorshift32(st);
            b[i] = clip8((int)a[i] + (int)(st % (uint32_t)(2 * param + 1)) - param);
        }
    } else return -1;
    return 0;
}

static void test_skimage_fixture(void) {
    const char *path = vt_src_path("tests/data/codecs/metrics_skimage.txt");
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "FAIL: cannot open %s (regenerate with scripts/gen_codecs_fixtures.py)\n", path);
        vt_failures++;
        return;
    }
    char line[512];
    int n_cases = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char name[64], kind[32], psnr_s[64];
        int w, h, seed, param;
        double ssim_ref;
        if (sscanf(line, "%63s %d %d %d %31s %d %63s %lf", name, &w, &h, &seed, kind, &param, psnr_s, &ssim_ref) != 8) {
            fprintf(stderr, "FAIL: bad fixture line: %s", line);
            vt_failures++;
            continue;
        }
        double psnr_ref = !strcmp(psnr_s, "inf") ? INFINITY : strtod(psnr_s, NULL);
        uint8_t *a = malloc((size_t)w * h * 3), *b = malloc((size_t)w * h * 3);
        gen_base(a, w, h, seed);
        VT_EXPECT(gen_distort(a, b, w, h, kind, param, seed) == 0);
        vd_frame_metrics m;
        vd_error err = {0};
        VT_EXPECT(vd_frame_metrics_compute(a, b, w, h, &m, &err) == VD_OK);
        bool psnr_ok = isinf(psnr_ref) ? isinf(m.psnr) : fabs(m.psnr - psnr_ref) <= 1e-9 * fabs(psnr_ref);
        bool ssim_ok = fabs(m.ssim - ssim_ref) <= 1e-10;
        // Tolerances: both sides compute in float64 from identical integer inputs; 1e-9 relative
        // (PSNR printed with 12 digits) and 1e-10 absolute (SSIM sums differ only in order).
        printf("skimage %-12s %2dx%-2d psnr %.10f (ref %.10f) %s  ssim %.12f (ref %.12f, diff %.1e) %s\n", name, w, h,
               m.psnr, psnr_ref, psnr_ok ? "ok" : "FAIL", m.ssim, ssim_ref, fabs(m.ssim - ssim_ref), ssim_ok ? "ok" : "FAIL");
        VT_EXPECT(psnr_ok);
        VT_EXPECT(ssim_ok);
        free(a);
        free(b);
        n_cases++;
    }
    fclose(f);
    printf("skimage fixture: %d cases\n", n_cases);
    VT_EXPECT(n_cases >= 8);
}

static void test_identical(void) {
    const int w = 33, h = 21;
    uint8_t *a = malloc((size_t)w * h * 3);
    gen_base(a, w, h, 11);
    vd_frame_metrics m;
    VT_EXPECT(vd_frame_metrics_compute(a, a, w, h, &m, NULL) == VD_OK);
    printf("identical: mse %g psnr %f ssim %.17g\n", m.mse, m.psnr, m.ssim);
    VT_EXPECT(m.mse == 0 && isinf(m.psnr) && m.psnr > 0);
    VT_EXPECT(fabs(m.ssim - 1.0) < 1e-12);
    free(a);
}

static void test_analytic_psnr(void) {
    const int w = 40, h = 30; // 3600 samples: even, so "every other sample" is exactly half
    const size_t n = (size_t)w * h * 3;
    uint8_t *a = malloc(n), *b = malloc(n);
    for (size_t i = 0; i < n; i++) a[i] = (uint8_t)(20 + (i * 37) % 200); // 20..219: no clipping at +-d
    const int ds[3] = {1, 5, 17};
    for (int k = 0; k < 3; k++) {
        int d = ds[k];
        // Half the samples +d / -d alternately, the other half unchanged: MSE = d^2 / 2.
        for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(a[i] + (i % 2 ? 0 : (i % 4 ? d : -d)));
        double want = 10 * log10(255.0 * 255.0 / (d * d / 2.0));
        double got = vd_psnr_from_mse(vd_mse_rgb(a, b, w, h), 255.0);
        printf("analytic: +-%d on half the samples: psnr %.12f want %.12f\n", d, got, want);
        VT_EXPECT(fabs(got - want) < 1e-9);
        // Every sample +d: MSE = d^2.
        for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(a[i] + d);
        want = 10 * log10(255.0 * 255.0 / (d * d));
        vd_frame_metrics m;
        VT_EXPECT(vd_frame_metrics_compute(a, b, w, h, &m, NULL) == VD_OK);
        printf("analytic: +%d everywhere: psnr %.12f want %.12f\n", d, m.psnr, want);
        VT_EXPECT(fabs(m.psnr - want) < 1e-9);
    }
    free(a);
    free(b);
}

static void test_constant_ssim(void) {
    // Constant grey frames (v, v, v): Y = v, zero variances, so SSIM = (2ab + C1) / (a^2 + b^2 + C1)
    // with C1 = (0.01 * 255)^2.
    const int w = 16, h = 14;
    const int pairs[3][2] = {{100, 110}, {0, 255}, {60, 61}};
    uint8_t *a = malloc((size_t)w * h * 3), *b = malloc((size_t)w * h * 3);
    for (int k = 0; k < 3; k++) {
        memset(a, pairs[k][0], (size_t)w * h * 3);
        memset(b, pairs[k][1], (size_t)w * h * 3);
        double x = pairs[k][0], y = pairs[k][1], c1 = 2.55 * 2.55;
        double want = (2 * x * y + c1) / (x * x + y * y + c1);
        vd_frame_metrics m;
        VT_EXPECT(vd_frame_metrics_compute(a, b, w, h, &m, NULL) == VD_OK);
        printf("constant %d vs %d: ssim %.12f want %.12f\n", pairs[k][0], pairs[k][1], m.ssim, want);
        VT_EXPECT(fabs(m.ssim - want) < 1e-9);
    }
    free(a);
    free(b);
}

static void test_properties(void) {
    const int w = 48, h = 36;
    uint8_t *a = malloc((size_t)w * h * 3), *b = malloc((size_t)w * h * 3);
    gen_base(a, w, h, 21);
    double prev = 1.0;
    for (int amp = 2; amp <= 64; amp *= 2) {
        gen_distort(a, b, w, h, "noise", amp, 5);
        vd_frame_metrics ab, ba;
        VT_EXPECT(vd_frame_metrics_compute(a, b, w, h, &ab, NULL) == VD_OK);
        VT_EXPECT(vd_frame_metrics_compute(b, a, w, h, &ba, NULL) == VD_OK);
        printf("noise amp %2d: psnr %.3f ssim %.6f\n", amp, ab.psnr, ab.ssim);
        VT_EXPECT(fabs(ab.ssim - ba.ssim) < 1e-12 && ab.psnr == ba.psnr); // symmetric
        VT_EXPECT(ab.ssim < prev);                                         // falls with noise
        prev = ab.ssim;
    }
    vd_error err = {0};
    vd_frame_metrics m;
    VT_EXPECT(vd_frame_metrics_compute(a, b, 10, 36, &m, &err) == VD_ERR_INVALID_ARG);
    printf("too small: %s\n", err.msg);
    VT_EXPECT(strstr(err.msg, "10x36") != NULL);
    free(a);
    free(b);
}

static void test_summaries(void) {
    vd_metrics_acc acc;
    vd_metrics_acc_init(&acc);
    vd_frame_metrics f1 = {1.0, vd_psnr_from_mse(1.0, 255), 0.9}, f2 = {4.0, vd_psnr_from_mse(4.0, 255), 0.7};
    vd_metrics_acc_add(&acc, &f1);
    vd_metrics_acc_add(&acc, &f2);
    double want_mean = (10 * log10(65025.0) + 10 * log10(65025.0 / 4)) / 2, want_pooled = 10 * log10(65025.0 / 2.5);
    printf("summary: psnr mean %.9f (want %.9f) pooled %.9f (want %.9f) ssim %.3f\n", vd_metrics_acc_psnr_mean(&acc),
           want_mean, vd_metrics_acc_psnr_pooled(&acc), want_pooled, vd_metrics_acc_ssim_mean(&acc));
    VT_EXPECT(fabs(vd_metrics_acc_psnr_mean(&acc) - want_mean) < 1e-9);
    VT_EXPECT(fabs(vd_metrics_acc_psnr_pooled(&acc) - want_pooled) < 1e-9);
    VT_EXPECT(fabs(vd_metrics_acc_ssim_mean(&acc) - 0.8) < 1e-12);
    vd_frame_metrics same = {0.0, INFINITY, 1.0};
    vd_metrics_acc_add(&acc, &same);
    VT_EXPECT(isinf(vd_metrics_acc_psnr_mean(&acc)));                       // one identical frame
    VT_EXPECT(fabs(vd_metrics_acc_psnr_pooled(&acc) - 10 * log10(65025.0 / (5.0 / 3))) < 1e-9); // stays finite
}

int main(void) {
    test_identical();
    test_analytic_psnr();
    test_constant_ssim();
    test_properties();
    test_summaries();
    test_skimage_fixture();
    return vt_finish("test_codecs_metrics");
}
