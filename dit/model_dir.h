// A Wan2.1 text-to-video model folder in the diffusers layout (WanPipeline.save_pretrained):
//   model_index.json
//   transformer/   config.json + diffusion_pytorch_model*.safetensors (or an index)
//   text_encoder/  config.json + model*.safetensors (UMT5EncoderModel)
//   tokenizer/     tokenizer.json (HF fast tokenizer; the pipeline's tokenizer)
//   vae/           config.json + diffusion_pytorch_model.safetensors (AutoencoderKLWan)
//   scheduler/     scheduler_config.json (flow_shift = the default shift)
//   vdit.json      (optional, vdit's own) generation defaults: width, height, frames, steps,
//                  guidance, shift, fps, negative_prompt.
// Defaults resolve as: built-in Wan values < scheduler flow_shift < vdit.json < the caller's values.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VD_PATH_CAP 4096

// Generation settings a model folder can default. "Unset" markers: ints 0, doubles NaN,
// negative_prompt NULL (an empty string is a real value: "no negative prompt").
typedef struct {
    int width, height, frames, steps, fps;
    double guidance, shift;
    char *negative_prompt;      // malloc'ed when set
} vd_gen_defaults;

void vd_gen_defaults_unset(vd_gen_defaults *d);
void vd_gen_defaults_free(vd_gen_defaults *d);
// The built-in Wan2.1 T2V values (wan21.md sec. 5): 832 x 480, 81 frames, 50 steps, guidance 5,
// shift 3 (diffusers' scheduler config for 480p), fps 16, Wan's default (Chinese) negative prompt.
void vd_gen_defaults_wan(vd_gen_defaults *d);
// Fills every unset field of d from src (src's strings are copied).
void vd_gen_defaults_fill(vd_gen_defaults *d, const vd_gen_defaults *src);

typedef struct {
    char root[VD_PATH_CAP];           // as given (made absolute when possible)
    char transformer[VD_PATH_CAP];    // root/transformer
    char text_encoder[VD_PATH_CAP];   // root/text_encoder
    char tokenizer[VD_PATH_CAP];      // root/tokenizer/tokenizer.json
    char vae[VD_PATH_CAP];            // root/vae
    char scheduler_config[VD_PATH_CAP];
    bool have_vdit_json;
    vd_gen_defaults defaults;         // from scheduler_config (shift) and vdit.json; unset elsewhere
} vd_model_dir;

// Checks the folder's layout (every part present, with the file names above) and reads the
// defaults. Missing parts: VD_ERR_IO naming the path and what the folder must hold.
vd_status vd_model_dir_open(vd_model_dir *m, const char *path, vd_error *err);
void vd_model_dir_close(vd_model_dir *m);

// The bundled model (assets/vdit-tiny) when no --model is given: $VDIT_MODEL_DIR; else relative to
// the running executable (/proc/self/exe: ../../assets/vdit-tiny from build/apps/vdit,
// ../share/vdit/vdit-tiny from an installed bin/vdit); else the source tree this file was
// compiled from. Writes the first folder that exists; VD_ERR_IO listing the places tried.
vd_status vd_model_dir_default(char *out, size_t cap, vd_error *err);

#ifdef __cplusplus
}
#endif
