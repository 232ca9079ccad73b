// cuDNN conv3d shapes of the Wan2.1 VAE decoder (480x832, one latent frame per chunk: the steady
// state of bench_vae), timed alone: NDHWC (the vdit cuDNN runner's layout) vs NCDHW (PyTorch's,
// what diffusers runs), TF32 allowed vs strict fp32 vs bf16 (the runner's --bf16 mode), through dit/vae_cudnn_conv (algorithm found
// by timing, cached). Prints a table (ms per conv, TFLOPS) and writes
// bench/results/vae_conv_<date>.md; the chosen algorithms go to the log.
//
//   bench_vae_conv [--iters N] [--only ndhwc|ncdhw] [--results DIR]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(VDIT_HAVE_CUDA) && defined(VDIT_HAVE_CUDNN)
#include <cuda_runtime.h>

#include "dit/vae_cudnn_conv.h"

typedef struct {
    const char *name;
    int cin, cout, kt, kh, kw, ti, h, w;
} conv_case;

// ti: input frames incl. the two cache frames of a k_t = 3 conv (t = 1, 2, 4 frames per chunk at
// the 60x104, 120x208, 240x416 / 480x832 levels)
static const conv_case k_cases[] = {
    {"mid/up0 res 384 60x104", 384, 384, 3, 3, 3, 3, 60, 104},
    {"up1 res 384 120x208", 384, 384, 3, 3, 3, 4, 120, 208},
    {"up2 res 192 240x416", 192, 192, 3, 3, 3, 6, 240, 416},
    {"up3 res 96 480x832", 96, 96, 3, 3, 3, 6, 480, 832},
    {"conv_out 96->4 480x832", 96, 4, 3, 3, 3, 6, 480, 832},
    {"up1 time conv 384->768 120x208", 384, 768, 3, 1, 1, 4, 120, 208},
    {"up1 upsample, phase form 384->4x192 k2x2 120x208", 384, 768, 1, 2, 2, 4, 120, 208},
    {"up2 upsample, phase form 192->4x96 k2x2 240x416", 192, 384, 1, 2, 2, 4, 240, 416},
    {"up2 upsample, x2 form 192->96 k3x3 480x832", 192, 96, 1, 3, 3, 4, 480, 832},
};

// Workspace for the convs: released blocks are kept and handed out again (cudaMalloc / cudaFree
// synchronize the device and would land inside the timed loop).
#define KEEP 8
static struct {
    void *p;
    size_t bytes;
} g_kept[KEEP];

static vd_status dev_alloc(void *user, void **p, size_t bytes, vd_error *err) {
    (void)user;
    for (int i = 0; i < KEEP; i++)
        if (g_kept[i].p && g_kept[i].bytes >= bytes) {
            *p = g_kept[i].p;
            g_kept[i].p = NULL;
            return VD_OK;
        }
    if (cudaMalloc(p, bytes) != cudaSuccess) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "cudaMalloc(%zu) failed", bytes);
    return VD_OK;
}
static void dev_release(void *user, void *p, size_t bytes) {
    (void)user;
    for (int i = 0; i < KEEP; i++)
        if (!g_kept[i].p) {
            g_kept[i].p = p, g_kept[i].bytes = bytes;
            return;
        }
    cudaFree(p);
}

