// Video reader: yields RGB uint8 frames [H, W, 3] (rows packed) one at a time, from
//   - .y4m files (parsed here, no dependency): 4:2:0 (all sitings), 4:2:2, 4:4:4, mono, 8 bit;
//     BT.601 matrix, limited range unless tagged XCOLORRANGE=FULL; chroma upsampled by
//     nearest neighbour;
//   - image sequences: a %0Nd pattern (frames/%04d.png; first index 0 or 1, then consecutive until
//     the first missing number), or a directory (every .png/.jpg/.jpeg/.bmp file in it, sorted
//     by name), or a single image (one frame). Decoded with stb_image;
//   - anything else through libavformat/libavcodec (mp4, webm, mkv, avi, ...). The decoded
//     frame's colour tags pick the YUV->RGB matrix and range (BT.601 when untagged, as FFmpeg).
// Every frame must have the size of the first one (VD_ERR_FORMAT otherwise).
// Errors: VD_ERR_IO missing/unreadable input, VD_ERR_FORMAT corrupt or truncated data,
// VD_ERR_UNSUPPORTED a container this build cannot read.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vd_video_reader vd_video_reader;

vd_status vd_video_reader_open(vd_video_reader **out, const char *path, vd_error *err);
int vd_video_reader_width(const vd_video_reader *r);
int vd_video_reader_height(const vd_video_reader *r);
// Frame rate as num/den when the source has one (y4m, containers); 0/1 for image sequences.
void vd_video_reader_fps(const vd_video_reader *r, int *num, int *den);
// Decodes the next frame into rgb ([H, W, 3], W*H*3 bytes, caller-owned). *got = false at the end
// of the stream (rgb untouched).
vd_status vd_video_reader_read(vd_video_reader *r, uint8_t *rgb, bool *got, vd_error *err);
// Frames returned so far.
int64_t vd_video_reader_frames(const vd_video_reader *r);
void vd_video_reader_close(vd_video_reader *r); // NULL is a no-op

#ifdef __cplusplus
}
#endif
