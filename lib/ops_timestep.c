// Sinusoidal timestep embedding (wan21.md 1.2 step 2): out[dim] = [cos(t*w_j) | sin(t*w_j)],
// j < half = dim/2, w_j = 10000^(-j/half), cos half first. Computed in double and rounded once
// to fp32, as orig Wan's sinusoidal_embedding_1d does (float64), so the fp32 result is the
// correctly rounded value up to libm's last-bit error. An odd dim gets a trailing 0 (the
// diffusers convention); Wan uses dim = 256.
#include <math.h>

#include "ops.h"

void vd_timestep_embedding_cpu(float *out, float t, int64_t dim) {
    const int64_t half = dim / 2;
    for (int64_t j = 0; j < half; j++) {
        const double w = pow(10000.0, -(double)j / (double)half);
        const double a = (double)t * w;
        out[j] = (float)cos(a);
        out[half + j] = (float)sin(a);
    }
    if (dim & 1) out[dim - 1] = 0.0f;
}
