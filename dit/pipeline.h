// Wan2.1 text-to-video pipeline (wan21.md sec. 5), the engine behind `vdit generate`:
//   prompt (Wan prompt_clean) -> tokenize -> umT5 encode prompt and negative prompt (encoder freed)
//   -> initial latent [C, F', H/8, W/8] from Philox(seed) or a safetensors file
//   -> denoising loop (UniPC or Euler), classifier-free guidance v = v_u + g (v_c - v_u) with the
//      cond pass first, each DiT call told (layer, step, n_steps, branch) through the attention
//      method of this run -> DiT freed -> VAE decode, frames streamed to the caller's frame sink
//   -> <output>.json sidecar with every setting, so a video can be reproduced exactly.
// dit knows no file formats (ARCHITECTURE.md: dit and codecs are siblings): the caller passes a
// vd_frame_sink; apps/frame_sink_video.h adapts the codecs video writer to it.
// CFG runs when guidance > 1 (as diffusers' WanPipeline decides); otherwise one pass per step.
//
// Two phases: vd_gen_prepare validates everything cheap (settings, model layout and configs,
// attention method and options, init-latent shape, output directory, and the sink's own check of
// the output, e.g. its format) before any weight is read; vd_gen_run does the work. No output
// file exists unless the run succeeds (given a sink that writes atomically, as the adapter does).
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "attention/attention.h"
#include "dit/model_dir.h"
#include "dit/scheduler.h"
#include "dit/wan_weights.h"
#include "lib/status.h"
#include "lib/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VD_GEN_MAX_ATTN_OPTS 32
#define VD_GEN_TEXT_LEN 512          // Wan pads the prompt embedding to 512 rows
#define VD_GEN_FORMAT_CAP 32

// What a sink's check reports about the output path.
typedef struct {
    char format[VD_GEN_FORMAT_CAP];  // short name for the sidecar, e.g. "mp4", "png_seq"
    bool frame_files;                // path is a per-frame file pattern: the sidecar is DIR/generate.json, not PATH.json
} vd_frame_sink_info;

// Where the decoded frames go. Call order: check (in vd_gen_prepare, before any weight is read),
// then in vd_gen_run open, write once per frame in order, and close; if anything fails after a
// successful open and before close, abort instead. close and abort end the sink's use (close
// releases it on failure too). All callbacks get ctx first; errors as vd_status with err set.
typedef struct vd_frame_sink {
    void *ctx;
    // Optional: validates path cheaply (format known and built in) and fills *info (zeroed before
    // the call). Without it the sidecar says format "unspecified" and the output is one file.
    vd_status (*check)(void *ctx, const char *path, vd_frame_sink_info *info, vd_error *err);
    // Starts an output of width x height frames at fps frames per second.
    vd_status (*open)(void *ctx, const char *path, int width, int height, int fps, vd_error *err);
    // One frame, rgb uint8 [height, width, 3] row-major, contiguous.
    vd_status (*write)(void *ctx, const uint8_t *rgb, vd_error *err);
    // Finishes the output and puts it in place.
    vd_status (*close)(void *ctx, vd_error *err);
    // Drops everything written since open; no output is left.
    void (*abort)(void *ctx);
    // Optional: removes the output a successful close put in place (a later step, the sidecar,
    // failed and the run is all or nothing).
    void (*remove)(void *ctx);
} vd_frame_sink;

// What the caller asks for. Unset markers: ints 0, doubles NaN, strings NULL; unset settings
// come from the model folder (vd_model_dir) and then the built-in Wan values.
typedef struct {
    const char *model;               // model folder; NULL: vd_model_dir_default()
    const char *prompt;              // required
    const char *negative_prompt;     // NULL: vdit.json's, else Wan's default
    int width, height, frames, steps, fps;
    double guidance, shift;
    int64_t seed;                    // < 0: random (the one used is reported)
    vd_sampler_kind sampler;         // default VD_SAMPLER_UNIPC
    const char *attention;           // self-attention method; NULL: dense
    const char *attn_opts[VD_GEN_MAX_ATTN_OPTS]; // "key=value" overrides of the method's config
    int n_attn_opts;
    vd_device_kind device;           // CPU or CUDA
    int cuda_device;
    const char *output;              // video path, passed to the sink (required)
    const vd_frame_sink *sink;       // where the frames go (required; must outlive the plan)
    const char *save_latent;         // optional: final latent (and the initial one) to safetensors
    const char *init_latent;         // optional: start from this latent instead of Philox noise
    int threads;                     // CPU threads (0: OpenMP's default)
    bool sidecar;                    // write <output>.json (default true)
} vd_gen_opts;
void vd_gen_opts_init(vd_gen_opts *o);

// The validated, resolved run.
typedef struct {
    vd_gen_opts o;                   // with strings owned below
    vd_model_dir dir;
    vd_gen_defaults s;               // effective width, height, frames, steps, fps, guidance, shift, negative prompt
    uint64_t seed;
    vd_wan_model_files dit_files;    // transformer (mapped, headers checked)
    int64_t lat[4];                  // latent shape [C, F', H/8, W/8]
    int64_t text_dim;                // umT5 width = DiT text_dim
    int spatial, temporal;           // VAE factors (8, 4)
    vd_frame_sink_info out_info;     // from the sink's check
    vd_attn *attn;                   // NULL: dense
    char sidecar_path[VD_PATH_CAP];
    char *init_tensor;               // name of the tensor read from init_latent
    bool cfg;                        // guidance > 1
} vd_gen_plan;

// Per-run report.
typedef struct {
    double load_s, encode_s, denoise_s, decode_s, write_s, total_s;
    size_t peak_host_bytes, peak_device_bytes;
    int64_t frames_written;
    int n_real_prompt, n_real_negative; // prompt token counts (incl. </s>)
    int omp_threads, blas_threads;   // CPU thread counts used (CPU results depend on them bit-wise); 0: unknown
} vd_gen_result;

// Checks and resolves. Usage errors (bad values, unknown method/option, shape rules) return
// VD_ERR_INVALID_ARG or VD_ERR_UNSUPPORTED; missing files and unwritable places VD_ERR_IO.
vd_status vd_gen_prepare(vd_gen_plan *p, const vd_gen_opts *o, vd_error *err);
// Runs the plan; prints the progress bar and the stage table on stderr (log level info).
vd_status vd_gen_run(vd_gen_plan *p, vd_gen_result *res, vd_error *err);
void vd_gen_plan_free(vd_gen_plan *p);

// Writes the JSON sidecar (atomic: temporary name, then rename). Used by vd_gen_run.
vd_status vd_gen_write_sidecar(const vd_gen_plan *p, const vd_gen_result *r, const char *path, vd_error *err);

// The vdit version string written into sidecars.
#define VD_VERSION_STRING VDIT_VERSION // project(VERSION) in CMakeLists.txt

#ifdef __cplusplus
}
#endif
