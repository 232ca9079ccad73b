// Wan VAE decoder on CUDA against the CPU fp32 decoder and the diffusers fixtures
// (tests/data/vae), in both GEMM precisions of the CUDA runner:
//   fp32 GEMMs (opts.cuda_fp32): relative error <= 1e-4 of the output scale, as on the CPU;
//   TF32 GEMMs (default; 10-bit mantissa inputs, fp32 accumulate, what torch uses for cuDNN convs):
//   max error <= 1e-2 of the output scale and NMSE <= 1e-5 (the printed numbers are the measurement).
// Per-frame chunks, whole-sequence chunk and tiled decode. Both CUDA runners are checked with the
// same bounds: the channel-major one with cuBLAS GEMM convolutions (conv "gemm") and, when the
// build has cuDNN, the channels-last one with cuDNN convolutions (conv "cudnn"; its fp32 mode
// restricts cuDNN to FMA math, its TF32 mode allows what torch allows by default). The cuDNN
// runner is checked a second time with every conv on its direct-kernel fallback ("cudnn-direct":
// VDIT_VAE_CUDNN_DIRECT=1 for that pass, fp32 FMA accumulation, so the same bounds hold); that is
// the path taken for shapes where cuDNN runs no algorithm (the full-size output conv on the H200).
// Skips (77) without a GPU.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dit/vae.h"
#include "tests/test_util.h"
#include "tests/vae_fixture.h"

// bf16 convolutions (cuDNN runner, opts.cuda_bf16): conv inputs, weights and outputs rounded to
// bf16 (8-bit mantissa: relative 2^-9 per rounding, compounded over ~20 convs), fp32 accumulation
// and fp32 everywhere else. Measured under scripts/vae_cuda_emu (the same bf16 roundings; the GPU
// only sums in another order): max error 2.8e-2 of the output scale and NMSE 3.4e-4 (wan4 case 1),
// 1.5e-2 / 1.1e-4 (tiny3). Bounds ~3x that: 8e-2 of the scale, NMSE 1e-3.
#define VAE_BF16_REL 8e-2
#define VAE_BF16_NMSE 1e-3

// prec: 0 TF32, 1 fp32, 2 bf16 (cuDNN runner only).
// direct: the cuDNN runner's convs all on the direct kernel (the label only; the caller sets the env).
static void run_fixture(const char *name, int prec, vd_vae_conv_impl conv, bool direct) {
    const char *cn = conv == VD_VAE_CONV_CUDNN ? (direct ? "cudnn-direct" : "cudnn") : "gemm";
    const bool fp32 = prec == 1;
    const double rel = prec == 1 ? 1e-4 : prec == 2 ? VAE_BF16_REL : 1e-2;
    const double nmse_max = prec == 2 ? VAE_BF16_NMSE : 1e-5;
    const char *pn = prec == 1 ? "fp32" : prec == 2 ? "bf16" : "tf32";
    vae_fixture fx;
    if (vae_fixture_open(&fx, name) != 0) {
        vt_failures++;
        return;
    }
    const vd_vae_config *cfg = vd_vae_get_config(fx.vae);
    for (int k = 0; k < fx.n_cases; k++) {
        const vae_case *c = &fx.c[k];
        char tname[64], cname[160];
        snprintf(tname, sizeof tname, "latent_%d", k);
        float *z = vae_fixture_tensor(&fx, tname, (int64_t)cfg->z_dim * c->F * c->H * c->W);
        snprintf(tname, sizeof tname, "out_%d", k);
        float *ref = vae_fixture_tensor(&fx, tname, 0);
        if (!z || !ref) {
            vt_failures++;
            free(z), free(ref);
            continue;
        }
        vd_vae_decode_opts o;
        vd_vae_decode_opts_default(&o);
        int64_t n, n2;
        float *cpu = vae_fixture_decode(fx.vae, z, c->F, c->H, c->W, &o, &n);
        o.device = VD_DEVICE_CUDA;
        o.cuda_fp32 = fp32;
        o.cuda_bf16 = prec == 2;
        o.cuda_conv = conv;
        for (int chunk = 1; chunk <= 2; chunk++) {
            o.chunk_frames = chunk == 1 ? 1 : c->F;
            float *gpu = vae_fixture_decode(fx.vae, z, c->F, c->H, c->W, &o, &n2);
            if (cpu && gpu) {
                double sc = vae_max_abs(ref, n);
                snprintf(cname, sizeof cname, "%s case %d chunk %d %s %s: cuda vs cpu", name, k, o.chunk_frames,
                         cn, pn);
                VT_EXPECT(vt_check(cname, gpu, cpu, n, rel * sc, rel));
                snprintf(cname, sizeof cname, "%s case %d chunk %d %s %s: cuda vs diffusers", name, k, o.chunk_frames,
                         cn, pn);
                VT_EXPECT(vt_check(cname, gpu, ref, n, rel * sc, rel));
                if (!fp32) VT_EXPECT(vt_check_nmse(cname, gpu, ref, n, nmse_max));
            }
            free(gpu);
        }
        if (c->tiled) {
            o.chunk_frames = 1;
            o.tiling = true;
            o.tile_h = c->tile_h, o.tile_w = c->tile_w, o.stride_h = c->stride_h, o.stride_w = c->stride_w;
            snprintf(tname, sizeof tname, "tiled_%d", k);
            float *tref = vae_fixture_tensor(&fx, tname, n);
            float *gpu = tref ? vae_fixture_decode(fx.vae, z, c->F, c->H, c->W, &o, &n2) : NULL;
            snprintf(cname, sizeof cname, "%s case %d %s %s: cuda tiled vs diffusers tiled_decode", name, k,
                     cn, pn);
            if (gpu) VT_EXPECT(vt_check(cname, gpu, tref, n, rel * vae_max_abs(tref, n), rel));
            free(gpu), free(tref);
        }
        free(cpu), free(z), free(ref);
    }
    vae_fixture_close(&fx);
}

int main(void) {
    if (!vt_have_gpu()) return VD_TEST_SKIP;
    // the caller's VDIT_VAE_CUDNN_DIRECT applies to the plain cudnn pass; restored after the direct one
    const char *env = getenv("VDIT_VAE_CUDNN_DIRECT");
    char *saved = env ? strdup(env) : NULL;
    for (int ci = 0; ci < 3; ci++) {
        const vd_vae_conv_impl conv = ci == 0 ? VD_VAE_CONV_GEMM : VD_VAE_CONV_CUDNN;
        const bool direct = ci == 2;
        if (conv == VD_VAE_CONV_CUDNN && !vd_vae_cudnn_available()) {
            if (ci == 1) printf("test_vae_cuda: this build has no cuDNN: the cudnn runner is not checked\n");
            continue;
        }
        // read when a fixture's VAE creates its cuDNN conv state (each run_fixture loads a new VAE)
        if (direct) setenv("VDIT_VAE_CUDNN_DIRECT", "1", 1);
        for (int prec = 1; prec >= (conv == VD_VAE_CONV_CUDNN ? -1 : 0); prec--) {
            run_fixture("tiny3", prec < 0 ? 2 : prec, conv, direct);
            run_fixture("wan4", prec < 0 ? 2 : prec, conv, direct);
        }
    }
    if (saved) setenv("VDIT_VAE_CUDNN_DIRECT", saved, 1);
    else unsetenv("VDIT_VAE_CUDNN_DIRECT");
    free(saved);
    return vt_finish("test_vae_cuda");
}
