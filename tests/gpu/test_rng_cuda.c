// Philox Gaussian noise: GPU (vd_rng_normal_cuda) byte-equal to CPU (vd_rng_normal_cpu) for
// sizes around the block of 4 (1..9), odd and large n (the large one runs the grid-stride loop),
// several seeds and offsets including ones that use the high 32-bit words; the guard after n is
// checked untouched. Any difference at all is a failure: lib/rng.h promises identical bits.
#include <string.h>

#include "gpu_util.h"
#include "lib/rng.h"

static void one_case(int64_t n, uint64_t seed, uint64_t offset) {
    char name[128];
    snprintf(name, sizeof name, "rng n=%lld seed=%llu offset=%llu", (long long)n, (unsigned long long)seed,
             (unsigned long long)offset);
    size_t bytes = (size_t)n * sizeof(float);
    float *cpu = malloc(bytes + 4), *gpu = malloc(bytes + 4);
    VD_ASSERT(cpu && gpu);
    vd_rng_normal_cpu(cpu, n, seed, offset);
    size_t mark = vd_cuda_arena_mark(&gt.arena);
    float *d = gt_dev(NULL, bytes);
    GT_OK(vd_rng_normal_cuda(gt.ctx, d, n, seed, offset, err));
    gt_get(gpu, d, bytes, name);
    vd_cuda_arena_reset(&gt.arena, mark);
    int64_t first = -1, n_diff = 0;
    for (int64_t i = 0; i < n; i++)
        if (memcmp(&cpu[i], &gpu[i], 4) != 0) {
            if (first < 0) first = i;
            n_diff++;
        }
    bool ok = n_diff == 0;
    printf("%s %s: %lld of %lld differ", ok ? "ok  " : "FAIL", name, (long long)n_diff, (long long)n);
    if (!ok) printf(" (first at %lld: cpu %.9g gpu %.9g)", (long long)first, cpu[first], gpu[first]);
    printf("\n");
    if (!ok) vt_failures++;
    free(cpu);
    free(gpu);
}

int main(void) {
    if (!vt_have_gpu()) {
        printf("test_rng_cuda: no CUDA device, skipped\n");
        return VD_TEST_SKIP;
    }
    gt_init((size_t)256 << 20);
    const uint64_t seeds[] = {0, 42, 0xFFFFFFFFull, (1ull << 40) | 5, 0xDEADBEEFCAFEF00Dull};
    const uint64_t offsets[] = {0, 7, 1ull << 33};
    for (int64_t n = 1; n <= 9; n++) one_case(n, 42, 0);
    for (int s = 0; s < 5; s++)
        for (int o = 0; o < 3; o++) one_case(1001, seeds[s], offsets[o]);
    one_case(16 * 21 * 60 * 104, 2025, 0);    // a Wan 1.3B latent (16 x 21 x 60 x 104)
    one_case((1 << 24) + 3, 7, 1);            // 4.2M threads: past the grid cap, grid-stride loop
    int64_t bad = 0;
    vd_error e = {0};
    if (vd_rng_normal_cuda(gt.ctx, NULL, -1, 0, 0, &e) != VD_ERR_INVALID_ARG) bad++;
    VT_EXPECT(bad == 0);
    gt_free();
    return vt_finish("test_rng_cuda");
}
