// 8-bit RGB <-> Y'CbCr with the BT.601 matrix, limited ("TV") range: Y' in 16..235, Cb/Cr in
// 16..240. Used by the y4m writer/reader (no FFmpeg). Coefficients from ITU-R BT.601-7 Table 3:
// Y' = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, etc., R, G, B in 0..255.
// full_range variants (Y' 0..255, JPEG/JFIF) exist for y4m files tagged XCOLORRANGE=FULL.
#pragma once
#include <stdbool.h>
#include <stdint.h>

void vd_rgb_to_ycbcr601(uint8_t r, uint8_t g, uint8_t b, uint8_t *y, uint8_t *cb, uint8_t *cr);
void vd_ycbcr601_to_rgb(uint8_t y, uint8_t cb, uint8_t cr, bool full_range, uint8_t *r, uint8_t *g, uint8_t *b);
