// Video writer dispatch: picks the backend from the output name, validates arguments once,
// and counts frames. Backends are in writer_ffmpeg.c, writer_png.c, writer_y4m.c.
#include "codecs/video_writer.h"

#include <stdlib.h>
#include <string.h>

#include "codecs/atomic_file.h"
#include "codecs/png_pattern.h"
#include "codecs/writer_backend.h"

#define VD_VIDEO_MAX_DIM 16384

struct vd_video_writer {
    const vd_writer_backend *backend;
    void *state;
    vd_video_format format;
    int width, height, coded_w, coded_h;
    int64_t frames;
};

void vd_video_writer_options_init(vd_video_writer_options *o) {
    memset(o, 0, sizeof *o);
    o->fps_num = 16;
    o->fps_den = 1;
    o->crf = -1;
    o->preset = NULL;
    o->vp9_cpu_used = 4;
}

const char *vd_video_format_name(vd_video_format f) {
    switch (f) {
    case VD_VIDEO_FORMAT_MP4: return "mp4 (H.264)";
    case VD_VIDEO_FORMAT_WEBM: return "webm (VP9)";
    case VD_VIDEO_FORMAT_MKV: return "mkv (VP9)";
    case VD_VIDEO_FORMAT_Y4M: return "y4m";
    case VD_VIDEO_FORMAT_PNG_SEQ: return "png sequence";
    default: return "unknown";
    }
}

vd_status vd_video_format_from_path(const char *path, vd_video_format *out, vd_error *err) {
    char ext[16];
    if (!path || !*path) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_video_format_from_path: empty output path");
    vd_path_ext(path, ext, sizeof ext);
    if (!strcmp(ext, "mp4")) *out = VD_VIDEO_FORMAT_MP4;
    else if (!strcmp(ext, "webm")) *out = VD_VIDEO_FORMAT_WEBM;
    else if (!strcmp(ext, "mkv")) *out = VD_VIDEO_FORMAT_MKV;
    else if (!strcmp(ext, "y4m")) *out = VD_VIDEO_FORMAT_Y4M;
    else if (!strcmp(ext, "png")) {
        vd_png_pattern pat;
        VD_TRY(vd_png_pattern_parse(path, &pat, err));
        *out = VD_VIDEO_FORMAT_PNG_SEQ;
    } else if (!ext[0])
        return vd_error_set(err, VD_ERR_UNSUPPORTED,
                            "vd_video_format_from_path: output '%s' has no extension; "
                            "use .mp4, .webm, .mkv, .y4m or a PNG pattern like frames/%%04d.png",
                            path);
    else
        return vd_error_set(err, VD_ERR_UNSUPPORTED,
                            "vd_video_format_from_path: unsupported output extension '.%s' in '%s'; "
                            "use .mp4, .webm, .mkv, .y4m or a PNG pattern like frames/%%04d.png",
                            ext, path);
    return VD_OK;
}

static const vd_writer_backend *backend_for(vd_video_format f) {
    switch (f) {
    case VD_VIDEO_FORMAT_MP4:
    case VD_VIDEO_FORMAT_WEBM:
    case VD_VIDEO_FORMAT_MKV:
#ifdef VDIT_HAVE_FFMPEG
        return &vd_writer_backend_ffmpeg;
#else
        return NULL;
#endif
    case VD_VIDEO_FORMAT_PNG_SEQ:
#ifdef VDIT_HAVE_PNG
        return &vd_writer_backend_png;
#else
        return NULL;
#endif
    case VD_VIDEO_FORMAT_Y4M: return &vd_writer_backend_y4m;
    default: return NULL;
    }
}

bool vd_video_format_available(vd_video_format f) {
    if (!backend_for(f)) return false;
#ifdef VDIT_HAVE_FFMPEG
    if (f == VD_VIDEO_FORMAT_MP4 || f == VD_VIDEO_FORMAT_WEBM || f == VD_VIDEO_FORMAT_MKV)
        return vd_ffmpeg_encoder_available(f);
#endif
    return true;
}

vd_status vd_video_writer_open(vd_video_writer **out, const char *path, int width, int height,
                               const vd_video_writer_options *opt, vd_error *err) {
    *out = NULL;
    vd_video_writer_options dflt;
    if (!opt) {
        vd_video_writer_options_init(&dflt);
        opt = &dflt;
    }
    vd_video_format fmt;
    VD_TRY(vd_video_format_from_path(path, &fmt, err));
    if (width < 1 || height < 1 || width > VD_VIDEO_MAX_DIM || height > VD_VIDEO_MAX_DIM)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_video_writer_open: frame size %dx%d outside 1..%d",
                            width, height, VD_VIDEO_MAX_DIM);
    if (opt->fps_num < 1 || opt->fps_den < 1 || opt->fps_num > 1000 * opt->fps_den)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_video_writer_open: fps %d/%d must be positive and <= 1000",
                            opt->fps_num, opt->fps_den);
    const vd_writer_backend *b = backend_for(fmt);
    if (!b) {
        const char *need = fmt == VD_VIDEO_FORMAT_PNG_SEQ ? "libpng (Debian: libpng-dev)"
                                                          : "FFmpeg (Debian: libavformat-dev libavcodec-dev libswscale-dev)";
        return vd_error_set(err, VD_ERR_UNSUPPORTED,
                            "vd_video_writer_open: cannot write %s '%s': this vdit was built without %s; "
                            "rebuild with it, or write .y4m which needs no library",
                            vd_video_format_name(fmt), path, need);
    }
    vd_video_writer *w = calloc(1, sizeof *w);
    if (!w) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_video_writer_open: out of memory");
    w->backend = b;
    w->format = fmt;
    w->width = width;
    w->height = height;
    vd_status s = b->open(&w->state, path, fmt, width, height, opt, &w->coded_w, &w->coded_h, err);
    if (s != VD_OK) {
        free(w);
        return s;
    }
    *out = w;
    return VD_OK;
}

vd_status vd_video_writer_write(vd_video_writer *w, const uint8_t *rgb, size_t stride, vd_error *err) {
    if (!rgb) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_video_writer_write: NULL frame");
    if (stride == 0) stride = (size_t)w->width * 3;
    if (stride < (size_t)w->width * 3)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_video_writer_write: row stride %zu < width*3 = %d", stride,
                            w->width * 3);
    VD_TRY(w->backend->write_frame(w->state, rgb, stride, err));
    w->frames++;
    return VD_OK;
}

vd_status vd_video_writer_close(vd_video_writer *w, vd_error *err) {
    if (!w) return VD_OK;
    if (w->frames == 0) {
        w->backend->abort(w->state);
        free(w);
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_video_writer_close: no frames were written; no file created");
    }
    vd_status s = w->backend->close(w->state, err);
    free(w);
    return s;
}

void vd_video_writer_abort(vd_video_writer *w) {
    if (!w) return;
    w->backend->abort(w->state);
    free(w);
}

int64_t vd_video_writer_frames(const vd_video_writer *w) { return w->frames; }

void vd_video_writer_coded_size(const vd_video_writer *w, int *width, int *height) {
    *width = w->coded_w;
    *height = w->coded_h;
}

void vd_rgb_row_pad(uint8_t *dst, const uint8_t *src, int w, int pad) {
    memcpy(dst, src, (size_t)w * 3);
    for (int i = 0; i < pad; i++) memcpy(dst + (size_t)(w + i) * 3, src + (size_t)(w - 1) * 3, 3);
}
