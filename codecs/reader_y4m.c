// y4m reader (YUV4MPEG2, 8 bit): header "YUV4MPEG2 W.. H.. F.. I.. A.. C.. X..", then per frame
// "FRAME[ params]\n" + Y, Cb, Cr planes. Chroma 420* (any siting), 422, 444 or mono; BT.601
// limited range unless XCOLORRANGE=FULL. Chroma is upsampled by nearest neighbour.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/reader_backend.h"
#include "codecs/yuv.h"

#define Y4M_MAX_DIM 16384
#define Y4M_MAX_LINE 1024

typedef struct {
    FILE *f;
    char path[512];
    int w, h, cw, ch; // luma and chroma plane sizes (cw = ch = 0 for mono)
    int sx, sy;       // chroma subsampling shifts
    bool full_range;
    uint8_t *buf;     // one frame's planes
    size_t frame_bytes;
    int64_t index;
} y4m_reader;

static void y4m_reader_close(void *state) {
    y4m_reader *s = state;
    if (!s) return;
    if (s->f) fclose(s->f);
    free(s->buf);
    free(s);
}

// Reads one '\n'-terminated line (without the newline). Returns length, -1 at EOF before any
// byte, -2 when longer than cap-1.
static int read_line(FILE *f, char *line, int cap) {
    int n = 0, c;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (n + 1 >= cap) return -2;
        line[n++] = (char)c;
    }
    if (c == EOF && ferror(f)) return -4; // read error (EINTR, EIO), not the end of the file
    if (c == EOF && n == 0) return -1;
    line[n] = 0;
    return c == EOF ? -3 : n; // -3: line not terminated
}

static vd_status y4m_reader_open(void **state, const char *path, int *w, int *h, int *fps_num, int *fps_den,
                                 vd_error *err) {
    y4m_reader *s = calloc(1, sizeof *s);
    if (!s) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "y4m_open: out of memory");
    snprintf(s->path, sizeof s->path, "%s", path);
    vd_status st = VD_OK;
    s->f = fopen(path, "rb");
    if (!s->f) {
        st = vd_error_set(err, VD_ERR_IO, "y4m_open: cannot open '%s' (%s)", path, strerror(errno));
        goto fail;
    }
    char line[Y4M_MAX_LINE];
    int n = read_line(s->f, line, sizeof line);
    if (n < 0 || strncmp(line, "YUV4MPEG2 ", 10) != 0) {
        st = vd_error_set(err, VD_ERR_FORMAT, "y4m_open: '%s' does not start with a YUV4MPEG2 header line", path);
        goto fail;
    }
    int fn = 0, fd = 1;
    const char *chroma = "420jpeg";
    char cbuf[32] = {0};
    for (char *tok = strtok(line + 10, " "); tok; tok = strtok(NULL, " ")) {
        switch (tok[0]) {
        case 'W': s->w = atoi(tok + 1); break;
        case 'H': s->h = atoi(tok + 1); break;
        case 'F':
            if (sscanf(tok + 1, "%d:%d", &fn, &fd) != 2) fn = 0, fd = 1;
            break;
        case 'C':
            snprintf(cbuf, sizeof cbuf, "%s", tok + 1);
            chroma = cbuf;
            break;
        case 'X':
            if (!strcmp(tok, "XCOLORRANGE=FULL")) s->full_range = true;
            break;
        default: break; // I (interlace), A (aspect): no effect on decoding
        }
    }
    if (s->w < 1 || s->h < 1 || s->w > Y4M_MAX_DIM || s->h > Y4M_MAX_DIM) {
        st = vd_error_set(err, VD_ERR_FORMAT, "y4m_open: '%s': frame size %dx%d outside 1..%d", path, s->w, s->h,
                          Y4M_MAX_DIM);
        goto fail;
    }
    // 4:2:0 sitings differ only in where chroma samples sit; nearest-neighbour upsampling ignores it.
    if (!strcmp(chroma, "420") || !strcmp(chroma, "420jpeg") || !strcmp(chroma, "420mpeg2") ||
        !strcmp(chroma, "420paldv"))
        s->sx = s->sy = 1;
    else if (!strcmp(chroma, "422")) s->sx = 1, s->sy = 0;
    else if (!strcmp(chroma, "444")) s->sx = s->sy = 0;
    else if (!strcmp(chroma, "mono")) s->sx = s->sy = -1;
    else {
        st = vd_error_set(err, VD_ERR_UNSUPPORTED, "y4m_open: '%s': chroma format C%s is not supported "
                          "(8-bit 420/422/444/mono only)", path, chroma);
        goto fail;
    }
    if (s->sx >= 0) {
        s->cw = (s->w + s->sx) >> s->sx;
        s->ch = (s->h + s->sy) >> s->sy;
    }
    s->frame_bytes = (size_t)s->w * s->h + 2 * (size_t)s->cw * s->ch;
    s->buf = malloc(s->frame_bytes);
    if (!s->buf) {
        st = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "y4m_open: out of memory");
        goto fail;
    }
    *w = s->w;
    *h = s->h;
    *fps_num = fn > 0 && fd > 0 ? fn : 0;
    *fps_den = fn > 0 && fd > 0 ? fd : 1;
    *state = s;
    return VD_OK;
fail:
    y4m_reader_close(s);
    return st;
}

static vd_status y4m_reader_read(void *state, uint8_t *rgb, bool *got, vd_error *err) {
    y4m_reader *s = state;
    char line[Y4M_MAX_LINE];
    int n = read_line(s->f, line, sizeof line);
    if (n == -1) return VD_OK; // clean end of stream
    if (n == -4)
        return vd_error_set(err, VD_ERR_IO, "y4m_read: '%s' frame %lld: read error (%s)", s->path, (long long)s->index,
                            strerror(errno));
    if (n < 0 || strncmp(line, "FRAME", 5) != 0 || (line[5] != 0 && line[5] != ' '))
        return vd_error_set(err, VD_ERR_FORMAT, "y4m_read: '%s' frame %lld: expected a FRAME line (file corrupt?)",
                            s->path, (long long)s->index);
    size_t got_bytes = fread(s->buf, 1, s->frame_bytes, s->f);
    if (got_bytes != s->frame_bytes && ferror(s->f))
        return vd_error_set(err, VD_ERR_IO, "y4m_read: '%s' frame %lld: read error (%s)", s->path, (long long)s->index,
                            strerror(errno));
    if (got_bytes != s->frame_bytes)
        return vd_error_set(err, VD_ERR_FORMAT, "y4m_read: '%s' frame %lld: %zu of %zu bytes; hint: file looks truncated",
                            s->path, (long long)s->index, got_bytes, s->frame_bytes);
    const uint8_t *Y = s->buf, *U = Y + (size_t)s->w * s->h, *V = U + (size_t)s->cw * s->ch;
    for (int y = 0; y < s->h; y++) {
        for (int x = 0; x < s->w; x++) {
            uint8_t cb = 128, cr = 128;
            if (s->sx >= 0) {
                size_t ci = (size_t)(y >> s->sy) * s->cw + (x >> s->sx);
                cb = U[ci];
                cr = V[ci];
            }
            uint8_t *o = rgb + ((size_t)y * s->w + x) * 3;
            vd_ycbcr601_to_rgb(Y[(size_t)y * s->w + x], cb, cr, s->full_range, &o[0], &o[1], &o[2]);
        }
    }
    s->index++;
    *got = true;
    return VD_OK;
}

const vd_reader_backend vd_reader_backend_y4m = {"y4m", y4m_reader_open, y4m_reader_read, y4m_reader_close};
