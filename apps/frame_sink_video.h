// The pipeline's frame sink (dit/pipeline.h vd_frame_sink) on top of the codecs video writer
// (codecs/video_writer.h): the one place where the pipeline's output meets a file format. dit
// does not depend on codecs; the apps (and the tests and benches that run the pipeline) join
// them here.
//   check   format from the output name (.mp4 .webm .mkv .y4m or a %0Nd.png pattern) and
//           whether this build can write it: VD_ERR_UNSUPPORTED otherwise, before any weight is read
//   open    vd_video_writer_open at fps/1 with the writer's default quality
//   write   one RGB frame; close: finish and rename into place; abort: drop the partial output
//   remove  deletes what close put in place (the file, or frames 1..n of a PNG pattern)
#pragma once
#include <stdint.h>

#include "codecs/video_writer.h"
#include "dit/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

// State of one sink; lives as long as the plan that uses it. Zeroed by vd_frame_sink_video_init.
typedef struct {
    vd_video_writer *w;          // open writer between open and close/abort
    vd_video_format format;      // from the last open
    char path[VD_PATH_CAP];      // the last output opened (for remove)
    int64_t frames;              // frames the last closed output holds
} vd_frame_sink_video;

// Fills *sink with callbacks writing through codecs/video_writer.h, with state as ctx.
void vd_frame_sink_video_init(vd_frame_sink *sink, vd_frame_sink_video *state);

#ifdef __cplusplus
}
#endif
