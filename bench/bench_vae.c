// Wan VAE decode benchmark: time and peak memory of vd_vae_decode on a latent (default the
// Wan2.1 480x832x81 case, 16 x 21 x 60 x 104), with weights from --vae DIR or random Wan2.1
// weights. Prints one JSON line (consumed by bench/anchors/vae_diffusers.py, which runs diffusers
// on the same weights and latent and writes bench/results/vae_<date>.md).
//
//   bench_vae [--vae DIR | --random] [--input latent.safetensors] [--latent F,H,W] [--device cuda|cpu]
//             [--chunk N] [--tile] [--fp32 | --bf16] [--conv auto|gemm|cudnn] [--warmup N] [--out video.safetensors]
// --bf16: bf16 convolutions (cuDNN runner only; env VDIT_VAE_BF16=1 too).
// --conv: the CUDA convolution implementation (default auto = gemm; cudnn is opt-in; env
// VDIT_VAE_CONV sets the default too); the JSON line names the one that ran ("conv").
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dit/vae.h"
#include "lib/safetensors.h"
#include "lib/tensor.h"

#ifdef VDIT_HAVE_CUDA
#include <cuda_runtime.h>
#endif

typedef struct {
    float *video; // [3, F, H, W] when --out
    int64_t f, h, w;
    double first_frame_s;
    double t0;
} sink;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static vd_status on_frame(void *user, const vd_vae_frame *fr, vd_error *err) {
    sink *s = user;
    if (fr->index == 0) s->first_frame_s = now_s() - s->t0;
    if (s->video)
        for (int64_t c = 0; c < fr->c; c++)
            memcpy(s->video + (c * s->f + fr->index) * fr->h * fr->w, fr->chw + c * fr->h * fr->w,
                   (size_t)(fr->h * fr->w) * sizeof(float));
    return VD_OK;
}

int main(int argc, char **argv) {
    const char *vae_dir = NULL, *input = NULL, *out = NULL, *dev = "cuda";
    int F = 21, H = 60, W = 104, warmup = 1;
    vd_vae_decode_opts o;
    vd_vae_decode_opts_default(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--vae")) vae_dir = v, i++;
        else if (!strcmp(a, "--random")) vae_dir = NULL;
        else if (!strcmp(a, "--input")) input = v, i++;
        else if (!strcmp(a, "--out")) out = v, i++;
        else if (!strcmp(a, "--device")) dev = v, i++;
        else if (!strcmp(a, "--chunk")) o.chunk_frames = atoi(v), i++;
        else if (!strcmp(a, "--warmup")) warmup = atoi(v), i++;
        else if (!strcmp(a, "--tile")) o.tiling = true;
        else if (!strcmp(a, "--fp32")) o.cuda_fp32 = true;
        else if (!strcmp(a, "--bf16")) o.cuda_bf16 = true;
        else if (!strcmp(a, "--conv")) {
            if (vd_vae_conv_impl_parse(v, &o.cuda_conv) != 0) {
                fprintf(stderr, "bench_vae: --conv auto|gemm|cudnn (got '%s')\n", v);
                return 2;
            }
            i++;
        }
        else if (!strcmp(a, "--latent")) {
            if (sscanf(v, "%d,%d,%d", &F, &H, &W) != 3) {
                fprintf(stderr, "bench_vae: --latent F,H,W\n");
                return 2;
            }
            i++;
        } else {
            fprintf(stderr, "bench_vae: unknown option %s\n", a);
            return 2;
        }
    }
    if (vd_device_from_name(dev, &o.device) != 0) {
        fprintf(stderr, "bench_vae: --device cpu|cuda\n");
        return 2;
    }
    const char *conv = o.device == VD_DEVICE_CUDA ? vd_vae_conv_impl_name(&o) : "cpu";
    if (!conv) {
        fprintf(stderr, "bench_vae: --conv cudnn: this build has no cuDNN (configure found none; see cmake/cudnn.cmake)\n");
        return 2;
    }
    vd_error err = {0};
    vd_vae *vae = NULL;
    vd_vae_config cfg;
    vd_vae_config_wan21(&cfg);
    vd_status st = vae_dir ? vd_vae_load(&vae, vae_dir, &err) : vd_vae_init_random(&vae, &cfg, 1234, &err);
    if (st != VD_OK) {
        fprintf(stderr, "bench_vae: %s\n", err.msg);
        return 1;
    }
    const vd_vae_config *c = vd_vae_get_config(vae);
    vd_tensor z = {0};
    vd_st_file *in = NULL;
    if (input) {
        if (vd_st_open(&in, input, &err) != VD_OK || vd_st_count(in) < 1 || vd_st_load_f32(vd_st_at(in, 0), &z, &err) != VD_OK) {
            fprintf(stderr, "bench_vae: %s: %s\n", input, err.msg);
            return 1;
        }
        F = (int)z.shape[z.ndim - 3], H = (int)z.shape[z.ndim - 2], W = (int)z.shape[z.ndim - 1];
    } else {
        int64_t shape[4] = {c->z_dim, F, H, W};
        if (vd_tensor_alloc(&z, VD_F32, 4, shape, &err) != VD_OK) {
            fprintf(stderr, "bench_vae: %s\n", err.msg);
            return 1;
        }
        float *p = z.data;
        uint64_t s = 42;
        for (int64_t i = 0; i < vd_tensor_numel(&z); i++) { // uniform [-1.7, 1.7]: unit variance
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            p[i] = ((float)(s >> 40) / 16777216.0f * 2.0f - 1.0f) * 1.7320508f;
        }
    }
    sink sk = {0};
    sk.f = vd_vae_out_frames(c, F), sk.h = (int64_t)H * vd_vae_spatial_factor(c), sk.w = (int64_t)W * vd_vae_spatial_factor(c);
    // Warm-up: the first two latent frames (CUDA context, cuBLAS handles, weight upload, and the
    // memory pool grown to the size of a steady-state 4-frame chunk).
    for (int i = 0; i < warmup; i++) {
        const int fw = F < 2 ? F : 2;
        int64_t shape1[4] = {c->z_dim, fw, H, W};
        vd_tensor zc;
        if (vd_tensor_alloc(&zc, VD_F32, 4, shape1, &err) != VD_OK) return 1;
        for (int ch = 0; ch < c->z_dim; ch++)
            memcpy((float *)zc.data + (int64_t)ch * fw * H * W, (float *)z.data + (int64_t)ch * F * H * W,
                   (size_t)fw * H * W * sizeof(float));
        st = vd_vae_decode_tensor(vae, &zc, &o, NULL, NULL, NULL, &err);
        vd_tensor_free(&zc);
        if (st != VD_OK) {
            fprintf(stderr, "bench_vae: warm-up: %s\n", err.msg);
            return 1;
        }
    }
#ifdef VDIT_HAVE_CUDA
    if (o.device == VD_DEVICE_CUDA) { // the pool's high-water mark of the timed decode only (torch resets its peak too)
        cudaMemPool_t pool;
        uint64_t zero = 0;
        if (cudaDeviceGetDefaultMemPool(&pool, o.cuda_device) == cudaSuccess)
            cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReservedMemHigh, &zero);
    }
