// vdit encode INPUT -o OUTPUT: re-encodes a frame source (PNG/JPEG sequence or directory, y4m,
// or any video FFmpeg reads) into any writer format (mp4, webm, mkv, y4m, PNG pattern), one frame
// at a time. The output appears only when complete (codecs/atomic_file.h).
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "codecs/video_reader.h"
#include "codecs/video_writer.h"

typedef struct {
    const char *name, *arg, *help;
} enc_option;

// SIGINT/SIGTERM only raise this flag; the frame loop sees it, aborts the writer (removing the
// temporary output) and exits 130. A second signal gets the default action (immediate exit).
static volatile sig_atomic_t g_stop_signal = 0;

static void on_stop_signal(int sig) {
    g_stop_signal = sig;
    signal(sig, SIG_DFL);
}

static void install_stop_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = 0; // no SA_RESTART: a read blocked on a pipe returns EINTR and the loop stops
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static const enc_option k_encode_options[] = {
    {"-o, --output", "PATH", "output: .mp4 (H.264), .webm/.mkv (VP9), .y4m, or a pattern like frames/%04d.png"},
    {"--fps", "N[/D]", "frame rate (default: the input's, else 16)"},
    {"--crf", "N", "quality: x264 0..51 (default 18), VP9 0..63 (default 30); lower is better"},
    {"--preset", "NAME", "x264 preset (default medium): ultrafast .. veryslow"},
};

static void encode_usage(FILE *f) {
    fprintf(f, "usage: vdit encode INPUT -o OUTPUT [options]\n\n"
               "INPUT: a PNG/JPEG pattern (frames/%%04d.png), a directory of images, a .y4m file, or a video.\n"
               "Odd sizes are padded to even (one replicated column/row) for mp4/webm/mkv.\n\noptions:\n");
    for (size_t i = 0; i < sizeof k_encode_options / sizeof k_encode_options[0]; i++)
        fprintf(f, "  %-14s %-7s %s\n", k_encode_options[i].name, k_encode_options[i].arg, k_encode_options[i].help);
}

// Parses "N" or "N/D" with 1 <= N/D <= 1000.
static int parse_fps(const char *s, int *num, int *den) {
    char *end;
    long n = strtol(s, &end, 10), d = 1;
    if (end == s) return -1;
    if (*end == '/') {
        const char *q = end + 1;
        d = strtol(q, &end, 10);
        if (end == q) return -1;
    }
    if (*end || n < 1 || d < 1 || n > 1000 * d || d > 1000000) return -1;
    *num = (int)n;
    *den = (int)d;
    return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

int cmd_encode(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    vd_video_writer_options opt;
    vd_video_writer_options_init(&opt);
    bool fps_given = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            encode_usage(stdout);
            return 0;
        }
        bool takes = !strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--fps") || !strcmp(a, "--crf") ||
                     !strcmp(a, "--preset");
        if (takes && i + 1 >= argc) {
            fprintf(stderr, "vdit encode: option %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) out = argv[++i];
        else if (!strcmp(a, "--fps")) {
            if (parse_fps(argv[++i], &opt.fps_num, &opt.fps_den)) {
                fprintf(stderr, "vdit encode: --fps '%s' must be N or N/D with 0 < N/D <= 1000\n", argv[i]);
                return 2;
            }
            fps_given = true;
        } else if (!strcmp(a, "--crf")) {
            if (parse_int(argv[++i], 0, 63, &opt.crf)) {
                fprintf(stderr, "vdit encode: --crf '%s' must be an integer in 0..51 (x264) or 0..63 (VP9)\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--preset")) opt.preset = argv[++i];
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "vdit encode: unknown option '%s'\n\n", a);
            encode_usage(stderr);
            return 2;
        } else if (!in) in = a;
        else {
            fprintf(stderr, "vdit encode: unexpected argument '%s' (one INPUT only)\n", a);
            return 2;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "vdit encode: %s\n\n", !in ? "missing INPUT" : "missing -o OUTPUT");
        encode_usage(stderr);
        return 2;
    }
    vd_error err = {0};
    vd_video_format fmt;
    if (vd_video_format_from_path(out, &fmt, &err) != VD_OK) { // before touching the input
        fprintf(stderr, "vdit encode: %s\n", err.msg);
        return 2;
    }
    vd_video_reader *r = NULL;
    vd_video_writer *w = NULL;
    uint8_t *frame = NULL;
    if (vd_video_reader_open(&r, in, &err) != VD_OK) goto fail;
    int width = vd_video_reader_width(r), height = vd_video_reader_height(r);
    if (!fps_given) {
        int n, d;
        vd_video_reader_fps(r, &n, &d);
        if (n > 0 && n <= 1000 * d) opt.fps_num = n, opt.fps_den = d;
    }
    frame = malloc((size_t)width * height * 3);
    if (!frame) {
        vd_error_set(&err, VD_ERR_OUT_OF_MEMORY, "frame buffer %dx%d: out of memory", width, height);
        goto fail;
    }
    if (vd_video_writer_open(&w, out, width, height, &opt, &err) != VD_OK) goto fail;
    install_stop_handlers();
    for (;;) {
        bool got;
        if (g_stop_signal) goto fail;
        if (vd_video_reader_read(r, frame, &got, &err) != VD_OK) goto fail;
        if (!got) break;
        if (vd_video_writer_write(w, frame, 0, &err) != VD_OK) goto fail;
    }
    if (g_stop_signal) goto fail; // the read that ended the loop may have been cut by the signal
    int64_t n = vd_video_writer_frames(w);
    int cw, ch;
    vd_video_writer_coded_size(w, &cw, &ch);
    vd_status s = vd_video_writer_close(w, &err);
    w = NULL;
    if (s != VD_OK) goto fail;
    fprintf(stderr, "vdit encode: wrote %lld frames %dx%d", (long long)n, cw, ch);
    if (cw != width || ch != height) fprintf(stderr, " (padded from %dx%d)", width, height);
    fprintf(stderr, " at %d/%d fps to %s\n", opt.fps_num, opt.fps_den, out);
    vd_video_reader_close(r);
    free(frame);
    return 0;
fail:
    if (g_stop_signal)
        fprintf(stderr, "vdit encode: interrupted by signal %d after %lld frames; no output written\n",
                (int)g_stop_signal, (long long)(w ? vd_video_writer_frames(w) : 0));
    else
        fprintf(stderr, "vdit encode: %s\n", err.msg);
    vd_video_writer_abort(w);
    vd_video_reader_close(r);
    free(frame);
    return g_stop_signal ? 130 : 1;
}