int main(int argc, char **argv) {
    int iters = 10;
    const char *only = NULL, *results = "bench/results";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--results") && i + 1 < argc) results = argv[++i];
        else {
            fprintf(stderr, "bench_vae_conv: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (iters < 1) iters = 1;
    cudaStream_t stream;
    if (cudaStreamCreate(&stream) != cudaSuccess) {
        fprintf(stderr, "bench_vae_conv: no CUDA device\n");
        return 1;
    }
    struct cudaDeviceProp prop;
    cudaGetDeviceProperties(&prop, 0);
    const vd_cudnn_allocator a = {dev_alloc, dev_release, NULL};
    vd_cudnn_conv *conv[2] = {NULL, NULL}; // [strict fp32]
    vd_error err = {0};
    for (int k = 0; k < 2; k++)
        if (vd_cudnn_conv_create(&conv[k], stream, &a, (size_t)256 << 20, k == 1, &err) != VD_OK) {
            fprintf(stderr, "bench_vae_conv: %s\n", err.msg);
            return 1;
        }
    char date[32], path[512];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    snprintf(path, sizeof path, "%s/vae_conv_%s.md", results, date);
    FILE *md = fopen(path, "a");
    char line[512];
#define OUT(...)                                                                                                       \
    do {                                                                                                               \
        snprintf(line, sizeof line, __VA_ARGS__);                                                                      \
        fputs(line, stdout);                                                                                           \
        if (md) fputs(line, md);                                                                                       \
    } while (0)
    OUT("# Wan2.1 VAE decoder conv3d shapes through cuDNN (%s)\n\n", date);
    OUT("GPU: %s; cuDNN conv via dit/vae_cudnn_conv (timed algorithm choice, workspace <= 256 MiB); %d timed runs "
        "each.\n\n",
        prop.name, iters);
    OUT("| conv | layout | math | ms | TFLOPS |\n|---|---|---|---|---|\n");
    int rc = 0;
    for (size_t c = 0; c < sizeof k_cases / sizeof k_cases[0]; c++) {
        const conv_case *q = &k_cases[c];
        const int to = q->ti - q->kt + 1, ho = vd_cudnn_conv_out_dim(q->h, q->kh), wo = vd_cudnn_conv_out_dim(q->w, q->kw);
        const size_t nx = (size_t)q->cin * q->ti * q->h * q->w, nw = (size_t)q->cout * q->cin * q->kt * q->kh * q->kw;
        const size_t ny = (size_t)q->cout * to * ho * wo;
        const double flops = 2.0 * q->cin * q->cout * q->kt * q->kh * q->kw * (double)to * ho * wo;
        float *x = NULL, *w = NULL, *y = NULL;
        if (cudaMalloc((void **)&x, nx * 4) != cudaSuccess || cudaMalloc((void **)&w, nw * 4) != cudaSuccess ||
            cudaMalloc((void **)&y, ny * 4) != cudaSuccess) {
            fprintf(stderr, "bench_vae_conv: out of device memory for %s\n", q->name);
            return 1;
        }
        cudaMemset(x, 0x3c, nx * 4); // 0x3c3c3c3c = 0.0115f
        cudaMemset(w, 0x3c, nw * 4);
        for (int layout = 0; layout < 2; layout++) {
            if (only && strcmp(only, layout ? "ncdhw" : "ndhwc")) continue;
            for (int mode = 0; mode < 3; mode++) { // tf32, strict fp32, bf16
                const int strict = mode == 1;
                const char *mname = mode == 0 ? "tf32" : mode == 1 ? "fp32" : "bf16";
                const vd_cudnn_conv_shape s = {q->cin, q->cout, q->kt, q->kh, q->kw, q->ti, q->h, q->w, layout, mode == 2};
                vd_status st = vd_cudnn_conv_run(conv[strict], &s, x, w, y, false, &err); // finds the algorithm
                cudaEvent_t e0, e1;
                cudaEventCreate(&e0);
                cudaEventCreate(&e1);
                cudaEventRecord(e0, stream);
                for (int it = 0; it < iters && st == VD_OK; it++) st = vd_cudnn_conv_run(conv[strict], &s, x, w, y, false, &err);
                cudaEventRecord(e1, stream);
                cudaEventSynchronize(e1);
                float ms = 0;
                cudaEventElapsedTime(&ms, e0, e1);
                cudaEventDestroy(e0);
                cudaEventDestroy(e1);
                if (st != VD_OK) {
                    OUT("| %s | %s | %s | failed: %s | - |\n", q->name, layout ? "NCDHW" : "NDHWC", mname, err.msg);
                    rc = 1;
                    continue;
                }
                ms /= iters;
                OUT("| %s | %s | %s | %.3f | %.1f |\n", q->name, layout ? "NCDHW" : "NDHWC", mname, ms,
                    flops / (ms * 1e-3) / 1e12);
            }
        }
        cudaFree(x), cudaFree(w), cudaFree(y);
    }
    OUT("\nCommand: `");
    for (int i = 0; i < argc; i++) OUT("%s%s", i ? " " : "", argv[i]);
    OUT("`. Algorithms: the log lines \"vae_cudnn: conv ...\" (tf32 and bf16 plans first, then fp32).\n\n");
    for (int k = 0; k < 2; k++) {
        vd_cudnn_conv_log_plans(conv[k]);
        vd_cudnn_conv_free(conv[k]);
    }
    if (md) fclose(md), printf("wrote %s\n", path);
    cudaStreamDestroy(stream);
    return rc;
}
#else
int main(void) {
    printf("bench_vae_conv: this build has no CUDA or no cuDNN; nothing to measure\n");
    return 0;
}
#endif