#endif
    if (out) {
        sk.video = malloc((size_t)(3 * sk.f * sk.h * sk.w) * sizeof(float));
        if (!sk.video) return 1;
    }
    vd_vae_decode_stats stats = {0};
    sk.t0 = now_s();
    st = vd_vae_decode_tensor(vae, &z, &o, on_frame, &sk, &stats, &err);
    double total = now_s() - sk.t0;
    if (st != VD_OK) {
        fprintf(stderr, "bench_vae: decode: %s\n", err.msg);
        return 1;
    }
    size_t pool_high = 0;
#ifdef VDIT_HAVE_CUDA
    if (o.device == VD_DEVICE_CUDA) {
        cudaMemPool_t pool;
        if (cudaDeviceGetDefaultMemPool(&pool, o.cuda_device) == cudaSuccess) {
            uint64_t hi = 0;
            if (cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemHigh, &hi) == cudaSuccess) pool_high = hi;
        }
    }
#endif
    if (out) {
        int64_t shape[5] = {1, 3, sk.f, sk.h, sk.w};
        vd_st_write_entry e = {"video", VD_F32, 5, shape, sk.video};
        if (vd_st_write(out, &e, 1, NULL, &err) != VD_OK) {
            fprintf(stderr, "bench_vae: %s\n", err.msg);
            return 1;
        }
    }
    printf("{\"impl\": \"vdit\", \"device\": \"%s\", \"latent\": [%d, %d, %d, %d], \"frames\": %lld, \"height\": %lld, "
           "\"width\": %lld, \"chunk\": %d, \"tiling\": %s, \"tiles\": %d, \"seconds\": %.4f, \"first_frame_s\": %.4f, "
           "\"peak_live_bytes\": %zu, \"pool_reserved_high_bytes\": %zu, \"host_peak_rss_bytes\": %zu, "
           "\"precision\": \"%s\", \"conv\": \"%s\"}\n",
           dev, c->z_dim, F, H, W, (long long)stats.frames, (long long)sk.h, (long long)sk.w, o.chunk_frames,
           o.tiling ? "true" : "false", stats.n_tiles, total, sk.first_frame_s, stats.peak_device_bytes, pool_high,
           vd_host_peak_rss(), o.cuda_bf16 ? "bf16" : o.cuda_fp32 ? "fp32" : "tf32", conv);
    free(sk.video);
    vd_tensor_free(&z);
    vd_st_close(in);
    vd_vae_free(vae);
    return 0;
}
