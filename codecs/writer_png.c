// PNG-sequence writer: one PNG per frame named by a %0Nd pattern (png_pattern.h), numbered from 1.
// Frames go into a temporary sibling directory and are moved into place on close (atomic_file.h).
#ifdef VDIT_HAVE_PNG
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/atomic_file.h"
#include "codecs/image.h"
#include "codecs/png_pattern.h"
#include "codecs/writer_backend.h"

typedef struct {
    vd_png_pattern pat;
    vd_atomic_dir ad;
    int w, h;
    long next; // next frame number
} png_seq_writer;

static vd_status pngseq_open(void **state, const char *path, vd_video_format fmt, int width, int height,
                             const vd_video_writer_options *opt, int *coded_w, int *coded_h, vd_error *err) {
    (void)fmt; (void)opt;
    png_seq_writer *s = calloc(1, sizeof *s);
    if (!s) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "pngseq_open: out of memory");
    vd_status st = vd_png_pattern_parse(path, &s->pat, err);
    if (st == VD_OK) st = vd_atomic_dir_open(&s->ad, s->pat.dir, err);
    if (st != VD_OK) {
        free(s);
        return st;
    }
    s->w = width;
    s->h = height;
    s->next = 1;
    *coded_w = width;
    *coded_h = height;
    *state = s;
    return VD_OK;
}

static vd_status pngseq_write(void *state, const uint8_t *rgb, size_t stride, vd_error *err) {
    png_seq_writer *s = state;
    char name[600], full[VD_PATH_MAX + 700];
    vd_png_pattern_name(&s->pat, s->next, name, sizeof name);
    snprintf(full, sizeof full, "%s/%s", s->ad.tmp_path, name);
    VD_TRY(vd_png_write(full, rgb, s->w, s->h, stride, err));
    s->next++;
    return VD_OK;
}

static vd_status pngseq_close(void *state, vd_error *err) {
    png_seq_writer *s = state;
    vd_status st = vd_atomic_dir_commit(&s->ad, err);
    free(s);
    return st;
}

static void pngseq_abort(void *state) {
    png_seq_writer *s = state;
    vd_atomic_dir_discard(&s->ad);
    free(s);
}

const vd_writer_backend vd_writer_backend_png = {"png", pngseq_open, pngseq_write, pngseq_close, pngseq_abort};
#endif
