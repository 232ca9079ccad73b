// vdit compare A B: PSNR (RGB) and SSIM (BT.601 luma, Gaussian 11x11, sigma 1.5) per frame and
// their means, between two frame sources of the same size and frame count (codecs/metrics.h).
// Results are printed only when both sources were read to the end without error.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "codecs/metrics.h"
#include "codecs/video_reader.h"

static void compare_usage(FILE *f) {
    fprintf(f, "usage: vdit compare A B [--json]\n\n"
               "A, B: videos, .y4m files, image patterns (frames/%%04d.png) or image directories; same size and\n"
               "frame count. PSNR over RGB (peak 255; inf when identical), SSIM on BT.601 luma\n"
               "(Y = 0.299R + 0.587G + 0.114B, data range 255, Gaussian 11x11 sigma 1.5, Wang et al. 2004).\n\n"
               "options:\n"
               "  --json   print one JSON object (infinite PSNR is written as null)\n");
}

static void json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static void json_num(double v, const char *fmt) {
    if (isfinite(v)) printf(fmt, v);
    else printf("null");
}

int cmd_compare(int argc, char **argv) {
    const char *pa = NULL, *pb = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            compare_usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--json")) json = true;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "vdit compare: unknown option '%s'\n\n", argv[i]);
            compare_usage(stderr);
            return 2;
        } else if (!pa) pa = argv[i];
        else if (!pb) pb = argv[i];
        else {
            fprintf(stderr, "vdit compare: unexpected argument '%s' (two inputs only)\n", argv[i]);
            return 2;
        }
    }
    if (!pa || !pb) {
        fprintf(stderr, "vdit compare: needs two inputs A and B\n\n");
        compare_usage(stderr);
        return 2;
    }
    vd_error err = {0};
    vd_video_reader *ra = NULL, *rb = NULL;
    uint8_t *fa = NULL, *fb = NULL;
    vd_frame_metrics *per = NULL;
    int64_t n = 0, cap = 0;
    if (vd_video_reader_open(&ra, pa, &err) != VD_OK || vd_video_reader_open(&rb, pb, &err) != VD_OK) goto fail;
    int w = vd_video_reader_width(ra), h = vd_video_reader_height(ra);
    if (w != vd_video_reader_width(rb) || h != vd_video_reader_height(rb)) {
        vd_error_set(&err, VD_ERR_INVALID_ARG, "size mismatch: '%s' is %dx%d, '%s' is %dx%d", pa, w, h, pb,
                     vd_video_reader_width(rb), vd_video_reader_height(rb));
        goto fail;
    }
    fa = malloc((size_t)w * h * 3);
    fb = malloc((size_t)w * h * 3);
    if (!fa || !fb) {
        vd_error_set(&err, VD_ERR_OUT_OF_MEMORY, "frame buffers %dx%d: out of memory", w, h);
        goto fail;
    }
    vd_metrics_acc acc;
    vd_metrics_acc_init(&acc);
    for (;;) {
        bool ga, gb;
        if (vd_video_reader_read(ra, fa, &ga, &err) != VD_OK || vd_video_reader_read(rb, fb, &gb, &err) != VD_OK)
            goto fail;
        if (ga != gb) {
            // Count the rest of the longer source so the message gives both lengths.
            vd_video_reader *longer = ga ? ra : rb;
            uint8_t *buf = ga ? fa : fb;
            bool g = true;
            while (g && vd_video_reader_read(longer, buf, &g, &err) == VD_OK) {}
            vd_error_set(&err, VD_ERR_INVALID_ARG, "frame count mismatch: '%s' has %lld frames, '%s' has %lld", pa,
                         (long long)vd_video_reader_frames(ra), pb, (long long)vd_video_reader_frames(rb));
            goto fail;
        }
        if (!ga) break;
        if (n == cap) {
            cap = cap ? 2 * cap : 128;
            vd_frame_metrics *np = realloc(per, sizeof *per * (size_t)cap);
            if (!np) {
                vd_error_set(&err, VD_ERR_OUT_OF_MEMORY, "out of memory");
                goto fail;
            }
            per = np;
        }
        if (vd_frame_metrics_compute(fa, fb, w, h, &per[n], &err) != VD_OK) goto fail;
        vd_metrics_acc_add(&acc, &per[n]);
        n++;
    }
    if (n == 0) {
        vd_error_set(&err, VD_ERR_FORMAT, "'%s' and '%s' have no frames", pa, pb);
        goto fail;
    }
    if (json) {
        printf("{\"a\": ");
        json_str(pa);
        printf(", \"b\": ");
        json_str(pb);
        printf(", \"width\": %d, \"height\": %d, \"frames\": %lld,\n", w, h, (long long)n);
        printf(" \"psnr\": \"RGB, peak 255\", \"ssim\": \"BT.601 luma, data range 255, gaussian 11x11 sigma 1.5\",\n");
        printf(" \"psnr_mean\": ");
        json_num(vd_metrics_acc_psnr_mean(&acc), "%.6f");
        printf(", \"psnr_pooled\": ");
        json_num(vd_metrics_acc_psnr_pooled(&acc), "%.6f");
        printf(", \"ssim_mean\": ");
        json_num(vd_metrics_acc_ssim_mean(&acc), "%.8f");
        printf(",\n \"per_frame\": [");
        for (int64_t i = 0; i < n; i++) {
            printf("%s\n  {\"frame\": %lld, \"psnr\": ", i ? "," : "", (long long)i);
            json_num(per[i].psnr, "%.6f");
            printf(", \"ssim\": ");
            json_num(per[i].ssim, "%.8f");
            printf(", \"mse\": %.6f}", per[i].mse);
        }
        printf("\n ]}\n");
    } else {
        printf("%-7s %10s %10s\n", "frame", "psnr_db", "ssim");
        for (int64_t i = 0; i < n; i++) printf("%-7lld %10.3f %10.6f\n", (long long)i, per[i].psnr, per[i].ssim);
        printf("mean over %lld frames (%dx%d): psnr %.3f dB (pooled mse: %.3f dB), ssim %.6f\n", (long long)n, w, h,
               vd_metrics_acc_psnr_mean(&acc), vd_metrics_acc_psnr_pooled(&acc), vd_metrics_acc_ssim_mean(&acc));
    }
    vd_video_reader_close(ra);
    vd_video_reader_close(rb);
    free(fa), free(fb), free(per);
    return 0;
fail:
    fprintf(stderr, "vdit compare: %s\n", err.msg);
    vd_video_reader_close(ra);
    vd_video_reader_close(rb);
    free(fa), free(fb), free(per);
    return 1;
}
