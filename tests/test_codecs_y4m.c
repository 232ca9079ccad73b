// y4m reader on files it did not write: hand-built 4:2:0 (every siting tag), 4:2:2 and mono
// frames with known planes, checked pixel by pixel against the BT.601 limited-range equations of
// ITU-R BT.601 (rounded coefficients 1.164 / 1.596 / 0.813 / 0.391 / 2.018, hence 1 level of
// tolerance); a full-range file (XCOLORRANGE=FULL); and, when the ffmpeg CLI is installed, a 4:2:0
// y4m written by ffmpeg compared with ffmpeg's own RGB decode of it.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/video_reader.h"
#include "test_codecs_common.h"
#include "test_util.h"

static char g_dir[512];

static int ref601(double v) {
    v = floor(v + 0.5);
    return v < 0 ? 0 : v > 255 ? 255 : (int)v;
}

// Writes a 1-frame y4m W x H with chroma subsampling (sx, sy) (sx < 0: mono) and planes from
// simple formulas; checks the reader against the BT.601 equations.
static void check_case(const char *tag, int w, int h, int sx, int sy, bool full) {
    char p[1024];
    snprintf(p, sizeof p, "%s/c.y4m", g_dir);
    FILE *f = fopen(p, "wb");
    fprintf(f, "YUV4MPEG2 W%d H%d F16:1 Ip A1:1 C%s%s\nFRAME\n", w, h, tag, full ? " XCOLORRANGE=FULL" : "");
    int cw = sx < 0 ? 0 : (w + sx) >> sx, ch = sx < 0 ? 0 : (h + sy) >> sy;
    uint8_t *Y = malloc((size_t)w * h), *U = malloc((size_t)cw * ch + 1), *V = malloc((size_t)cw * ch + 1);
    for (int i = 0; i < w * h; i++) Y[i] = (uint8_t)(20 + (i * 7) % 215);
    for (int i = 0; i < cw * ch; i++) U[i] = (uint8_t)(30 + (i * 13) % 190), V[i] = (uint8_t)(40 + (i * 29) % 180);
    fwrite(Y, 1, (size_t)w * h, f);
    fwrite(U, 1, (size_t)cw * ch, f);
    fwrite(V, 1, (size_t)cw * ch, f);
    fclose(f);
    vd_video_reader *r = NULL;
    vd_error err = {0};
    vd_status s = vd_video_reader_open(&r, p, &err);
    if (s != VD_OK) printf("%s: %s\n", tag, err.msg);
    VT_EXPECT(s == VD_OK);
    if (s == VD_OK) {
        uint8_t *rgb = malloc((size_t)w * h * 3);
        bool got = false;
        VT_EXPECT(vd_video_reader_read(r, rgb, &got, &err) == VD_OK && got);
        int worst = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double yy = Y[y * w + x], cb = 128, cr = 128;
                if (sx >= 0) cb = U[(y >> sy) * cw + (x >> sx)], cr = V[(y >> sy) * cw + (x >> sx)];
                double ys = full ? yy : 1.164 * (yy - 16), k = full ? 1.0 : 1.138; // 255/224 = 1.138
                int want[3] = {ref601(ys + 1.402 * k * (cr - 128)),
                               ref601(ys - 0.344136 * k * (cb - 128) - 0.714136 * k * (cr - 128)),
                               ref601(ys + 1.772 * k * (cb - 128))};
                for (int c = 0; c < 3; c++) {
                    int d = abs(rgb[(y * w + x) * 3 + c] - want[c]);
                    if (d > worst) worst = d;
                }
            }
        bool end = true;
        VT_EXPECT(vd_video_reader_read(r, rgb, &end, &err) == VD_OK && !end);
        printf("y4m C%-9s %2dx%-2d %s: worst |diff| %d level(s) vs BT.601 equations\n", tag, w, h, full ? "full " : "limited", worst);
        VT_EXPECT(worst <= 1);
        free(rgb);
        vd_video_reader_close(r);
    }
    free(Y), free(U), free(V);
    unlink(p);
}

static void check_ffmpeg_written(void) {
    if (system("command -v ffmpeg >/dev/null 2>&1") != 0) {
        printf("NOTE: ffmpeg CLI not found; skipping the ffmpeg-written y4m case\n");
        return;
    }
    char y4m[1024], cmd[2400];
    snprintf(y4m, sizeof y4m, "%s/ff.y4m", g_dir);
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -y -f lavfi -i testsrc2=size=66x50:rate=16 -frames:v 3 -pix_fmt yuv420p '%s'", y4m);
    VT_EXPECT(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -i '%s' -f rawvideo -pix_fmt rgb24 -", y4m);
    FILE *p = popen(cmd, "r");
    vd_video_reader *r = NULL;
    vd_error err = {0};
    VT_EXPECT(vd_video_reader_open(&r, y4m, &err) == VD_OK);
    if (!r || !p) {
        if (p) pclose(p);
        return;
    }
    int w = vd_video_reader_width(r), h = vd_video_reader_height(r), n = 0;
    uint8_t *a = malloc((size_t)w * h * 3), *b = malloc((size_t)w * h * 3);
    double worst = INFINITY;
    bool got = true;
    while (vd_video_reader_read(r, a, &got, &err) == VD_OK && got && fread(b, 1, (size_t)w * h * 3, p) == (size_t)w * h * 3) {
        double q = vtc_psnr_region(a, w, b, w, h);
        if (q < worst) worst = q;
        n++;
    }
    pclose(p);
    vd_video_reader_close(r);
    // Both upsample chroma by nearest neighbour with the same matrix; measured 48.8 dB on 832x480.
    printf("ffmpeg-written C420jpeg %dx%d: %d frames, worst PSNR vs ffmpeg's decode %.2f dB (limit 40)\n", w, h, n, worst);
    VT_EXPECT(n == 3 && w == 66 && h == 50 && worst > 40);
    free(a), free(b);
    unlink(y4m);
}

int main(void) {
    if (!vtc_scratch(g_dir, sizeof g_dir, "y4m")) return 1;
    const char *tags420[4] = {"420jpeg", "420mpeg2", "420paldv", "420"};
    for (int i = 0; i < 4; i++) check_case(tags420[i], 17, 11, 1, 1, false); // odd: chroma 9x6
    check_case("422", 16, 9, 1, 0, false);
    check_case("444", 7, 5, 0, 0, false);
    check_case("mono", 9, 4, -1, -1, false);
    check_case("444", 8, 6, 0, 0, true);
    check_ffmpeg_written();
    vtc_rm_rf(g_dir);
    return vt_finish("test_codecs_y4m");
}
