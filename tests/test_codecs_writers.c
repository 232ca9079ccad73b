// Writers round trip: a synthetic moving pattern is streamed through every writer (mp4, webm,
// mkv, y4m, PNG sequence) at an even and an odd size, decoded back with the reader, and checked
// for frame count, size (padded to even for 4:2:0), PSNR against the source, atomicity (nothing
// under the final name before close, no temporaries after), fps, and for the mp4 the stream
// properties ffprobe reports (h264 / yuv420p / BT.709 / High / 16 fps) and moov-before-mdat.
// Colour check: solid colour frames through mp4 decoded by our reader and, independently, by the
// ffmpeg CLI (when installed) must come back within a few levels (a BT.601/BT.709 mix-up is off
// by 20+ levels on saturated colours).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/video_reader.h"
#include "codecs/video_writer.h"
#include "test_codecs_common.h"
#include "test_util.h"

#define N_FRAMES 20

typedef struct {
    const char *name;  // file name inside the scratch dir
    double min_psnr;   // dB, over the original (unpadded) area, every frame
    bool padded;       // 4:2:0 codec: odd sizes padded to even
} writer_case;

// Thresholds: measured PSNR minus ~2 dB (printed per run). x264 preset fast CRF 18 gives
// 32.4..35.6 dB on these tiny frames (64x48 is the lowest), VP9 CRF 30 32.8..34.1 dB.
// PNG is lossless; y4m is 4:4:4 8-bit BT.601, so only RGB->YCbCr->RGB rounding (~52 dB).
static const writer_case k_cases[] = {
    {"out.mp4", 30.0, true},
    {"out.webm", 30.0, true},
    {"out.mkv", 30.0, true},
    {"out.y4m", 45.0, false},
    {"seq/%04d.png", INFINITY, false},
};

static char g_dir[512];

static bool have_tool(const char *name) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

// Runs cmd and returns its stdout (static buffer), or NULL.
static const char *run_capture(const char *cmd) {
    static char out[8192];
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    return pclose(p) == 0 ? out : NULL;
}

static void check_contains(const char *what, const char *text, const char *needle) {
    bool ok = text && strstr(text, needle);
    printf("  %-34s %s (%s)\n", what, ok ? "ok" : "MISSING", needle);
    VT_EXPECT(ok);
}

// Top-level MP4 boxes in order; true when 'moov' comes before 'mdat' (+faststart).
static bool mp4_moov_first(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    int moov = -1, mdat = -1, idx = 0;
    unsigned char hd[16];
    long pos = 0;
    while (fseek(f, pos, SEEK_SET) == 0 && fread(hd, 1, 8, f) == 8) {
        uint64_t size = ((uint64_t)hd[0] << 24) | (hd[1] << 16) | (hd[2] << 8) | hd[3];
        if (size == 1) {
            if (fread(hd + 8, 1, 8, f) != 8) break;
            size = 0;
            for (int i = 8; i < 16; i++) size = (size << 8) | hd[i];
        }
        if (!memcmp(hd + 4, "moov", 4)) moov = idx;
        if (!memcmp(hd + 4, "mdat", 4)) mdat = idx;
        if (size < 8) break;
        pos += (long)size;
        idx++;
    }
    fclose(f);
    printf("  mp4 top-level boxes: moov #%d, mdat #%d\n", moov, mdat);
    return moov >= 0 && mdat >= 0 && moov < mdat;
}

