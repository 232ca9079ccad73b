// GEMM benchmark: vd_linear_cuda (cuBLASLt, bf16 x bf16, fp32 accumulate) on the Wan2.1 linear
// shapes, bf16 output with f32 bias (the DiT's usage) and f32 output without bias. Inputs are
// Philox normals (random data: zeros would flatter the tensor cores' power draw and clocks).
// Timing: wall clock around `iters` back-to-back launches on one stream, after `warmup` runs,
// ended by a stream sync (launch overhead is < 0.1% at these sizes). Prints a table and writes
// bench/results/gemm_<date>.md; bench/anchors/gemm_torch.py times torch on the same shapes and
// appends its numbers to that file (scripts/gpu_check.sh runs both).
//   usage: bench_gemm [--iters N] [--warmup N] [--out DIR]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/device.h"
#include "lib/ops_cuda.h"
#include "lib/rng.h"

typedef struct {
    const char *name;
    int64_t M, K, N;
} gemm_shape;

// Wan2.1 T2V at 480x832, 81 frames: 21 x 30 x 52 = 32760 tokens (1.3B: dim 1536, ffn 8960);
// 720x1280: 21 x 45 x 80 = 75600 tokens (14B: dim 5120).
static const gemm_shape k_shapes[] = {
    {"1.3B qkvo (480p)", 32760, 1536, 1536},
    {"1.3B ffn up (480p)", 32760, 1536, 8960},
    {"1.3B ffn down (480p)", 32760, 8960, 1536},
    {"14B qkvo (720p)", 75600, 5120, 5120},
};
#define N_SHAPES (int)(sizeof k_shapes / sizeof k_shapes[0])

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int fail(const char *what, const vd_error *e) {
    fprintf(stderr, "bench_gemm: %s: %s\n", what, e->msg);
    return 1;
}

