// `vdit encode` and `vdit compare` end to end, through the built binary ($VDIT_BINARY_DIR/apps/vdit):
// successful encodes (y4m -> mp4, PNG sequence -> webm at --fps 24) checked by the reader and by
// `vdit compare --json`; and every bad input (missing input, unsupported extension, unwritable
// directory, bad option values, corrupt or truncated input mid-encode, compare size / frame-count
// mismatch, corrupt video) must exit non-zero, print nothing on stdout, and leave the output
// directory empty.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "codecs/video_reader.h"
#include "codecs/video_writer.h"
#include "test_codecs_common.h"
#include "test_util.h"

static char g_vdit[1024], g_in[600], g_out[600];

// Runs `vdit <args>` with stdout captured into out (may be NULL); returns the exit code.
static int run_vdit(const char *args, char *out, size_t cap) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>/dev/null", g_in, g_vdit, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char sink[4096];
    size_t n = 0, k;
    while ((k = fread(out ? out + n : sink, 1, out ? cap - 1 - n : sizeof sink, p)) > 0)
        if (out) n += k;
    if (out) out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void make_input(const char *name, int frames, int w, int h) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", g_in, name);
    vd_video_writer_options o;
    vd_video_writer_options_init(&o);
    o.preset = "ultrafast";
    vd_video_writer *wr = NULL;
    vd_error err = {0};
    VT_EXPECT(vd_video_writer_open(&wr, p, w, h, &o, &err) == VD_OK);
    uint8_t *f = malloc((size_t)w * h * 3);
    for (int t = 0; t < frames && wr; t++) {
        vtc_pattern(f, w, h, t);
        VT_EXPECT(vd_video_writer_write(wr, f, 0, &err) == VD_OK);
    }
    VT_EXPECT(vd_video_writer_close(wr, &err) == VD_OK);
    free(f);
}

static double json_number(const char *json, const char *key) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\": ", key);
    const char *p = json ? strstr(json, k) : NULL;
    if (!p) return NAN;
    p += strlen(k);
    if (!strncmp(p, "null", 4)) return INFINITY; // compare writes infinite PSNR as null
    return strtod(p, NULL);
}

static void expect_fail(const char *args, int want_code) {
    char out[4096];
    int rc = run_vdit(args, out, sizeof out);
    int left = vtc_count_entries(g_out, true);
    bool ok = rc != 0 && (want_code < 0 || rc == want_code) && out[0] == 0 && left == 0;
    printf("%-4s exit %d (want %s) stdout %zu bytes, %d files left: vdit %s\n", ok ? "ok" : "FAIL", rc,
           want_code < 0 ? "non-zero" : (want_code == 1 ? "1" : "2"), strlen(out), left, args);
    VT_EXPECT(ok);
}

// expect_fail for `encode <input> -o '<out dir>/<out_rel>'<flags>` (flags start with a space).
static void expect_encode_fail(const char *input, const char *out_rel, const char *flags, int want_code) {
    char args[2048];
    snprintf(args, sizeof args, "encode %s -o '%s/%s'%s", input, g_out, out_rel, flags);
    expect_fail(args, want_code);
}

static int out_frames(const char *name, int *w, int *h, int *fps_num) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", g_out, name);
    vd_video_reader *r = NULL;
    vd_error err = {0};
    if (vd_video_reader_open(&r, p, &err) != VD_OK) return -1;
    *w = vd_video_reader_width(r);
    *h = vd_video_reader_height(r);
    int den;
    vd_video_reader_fps(r, fps_num, &den);
    uint8_t *f = malloc((size_t)*w * *h * 3);
    bool got = true;
    while (vd_video_reader_read(r, f, &got, &err) == VD_OK && got) {}
    int n = (int)vd_video_reader_frames(r);
    free(f);
    vd_video_reader_close(r);
    return n;
}