static void run_case(const writer_case *c, int w, int h, int fps) {
    char path[1024], first_frame[1024];
    snprintf(path, sizeof path, "%s/%s", g_dir, c->name);
    printf("case %s %dx%d fps %d\n", c->name, w, h, fps);
    vd_video_format fmt;
    vd_error err = {0};
    VT_EXPECT(vd_video_format_from_path(path, &fmt, &err) == VD_OK);
    if (!vd_video_format_available(fmt)) {
        printf("  SKIP: %s not available in this build\n", vd_video_format_name(fmt));
        return;
    }
    bool is_seq = strchr(c->name, '%') != NULL;
    if (is_seq) snprintf(first_frame, sizeof first_frame, "%s/seq/0001.png", g_dir);
    else snprintf(first_frame, sizeof first_frame, "%s", path);
    vd_video_writer_options opt;
    vd_video_writer_options_init(&opt);
    opt.fps_num = fps;
    opt.preset = "fast";
    uint8_t *src = malloc((size_t)w * h * 3 * N_FRAMES);
    vd_video_writer *wr = NULL;
    if (vd_video_writer_open(&wr, path, w, h, &opt, &err) != VD_OK) {
        printf("  open failed: %s\n", err.msg);
        VT_EXPECT(0);
        free(src);
        return;
    }
    for (int t = 0; t < N_FRAMES; t++) {
        uint8_t *f = src + (size_t)t * w * h * 3;
        vtc_pattern(f, w, h, t);
        VT_EXPECT(vd_video_writer_write(wr, f, 0, &err) == VD_OK);
        if (t == N_FRAMES / 2) VT_EXPECT(!vtc_exists(first_frame)); // atomic: nothing under the final name yet
    }
    int cw, ch;
    vd_video_writer_coded_size(wr, &cw, &ch);
    VT_EXPECT(cw == (c->padded ? w + (w & 1) : w) && ch == (c->padded ? h + (h & 1) : h));
    vd_status s = vd_video_writer_close(wr, &err);
    if (s != VD_OK) printf("  close failed: %s\n", err.msg);
    VT_EXPECT(s == VD_OK);
    VT_EXPECT(vtc_exists(first_frame));
    // Exactly one entry in the scratch dir (the file or the seq/ directory): no temporaries left.
    int entries = vtc_count_entries(g_dir, true);
    VT_EXPECT(entries == 1);

    vd_video_reader *rd = NULL;
    s = vd_video_reader_open(&rd, path, &err);
    if (s != VD_OK) printf("  reader: %s\n", err.msg);
    VT_EXPECT(s == VD_OK);
    if (s == VD_OK) {
        int rw = vd_video_reader_width(rd), rh = vd_video_reader_height(rd), fn, fd;
        vd_video_reader_fps(rd, &fn, &fd);
        printf("  decoded size %dx%d (coded %dx%d), fps %d/%d\n", rw, rh, cw, ch, fn, fd);
        VT_EXPECT(rw == cw && rh == ch);
        if (!is_seq) VT_EXPECT(fn == fps * fd);
        uint8_t *dec = malloc((size_t)rw * rh * 3);
        double min_psnr = INFINITY, pad_err = 0, pad_n = 0;
        int n = 0;
        for (;;) {
            bool got;
            s = vd_video_reader_read(rd, dec, &got, &err);
            if (s != VD_OK) printf("  read: %s\n", err.msg);
            VT_EXPECT(s == VD_OK);
            if (s != VD_OK || !got) break;
            if (n < N_FRAMES && rw >= w && rh >= h) {
                double p = vtc_psnr_region(dec, rw, src + (size_t)n * w * h * 3, w, h);
                if (p < min_psnr) min_psnr = p;
                // The padding column/row repeats the last one: after coding they stay close.
                for (int y = 0; y < rh && rw > w; y++)
                    for (int k = 0; k < 3; k++) {
                        pad_err += fabs((double)dec[((size_t)y * rw + w) * 3 + k] - dec[((size_t)y * rw + w - 1) * 3 + k]);
                        pad_n++;
                    }
            }
            n++;
        }
        printf("  frames %d (expected %d), min PSNR %.2f dB (threshold %.1f)", n, N_FRAMES, min_psnr, c->min_psnr);
        if (pad_n > 0) pad_err /= pad_n;
        if (rw > w) printf(", padded column mean |diff| to its neighbour %.2f", pad_err);
        printf("\n");
        VT_EXPECT(n == N_FRAMES);
        VT_EXPECT(min_psnr >= c->min_psnr);
        if (rw > w) VT_EXPECT(pad_err <= 6); // edge replication; black padding would differ by ~100
        free(dec);
        vd_video_reader_close(rd);
    }
    // Independent decoder: the ffmpeg CLI reads the file back (its own demuxer, decoder and
    // YUV->RGB conversion from the stream's tags); same frame count, PSNR threshold 3 dB lower
    // (our reader uses the CLI's default conversion, so today both measure the same; the margin
    // leaves room for another FFmpeg version's converter).
    if (!is_seq && have_tool("ffmpeg")) {
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "ffmpeg -v error -i '%s' -f rawvideo -pix_fmt rgb24 -", path);
        FILE *p = popen(cmd, "r");
        uint8_t *dec = malloc((size_t)cw * ch * 3);
        int n = 0;
        double min_psnr = INFINITY;
        while (p && fread(dec, 1, (size_t)cw * ch * 3, p) == (size_t)cw * ch * 3) {
            if (n < N_FRAMES) {
                double q = vtc_psnr_region(dec, cw, src + (size_t)n * w * h * 3, w, h);
                if (q < min_psnr) min_psnr = q;
            }
            n++;
        }
        if (p) pclose(p);
        double thr = c->min_psnr - 3;
        printf("  ffmpeg CLI decode: frames %d, min PSNR %.2f dB (threshold %.1f)\n", n, min_psnr, thr);
        VT_EXPECT(n == N_FRAMES);
        VT_EXPECT(min_psnr >= thr);
        free(dec);
    }
    if (!strcmp(c->name, "out.mp4")) {
        VT_EXPECT(mp4_moov_first(path));
        if (have_tool("ffprobe")) {
            char cmd[1400];
            snprintf(cmd, sizeof cmd,
                     "ffprobe -v error -select_streams v:0 -count_frames -show_entries "
                     "stream=codec_name,profile,pix_fmt,color_space,color_transfer,color_primaries,color_range,"
                     "r_frame_rate,nb_read_frames,width,height -of default=nw=1 '%s'", path);
            const char *o = run_capture(cmd);
            if (o) printf("%s", o);
            char want[64];
            check_contains("ffprobe codec", o, "codec_name=h264");
            check_contains("ffprobe pixel format", o, "pix_fmt=yuv420p");
            check_contains("ffprobe profile", o, "profile=High");
            check_contains("ffprobe matrix", o, "color_space=bt709");
            check_contains("ffprobe transfer", o, "color_transfer=bt709");
            check_contains("ffprobe primaries", o, "color_primaries=bt709");
            check_contains("ffprobe range", o, "color_range=tv");
            snprintf(want, sizeof want, "r_frame_rate=%d/1", fps);
            check_contains("ffprobe frame rate", o, want);
            snprintf(want, sizeof want, "nb_read_frames=%d", N_FRAMES);
            check_contains("ffprobe frame count", o, want);
            snprintf(want, sizeof want, "width=%d", cw);
            check_contains("ffprobe width", o, want);
        } else {
            printf("  NOTE: ffprobe not found; skipping the ffprobe stream checks\n");
        }
    }
    free(src);
    char rm[1100];
    snprintf(rm, sizeof rm, "%s/%s", g_dir, is_seq ? "seq" : c->name);
    if (is_seq) vtc_rm_rf(rm);
    else unlink(rm);
}