int main(int argc, char **argv) {
    int iters = 20, warmup = 3;
    const char *out_dir = "bench/results";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out_dir = argv[++i];
        else {
            fprintf(stderr, "usage: bench_gemm [--iters N (>= 1)] [--warmup N] [--out DIR]\n");
            return 2;
        }
    }
    if (iters < 1 || warmup < 0) {
        fprintf(stderr, "bench_gemm: --iters %d / --warmup %d; allowed iters >= 1, warmup >= 0\n", iters, warmup);
        return 2;
    }
    vd_error e = {0};
    vd_cuda_ctx *ctx = NULL;
    if (vd_cuda_ctx_create(&ctx, 0, &e) != VD_OK) return fail("no CUDA device", &e);
    char dev[256];
    vd_cuda_describe(ctx, dev, sizeof dev);
    int64_t maxMK = 0, maxNK = 0, maxMN = 0, maxN = 0;
    for (int s = 0; s < N_SHAPES; s++) {
        const gemm_shape *g = &k_shapes[s];
        if (g->M * g->K > maxMK) maxMK = g->M * g->K;
        if (g->N * g->K > maxNK) maxNK = g->N * g->K;
        if (g->M * g->N > maxMN) maxMN = g->M * g->N;
        if (g->N > maxN) maxN = g->N;
    }
    // f32 staging for the random fill (largest operand), bf16 x and w, f32 output, bias
    size_t bytes = (size_t)(maxMK > maxNK ? maxMK : maxNK) * 4 + (size_t)maxMK * 2 + (size_t)maxNK * 2 +
                   (size_t)maxMN * 4 + (size_t)maxN * 4 + 5 * 256;
    vd_cuda_arena ar;
    if (vd_cuda_arena_init(&ar, bytes, &e) != VD_OK) return fail("arena", &e);
    float *stage, *out, *bias;
    uint16_t *x, *w;
    if (vd_cuda_arena_alloc(&ar, (size_t)(maxMK > maxNK ? maxMK : maxNK) * 4, (void **)&stage, &e) ||
        vd_cuda_arena_alloc(&ar, (size_t)maxMK * 2, (void **)&x, &e) || vd_cuda_arena_alloc(&ar, (size_t)maxNK * 2, (void **)&w, &e) ||
        vd_cuda_arena_alloc(&ar, (size_t)maxMN * 4, (void **)&out, &e) || vd_cuda_arena_alloc(&ar, (size_t)maxN * 4, (void **)&bias, &e))
        return fail("arena alloc", &e);
    if (vd_rng_normal_cuda(ctx, stage, maxMK, 1, 0, &e) || vd_f32_to_bf16_cuda(ctx, x, stage, maxMK, &e) ||
        vd_rng_normal_cuda(ctx, stage, maxNK, 2, 0, &e) || vd_f32_to_bf16_cuda(ctx, w, stage, maxNK, &e) ||
        vd_rng_normal_cuda(ctx, bias, maxN, 3, 0, &e) || vd_cuda_sync(ctx, &e))
        return fail("input fill", &e);

    time_t tt = time(NULL);
    struct tm tmv;
    gmtime_r(&tt, &tmv);
    char stamp[32], path[512];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tmv);
    snprintf(path, sizeof path, "%s/gemm_%s.md", out_dir, stamp);
    FILE *md = fopen(path, "w");
    if (!md) fprintf(stderr, "bench_gemm: cannot write %s (results printed only)\n", path);
    printf("device: %s\niters %d, warmup %d\n", dev, iters, warmup);
    printf("%-22s %6s %6s %6s %-14s %9s %9s\n", "shape", "M", "K", "N", "out", "ms", "TFLOP/s");
    if (md) {
        fprintf(md, "# GEMM benchmark (vd_linear_cuda, cuBLASLt bf16 x bf16 -> fp32 accumulate)\n\n");
        fprintf(md, "- date (UTC): %s\n- device: %s\n- iters: %d after %d warm-up; wall clock over the batch, one stream\n", stamp, dev,
                iters, warmup);
        fprintf(md, "- inputs: Philox normals (x, w, bias); TFLOP/s = 2 M N K / time\n\n");
        fprintf(md, "| shape | M | K | N | out | ms | TFLOP/s |\n|---|---|---|---|---|---|---|\n");
    }
    for (int s = 0; s < N_SHAPES; s++) {
        const gemm_shape *g = &k_shapes[s];
        for (int v = 0; v < 2; v++) {
            vd_dtype ot = v == 0 ? VD_BF16 : VD_F32;
            const float *b = v == 0 ? bias : NULL;
            const char *vname = v == 0 ? "bf16+bias" : "f32";
            for (int i = 0; i < warmup; i++)
                if (vd_linear_cuda(ctx, out, ot, x, w, b, g->M, g->K, g->N, &e)) return fail(g->name, &e);
            if (vd_cuda_sync(ctx, &e)) return fail(g->name, &e);
            double t0 = now_s();
            for (int i = 0; i < iters; i++)
                if (vd_linear_cuda(ctx, out, ot, x, w, b, g->M, g->K, g->N, &e)) return fail(g->name, &e);
            if (vd_cuda_sync(ctx, &e)) return fail(g->name, &e);
            double ms = (now_s() - t0) * 1e3 / iters;
            double tflops = 2.0 * (double)g->M * (double)g->N * (double)g->K / (ms * 1e-3) / 1e12;
            printf("%-22s %6lld %6lld %6lld %-14s %9.3f %9.1f\n", g->name, (long long)g->M, (long long)g->K, (long long)g->N,
                   vname, ms, tflops);
            if (md)
                fprintf(md, "| %s | %lld | %lld | %lld | %s | %.3f | %.1f |\n", g->name, (long long)g->M, (long long)g->K,
                        (long long)g->N, vname, ms, tflops);
        }
    }
    if (md) {
        fclose(md);
        printf("wrote %s\n", path);
    }
    vd_cuda_arena_free(&ar);
    vd_cuda_ctx_free(ctx);
    return 0;
}
