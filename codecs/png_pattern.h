// Frame-sequence name patterns: "dir/prefix%0Nd.suffix" with exactly one integer conversion
// (%d or %0Nd, N <= 9) in the file name, and %% for a literal percent sign. Parsed once into
// parts and formatted by hand, so a user-supplied pattern is never used as a printf format.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "lib/status.h"
#include "codecs/atomic_file.h"

typedef struct {
    char dir[VD_PATH_MAX];    // "." when the pattern has no directory
    char prefix[256];         // file-name text before the number (%% already unescaped)
    char suffix[256];         // after the number, e.g. ".png"
    int width;                // zero-padded width (0 = no padding)
} vd_png_pattern;

// True when the file-name part of path contains a '%' conversion (a sequence, not a single file).
bool vd_png_pattern_is_pattern(const char *path);
vd_status vd_png_pattern_parse(const char *path, vd_png_pattern *p, vd_error *err);
// Writes the file name (no directory) for frame index i into buf.
void vd_png_pattern_name(const vd_png_pattern *p, long i, char *buf, size_t cap);
// Full path dir/name for frame i.
void vd_png_pattern_path(const vd_png_pattern *p, long i, char *buf, size_t cap);
