// Wan VAE CPU helpers shared with tests.
#pragma once
#include <stdbool.h>
#include <stdint.h>

// Wan RMS_norm (channel-first, F.normalize based) with optional SiLU, over P positions:
// y[c, p] = x[c, p] / max(||x[:, p]||_2, 1e-12) * sqrt(C) * gamma[c]; out may not alias x.
// x[c, p] at x + c * x_cstride + p; out likewise with out_cstride.
void vd_vae_norm_silu_cpu(float *out, int64_t out_cstride, const float *x, int64_t x_cstride, const float *gamma,
                          int64_t C, int64_t P, bool silu);
