// Progress bar and stage timings: the pure formatting functions against hand-computed strings
// (durations, ETA math, bars at 0/50/100% and clamping, full lines, byte sizes, the stage
// table), then the stateful parts: the non-TTY mode prints one line per tenth, quiet mode
// prints nothing, and stages accumulate monotonic time.
#include <math.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/progress.h"
#include "test_util.h"

static void expect_str(const char *what, const char *got, const char *want) {
    bool ok = strcmp(got, want) == 0;
    printf("%s %-28s \"%s\"%s%s%s\n", ok ? "ok  " : "FAIL", what, got, ok ? "" : " want \"", ok ? "" : want,
           ok ? "" : "\"");
    if (!ok) vt_failures++;
}

static void test_duration(void) {
    static const struct { double s; const char *want; } c[] = {
        {0, "00:00"},     {31, "00:31"},      {59.4, "00:59"},      {59.6, "01:00"},       {98, "01:38"},
        {3599.4, "59:59"}, {3600, "1:00:00"}, {3723, "1:02:03"},    {36000, "10:00:00"},   {-1, "--:--"},
        {NAN, "--:--"},   {INFINITY, "--:--"}, {1e12, "--:--"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char buf[32], what[48];
        vd_format_duration(c[i].s, buf, sizeof buf);
        snprintf(what, sizeof what, "duration %g", c[i].s);
        expect_str(what, buf, c[i].want);
    }
}

static void test_eta(void) {
    // 12 of 50 done in 31.2 s: 2.6 s per item, 38 left -> 98.8 s.
    VT_EXPECT(fabs(vd_progress_eta(12, 50, 31.2) - 98.8) < 1e-9);
    VT_EXPECT(fabs(vd_progress_eta(1, 4, 2.0) - 6.0) < 1e-12);
    VT_EXPECT(vd_progress_eta(0, 50, 10.0) == -1.0);  // no rate yet
    VT_EXPECT(vd_progress_eta(5, 0, 10.0) == -1.0);   // unknown total
    VT_EXPECT(vd_progress_eta(50, 50, 10.0) == 0.0);
    VT_EXPECT(vd_progress_eta(60, 50, 10.0) == 0.0);  // overshoot
    printf("ok   eta math\n");
}

static void test_bar(void) {
    char b[64];
    vd_progress_bar(b, 10, 0.0); expect_str("bar 0%", b, "----------");
    vd_progress_bar(b, 10, 0.5); expect_str("bar 50%", b, "#####-----");
    vd_progress_bar(b, 10, 1.0); expect_str("bar 100%", b, "##########");
    vd_progress_bar(b, 10, 0.24); expect_str("bar 24%", b, "##--------");
    vd_progress_bar(b, 10, 0.999); expect_str("bar 99.9%", b, "#########-");
    vd_progress_bar(b, 10, 0.3); expect_str("bar 30% (3 x 0.1 rounding)", b, "###-------");
    vd_progress_bar(b, 7, 0.5); expect_str("bar 50% odd width", b, "###----");
    vd_progress_bar(b, 10, 1.5); expect_str("bar clamped high", b, "##########");
    vd_progress_bar(b, 10, -0.1); expect_str("bar clamped low", b, "----------");
    vd_progress_bar(b, 10, NAN); expect_str("bar NaN", b, "----------");
    vd_progress_bar(b, 0, 0.5); expect_str("bar width 0", b, "");
}

static void test_line(void) {
    char b[256];
    vd_progress_format(b, sizeof b, "denoise", 12, 50, 31.2, 10);
    expect_str("line 24%", b, "denoise  12/50 [##--------]  24% 00:31<01:39 2.6 s/it");
    vd_progress_format(b, sizeof b, "denoise", 0, 50, 0.0, 10);
    expect_str("line 0%", b, "denoise   0/50 [----------]   0% 00:00<--:-- -- s/it");
    vd_progress_format(b, sizeof b, "denoise", 25, 50, 50.0, 10);
    expect_str("line 50%", b, "denoise  25/50 [#####-----]  50% 00:50<00:50 2.0 s/it");
    vd_progress_format(b, sizeof b, "denoise", 50, 50, 100.0, 10);
    expect_str("line 100%", b, "denoise  50/50 [##########] 100% 01:40<00:00 2.0 s/it");
    vd_progress_format(b, sizeof b, "decode", 200, 1000, 10.0, 4);
    expect_str("line fast items", b, "decode    200/1000 [----]  20% 00:10<00:40 20.0 it/s");
    vd_progress_format(b, sizeof b, "load", 7, 0, 3.5, 10);
    expect_str("line unknown total", b, "load     7 00:04 2.0 it/s");
    vd_progress_format(b, sizeof b, "vae-decode-long", 3, 9, 7200.0, 3);
    expect_str("line long label, hours", b, "vae-decode-long 3/9 [#--]  33% 2:00:00<4:00:00 2400.0 s/it");
}

static void test_bytes(void) {
    static const struct { size_t v; const char *want; } c[] = {
        {0, "0 B"}, {812, "812 B"}, {1024, "1.00 KiB"}, {1536, "1.50 KiB"}, {10240, "10.0 KiB"},
        {(size_t)3 << 20, "3.00 MiB"}, {(size_t)1536 << 20, "1.50 GiB"}, {(size_t)141 << 30, "141.0 GiB"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char buf[32], what[48];
        vd_format_bytes(c[i].v, buf, sizeof buf);
        snprintf(what, sizeof what, "bytes %zu", c[i].v);
        expect_str(what, buf, c[i].want);
    }
}

static void test_stage_table(void) {
    vd_stages s;
    vd_stages_init(&s);
    s.n = 2;
    snprintf(s.stage[0].name, sizeof s.stage[0].name, "text encoder");
    s.stage[0].seconds = 3.0;
    s.stage[0].calls = 1;
    snprintf(s.stage[1].name, sizeof s.stage[1].name, "denoise");
    s.stage[1].seconds = 15.0;
    s.stage[1].calls = 50;
    char buf[1024];
    vd_stages_format(&s, 20.0, (size_t)1536 << 20, (size_t)10 << 30, buf, sizeof buf);
    expect_str("stage table", buf,
               "stage                       seconds   share\n"
               "text encoder                   3.00   15.0%\n"
               "denoise (x50)                 15.00   75.0%\n"
               "other                          2.00   10.0%\n"
               "total                         20.00  100.0%\n"
               "peak host RSS 1.50 GiB, peak device memory 10.0 GiB\n");
    s.nested = true;
    vd_stages_format(&s, 20.0, 812, 0, buf, sizeof buf);
    VT_EXPECT(!strstr(buf, "other") && strstr(buf, "peak host RSS 812 B\n") && !strstr(buf, "device"));
    char tiny[16];
    size_t n = vd_stages_format(&s, 20.0, 812, 0, tiny, sizeof tiny);
    VT_EXPECT(n == 15 && strlen(tiny) == 15); // truncated, still terminated
}

static void sleep_ms(int ms) {
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_stage_clock(void) {
    vd_stages s;
    vd_stages_init(&s);
    vd_stages_begin(&s, "a");
    sleep_ms(20);
    vd_stages_end(&s, "a");
    double a1 = vd_stages_seconds(&s, "a");
    VT_EXPECT(a1 >= 0.019 && a1 < 2.0);
    vd_stages_begin(&s, "a");
    sleep_ms(10);
    vd_stages_end(&s, "a");
    VT_EXPECT(vd_stages_seconds(&s, "a") >= a1 + 0.009 && s.stage[0].calls == 2);
    VT_EXPECT(vd_stages_seconds(&s, "missing") == -1.0);
    vd_stages_end(&s, "missing"); // ignored
    VT_EXPECT(!s.nested);
    vd_stages_begin(&s, "outer");
    vd_stages_begin(&s, "inner");
    vd_stages_end(&s, "inner");
    vd_stages_end(&s, "outer");
    VT_EXPECT(s.nested && s.n == 3);
    printf("ok   stage clock: a = %.4f s over 2 calls\n", vd_stages_seconds(&s, "a"));
}

static int count_lines(FILE *f, char *last, size_t cap) {
    rewind(f);
    char line[512];
    int n = 0;
    last[0] = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        snprintf(last, cap, "%s", line);
    }
    return n;
}

static void test_non_tty(void) {
    vd_log_set_level(VD_LOG_INFO);
    char last[512];
    vd_progress p;
    FILE *f = tmpfile();
    vd_progress_begin_to(&p, "denoise", 50, f);
    VT_EXPECT(!p.tty);
    for (int i = 0; i < 50; i++) vd_progress_step(&p, 1);
    vd_progress_end(&p);
    int n = count_lines(f, last, sizeof last);
    VT_EXPECT(n == 10 && strstr(last, "50/50") && strstr(last, "100%"));
    printf("%s non-TTY full run: %d lines, last: %s", n == 10 ? "ok  " : "FAIL", n, last);
    fclose(f);

    f = tmpfile();
    vd_progress_begin_to(&p, "denoise", 50, f);
    for (int i = 0; i < 23; i++) vd_progress_step(&p, 1);
    vd_progress_end(&p); // stopped early: 4 tenth lines + the final line
    n = count_lines(f, last, sizeof last);
    VT_EXPECT(n == 5 && strstr(last, "23/50"));
    fclose(f);

    f = tmpfile();
    vd_progress_begin_to(&p, "frames", 0, f);
    for (int i = 0; i < 7; i++) vd_progress_step(&p, 1);
    VT_EXPECT(count_lines(f, last, sizeof last) == 0);
    vd_progress_end(&p);
    VT_EXPECT(count_lines(f, last, sizeof last) == 1 && strncmp(last, "frames   7 ", 11) == 0);
    fclose(f);

    vd_log_set_level(VD_LOG_WARN);
    f = tmpfile();
    vd_progress_begin_to(&p, "quiet", 10, f);
    for (int i = 0; i < 10; i++) vd_progress_step(&p, 1);
    vd_progress_end(&p);
    VT_EXPECT(count_lines(f, last, sizeof last) == 0);
    fclose(f);
    vd_log_set_level(VD_LOG_INFO);
}

int main(void) {
    test_duration();
    test_eta();
    test_bar();
    test_line();
    test_bytes();
    test_stage_table();
    test_stage_clock();
    test_non_tty();
    return vt_finish("test_progress");
}
