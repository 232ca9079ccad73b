// Wan VAE decoder (AutoencoderKLWan, Wan2.1 VAE): latent [z_dim, F, H, W] -> video frames
// [F_out = 1 + 4 (F - 1)] of H*8 x W*8 RGB. Decode only.
//
// Frames are produced chunk by chunk in time (chunk_frames latent frames per decoder call, with
// the per-layer feature cache carrying the last two input frames of every causal conv), so
// memory does not grow with the frame count; each chunk's frames are handed to a callback as
// soon as they exist. With tiling, the latent is cut into overlapping spatial tiles decoded one
// after the other through all frames (device memory = one tile's caches and activations; the
// tiles' outputs are kept on the host), then blended linearly over the overlap in the order
// diffusers' AutoencoderKLWan.tiled_decode uses; frames are emitted once every tile is done.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dit/vae_config.h"
#include "lib/status.h"
#include "lib/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vd_vae vd_vae;

// Loads config.json + weights from a diffusers `vae` folder (or a folder holding both files), or
// a single .safetensors file with the Wan2.1 config assumed. Keys may be diffusers names or the
// original Wan names (Wan2.1_VAE.pth converted / ComfyUI wan_2.1_vae.safetensors).
vd_status vd_vae_load(vd_vae **out, const char *dir, vd_error *err);
// Loads weights (safetensors file, index or folder) for a given config.
vd_status vd_vae_load_weights(vd_vae **out, const vd_vae_config *cfg, const char *weights_path, vd_error *err);
// Random weights for a config (benchmarks): conv weights ~ N(0, 1/fan_in) scaled, biases small,
// gammas ~ 1. Deterministic in seed.
vd_status vd_vae_init_random(vd_vae **out, const vd_vae_config *cfg, uint64_t seed, vd_error *err);
void vd_vae_free(vd_vae *v);
const vd_vae_config *vd_vae_get_config(const vd_vae *v);
// Number of weight floats held (host copy).
int64_t vd_vae_n_params(const vd_vae *v);

// One decoded output frame.
typedef struct {
    int64_t index;          // frame number in the video, 0-based
    int64_t c, h, w;        // channels (3), pixel height and width
    const float *chw;       // [c, h, w], clamped to [-1, 1]
    const uint8_t *rgb;     // [h, w, c] interleaved, round((x + 1) / 2 * 255)
} vd_vae_frame;
// Called once per frame in order; a non-OK return stops the decode and is passed through.
typedef vd_status (*vd_vae_frame_fn)(void *user, const vd_vae_frame *frame, vd_error *err);

// CUDA convolutions: GEMM = the channel-major runner with cuBLAS GEMM convolutions (vae_cuda.cu);
// CUDNN = the channels-last runner with cuDNN convolutions (vae_cudnn.cu, builds with cuDNN);
// AUTO = the cuDNN runner when built with cuDNN, else GEMM (see vd_vae_conv_impl_name in vae_decode.c).
typedef enum { VD_VAE_CONV_AUTO = 0, VD_VAE_CONV_GEMM, VD_VAE_CONV_CUDNN } vd_vae_conv_impl;

typedef struct {
    int chunk_frames;      // latent frames per decoder call, >= 1 (1 = the references' schedule)
    bool denormalize;      // z * latents_std + latents_mean before decoding (latents from the DiT)
    bool tiling;           // spatial tiling when the latent is larger than one tile
    int tile_h, tile_w;    // tile size in latent pixels (diffusers: 32 x 32 = 256 px)
    int stride_h, stride_w;// tile stride in latent pixels (diffusers: 24 = 192 px; blend 64 px)
    vd_device_kind device; // VD_DEVICE_CPU or VD_DEVICE_CUDA
    int cuda_device;       // device id for CUDA
    bool cuda_fp32;        // CUDA GEMMs in full fp32 (default: TF32 inputs, fp32 accumulate)
    vd_vae_conv_impl cuda_conv; // CUDA convolution implementation (default AUTO; env VDIT_VAE_CONV)
    bool cuda_bf16;        // cuDNN runner only: conv operands and outputs in bf16 (fp32 accumulate;
                           // everything between the convs stays fp32); env VDIT_VAE_BF16=1
    bool emit_overlap;     // untiled: frames of chunk k go to the callback on a helper thread while
                           // chunk k + 1 decodes (in order, one call at a time); default true,
                           // env VDIT_VAE_OVERLAP=0 turns it off
} vd_vae_decode_opts;
void vd_vae_decode_opts_default(vd_vae_decode_opts *o);
// True when this build has the cuDNN runner (VDIT_HAVE_CUDNN).
bool vd_vae_cudnn_available(void);
// The convolution implementation a CUDA decode with these options runs ("cudnn" or "gemm"), or
// NULL when the options ask for cuDNN and the build has none.
const char *vd_vae_conv_impl_name(const vd_vae_decode_opts *o);
// Parses "auto", "gemm" or "cudnn"; -1 for anything else.
int vd_vae_conv_impl_parse(const char *s, vd_vae_conv_impl *out);

// z: host f32 [C, F, H, W] (batch 1). Checks C == z_dim, F, H, W >= 1 and the options.
// Timing/memory summary returned through stats when non-NULL. peak_device_bytes: on CUDA the
// peak of live device allocations (weights, caches, activations); on the CPU the peak of the
// decoder's host activations, scratch and caches (weights not included).
typedef struct {
    double seconds;
    size_t peak_device_bytes;
    int64_t frames;
    int n_tiles;
} vd_vae_decode_stats;
vd_status vd_vae_decode(vd_vae *v, const float *z, int64_t C, int64_t F, int64_t H, int64_t W,
                        const vd_vae_decode_opts *opts, vd_vae_frame_fn fn, void *user,
                        vd_vae_decode_stats *stats, vd_error *err);
// Same, from a tensor: rank 4 [C, F, H, W] or rank 5 [1, C, F, H, W], any float dtype on the host.
vd_status vd_vae_decode_tensor(vd_vae *v, const vd_tensor *z, const vd_vae_decode_opts *opts, vd_vae_frame_fn fn,
                               void *user, vd_vae_decode_stats *stats, vd_error *err);

#ifdef __cplusplus
}
#endif
