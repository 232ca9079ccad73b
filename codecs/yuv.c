// BT.601 Y'CbCr <-> RGB (see yuv.h). Computed in double and rounded to nearest; exact enough that
// RGB -> YCbCr -> RGB is within +-2 levels for in-gamut colours (quantization of 219/224 steps).
#include "codecs/yuv.h"

#include <math.h>

static uint8_t clamp_u8(double v) {
    v = floor(v + 0.5);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

void vd_rgb_to_ycbcr601(uint8_t r, uint8_t g, uint8_t b, uint8_t *y, uint8_t *cb, uint8_t *cr) {
    *y = clamp_u8(16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0);
    *cb = clamp_u8(128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0);
    *cr = clamp_u8(128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0);
}

void vd_ycbcr601_to_rgb(uint8_t y, uint8_t cb, uint8_t cr, bool full_range, uint8_t *r, uint8_t *g, uint8_t *b) {
    // Kr = 0.299, Kb = 0.114: R = Y + 2(1-Kr) Cr, B = Y + 2(1-Kb) Cb, G = (Y - Kr R - Kb B) / Kg.
    double Y, Cb, Cr;
    if (full_range) {
        Y = y;
        Cb = cb - 128.0;
        Cr = cr - 128.0;
    } else {
        Y = (y - 16.0) * 255.0 / 219.0;
        Cb = (cb - 128.0) * 255.0 / 224.0;
        Cr = (cr - 128.0) * 255.0 / 224.0;
    }
    double R = Y + 1.402 * Cr;
    double B = Y + 1.772 * Cb;
    double G = (Y - 0.299 * R - 0.114 * B) / 0.587;
    *r = clamp_u8(R);
    *g = clamp_u8(G);
    *b = clamp_u8(B);
}
