// A built-in 5x7 bitmap font (printable ASCII 32..126) for labels on benchmark grids. Glyphs are
// drawn in font.c as 7 rows of 5 cells; lower-case letters have no descenders. Characters
// outside 32..126 render as '?'. Each glyph advances 6 columns (1 column of spacing).
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VD_FONT_W 5
#define VD_FONT_H 7
#define VD_FONT_ADVANCE 6

// True when cell (row, col) of character c's glyph is set (row 0 = top, col 0 = left).
bool vd_font_pixel(char c, int row, int col);
// Width in pixels of a single text line at the given integer scale (no trailing spacing).
int vd_font_text_width(const char *text, size_t len, int scale);
// Draws len characters of text with its top-left corner at (x, y), each font cell scale x scale
// pixels, into rgb [h, w, 3] with row stride `stride` bytes; clipped to the image.
void vd_font_draw(uint8_t *rgb, int w, int h, size_t stride, int x, int y, const char *text, size_t len, int scale,
                  const uint8_t color[3]);
