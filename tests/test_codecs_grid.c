// Grid compositor and font: layout arithmetic, tiles copied exactly, label glyphs drawn where the
// font says (checked against hand-written bitmaps of 'A' and '7'), long labels cut with "..",
// background/unset tiles, argument errors; and a 3-stream grid streamed into a y4m and read back.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/font.h"
#include "codecs/grid.h"
#include "codecs/video_reader.h"
#include "codecs/video_writer.h"
#include "test_codecs_common.h"
#include "test_util.h"

static const uint8_t *px(const vd_grid *g, int x, int y) { return vd_grid_frame(g) + ((size_t)y * g->out_w + x) * 3; }

static bool is_rgb(const uint8_t *p, int r, int gg, int b) { return p[0] == r && p[1] == gg && p[2] == b; }

static void test_font(void) {
    // Independent statement of two glyphs.
    static const char *A[7] = {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"};
    static const char *seven[7] = {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."};
    int bad = 0;
    for (int r = 0; r < 7; r++)
        for (int c = 0; c < 5; c++) {
            bad += vd_font_pixel('A', r, c) != (A[r][c] == '#');
            bad += vd_font_pixel('7', r, c) != (seven[r][c] == '#');
        }
    VT_EXPECT(bad == 0);
    // Every printable glyph except space has ink, space has none, and no two glyphs are equal.
    int empty = 0, dup = 0;
    for (int ch = 33; ch < 127; ch++) {
        int ink = 0;
        for (int r = 0; r < 7; r++)
            for (int c = 0; c < 5; c++) ink += vd_font_pixel((char)ch, r, c);
        empty += ink == 0;
        for (int o = 33; o < ch; o++) {
            bool same = true;
            for (int r = 0; r < 7 && same; r++)
                for (int c = 0; c < 5 && same; c++) same = vd_font_pixel((char)ch, r, c) == vd_font_pixel((char)o, r, c);
            if (same) {
                printf("glyphs '%c' and '%c' are identical\n", ch, o);
                dup++;
            }
        }
    }
    for (int r = 0; r < 7; r++)
        for (int c = 0; c < 5; c++) empty += vd_font_pixel(' ', r, c);
    printf("font: %d glyph mismatches vs hand bitmaps, %d empty glyphs, %d duplicates\n", bad, empty, dup);
    VT_EXPECT(empty == 0 && dup == 0);
    VT_EXPECT(vd_font_text_width("abc", 3, 2) == (3 * 6 - 1) * 2);
}

static void test_layout(void) {
    const int n = 5, tw = 30, th = 20;
    const char *labels[5] = {"A", "77", NULL, "two\nlines", "a very long label that cannot fit"};
    vd_grid_params p;
    vd_grid_params_init(&p);
    p.scale = 1;
    p.gap = 3;
    vd_grid g;
    vd_error err = {0};
    VT_EXPECT(vd_grid_init(&g, n, tw, th, labels, &p, &err) == VD_OK);
    // n = 5 > 4: cols = ceil(sqrt 5) = 3, rows 2; 2 label lines: label_h = 2 * 9 + 2 = 20.
    printf("grid %dx%d cols %d rows %d label_h %d\n", g.out_w, g.out_h, g.cols, g.rows, g.label_h);
    VT_EXPECT(g.cols == 3 && g.rows == 2 && g.label_h == 20);
    VT_EXPECT(g.out_w == 3 * 30 + 4 * 3 && g.out_h == 2 * (20 + 20) + 3 * 3);
    uint8_t tiles[5][20 * 30 * 3];
    for (int i = 0; i < n; i++) {
        if (i == 2) continue; // tile 2 stays unset (black)
        vtc_pattern(tiles[i], tw, th, i * 7);
        VT_EXPECT(vd_grid_set_tile(&g, i, tiles[i], 0, &err) == VD_OK);
    }
    int bad = 0;
    for (int i = 0; i < n; i++) {
        int x0, y0;
        vd_grid_tile_origin(&g, i, &x0, &y0);
        for (int y = 0; y < th; y++)
            for (int x = 0; x < tw; x++)
                bad += i == 2 ? !is_rgb(px(&g, x0 + x, y0 + y), 0, 0, 0)
                              : memcmp(px(&g, x0 + x, y0 + y), tiles[i] + ((size_t)y * tw + x) * 3, 3) != 0;
    }
    printf("tiles: %d wrong pixels\n", bad);
    VT_EXPECT(bad == 0);
    // Gap/background pixels: corners and between cells.
    VT_EXPECT(is_rgb(px(&g, 0, 0), 32, 32, 32) && is_rgb(px(&g, g.out_w - 1, g.out_h - 1), 32, 32, 32));
    VT_EXPECT(is_rgb(px(&g, 3 + 30 + 1, 10), 32, 32, 32));
    // Label of tile 0 ('A') at scale 1: glyph origin (x0 + 1, label top + 2).
    int x0, y0;
    vd_grid_tile_origin(&g, 0, &x0, &y0);
    int ly = y0 - g.label_h;
    int glyph_bad = 0;
    for (int r = 0; r < 7; r++)
        for (int c = 0; c < 5; c++) {
            bool ink = is_rgb(px(&g, x0 + 1 + c, ly + 2 + r), 255, 255, 255);
            glyph_bad += ink != vd_font_pixel('A', r, c);
        }
    // Second line of tile 3 ("lines") starts 9 rows lower: its 'l' has ink in row 0.
    vd_grid_tile_origin(&g, 3, &x0, &y0);
    ly = y0 - g.label_h;
    bool l_ink = false;
    for (int c = 0; c < 5; c++) l_ink |= is_rgb(px(&g, x0 + 1 + c, ly + 2 + 9), 255, 255, 255) && vd_font_pixel('l', 0, c);
    printf("label glyph 'A': %d wrong cells; second line drawn: %s\n", glyph_bad, l_ink ? "yes" : "no");
    VT_EXPECT(glyph_bad == 0 && l_ink);
    // Tile 4's label is cut: max chars = (30 - 1) / 6 = 4 -> "a ..": a '.' glyph at char 3.
    vd_grid_tile_origin(&g, 4, &x0, &y0);
    ly = y0 - g.label_h;
    int dot_bad = 0;
    for (int r = 0; r < 7; r++)
        for (int c = 0; c < 5; c++)
            dot_bad += is_rgb(px(&g, x0 + 1 + 3 * 6 + c, ly + 2 + r), 255, 255, 255) != vd_font_pixel('.', r, c);
    VT_EXPECT(dot_bad == 0);
    // Nothing drawn past the cell: the gap column right of tile 4 (col 1 of row 1) stays background.
    VT_EXPECT(is_rgb(px(&g, x0 + tw, ly + 3), 32, 32, 32));
    // Errors.
    VT_EXPECT(vd_grid_set_tile(&g, 5, tiles[0], 0, &err) == VD_ERR_INVALID_ARG);
    vd_grid_free(&g);
    vd_grid g2;
    VT_EXPECT(vd_grid_init(&g2, 0, 10, 10, NULL, NULL, &err) == VD_ERR_INVALID_ARG);
    printf("n=0: %s\n", err.msg);
    p.cols = 9;
    VT_EXPECT(vd_grid_init(&g2, 3, 10, 10, NULL, &p, &err) == VD_ERR_INVALID_ARG);
    printf("cols=9: %s\n", err.msg);
}

// Three streams composed per frame and written to y4m (4:4:4, near lossless), read back: every
// tile region of every frame matches its stream (PSNR > 45 dB).
static void test_grid_video(void) {
    const int n = 3, tw = 40, th = 24, frames = 6;
    const char *labels[3] = {"dense", "sparse 0.8", "radial"};
    vd_grid g;
    vd_error err = {0};
    VT_EXPECT(vd_grid_init(&g, n, tw, th, labels, NULL, &err) == VD_OK);
    char dir[512], path[1024];
    if (!vtc_scratch(dir, sizeof dir, "grid")) return;
    snprintf(path, sizeof path, "%s/grid.y4m", dir);
    vd_video_writer *w = NULL;
    VT_EXPECT(vd_video_writer_open(&w, path, g.out_w, g.out_h, NULL, &err) == VD_OK);
    uint8_t tile[40 * 24 * 3];
    for (int t = 0; t < frames && w; t++) {
        for (int i = 0; i < n; i++) {
            vtc_pattern(tile, tw, th, t + 10 * i);
            vd_grid_set_tile(&g, i, tile, 0, &err);
        }
        VT_EXPECT(vd_video_writer_write(w, vd_grid_frame(&g), 0, &err) == VD_OK);
    }
    VT_EXPECT(vd_video_writer_close(w, &err) == VD_OK);
    vd_video_reader *r = NULL;
    VT_EXPECT(vd_video_reader_open(&r, path, &err) == VD_OK);
    if (r) {
        uint8_t *frame = malloc((size_t)g.out_w * g.out_h * 3), *crop = malloc((size_t)tw * th * 3);
        bool got = true;
        int t = 0;
        double worst = INFINITY;
        while (vd_video_reader_read(r, frame, &got, &err) == VD_OK && got) {
            for (int i = 0; i < n; i++) {
                int x0, y0;
                vd_grid_tile_origin(&g, i, &x0, &y0);
                for (int y = 0; y < th; y++)
                    memcpy(crop + (size_t)y * tw * 3, frame + ((size_t)(y0 + y) * g.out_w + x0) * 3, (size_t)tw * 3);
                vtc_pattern(tile, tw, th, t + 10 * i);
                double p = vtc_psnr_region(crop, tw, tile, tw, th);
                if (p < worst) worst = p;
            }
            t++;
        }
        printf("grid video %dx%d: %d frames, worst tile PSNR %.2f dB (limit 45)\n", g.out_w, g.out_h, t, worst);
        VT_EXPECT(t == frames && worst > 45);
        free(frame);
        free(crop);
        vd_video_reader_close(r);
    }
    vd_grid_free(&g);
    vtc_rm_rf(dir);
}

int main(void) {
    test_font();
    test_layout();
    test_grid_video();
    return vt_finish("test_codecs_grid");
}
