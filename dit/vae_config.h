// Wan VAE (AutoencoderKLWan, Wan2.1) configuration: read from the diffusers vae/config.json,
// validated once here so the decoder can trust it. Decode side only.
//
// Decoder channel plan (diffusers WanDecoder3d): dims = base_dim * [m_last, m_last, ..., m_0]
// (dim_mult reversed, with the last multiplier repeated in front). Up block i (0..n_mult-1) maps
// in_dim (dims[i], halved for i > 0 because the previous upsampler halves channels) to dims[i+1]
// with num_res_blocks + 1 residual blocks, then an upsampler for every block but the last:
// "upsample3d" (time x2 + space x2) when temporal_upsample[i], else "upsample2d" (space x2).
// temporal_upsample is temperal_downsample reversed (the config's spelling is kept for the key).
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VD_VAE_MAX_MULT 8
#define VD_VAE_MAX_Z 64

typedef struct {
    int base_dim;                            // 96 for Wan2.1
    int z_dim;                               // latent channels (16)
    int n_mult;                              // len(dim_mult) (4)
    int dim_mult[VD_VAE_MAX_MULT];           // [1, 2, 4, 4]
    int num_res_blocks;                      // 2
    bool temporal_upsample[VD_VAE_MAX_MULT]; // decoder order, n_mult - 1 entries ([T, T, F])
    int out_channels;                        // 3
    float latents_mean[VD_VAE_MAX_Z];        // z_dim entries (de-normalization)
    float latents_std[VD_VAE_MAX_Z];
    bool has_latents_stats;                  // false when config.json lacks them
} vd_vae_config;

// Parses config.json text. Rejects what the decoder cannot run: is_residual true or a patch_size
// (Wan2.2 VAE), non-empty attn_scales, sizes out of range, mean/std lengths != z_dim.
vd_status vd_vae_config_parse(vd_vae_config *cfg, const char *json_text, vd_error *err);
vd_status vd_vae_config_load(vd_vae_config *cfg, const char *path, vd_error *err);
// The Wan2.1 VAE config (hub vae/config.json values), for benchmarks and tests.
void vd_vae_config_wan21(vd_vae_config *cfg);

// Derived sizes.
int vd_vae_n_up3d(const vd_vae_config *cfg);                     // number of upsample3d stages
int vd_vae_spatial_factor(const vd_vae_config *cfg);             // 2^(n_mult - 1)
int64_t vd_vae_out_frames(const vd_vae_config *cfg, int64_t latent_frames); // 1 + 2^n3d (F - 1)
// dims[i] for i in 0..n_mult (see the header comment).
int vd_vae_dim(const vd_vae_config *cfg, int i);

#ifdef __cplusplus
}
#endif
