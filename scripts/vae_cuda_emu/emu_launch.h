// Part of scripts/vae_cuda_emu (see run.sh): host emulation for checking dit/vae_cuda.cu without a GPU.
#pragma once
#include <math.h>
// runs a grid-stride kernel with gridDim blocks of 1 thread each
#define EMU_LAUNCH(k, g) emu_set_grid(g), [&](auto... args) { for (unsigned b_ = 0; b_ < gridDim.x; b_++) { blockIdx.x = b_; k(args...); } }
static inline void emu_set_grid(unsigned g) { gridDim.x = g; blockDim.x = 1; threadIdx.x = 0; }
