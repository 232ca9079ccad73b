// Progress bar with ETA, and per-stage wall-clock timings for end-of-run reports.
//
// Progress: on a terminal one line on stderr is redrawn in place (at most every 0.1 s):
//   denoise  12/50 [#####---------------]  24% 00:31<01:38 2.6 s/it
// When stderr is not a terminal (CI logs, pipes), a line is printed each time another tenth of
// the total is done, so logs stay short. Nothing is printed when the log level is below info
// (VDIT_LOG=warn or error). The formatting is pure functions, tested in tests/test_progress.c.
//
// Stages: named wall-clock intervals (monotonic clock) that accumulate over repeated begin/end
// pairs, printed as a table with each stage's share of the wall time, peak host RSS
// (vd_host_peak_rss) and, when given, peak device bytes.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

// Seconds on the monotonic clock (arbitrary origin).
double vd_monotonic_s(void);

typedef struct {
    char label[32];
    int64_t total, done;    // total 0: unknown; the bar and ETA are left out
    double t_start, t_last_draw;
    int last_tenth;         // non-TTY: tenths already reported
    bool tty, quiet, drawn;
    FILE *out;
} vd_progress;

void vd_progress_begin(vd_progress *p, const char *label, int64_t total);
// As vd_progress_begin, writing to out (TTY mode when out is a terminal).
void vd_progress_begin_to(vd_progress *p, const char *label, int64_t total, FILE *out);
void vd_progress_step(vd_progress *p, int64_t n);
// Draws the final state (TTY: ends the line) and prints the total time.
void vd_progress_end(vd_progress *p);

// ---- pure formatting --------------------------------------------------------------------------
// "mm:ss" below one hour, "h:mm:ss" above (rounded to whole seconds); "--:--" when s is negative,
// NaN or infinite.
void vd_format_duration(double s, char *buf, size_t cap);
// Seconds left at the mean rate so far: elapsed / done x (total - done); -1 when unknown
// (done <= 0, total <= 0); 0 when done >= total.
double vd_progress_eta(int64_t done, int64_t total, double elapsed);
// width characters of '#' (filled, floor(frac x width)) and '-', NUL-terminated; frac clamped to [0, 1].
// buf must hold width + 1 bytes.
void vd_progress_bar(char *buf, int width, double frac);
// One progress line without terminal control codes (see the header comment for the layout).
// Rate: "2.6 s/it" when an item takes >= 1 s, else "3.4 it/s".
void vd_progress_format(char *buf, size_t cap, const char *label, int64_t done, int64_t total, double elapsed,
                        int bar_width);
// "812 B", "12.0 KiB", "1.50 GiB" (powers of 1024).
void vd_format_bytes(size_t bytes, char *buf, size_t cap);

// ---- stage timings ----------------------------------------------------------------------------
#define VD_STAGES_MAX 24

typedef struct {
    char name[32];
    double seconds;   // accumulated over begin/end pairs
    double t_begin;   // while open
    int calls;
    bool open;
} vd_stage;

typedef struct {
    vd_stage stage[VD_STAGES_MAX];
    int n;
    double t_created;
    bool nested;      // a stage began while another was open: the "other" row is left out
} vd_stages;

void vd_stages_init(vd_stages *s);
// Begins (or resumes) the named stage. Names beyond VD_STAGES_MAX are not recorded.
void vd_stages_begin(vd_stages *s, const char *name);
void vd_stages_end(vd_stages *s, const char *name);
// Accumulated seconds of a stage; -1 when it was never begun.
double vd_stages_seconds(const vd_stages *s, const char *name);
// The table as text: one row per stage (seconds, share of wall_s), an "other" row for time in
// no stage (when stages did not nest), the total, and a memory line (peak_device_bytes 0: not shown).
// Returns the length written (truncated to cap - 1).
size_t vd_stages_format(const vd_stages *s, double wall_s, size_t peak_host_bytes, size_t peak_device_bytes,
                        char *buf, size_t cap);
// Prints the table with wall time since vd_stages_init and vd_host_peak_rss().
void vd_stages_print(const vd_stages *s, FILE *f, size_t peak_device_bytes);

#ifdef __cplusplus
}
#endif
