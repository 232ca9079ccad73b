// Part of scripts/vae_cuda_emu (see run.sh): host emulation for checking dit/vae_cuda.cu without a GPU.
#pragma once
#include <math.h>
// runs a grid-stride kernel with gridDim blocks of 1 thread each
#define EMU_LAUNCH(k, g) emu_set_grid(g), [&](auto... args) { for (unsigned b_ = 0; b_ < gridDim.x; b_++) { blockIdx.x = b_; k(args...); } }
static inline void emu_set_grid(unsigned g) { gridDim.x = g; blockDim.x = 1; threadIdx.x = 0; }
static inline void emu_softmax(float *s, int n) {
    for (int r = 0; r < n; r++) {
        float *row = s + (int64_t)r * n; float m = -INFINITY, sum = 0;
        for (int j = 0; j < n; j++) m = fmaxf(m, row[j]);
        for (int j = 0; j < n; j++) { row[j] = expf(row[j] - m); sum += row[j]; }
        for (int j = 0; j < n; j++) row[j] /= sum;
    }
}