// Ctrl-C mid-encode: vdit reads a y4m from a FIFO that the test feeds with the header and 3 frames
// and then keeps open (vdit blocks waiting for frame 4); SIGINT must make it exit 130 and leave
// nothing, neither the output nor its temporary.
static void test_interrupt(void) {
    char fifo[1024], src[1024], dst[1024];
    snprintf(fifo, sizeof fifo, "%s/live.y4m", g_in);
    snprintf(src, sizeof src, "%s/in.y4m", g_in);
    snprintf(dst, sizeof dst, "%s/live.mp4", g_out);
    if (!vd_video_format_available(VD_VIDEO_FORMAT_MP4)) snprintf(dst, sizeof dst, "%s/live.y4m", g_out);
    if (mkfifo(fifo, 0644) != 0) {
        printf("NOTE: mkfifo failed; skipping the interrupt case\n");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execl(g_vdit, g_vdit, "encode", fifo, "-o", dst, (char *)NULL);
        _exit(127);
    }
    // Wait (up to 10 s) for vdit to open the FIFO for reading: O_NONBLOCK open fails with ENXIO until then.
    int wfd = -1;
    for (int i = 0; i < 1000 && wfd < 0; i++) {
        wfd = open(fifo, O_WRONLY | O_NONBLOCK);
        if (wfd < 0) {
            struct timespec w10 = {0, 10 * 1000 * 1000};
            nanosleep(&w10, NULL);
        }
    }
    if (wfd < 0) {
        printf("FAIL: vdit never opened the FIFO\n");
        vt_failures++;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        unlink(fifo);
        return;
    }
    fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) & ~O_NONBLOCK);
    FILE *in = fopen(src, "rb");
    size_t header = 0;
    char c;
    while (fread(&c, 1, 1, in) == 1 && c != '\n') header++;
    size_t bytes = header + 1 + 3 * (6 + 64 * 48 * 3);
    char *buf = malloc(bytes);
    rewind(in);
    VT_EXPECT(fread(buf, 1, bytes, in) == bytes);
    VT_EXPECT(write(wfd, buf, bytes) == (ssize_t)bytes);
    fclose(in);
    free(buf);
    struct timespec ts = {0, 500 * 1000 * 1000};
    nanosleep(&ts, NULL); // vdit encodes 3 frames and blocks reading the 4th
    bool tmp_seen = vtc_count_entries(g_out, false) == 1; // its temporary exists while it runs
    kill(pid, SIGINT);
    int st = 0;
    waitpid(pid, &st, 0);
    close(wfd);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    int left = vtc_count_entries(g_out, true);
    printf("%-4s SIGINT mid-encode: exit %d (want 130), temporary present while running: %s, %d files left\n",
           code == 130 && left == 0 ? "ok" : "FAIL", code, tmp_seen ? "yes" : "no", left);
    VT_EXPECT(code == 130 && left == 0 && tmp_seen);
    unlink(fifo);
}

