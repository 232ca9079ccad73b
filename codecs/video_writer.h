// Video writers: one interface, the backend chosen by the output name.
//
//   .mp4          H.264 (libx264 through libavcodec), yuv420p, CRF 18 by default, preset medium,
//                 profile high, movflags +faststart, BT.709 matrix/primaries/transfer, limited range:
//                 tagged in the stream AND used for the RGB->YUV conversion. Plays in browsers.
//   .webm / .mkv  VP9 (libvpx-vp9), yuv420p, constant quality (CRF 30 by default), BT.709 as above.
//                 Fails with VD_ERR_UNSUPPORTED when the FFmpeg build has no libvpx-vp9.
//   .y4m          YUV4MPEG2, 4:4:4, 8 bit, BT.601 limited range (the matrix FFmpeg assumes for
//                 untagged y4m); no dependency.
//   %d pattern    a PNG per frame, e.g. "frames/%04d.png" (libpng), numbered from 1 like FFmpeg's
//                 image2 muxer. The pattern must contain exactly one %d / %0Nd (N <= 9) in the file
//                 name and end in .png.
//
// Frames arrive one at a time, RGB uint8, [H, W, 3] row-major (row stride given per call); writers
// keep at most a frame or two (plus the encoder's own lookahead) in memory.
//
// Odd sizes: 4:2:0 needs even width and height. The mp4/webm/mkv writers pad an odd width or
// height by ONE column/row that repeats the last column/row (edge replication), so the encoded
// video is (W + W%2) x (H + H%2). y4m (4:4:4) and PNG keep the exact size.
//
// Atomic: the output is written under a temporary name in the target directory and renamed when
// close() succeeds; abort() or any failure removes it (see atomic_file.h).
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int fps_num, fps_den; // frame rate fps_num/fps_den; default 16/1 (Wan2.1's rate)
    int crf;              // quality; -1 = codec default (x264: 18, VP9: 30); x264 0..51, VP9 0..63
    const char *preset;   // x264 preset; NULL = "medium"
    int vp9_cpu_used;     // libvpx speed 0..8; default 4
} vd_video_writer_options;

void vd_video_writer_options_init(vd_video_writer_options *o);

typedef enum {
    VD_VIDEO_FORMAT_MP4 = 0,
    VD_VIDEO_FORMAT_WEBM,
    VD_VIDEO_FORMAT_MKV,
    VD_VIDEO_FORMAT_Y4M,
    VD_VIDEO_FORMAT_PNG_SEQ,
    VD_VIDEO_FORMAT_COUNT
} vd_video_format;

const char *vd_video_format_name(vd_video_format f);
// Picks the format from the output name; VD_ERR_UNSUPPORTED with the list of accepted names else.
vd_status vd_video_format_from_path(const char *path, vd_video_format *out, vd_error *err);
// True when this build can write f (mp4/webm/mkv need FFmpeg and the encoder; png needs libpng).
bool vd_video_format_available(vd_video_format f);

typedef struct vd_video_writer vd_video_writer; // opaque

// Opens a writer for frames of width x height (1..16384). Nothing exists under path until close().
vd_status vd_video_writer_open(vd_video_writer **out, const char *path, int width, int height,
                               const vd_video_writer_options *opt, vd_error *err);
// rgb: [height, width, 3] uint8 with row stride `stride` bytes (0 = width * 3). On failure the
// writer is unusable: call vd_video_writer_abort (which removes the partial output).
vd_status vd_video_writer_write(vd_video_writer *w, const uint8_t *rgb, size_t stride, vd_error *err);
// Flushes the encoder, finishes the container and renames the output into place; frees w.
// Writing zero frames is an error (nothing is left behind). On any failure the output is removed.
vd_status vd_video_writer_close(vd_video_writer *w, vd_error *err);
// Drops everything written so far (no file is left) and frees w. NULL is a no-op.
void vd_video_writer_abort(vd_video_writer *w);
// Frames written so far; the encoded size (after padding to even for 4:2:0 formats).
int64_t vd_video_writer_frames(const vd_video_writer *w);
void vd_video_writer_coded_size(const vd_video_writer *w, int *width, int *height);

#ifdef __cplusplus
}
#endif
