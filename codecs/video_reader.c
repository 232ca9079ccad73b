// Video reader dispatch (see video_reader.h): y4m by extension, image sequences by pattern,
// directory or image extension, everything else through FFmpeg.
#include "codecs/video_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codecs/atomic_file.h"
#include "codecs/png_pattern.h"
#include "codecs/reader_backend.h"

struct vd_video_reader {
    const vd_reader_backend *backend;
    void *state;
    int w, h, fps_num, fps_den;
    int64_t frames;
};

static bool is_image_ext(const char *ext) {
    return !strcmp(ext, "png") || !strcmp(ext, "jpg") || !strcmp(ext, "jpeg") || !strcmp(ext, "bmp");
}

vd_status vd_video_reader_open(vd_video_reader **out, const char *path, vd_error *err) {
    *out = NULL;
    if (!path || !*path) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_video_reader_open: empty input path");
    char ext[16];
    vd_path_ext(path, ext, sizeof ext);
    struct stat st;
    bool is_pattern = vd_png_pattern_is_pattern(path);
    if (!is_pattern && stat(path, &st) != 0)
        return vd_error_set(err, VD_ERR_IO, "vd_video_reader_open: cannot open '%s' (%s)", path, strerror(errno));
    const vd_reader_backend *b;
    if (is_pattern || S_ISDIR(st.st_mode) || is_image_ext(ext)) b = &vd_reader_backend_images;
    else if (!strcmp(ext, "y4m")) b = &vd_reader_backend_y4m;
    else {
#ifdef VDIT_HAVE_FFMPEG
        b = &vd_reader_backend_ffmpeg;
#else
        return vd_error_set(err, VD_ERR_UNSUPPORTED,
                            "vd_video_reader_open: cannot read '%s': this vdit was built without FFmpeg; only .y4m "
                            "files and image sequences can be read",
                            path);
#endif
    }
    vd_video_reader *r = calloc(1, sizeof *r);
    if (!r) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_video_reader_open: out of memory");
    r->backend = b;
    r->fps_den = 1;
    vd_status s = b->open(&r->state, path, &r->w, &r->h, &r->fps_num, &r->fps_den, err);
    if (s != VD_OK) {
        free(r);
        return s;
    }
    *out = r;
    return VD_OK;
}

int vd_video_reader_width(const vd_video_reader *r) { return r->w; }
int vd_video_reader_height(const vd_video_reader *r) { return r->h; }

void vd_video_reader_fps(const vd_video_reader *r, int *num, int *den) {
    *num = r->fps_num;
    *den = r->fps_den > 0 ? r->fps_den : 1;
}

vd_status vd_video_reader_read(vd_video_reader *r, uint8_t *rgb, bool *got, vd_error *err) {
    *got = false;
    VD_TRY(r->backend->read(r->state, rgb, got, err));
    if (*got) r->frames++;
    return VD_OK;
}

int64_t vd_video_reader_frames(const vd_video_reader *r) { return r->frames; }

void vd_video_reader_close(vd_video_reader *r) {
    if (!r) return;
    r->backend->close(r->state);
    free(r);
}
