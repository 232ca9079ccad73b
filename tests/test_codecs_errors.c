// Bad input and failure paths of the codecs library: every one must return a clear error (the
// expected vd_status and a message naming the offending path/value) and leave nothing behind in
// the output directory. Also: an existing file survives an aborted overwrite untouched; a
// committed file gets umask permissions (not mkstemp's 0600).
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codecs/image.h"
#include "codecs/video_reader.h"
#include "codecs/video_writer.h"
#include "test_codecs_common.h"
#include "test_util.h"

static char g_dir[512];

static void path_in(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", g_dir, name); }

static void expect_dir_entries(const char *what, int n) {
    int got = vtc_count_entries(g_dir, true);
    if (got != n) fprintf(stderr, "FAIL %s: %d entries in scratch dir, expected %d\n", what, got, n);
    VT_EXPECT(got == n);
}

static void expect_status(const char *what, vd_status got, vd_status want, const vd_error *err, const char *needle) {
    bool ok = got == want && (!needle || strstr(err->msg, needle));
    printf("%-44s %s: [%s] %s\n", what, ok ? "ok" : "FAIL", vd_status_str(got), err->msg);
    VT_EXPECT(ok);
}

static uint8_t g_frame[64 * 48 * 3];

// Writes n pattern frames to path; returns the close status (or the first failure).
static vd_status write_video(const char *path, int n, int w, int h, vd_error *err) {
    vd_video_writer *wr = NULL;
    vd_video_writer_options o;
    vd_video_writer_options_init(&o);
    o.preset = "ultrafast";
    VD_TRY(vd_video_writer_open(&wr, path, w, h, &o, err));
    for (int t = 0; t < n; t++) {
        vtc_pattern(g_frame, w, h, t);
        vd_status s = vd_video_writer_write(wr, g_frame, 0, err);
        if (s != VD_OK) {
            vd_video_writer_abort(wr);
            return s;
        }
    }
    return vd_video_writer_close(wr, err);
}

static void test_writer_open_errors(void) {
    char p[1024];
    vd_error err = {0};
    vd_video_writer *wr = NULL;
    const char *bad_ext[] = {"out.avi", "out.gif", "noext", "out.MP3"};
    for (int i = 0; i < 4; i++) {
        path_in(p, sizeof p, bad_ext[i]);
        expect_status(bad_ext[i], vd_video_writer_open(&wr, p, 64, 48, NULL, &err), VD_ERR_UNSUPPORTED, &err,
                      i == 2 ? "no extension" : "unsupported output extension");
        VT_EXPECT(wr == NULL);
    }
    const char *bad_pat[] = {"frame.png", "f%d_%d.png", "f%5d.png", "f%00d.png"};
    for (int i = 0; i < 4; i++) {
        path_in(p, sizeof p, bad_pat[i]);
        expect_status(bad_pat[i], vd_video_writer_open(&wr, p, 64, 48, NULL, &err), VD_ERR_INVALID_ARG, &err,
                      "not a frame pattern");
    }
    path_in(p, sizeof p, "x.mp4");
    if (!vd_video_format_available(VD_VIDEO_FORMAT_MP4)) {
        // Built without FFmpeg (or without libx264): asking for .mp4 says so, and what to do instead.
        expect_status("mp4 without FFmpeg/libx264", vd_video_writer_open(&wr, p, 64, 48, NULL, &err),
                      VD_ERR_UNSUPPORTED, &err, ".y4m");
        expect_dir_entries("after open errors", 0);
        return;
    }
    expect_status("size 0x48", vd_video_writer_open(&wr, p, 0, 48, NULL, &err), VD_ERR_INVALID_ARG, &err, "0x48");
    vd_video_writer_options o;
    vd_video_writer_options_init(&o);
    o.fps_num = 0;
    expect_status("fps 0", vd_video_writer_open(&wr, p, 64, 48, &o, &err), VD_ERR_INVALID_ARG, &err, "fps 0/1");
    vd_video_writer_options_init(&o);
    o.crf = 60;
    expect_status("mp4 crf 60", vd_video_writer_open(&wr, p, 64, 48, &o, &err), VD_ERR_INVALID_ARG, &err, "crf 60");
    vd_video_writer_options_init(&o);
    o.preset = "warp-speed";
    expect_status("mp4 preset warp-speed", vd_video_writer_open(&wr, p, 64, 48, &o, &err), VD_ERR_INVALID_ARG, &err,
                  "libx264");
    expect_dir_entries("after open errors", 0);
}

static void test_unwritable(void) {
    char p[1024], file[1024];
    vd_error err = {0};
    vd_video_writer *wr = NULL;
    path_in(file, sizeof file, "plain.txt");
    FILE *f = fopen(file, "w");
    fputs("x", f);
    fclose(f);
    const char *names[] = {"x.mp4", "x.webm", "x.y4m", "seq/%04d.png"};
    for (int i = 0; i < 4; i++) {
        vd_video_format fmt;
        if (vd_video_format_from_path(names[i], &fmt, NULL) != VD_OK || !vd_video_format_available(fmt)) continue;
        snprintf(p, sizeof p, "/nonexistent_vdit_dir/%s", names[i]);
        vd_status s = vd_video_writer_open(&wr, p, 64, 48, NULL, &err);
        expect_status(p, s, VD_ERR_IO, &err, "nonexistent_vdit_dir");
        snprintf(p, sizeof p, "%s/%s", file, names[i]); // parent is a regular file
        s = vd_video_writer_open(&wr, p, 64, 48, NULL, &err);
        expect_status("parent is a file", s, VD_ERR_IO, &err, "plain.txt");
        if (vtc_exists("/proc/self")) { // procfs refuses new files even for root
            snprintf(p, sizeof p, "/proc/%s", names[i]);
            s = vd_video_writer_open(&wr, p, 64, 48, NULL, &err);
            expect_status(p, s, VD_ERR_IO, &err, "/proc");
        }
    }
    if (geteuid() != 0) { // root ignores directory permissions
        char ro[1024];
        path_in(ro, sizeof ro, "ro");
        mkdir(ro, 0555);
        snprintf(p, sizeof p, "%s/x.mp4", ro);
        expect_status("read-only directory", vd_video_writer_open(&wr, p, 64, 48, NULL, &err), VD_ERR_IO, &err, "ro");
        VT_EXPECT(vtc_count_entries(ro, true) == 0);
        rmdir(ro);
    } else {
        printf("running as root: read-only directory case replaced by /proc and parent-is-a-file\n");
    }
    snprintf(p, sizeof p, "%s/x.png", file);
    expect_status("vd_png_write under a file", vd_png_write(p, g_frame, 8, 8, 0, &err), VD_ERR_IO, &err, NULL);
    unlink(file);
    expect_dir_entries("after unwritable", 0);
}

static void test_abort_and_empty(void) {
    char p[1024];
    vd_error err = {0};
    const char *names[] = {"a.mp4", "a.webm", "a.mkv", "a.y4m", "seq/%03d.png"};
    for (int i = 0; i < 5; i++) {
        vd_video_format fmt;
        if (vd_video_format_from_path(names[i], &fmt, NULL) != VD_OK || !vd_video_format_available(fmt)) continue;
        path_in(p, sizeof p, names[i]);
        vd_video_writer *wr = NULL;
        vd_status s = vd_video_writer_open(&wr, p, 64, 48, NULL, &err);
        VT_EXPECT(s == VD_OK);
        if (s != VD_OK) continue;
        for (int t = 0; t < 5; t++) {
            vtc_pattern(g_frame, 64, 48, t);
            VT_EXPECT(vd_video_writer_write(wr, g_frame, 0, &err) == VD_OK);
        }
        vd_video_writer_abort(wr);
        expect_dir_entries(names[i], 0);
        s = vd_video_writer_open(&wr, p, 64, 48, NULL, &err);
        VT_EXPECT(s == VD_OK);
        if (s == VD_OK) expect_status("close with zero frames", vd_video_writer_close(wr, &err), VD_ERR_INVALID_ARG, &err,
                                      "no frames");
        expect_dir_entries(names[i], 0);
    }
}

static void test_existing_file_survives(void) {
    char p[1024];
    vd_error err = {0};
    path_in(p, sizeof p, "keep.y4m");
    FILE *f = fopen(p, "w");
    fputs("old content", f);
    fclose(f);
    vd_video_writer *wr = NULL;
    VT_EXPECT(vd_video_writer_open(&wr, p, 64, 48, NULL, &err) == VD_OK);
    vtc_pattern(g_frame, 64, 48, 0);
    VT_EXPECT(vd_video_writer_write(wr, g_frame, 0, &err) == VD_OK);
    vd_video_writer_abort(wr);
    char buf[64] = {0};
    f = fopen(p, "r");
    VT_EXPECT(f && fread(buf, 1, sizeof buf - 1, f) == 11);
    if (f) fclose(f);
    printf("existing file after aborted overwrite: '%s'\n", buf);
    VT_EXPECT(!strcmp(buf, "old content"));
    expect_dir_entries("aborted overwrite", 1);
    // A successful overwrite replaces it, with umask permissions.
    mode_t old = umask(022);
    VT_EXPECT(write_video(p, 2, 64, 48, &err) == VD_OK);
    umask(old);
    struct stat st;
    VT_EXPECT(stat(p, &st) == 0 && st.st_size > 1000);
    printf("committed file mode %o (want 644)\n", (unsigned)(st.st_mode & 0777));
    VT_EXPECT((st.st_mode & 0777) == 0644);
    unlink(p);
}

static void expect_read_error(const char *what, const char *path, vd_status want, const char *needle) {
    vd_error err = {0};
    vd_video_reader *r = NULL;
    vd_status s = vd_video_reader_open(&r, path, &err);
    int frames = 0;
    if (s == VD_OK) {
        uint8_t *buf = malloc((size_t)vd_video_reader_width(r) * vd_video_reader_height(r) * 3);
        bool got = true;
        while (got && (s = vd_video_reader_read(r, buf, &got, &err)) == VD_OK) frames += got;
        free(buf);
        vd_video_reader_close(r);
    }
    char label[160];
    snprintf(label, sizeof label, "%s (%d frames before)", what, frames);
    expect_status(label, s, want, &err, needle);
}

static void truncate_file(const char *p, double keep) {
    struct stat st;
    stat(p, &st);
    VT_EXPECT(truncate(p, (off_t)(st.st_size * keep)) == 0);
}

static void test_reader_errors(void) {
    char p[1024], q[1024];
    vd_error err = {0};
    path_in(p, sizeof p, "missing.mp4");
    expect_read_error("missing file", p, VD_ERR_IO, "missing.mp4");
    path_in(p, sizeof p, "missing/%04d.png");
    expect_read_error("pattern without frames", p, VD_ERR_IO, "no frames");
    path_in(p, sizeof p, "garbage.mp4");
    FILE *f = fopen(p, "wb");
    for (int i = 0; i < 4096; i++) fputc((i * 131 + 7) & 255, f);
    fclose(f);
#ifdef VDIT_HAVE_FFMPEG
    expect_read_error("garbage .mp4", p, VD_ERR_FORMAT, "garbage.mp4");
#else
    expect_read_error("garbage .mp4 without FFmpeg", p, VD_ERR_UNSUPPORTED, "without FFmpeg");
#endif
    unlink(p);
    if (vd_video_format_available(VD_VIDEO_FORMAT_MP4)) {
        path_in(p, sizeof p, "cut.mp4");
        VT_EXPECT(write_video(p, 30, 64, 48, &err) == VD_OK);
        truncate_file(p, 0.5);
        expect_read_error("mp4 cut to half its size", p, VD_ERR_FORMAT, "truncated");
        unlink(p);
    }
    path_in(p, sizeof p, "cut.y4m");
    VT_EXPECT(write_video(p, 4, 64, 48, &err) == VD_OK);
    truncate_file(p, 0.6);
    expect_read_error("y4m cut to 60%", p, VD_ERR_FORMAT, "truncated");
    unlink(p);
    path_in(p, sizeof p, "bad.y4m");
    f = fopen(p, "wb");
    fputs("YUV4MPEG3 W64 H48\nFRAME\n", f);
    fclose(f);
    expect_read_error("y4m bad magic", p, VD_ERR_FORMAT, "YUV4MPEG2");
    f = fopen(p, "wb");
    fputs("YUV4MPEG2 W64 H48 F16:1 C420p10\nFRAME\n", f);
    fclose(f);
    expect_read_error("y4m 10-bit", p, VD_ERR_UNSUPPORTED, "C420p10");
    f = fopen(p, "wb");
    fputs("YUV4MPEG2 W0 H48 F16:1\n", f);
    fclose(f);
    expect_read_error("y4m zero width", p, VD_ERR_FORMAT, "0x48");
    unlink(p);
    // Image sequences: a frame of another size, a corrupt PNG, a directory without images.
    path_in(p, sizeof p, "s/%02d.png");
    VT_EXPECT(write_video(p, 3, 32, 24, &err) == VD_OK);
    path_in(q, sizeof q, "s/02.png");
    VT_EXPECT(vd_png_write(q, g_frame, 16, 16, 0, &err) == VD_OK);
    expect_read_error("sequence with a 16x16 frame", p, VD_ERR_FORMAT, "16x16");
    f = fopen(q, "wb");
    fputs("\x89PNG\r\n\x1a\n not really", f);
    fclose(f);
    expect_read_error("sequence with a corrupt PNG", p, VD_ERR_FORMAT, "02.png");
    path_in(q, sizeof q, "s");
    vtc_rm_rf(q);
    mkdir(q, 0755);
    expect_read_error("directory without images", q, VD_ERR_IO, "no .png");
    rmdir(q);
    expect_dir_entries("after reader errors", 0);
}

int main(void) {
    if (!vtc_scratch(g_dir, sizeof g_dir, "errors")) return 1;
    printf("scratch dir %s\n", g_dir);
    test_writer_open_errors();
    test_unwritable();
    test_abort_and_empty();
    test_existing_file_survives();
    test_reader_errors();
    vtc_rm_rf(g_dir);
    return vt_finish("test_codecs_errors");
}
