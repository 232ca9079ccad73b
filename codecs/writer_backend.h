// Internal: the table every writer backend fills (ffmpeg, png sequence, y4m). Not a public header.
// The dispatcher (video_writer.c) validates path/size/options before calling open; a backend's
// close must leave no file behind when it fails, and abort must always remove its output.
#pragma once
#include "codecs/video_writer.h"

typedef struct vd_writer_backend {
    const char *name;
    // Allocates backend state in *state. coded_w/coded_h: the size actually stored.
    vd_status (*open)(void **state, const char *path, vd_video_format fmt, int width, int height,
                      const vd_video_writer_options *opt, int *coded_w, int *coded_h, vd_error *err);
    vd_status (*write_frame)(void *state, const uint8_t *rgb, size_t stride, vd_error *err);
    vd_status (*close)(void *state, vd_error *err); // finalize + commit; frees state
    void (*abort)(void *state);                      // remove output; frees state
} vd_writer_backend;

extern const vd_writer_backend vd_writer_backend_ffmpeg; // only when VDIT_HAVE_FFMPEG
extern const vd_writer_backend vd_writer_backend_png;    // only when VDIT_HAVE_PNG
extern const vd_writer_backend vd_writer_backend_y4m;

// True when libavcodec has the encoder f needs (libx264 for mp4, libvpx-vp9 for webm/mkv).
bool vd_ffmpeg_encoder_available(vd_video_format f); // only when VDIT_HAVE_FFMPEG
// Lowers FFmpeg's log level to errors (debug when VDIT_LOG=debug); once per process.
void vd_ffmpeg_quiet_logs(void); // only when VDIT_HAVE_FFMPEG

// Copies one RGB row of width w into dst and replicates its last pixel into pad extra pixels.
void vd_rgb_row_pad(uint8_t *dst, const uint8_t *src, int w, int pad);
