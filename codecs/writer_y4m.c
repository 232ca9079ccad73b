// y4m writer: "YUV4MPEG2 W H F Ip A1:1 C444 XYSCSS=444 XCOLORRANGE=LIMITED", then per frame
// "FRAME\n" and the Y, Cb, Cr planes (each H x W bytes). 4:4:4 keeps the exact size and colour
// resolution; BT.601 limited range (yuv.h) is what FFmpeg assumes for untagged y4m.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/atomic_file.h"
#include "codecs/writer_backend.h"
#include "codecs/yuv.h"

typedef struct {
    vd_atomic_file af;
    FILE *f;
    int w, h;
    uint8_t *planes; // [3, H, W] one frame
} y4m_writer;

static void y4m_free(y4m_writer *s, bool discard) {
    if (s->f) fclose(s->f);
    s->f = NULL;
    if (discard) vd_atomic_file_discard(&s->af);
    free(s->planes);
    free(s);
}

static vd_status y4m_open(void **state, const char *path, vd_video_format fmt, int width, int height,
                          const vd_video_writer_options *opt, int *coded_w, int *coded_h, vd_error *err) {
    (void)fmt;
    y4m_writer *s = calloc(1, sizeof *s);
    if (!s) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "y4m_open: out of memory");
    s->w = width;
    s->h = height;
    s->planes = malloc((size_t)width * height * 3);
    if (!s->planes) {
        free(s);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "y4m_open: %dx%d frame buffer: out of memory", width, height);
    }
    vd_status st = vd_atomic_file_open(&s->af, path, err);
    if (st != VD_OK) {
        free(s->planes);
        free(s);
        return st;
    }
    s->f = fdopen(s->af.fd, "wb");
    if (!s->f) {
        vd_error_set(err, VD_ERR_IO, "y4m_open: fdopen failed (%s)", strerror(errno));
        y4m_free(s, true);
        return VD_ERR_IO;
    }
    s->af.fd = -1;
    if (fprintf(s->f, "YUV4MPEG2 W%d H%d F%d:%d Ip A1:1 C444 XYSCSS=444 XCOLORRANGE=LIMITED\n", width, height,
                opt->fps_num, opt->fps_den) < 0) {
        vd_error_set(err, VD_ERR_IO, "y4m_open: writing header of '%s' failed (%s)", path, strerror(errno));
        y4m_free(s, true);
        return VD_ERR_IO;
    }
    *coded_w = width;
    *coded_h = height;
    *state = s;
    return VD_OK;
}

static vd_status y4m_write(void *state, const uint8_t *rgb, size_t stride, vd_error *err) {
    y4m_writer *s = state;
    size_t plane = (size_t)s->w * s->h;
    uint8_t *Y = s->planes, *U = Y + plane, *V = U + plane;
    for (int y = 0; y < s->h; y++) {
        const uint8_t *row = rgb + (size_t)y * stride;
        for (int x = 0; x < s->w; x++) {
            size_t i = (size_t)y * s->w + x;
            vd_rgb_to_ycbcr601(row[3 * x], row[3 * x + 1], row[3 * x + 2], &Y[i], &U[i], &V[i]);
        }
    }
    if (fputs("FRAME\n", s->f) < 0 || fwrite(s->planes, 1, plane * 3, s->f) != plane * 3)
        return vd_error_set(err, VD_ERR_IO, "y4m_write: write to '%s' failed (%s)", s->af.final_path, strerror(errno));
    return VD_OK;
}

static vd_status y4m_close(void *state, vd_error *err) {
    y4m_writer *s = state;
    int rc = fclose(s->f);
    s->f = NULL;
    if (rc != 0) {
        vd_error_set(err, VD_ERR_IO, "y4m_close: finishing '%s' failed (%s)", s->af.final_path, strerror(errno));
        y4m_free(s, true);
        return VD_ERR_IO;
    }
    vd_status st = vd_atomic_file_commit(&s->af, err);
    y4m_free(s, st != VD_OK);
    return st;
}

static void y4m_abort(void *state) { y4m_free(state, true); }

const vd_writer_backend vd_writer_backend_y4m = {"y4m", y4m_open, y4m_write, y4m_close, y4m_abort};
