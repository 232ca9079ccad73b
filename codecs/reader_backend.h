// Internal: the table each reader source fills (y4m, image sequence, ffmpeg). Not a public header.
#pragma once
#include "codecs/video_reader.h"

typedef struct vd_reader_backend {
    const char *name;
    // Opens the source; fills width, height, fps (0/1 when unknown).
    vd_status (*open)(void **state, const char *path, int *w, int *h, int *fps_num, int *fps_den, vd_error *err);
    vd_status (*read)(void *state, uint8_t *rgb, bool *got, vd_error *err);
    void (*close)(void *state);
} vd_reader_backend;

extern const vd_reader_backend vd_reader_backend_y4m;
extern const vd_reader_backend vd_reader_backend_images;
extern const vd_reader_backend vd_reader_backend_ffmpeg; // only when VDIT_HAVE_FFMPEG
