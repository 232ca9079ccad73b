// Helpers shared by the codecs tests: a synthetic moving test pattern, scratch directories and
// directory listings (to prove that failures leave nothing behind).
#pragma once
#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// Frame t of a smooth moving pattern, rgb [h, w, 3]: diagonal colour gradients that drift with t,
// a slow sine in blue, and a bright 12x12 square moving 3 px right and 2 px down per frame.
// Smooth content keeps lossy codecs well above their PSNR thresholds; the square makes every
// frame different, so a dropped or duplicated frame shows up in the PSNR.
static inline void vtc_pattern(uint8_t *rgb, int w, int h, int t) {
    int sq_x = (5 + 3 * t) % (w > 12 ? w - 12 : 1), sq_y = (3 + 2 * t) % (h > 12 ? h - 12 : 1);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(40 + (150 * x) / (w > 1 ? w - 1 : 1) + (t * 2) % 40);
            p[1] = (uint8_t)(30 + (170 * y) / (h > 1 ? h - 1 : 1));
            p[2] = (uint8_t)(128 + 60 * sin(0.15 * (x + y) + 0.3 * t));
            if (x >= sq_x && x < sq_x + 12 && y >= sq_y && y < sq_y + 12) p[0] = p[1] = p[2] = 235;
        }
}

// PSNR over RGB of a (stride aw*3) against ref [h, w, 3] on the top-left w x h region.
static inline double vtc_psnr_region(const uint8_t *a, int aw, const uint8_t *ref, int w, int h) {
    double se = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w * 3; x++) {
            double d = (double)a[(size_t)y * aw * 3 + x] - ref[(size_t)y * w * 3 + x];
            se += d * d;
        }
    double mse = se / ((double)w * h * 3);
    return mse == 0 ? INFINITY : 10 * log10(255.0 * 255.0 / mse);
}

static inline bool vtc_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

// Number of entries in dir (without . and ..); names of up to 8 entries go to stderr when verbose.
static inline int vtc_count_entries(const char *dir, bool verbose) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (verbose && n < 8) fprintf(stderr, "  entry in %s: %s\n", dir, e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

// Removes dir and everything below it (only used on our own scratch directories).
static inline void vtc_rm_rf(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[4096];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) vtc_rm_rf(p);
            else unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

// A fresh scratch directory under $TMPDIR (or /tmp); path written to buf.
static inline bool vtc_scratch(char *buf, size_t cap, const char *tag) {
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, cap, "%s/vdit_%s_XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    return mkdtemp(buf) != NULL;
}
