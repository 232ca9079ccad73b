// Progress bar and stage timings (see progress.h). Formatting is done by pure functions; the
// stateful parts only decide when to draw and where.
#include "progress.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tensor.h"

#define PROGRESS_REDRAW_S 0.1  // TTY redraw interval: smooth enough, and cheap on slow terminals
#define PROGRESS_BAR_TTY 20

double vd_monotonic_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void vd_format_duration(double s, char *buf, size_t cap) {
    if (!(s >= 0.0) || isinf(s) || s > 3.6e9) {
        snprintf(buf, cap, "--:--");
        return;
    }
    long long t = (long long)floor(s + 0.5);
    long long h = t / 3600, m = (t / 60) % 60, sec = t % 60;
    if (h > 0) snprintf(buf, cap, "%lld:%02lld:%02lld", h, m, sec);
    else snprintf(buf, cap, "%02lld:%02lld", m, sec);
}

double vd_progress_eta(int64_t done, int64_t total, double elapsed) {
    if (done <= 0 || total <= 0 || !(elapsed >= 0.0)) return -1.0;
    if (done >= total) return 0.0;
    return elapsed / (double)done * (double)(total - done);
}

void vd_progress_bar(char *buf, int width, double frac) {
    if (width < 0) width = 0;
    if (!(frac >= 0.0)) frac = 0.0;
    if (frac > 1.0) frac = 1.0;
    int fill = (int)floor(frac * width + 1e-9);
    for (int i = 0; i < width; i++) buf[i] = i < fill ? '#' : '-';
    buf[width] = 0;
}

static int digits(int64_t v) {
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

void vd_progress_format(char *buf, size_t cap, const char *label, int64_t done, int64_t total, double elapsed,
                        int bar_width) {
    char el[32], eta[32], rate[32];
    vd_format_duration(elapsed, el, sizeof el);
    if (done > 0 && elapsed > 0.0) {
        double spi = elapsed / (double)done;
        if (spi >= 1.0) snprintf(rate, sizeof rate, "%.1f s/it", spi);
        else snprintf(rate, sizeof rate, "%.1f it/s", 1.0 / spi);
    } else {
        snprintf(rate, sizeof rate, "-- s/it");
    }
    if (total <= 0) {
        snprintf(buf, cap, "%-8s %lld %s %s", label, (long long)done, el, rate);
        return;
    }
    char bar[128];
    if (bar_width > (int)sizeof bar - 1) bar_width = (int)sizeof bar - 1;
    double frac = (double)done / (double)total;
    vd_progress_bar(bar, bar_width, frac);
    vd_format_duration(vd_progress_eta(done, total, elapsed), eta, sizeof eta);
    int pct = (int)floor(100.0 * (frac > 1.0 ? 1.0 : frac < 0.0 ? 0.0 : frac) + 1e-9);
    snprintf(buf, cap, "%-8s %*lld/%lld [%s] %3d%% %s<%s %s", label, digits(total), (long long)done,
             (long long)total, bar, pct, el, eta, rate);
}

void vd_format_bytes(size_t bytes, char *buf, size_t cap) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (u == 0) snprintf(buf, cap, "%zu B", bytes);
    else snprintf(buf, cap, v < 10.0 ? "%.2f %s" : "%.1f %s", v, units[u]);
}

// ---- progress state -----------------------------------------------------------------------

static void draw(vd_progress *p, double now, bool final) {
    char line[256];
    vd_progress_format(line, sizeof line, p->label, p->done, p->total, now - p->t_start, PROGRESS_BAR_TTY);
    if (p->tty) fprintf(p->out, "\r%s\033[K%s", line, final ? "\n" : "");
    else fprintf(p->out, "%s\n", line);
    fflush(p->out);
    p->t_last_draw = now;
    p->drawn = true;
}

void vd_progress_begin_to(vd_progress *p, const char *label, int64_t total, FILE *out) {
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total > 0 ? total : 0;
    p->out = out ? out : stderr;
    p->tty = isatty(fileno(p->out)) == 1;
    p->quiet = vd_log_get_level() < VD_LOG_INFO;
    p->t_start = p->t_last_draw = vd_monotonic_s();
    if (!p->quiet && p->tty) draw(p, p->t_start, false);
}

void vd_progress_begin(vd_progress *p, const char *label, int64_t total) { vd_progress_begin_to(p, label, total, stderr); }

