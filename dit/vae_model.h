// Wan VAE decoder internals shared by the loader, the CPU and CUDA runners and the driver.
// Layer structs repeat the diffusers module names (decoder.up_blocks.N.resnets.M.conv1 ...).
// All weights are host f32 (the VAE runs in fp32, as both references recommend).
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dit/vae.h"
#include "dit/vae_config.h"
#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VD_VAE_CACHE_T 2      // frames of context a k_t = 3 causal conv keeps between chunks
#define VD_VAE_MAX_RES 17     // num_res_blocks + 1 residual blocks per up block

// Conv weight [cout, cin, kt, kh, kw] (Conv2d weights are kt = 1), bias [cout].
// slot: feature-cache slot (-1 when kt == 1: no temporal context needed).
typedef struct {
    float *w, *b;
    int cout, cin, kt, kh, kw;
    int slot;
    void *dev_w, *dev_b;      // device copies (CUDA runner), NULL otherwise
} vd_vae_conv;

typedef struct {
    float *gamma;             // [C]
    int c;
    void *dev_gamma;
} vd_vae_norm;

typedef struct {
    int cin, cout;
    vd_vae_norm norm1, norm2;
    vd_vae_conv conv1, conv2;
    bool has_shortcut;        // 1x1x1 conv when cin != cout
    vd_vae_conv shortcut;
} vd_vae_resblock;

typedef struct {
    int c;
    vd_vae_norm norm;
    vd_vae_conv to_qkv;       // [3C, C, 1, 1, 1]: q = rows [0, C), k = [C, 2C), v = [2C, 3C)
    vd_vae_conv proj;         // [C, C, 1, 1, 1]
} vd_vae_attn;

typedef enum { VD_VAE_UP_NONE = 0, VD_VAE_UP_2D, VD_VAE_UP_3D } vd_vae_up_mode;

typedef struct {
    vd_vae_up_mode mode;
    int c;                    // input channels; output c / 2
    vd_vae_conv time_conv;    // 3d only: [2C, C, 3, 1, 1]; output channel k*C + c -> frame 2t + k
    vd_vae_conv conv;         // resample.1: [C/2, C, 1, 3, 3]
    int up3d_index;           // 3d only: index into the runner's "first frame seen" flags
} vd_vae_upsampler;

typedef struct {
    int n_res;
    vd_vae_resblock res[VD_VAE_MAX_RES];
    vd_vae_upsampler up;
} vd_vae_upblock;

struct vd_vae {
    vd_vae_config cfg;
    vd_vae_conv post_quant;   // [z, z, 1, 1, 1]
    vd_vae_conv conv_in;      // [dims0, z, 3, 3, 3]
    vd_vae_resblock mid_res[2];
    vd_vae_attn mid_attn;
    vd_vae_upblock up[VD_VAE_MAX_MULT];
    vd_vae_norm norm_out;
    vd_vae_conv conv_out;     // [out_channels, dims_last, 3, 3, 3]
    int n_slots;              // number of k_t = 3 causal convs (cache slots)
    int n_up3d;
    float *storage;           // every weight, one allocation
    int64_t n_floats;
    void *dev;                // CUDA weights holder (vae_cuda.cu), NULL until first CUDA decode
    void *dev_cudnn;          // cuDNN runner's weights holder (vae_cudnn_dev.cu), likewise
};

// Builds the layer table for cfg and assigns each weight a slice of v->storage (uninitialized).
vd_status vd_vae_build(vd_vae *v, const vd_vae_config *cfg, vd_error *err);
// Visits every weight tensor: name (diffusers key), pointer, shape. fn returns non-OK to stop.
typedef vd_status (*vd_vae_param_fn)(void *user, const char *name, float *data, int ndim, const int64_t *shape,
                                     vd_error *err);
vd_status vd_vae_for_each_param(vd_vae *v, vd_vae_param_fn fn, void *user, vd_error *err);

// The original Wan checkpoint key (Wan2.1_VAE.pth / ComfyUI wan_2.1_vae.safetensors) for a
// diffusers decoder key; false when there is none. The loader falls back to it.
bool vd_vae_orig_name(const vd_vae *v, const char *name, char *out, size_t cap);

// A runner decodes one spatial stream (the whole latent, or one tile) chunk by chunk, holding the
// feature cache of every causal conv. decode_chunk: z [z_dim, t, h, w] host (already de-normalized)
// -> out [out_channels, t_out, h*s, w*s] host, unclamped; t_out = vd_vae_chunk_out_frames().
typedef struct vd_vae_runner vd_vae_runner;
typedef struct {
    vd_status (*create)(vd_vae *v, int64_t h, int64_t w, const vd_vae_decode_opts *o, vd_vae_runner **out,
                        vd_error *err);
    vd_status (*decode_chunk)(vd_vae_runner *r, const float *z, int64_t t, float *out, vd_error *err);
    void (*destroy)(vd_vae_runner *r);
    size_t (*peak_bytes)(vd_vae_runner *r);
} vd_vae_backend;

extern const vd_vae_backend vd_vae_backend_cpu;
// Returns NULL when this build has no CUDA (the driver reports VD_ERR_UNSUPPORTED).
const vd_vae_backend *vd_vae_backend_cuda(void);

// Releases the device copies of the weights (vae_cuda.cu; no-op without CUDA).
void vd_vae_cuda_release(vd_vae *v);
// The channels-last runner with cuDNN convolutions (vae_cudnn.cu); NULL when the build has no
// cuDNN. Its device weights are released by vd_vae_cudnn_release (called by vd_vae_cuda_release).
const vd_vae_backend *vd_vae_backend_cudnn(void);
void vd_vae_cudnn_release(vd_vae *v);

// Output frames of a chunk of t latent frames, given how many latent frames came before it.
int64_t vd_vae_chunk_out_frames(const vd_vae_config *cfg, int64_t frames_before, int64_t t);

#ifdef __cplusplus
}
#endif
