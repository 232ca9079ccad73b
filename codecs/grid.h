// Grid compositor for benchmark videos: N frame streams of the same size tiled in a grid, each
// tile under a label strip (built-in 5x7 font, font.h). Per output frame the caller sets every
// tile (vd_grid_set_tile) and reads the canvas (vd_grid_frame) to feed a video writer.
//
// Layout (all in pixels): cells of tile_w x (label_h + tile_h) separated and surrounded by `gap`
// pixels of background (32,32,32). label_h = lines * (7 + 2) * scale + 2 * scale: white text on
// black, left-aligned, lines separated by '\n'; a line too long for the tile is cut and ends in
// "..". Tiles never covered by set_tile (e.g. a shorter stream) stay black.
//   out_w = cols * tile_w + (cols + 1) * gap,  out_h = rows * (label_h + tile_h) + (rows + 1) * gap.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int cols;       // 0 = auto: n when n <= 4, else ceil(sqrt(n))
    int scale;      // font scale; 0 = auto: max(1, tile_w / 256)
    int gap;        // pixels between cells; -1 = auto (2 * scale)
    int label_lines; // lines reserved per label; 0 = the most lines among the initial labels (>= 1)
} vd_grid_params;

void vd_grid_params_init(vd_grid_params *p);

typedef struct {
    int n, cols, rows, tile_w, tile_h;
    int scale, gap, label_lines, label_h;
    int out_w, out_h;
    uint8_t *canvas; // [out_h, out_w, 3]
} vd_grid;

// labels: n strings (NULL entries or a NULL array = no text). The canvas is owned by g.
vd_status vd_grid_init(vd_grid *g, int n, int tile_w, int tile_h, const char *const *labels,
                       const vd_grid_params *p, vd_error *err);
vd_status vd_grid_set_label(vd_grid *g, int i, const char *label, vd_error *err);
// Copies rgb [tile_h, tile_w, 3] (row stride `stride` bytes, 0 = packed) into tile i;
// rgb == NULL blacks the tile out.
vd_status vd_grid_set_tile(vd_grid *g, int i, const uint8_t *rgb, size_t stride, vd_error *err);
// The composed frame [out_h, out_w, 3], rows packed.
const uint8_t *vd_grid_frame(const vd_grid *g);
void vd_grid_free(vd_grid *g);
// Pixel origin of tile i's image area (below its label strip).
void vd_grid_tile_origin(const vd_grid *g, int i, int *x, int *y);

#ifdef __cplusplus
}
#endif