int main(void) {
    const char *bin = getenv("VDIT_BINARY_DIR");
    snprintf(g_vdit, sizeof g_vdit, "%s/apps/vdit", bin ? bin : "..");
    if (!vtc_exists(g_vdit)) {
        fprintf(stderr, "FAIL: %s not found (build the vdit target)\n", g_vdit);
        return 1;
    }
    char root[512];
    if (!vtc_scratch(root, sizeof root, "cli")) return 1;
    snprintf(g_in, sizeof g_in, "%s/in", root);
    snprintf(g_out, sizeof g_out, "%s/out", root);
    mkdir(g_in, 0755);
    mkdir(g_out, 0755);
    make_input("in.y4m", 12, 64, 48);
    make_input("small.y4m", 12, 32, 48);
    make_input("short.y4m", 11, 64, 48);
    make_input("seq/%04d.png", 12, 63, 47);
    make_input("cut.y4m", 12, 64, 48);
    char p[1024];
    snprintf(p, sizeof p, "%s/cut.y4m", g_in);
    VT_EXPECT(truncate(p, 5 * (64 * 48 * 3 + 6) + 60) == 0); // header + 5 frames + part of the 6th
    snprintf(p, sizeof p, "%s/corrupt.mp4", g_in);
    FILE *f = fopen(p, "wb");
    for (int i = 0; i < 3000; i++) fputc((i * 97 + 3) & 255, f);
    fclose(f);

    // Successful runs.
    char out[65536], args[2048];
    int w, h, fps;
    bool mp4 = vd_video_format_available(VD_VIDEO_FORMAT_MP4), webm = vd_video_format_available(VD_VIDEO_FORMAT_WEBM);
    if (mp4) {
        snprintf(args, sizeof args, "encode in.y4m -o '%s/a.mp4'", g_out);
        VT_EXPECT(run_vdit(args, NULL, 0) == 0);
        int n = out_frames("a.mp4", &w, &h, &fps);
        printf("encode in.y4m -> a.mp4: %d frames %dx%d fps %d (input's 16)\n", n, w, h, fps);
        VT_EXPECT(n == 12 && w == 64 && h == 48 && fps == 16);
        snprintf(args, sizeof args, "compare '%s/a.mp4' in.y4m --json", g_out);
        VT_EXPECT(run_vdit(args, out, sizeof out) == 0);
        double pm = json_number(out, "psnr_mean"), sm = json_number(out, "ssim_mean"), nf = json_number(out, "frames");
        printf("compare a.mp4 in.y4m: frames %.0f psnr_mean %.2f ssim_mean %.4f\n", nf, pm, sm);
        VT_EXPECT(nf == 12 && pm > 32 && pm < 80 && sm > 0.9 && sm < 1);
        snprintf(p, sizeof p, "%s/a.mp4", g_out);
        unlink(p);
    }
    if (webm) {
        snprintf(args, sizeof args, "encode 'seq/%%04d.png' -o '%s/b.webm' --fps 24 --crf 35", g_out);
        VT_EXPECT(run_vdit(args, NULL, 0) == 0);
        int n = out_frames("b.webm", &w, &h, &fps);
        printf("encode seq/%%04d.png (63x47) -> b.webm: %d frames %dx%d fps %d\n", n, w, h, fps);
        VT_EXPECT(n == 12 && w == 64 && h == 48 && fps == 24);
        snprintf(p, sizeof p, "%s/b.webm", g_out);
        unlink(p);
    }
    VT_EXPECT(run_vdit("compare in.y4m in.y4m --json", out, sizeof out) == 0);
    printf("compare identical: psnr_mean %s, ssim_mean %.6f\n", strstr(out, "\"psnr_mean\": null") ? "null (inf)" : "WRONG",
           json_number(out, "ssim_mean"));
    VT_EXPECT(strstr(out, "\"psnr_mean\": null") && json_number(out, "ssim_mean") == 1.0);
    VT_EXPECT(run_vdit("compare in.y4m cut.y4m --json", out, sizeof out) != 0 && out[0] == 0);
    VT_EXPECT(run_vdit("compare in.y4m in.y4m", out, sizeof out) == 0 && strstr(out, "inf"));

    // Failures: non-zero exit, empty stdout, nothing in the output directory.
    expect_encode_fail("missing.y4m", "o.mp4", "", 1);
    expect_encode_fail("in.y4m", "o.avi", "", 2);
    expect_encode_fail("in.y4m", "o", "", 2);
    expect_encode_fail("in.y4m", "nodir/o.mp4", "", 1);
    expect_fail("encode in.y4m -o /proc/o.y4m", 1);
    expect_fail("encode in.y4m", 2);
    expect_encode_fail("in.y4m", "o.mp4", " --crf 99", 2);
    expect_encode_fail("in.y4m", "o.mp4", " --fps 0", 2);
    expect_encode_fail("in.y4m", "o.mp4", " --bogus", 2);
    expect_encode_fail("corrupt.mp4", "o.mp4", "", 1);
    expect_encode_fail("cut.y4m", "o.mp4", "", 1); // fails after 5 frames were encoded
    expect_encode_fail("cut.y4m", "seq/%04d.png", "", 1);
    expect_fail("compare in.y4m small.y4m", 1);
    expect_fail("compare in.y4m short.y4m --json", 1);
    expect_fail("compare corrupt.mp4 in.y4m", 1);
    expect_fail("compare in.y4m missing.y4m", 1);
    expect_fail("compare in.y4m", 2);
    test_interrupt();
    vtc_rm_rf(root);
    return vt_finish("test_codecs_cli");
}
