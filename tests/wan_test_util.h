// Helpers shared by the Wan DiT tests (cpu, gpu, cli): fixture io loading, the parity metric,
// and model rewriting (layout change, prefix, dropped / reshaped / extra tensors) into temp dirs.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dit/wan_weights.h"

// Parity metric of the DiT tests: max_i |got_i - ref_i| / max_i |ref_i| (normwise max relative error;
// a per-element relative error is meaningless where the output crosses zero).
double wt_rel_err(const float *got, const float *ref, int64_t n);

// io.safetensors of a fixture: latent [B, Cin, F, H, W], timestep [B], context [B, Lt, text_dim], expected.
typedef struct {
    float *latent, *timestep, *context, *expected;
    int64_t B, Cin, F, H, W, Lt, text_dim, Cout;
    double fp32_ref_err; // metadata fp32_diffusers_rel_err (-1 when absent)
} wt_io;
bool wt_io_load(wt_io *io, const char *path);
void wt_io_free(wt_io *io);

// Rewrites a model into dst_dir/diffusion_pytorch_model.safetensors with the tensor names of
// `layout` (+ prefix). Mutations: drop_name (skip that spec name, in the source layout), shrink_name
// (write with its last dim minus 1), extra_name (add a [4] tensor). config_json: written to
// dst_dir/config.json when not NULL.
typedef struct {
    vd_wan_layout layout;
    const char *prefix;
    const char *drop_name, *shrink_name, *extra_name;
    const char *config_json;
} wt_rewrite;
bool wt_rewrite_model(const char *src_dir, const char *dst_dir, const wt_rewrite *rw);
// Reads a whole text file (static buffer, 64 KiB); NULL on failure.
const char *wt_read_text(const char *path);
// mkdtemp under /tmp; returns the path (static storage per call index 0..7).
const char *wt_tmpdir(void);
void wt_rmdir(const char *dir);
