// vd_frame_sink over vd_video_writer (frame_sink_video.h).
#include "apps/frame_sink_video.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "codecs/png_pattern.h"

static vd_status fsv_check(void *ctx, const char *path, vd_frame_sink_info *info, vd_error *err) {
    vd_video_format f;
    VD_TRY(vd_video_format_from_path(path, &f, err));
    if (!vd_video_format_available(f))
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "-o %s: this build cannot write %s (use .y4m, or a build with FFmpeg/libpng)",
                            path, vd_video_format_name(f));
    snprintf(info->format, sizeof info->format, "%s", vd_video_format_name(f));
    info->frame_files = f == VD_VIDEO_FORMAT_PNG_SEQ;
    return VD_OK;
}

static vd_status fsv_open(void *ctx, const char *path, int width, int height, int fps, vd_error *err) {
    vd_frame_sink_video *s = ctx;
    if (s->w) return vd_error_set(err, VD_ERR_INVALID_ARG, "frame sink: open of %s while %s is still open", path, s->path);
    VD_TRY(vd_video_format_from_path(path, &s->format, err));
    if (strlen(path) >= sizeof s->path)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "frame sink: output path of %zu bytes is longer than %zu", strlen(path),
                            sizeof s->path - 1);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->frames = 0;
    vd_video_writer_options o;
    vd_video_writer_options_init(&o);
    o.fps_num = fps;
    o.fps_den = 1;
    return vd_video_writer_open(&s->w, path, width, height, &o, err);
}

static vd_status fsv_write(void *ctx, const uint8_t *rgb, vd_error *err) {
    vd_frame_sink_video *s = ctx;
    if (!s->w) return vd_error_set(err, VD_ERR_INVALID_ARG, "frame sink: write without an open output");
    return vd_video_writer_write(s->w, rgb, 0, err);
}

static vd_status fsv_close(void *ctx, vd_error *err) {
    vd_frame_sink_video *s = ctx;
    if (!s->w) return vd_error_set(err, VD_ERR_INVALID_ARG, "frame sink: close without an open output");
    const int64_t n = vd_video_writer_frames(s->w);
    vd_status st = vd_video_writer_close(s->w, err); // frees the writer, also on failure
    s->w = NULL;
    s->frames = st ? 0 : n;
    return st;
}

static void fsv_abort(void *ctx) {
    vd_frame_sink_video *s = ctx;
    vd_video_writer_abort(s->w);
    s->w = NULL;
    s->frames = 0;
}

static void fsv_remove(void *ctx) {
    vd_frame_sink_video *s = ctx;
    if (s->w || !s->path[0]) return;
    if (s->format != VD_VIDEO_FORMAT_PNG_SEQ) {
        unlink(s->path);
    } else {
        vd_png_pattern pat;
        vd_error err = {0};
        if (vd_png_pattern_parse(s->path, &pat, &err)) return;
        for (int64_t i = 1; i <= s->frames; i++) { // the PNG writer numbers frames from 1
            char p[VD_PATH_CAP + 600];
            vd_png_pattern_path(&pat, (long)i, p, sizeof p);
            unlink(p);
        }
    }
    s->frames = 0;
}

void vd_frame_sink_video_init(vd_frame_sink *sink, vd_frame_sink_video *state) {
    memset(state, 0, sizeof *state);
    memset(sink, 0, sizeof *sink);
    sink->ctx = state;
    sink->check = fsv_check;
    sink->open = fsv_open;
    sink->write = fsv_write;
    sink->close = fsv_close;
    sink->abort = fsv_abort;
    sink->remove = fsv_remove;
}
