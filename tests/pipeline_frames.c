#include "tests/pipeline_frames.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/image.h"
#include "codecs/metrics.h"
#include "tests/test_util.h"

bool pt_read_png_frames(const char *dir, int nf, int fw, int fh, uint8_t *frames, const char *name) {
    for (int f = 0; f < nf; f++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%04d.png", dir, f + 1);
        uint8_t *rgb = NULL;
        int w = 0, h = 0;
        vd_error err = {0};
        if (vd_image_read(p, &rgb, &w, &h, &err) || w != fw || h != fh) {
            fprintf(stderr, "FAIL %s: frame %s: %s (%dx%d, want %dx%d)\n", name, p, err.msg, w, h, fw, fh);
            vt_failures++;
            free(rgb);
            return false;
        }
        memcpy(frames + (size_t)f * fh * fw * 3, rgb, (size_t)fh * fw * 3);
        free(rgb);
    }
    return true;
}

double pt_psnr_u8(const uint8_t *a, const uint8_t *b, size_t n) {
    // n bytes = n/3 RGB pixels, viewed as one row for the codecs' MSE.
    return vd_psnr_from_mse(vd_mse_rgb(a, b, (int)(n / 3), 1), 255.0);
}
