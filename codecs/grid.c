// Grid compositor (see grid.h).
#include "codecs/grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/font.h"

static const uint8_t k_bg[3] = {32, 32, 32};
static const uint8_t k_label_bg[3] = {0, 0, 0};
static const uint8_t k_text[3] = {255, 255, 255};

void vd_grid_params_init(vd_grid_params *p) {
    p->cols = 0;
    p->scale = 0;
    p->gap = -1;
    p->label_lines = 0;
}

static int count_lines(const char *s) {
    if (!s || !*s) return 1;
    int n = 1;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void fill_rect(vd_grid *g, int x0, int y0, int w, int h, const uint8_t c[3]) {
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) memcpy(g->canvas + ((size_t)y * g->out_w + x) * 3, c, 3);
}

void vd_grid_tile_origin(const vd_grid *g, int i, int *x, int *y) {
    int r = i / g->cols, c = i % g->cols;
    *x = g->gap + c * (g->tile_w + g->gap);
    *y = g->gap + r * (g->label_h + g->tile_h + g->gap) + g->label_h;
}

vd_status vd_grid_init(vd_grid *g, int n, int tile_w, int tile_h, const char *const *labels,
                       const vd_grid_params *p, vd_error *err) {
    memset(g, 0, sizeof *g);
    vd_grid_params dflt;
    if (!p) {
        vd_grid_params_init(&dflt);
        p = &dflt;
    }
    if (n < 1 || n > 256)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_grid_init: %d tiles outside 1..256", n);
    if (tile_w < 1 || tile_h < 1 || tile_w > 16384 || tile_h > 16384)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_grid_init: tile size %dx%d outside 1..16384", tile_w, tile_h);
    if (p->cols < 0 || p->cols > n)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_grid_init: cols %d outside 0..%d (0 = auto)", p->cols, n);
    if (p->scale < 0 || p->scale > 16 || p->gap < -1 || p->gap > 256 || p->label_lines < 0 || p->label_lines > 8)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_grid_init: scale %d (0..16), gap %d (-1..256) or label_lines %d (0..8) out of range",
                            p->scale, p->gap, p->label_lines);
    g->n = n;
    g->tile_w = tile_w;
    g->tile_h = tile_h;
    g->cols = p->cols ? p->cols : (n <= 4 ? n : (int)ceil(sqrt((double)n)));
    g->rows = (n + g->cols - 1) / g->cols;
    g->scale = p->scale ? p->scale : (tile_w / 256 > 1 ? tile_w / 256 : 1);
    g->gap = p->gap >= 0 ? p->gap : 2 * g->scale;
    g->label_lines = p->label_lines;
    if (!g->label_lines) {
        g->label_lines = 1;
        for (int i = 0; labels && i < n; i++)
            if (count_lines(labels[i]) > g->label_lines) g->label_lines = count_lines(labels[i]);
        if (g->label_lines > 8) g->label_lines = 8;
    }
    g->label_h = g->label_lines * (VD_FONT_H + 2) * g->scale + 2 * g->scale;
    g->out_w = g->cols * tile_w + (g->cols + 1) * g->gap;
    g->out_h = g->rows * (g->label_h + tile_h) + (g->rows + 1) * g->gap;
    if ((int64_t)g->out_w * g->out_h > (int64_t)16384 * 16384)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_grid_init: grid %dx%d is larger than 16384x16384 pixels",
                            g->out_w, g->out_h);
    g->canvas = malloc((size_t)g->out_w * g->out_h * 3);
    if (!g->canvas)
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_grid_init: %dx%d canvas: out of memory", g->out_w, g->out_h);
    fill_rect(g, 0, 0, g->out_w, g->out_h, k_bg);
    for (int i = 0; i < n; i++) {
        VD_TRY(vd_grid_set_label(g, i, labels ? labels[i] : NULL, err));
        VD_TRY(vd_grid_set_tile(g, i, NULL, 0, err));
    }
    return VD_OK;
}

vd_status vd_grid_set_label(vd_grid *g, int i, const char *label, vd_error *err) {
    if (i < 0 || i >= g->n) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_grid_set_label: tile %d outside 0..%d", i, g->n - 1);
    int x, y;
    vd_grid_tile_origin(g, i, &x, &y);
    y -= g->label_h;
    fill_rect(g, x, y, g->tile_w, g->label_h, k_label_bg);
    if (!label) return VD_OK;
    const int s = g->scale;
    int max_chars = (g->tile_w - 2 * s + s) / (VD_FONT_ADVANCE * s); // fits within tile_w - 2s margins
    const char *line = label;
    for (int ln = 0; ln < g->label_lines && line; ln++) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[512];
        size_t show = len < sizeof buf - 1 ? len : sizeof buf - 1;
        memcpy(buf, line, show);
        if (max_chars < 1) show = 0;
        else if ((int)show > max_chars) { // cut, and mark the cut with ".."
            show = (size_t)max_chars;
            buf[show - 1] = '.';
            if (show >= 2) buf[show - 2] = '.';
        }
        int ty = y + s + ln * (VD_FONT_H + 2) * s + s;
        vd_font_draw(g->canvas, g->out_w, g->out_h, (size_t)g->out_w * 3, x + s, ty, buf, show, s, k_text);
        line = end ? end + 1 : NULL;
    }
    return VD_OK;
}

vd_status vd_grid_set_tile(vd_grid *g, int i, const uint8_t *rgb, size_t stride, vd_error *err) {
    if (i < 0 || i >= g->n) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_grid_set_tile: tile %d outside 0..%d", i, g->n - 1);
    int x, y;
    vd_grid_tile_origin(g, i, &x, &y);
    if (!rgb) {
        static const uint8_t black[3] = {0, 0, 0};
        fill_rect(g, x, y, g->tile_w, g->tile_h, black);
        return VD_OK;
    }
    if (stride == 0) stride = (size_t)g->tile_w * 3;
    for (int r = 0; r < g->tile_h; r++)
        memcpy(g->canvas + ((size_t)(y + r) * g->out_w + x) * 3, rgb + (size_t)r * stride, (size_t)g->tile_w * 3);
    return VD_OK;
}

const uint8_t *vd_grid_frame(const vd_grid *g) { return g->canvas; }

void vd_grid_free(vd_grid *g) {
    free(g->canvas);
    g->canvas = NULL;
}
