// Philox4x32-10 Gaussian noise on the CPU. The math lives in philox_math.h, shared with rng.cu;
// this file must be compiled with -ffp-contract=off (lib/CMakeLists.txt) so that no FMA changes
// the rounding of the double steps.
#include "rng.h"

#include "philox_math.h"

void vd_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    vd_philox4x32_10_block(ctr, key, out);
}

// out[i] for i in [0, n): block i/4 gives elements 4*(i/4) .. +3; the last block may be partial.
void vd_rng_normal_cpu(float *out, int64_t n, uint64_t seed, uint64_t offset) {
    if (n <= 0) return;
    int64_t n_blk = (n + 3) / 4;
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < n_blk; b++) {
        float z[4];
        vd_philox_normal4((uint64_t)b, seed, offset, z);
        int64_t i0 = 4 * b;
        int64_t m = n - i0 < 4 ? n - i0 : 4;
        for (int64_t j = 0; j < m; j++) out[i0 + j] = z[j];
    }
}