void vd_progress_step(vd_progress *p, int64_t n) {
    p->done += n;
    if (p->quiet) return;
    double now = vd_monotonic_s();
    if (p->tty) {
        if (now - p->t_last_draw >= PROGRESS_REDRAW_S || (p->total && p->done >= p->total)) draw(p, now, false);
        return;
    }
    if (p->total <= 0) return;
    int64_t d = p->done > p->total ? p->total : p->done;
    int tenth = (int)(d * 10 / p->total);
    if (tenth > p->last_tenth) {
        p->last_tenth = tenth;
        draw(p, now, false);
    }
}

void vd_progress_end(vd_progress *p) {
    if (p->quiet) return;
    double now = vd_monotonic_s();
    // Non-TTY: the last line is already printed when the run reached 100%.
    if (p->tty || p->total <= 0 || p->last_tenth < 10) draw(p, now, true);
}

// ---- stages -------------------------------------------------------------------------------

void vd_stages_init(vd_stages *s) {
    memset(s, 0, sizeof *s);
    s->t_created = vd_monotonic_s();
}

static vd_stage *stage_find(const vd_stages *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->stage[i].name, name) == 0) return (vd_stage *)&s->stage[i];
    return NULL;
}

void vd_stages_begin(vd_stages *s, const char *name) {
    vd_stage *st = stage_find(s, name);
    if (!st) {
        if (s->n >= VD_STAGES_MAX) return;
        st = &s->stage[s->n++];
        snprintf(st->name, sizeof st->name, "%s", name);
    }
    for (int i = 0; i < s->n; i++)
        if (s->stage[i].open && &s->stage[i] != st) s->nested = true;
    st->t_begin = vd_monotonic_s();
    st->open = true;
    st->calls++;
}

void vd_stages_end(vd_stages *s, const char *name) {
    vd_stage *st = stage_find(s, name);
    if (!st || !st->open) {
        VD_LOGD("vd_stages_end: stage '%s' was not begun", name);
        return;
    }
    st->seconds += vd_monotonic_s() - st->t_begin;
    st->open = false;
}

double vd_stages_seconds(const vd_stages *s, const char *name) {
    const vd_stage *st = stage_find(s, name);
    return st ? st->seconds : -1.0;
}

size_t vd_stages_format(const vd_stages *s, double wall_s, size_t peak_host_bytes, size_t peak_device_bytes,
                        char *buf, size_t cap) {
    if (cap == 0) return 0;
    size_t o = 0;
    buf[0] = 0;
#define APPEND(...)                                                                          \
    do {                                                                                     \
        if (o < cap) {                                                                       \
            int k_ = snprintf(buf + o, cap - o, __VA_ARGS__);                                \
            o = k_ < 0 ? o : (o + (size_t)k_ < cap ? o + (size_t)k_ : cap - 1);             \
        }                                                                                    \
    } while (0)
    double sum = 0.0, denom = wall_s > 0.0 ? wall_s : 1.0;
    APPEND("%-24s %10s %7s\n", "stage", "seconds", "share");
    for (int i = 0; i < s->n; i++) {
        const vd_stage *st = &s->stage[i];
        sum += st->seconds;
        char name[40];
        snprintf(name, sizeof name, st->calls > 1 ? "%s (x%d)" : "%s", st->name, st->calls);
        APPEND("%-24s %10.2f %6.1f%%\n", name, st->seconds, 100.0 * st->seconds / denom);
    }
    if (!s->nested && wall_s - sum >= 0.005) // hidden when it would print as 0.00
        APPEND("%-24s %10.2f %6.1f%%\n", "other", wall_s - sum, 100.0 * (wall_s - sum) / denom);
    APPEND("%-24s %10.2f %6.1f%%\n", "total", wall_s, 100.0);
    char host[32], dev[32];
    vd_format_bytes(peak_host_bytes, host, sizeof host);
    APPEND("peak host RSS %s", host);
    if (peak_device_bytes) {
        vd_format_bytes(peak_device_bytes, dev, sizeof dev);
        APPEND(", peak device memory %s", dev);
    }
    APPEND("\n");
#undef APPEND
    return o;
}

void vd_stages_print(const vd_stages *s, FILE *f, size_t peak_device_bytes) {
    char buf[4096];
    vd_stages_format(s, vd_monotonic_s() - s->t_created, vd_host_peak_rss(), peak_device_bytes, buf, sizeof buf);
    fputs(buf, f ? f : stderr);
}