// Solid colours through the mp4 writer: mean decoded colour per patch within 4 levels, by our
// reader and by the ffmpeg CLI (an independent decoder + converter honouring the BT.709 tags).
static void colour_case(void) {
    if (!vd_video_format_available(VD_VIDEO_FORMAT_MP4)) return;
    static const uint8_t cols[6][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {128, 128, 128}, {200, 150, 40}, {20, 90, 200}};
    const int w = 96, h = 64, pw = 16; // six 16-px wide vertical patches
    uint8_t *img = malloc((size_t)w * h * 3), *dec = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) memcpy(img + ((size_t)y * w + x) * 3, cols[x / pw], 3);
    char path[1024];
    snprintf(path, sizeof path, "%s/colour.mp4", g_dir);
    vd_error err = {0};
    vd_video_writer *wr = NULL;
    VT_EXPECT(vd_video_writer_open(&wr, path, w, h, NULL, &err) == VD_OK);
    for (int t = 0; t < 3 && wr; t++) VT_EXPECT(vd_video_writer_write(wr, img, 0, &err) == VD_OK);
    VT_EXPECT(vd_video_writer_close(wr, &err) == VD_OK);
    for (int dec_by = 0; dec_by < 2; dec_by++) {
        bool ok = false;
        if (dec_by == 0) {
            vd_video_reader *rd = NULL;
            bool got = false;
            if (vd_video_reader_open(&rd, path, &err) == VD_OK) ok = vd_video_reader_read(rd, dec, &got, &err) == VD_OK && got;
            vd_video_reader_close(rd);
        } else {
            if (!have_tool("ffmpeg")) {
                printf("  NOTE: ffmpeg CLI not found; skipping the independent colour decode\n");
                break;
            }
            char cmd[1400];
            snprintf(cmd, sizeof cmd, "ffmpeg -v error -i '%s' -frames:v 1 -f rawvideo -pix_fmt rgb24 -", path);
            FILE *p = popen(cmd, "r");
            ok = p && fread(dec, 1, (size_t)w * h * 3, p) == (size_t)w * h * 3;
            if (p) pclose(p);
        }
        VT_EXPECT(ok);
        if (!ok) continue;
        double worst = 0;
        for (int k = 0; k < 6; k++) {
            double mean[3] = {0, 0, 0};
            int cnt = 0;
            for (int y = 4; y < h - 4; y++)
                for (int x = k * pw + 4; x < (k + 1) * pw - 4; x++, cnt++)
                    for (int c = 0; c < 3; c++) mean[c] += dec[((size_t)y * w + x) * 3 + c];
            for (int c = 0; c < 3; c++) {
                double e = fabs(mean[c] / cnt - cols[k][c]);
                if (e > worst) worst = e;
            }
            printf("  %s patch %d: want (%d,%d,%d) got (%.1f,%.1f,%.1f)\n", dec_by ? "ffmpeg" : "reader", k, cols[k][0],
                   cols[k][1], cols[k][2], mean[0] / cnt, mean[1] / cnt, mean[2] / cnt);
        }
        printf("  colour worst mean error (%s decode): %.2f levels (limit 4)\n", dec_by ? "ffmpeg CLI" : "vdit reader", worst);
        VT_EXPECT(worst <= 4.0);
    }
    unlink(path);
    free(img);
    free(dec);
}

int main(void) {
    if (!vtc_scratch(g_dir, sizeof g_dir, "writers")) {
        fprintf(stderr, "cannot create a scratch directory\n");
        return 1;
    }
    printf("scratch dir %s\n", g_dir);
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        run_case(&k_cases[i], 96, 64, 16);
        run_case(&k_cases[i], 75, 49, 16); // odd: padded to 76x50 for 4:2:0
    }
    run_case(&k_cases[0], 64, 48, 24); // fps is configurable
    run_case(&k_cases[3], 64, 48, 24);
    colour_case();
    vtc_rm_rf(g_dir);
    return vt_finish("test_codecs_writers");
}
