// The cuDNN runner's direct conv kernel (dit/vae_cudnn_direct.cu) against a double-precision host
// conv, on shapes chosen for its code paths, which the VAE fixtures (at most 32 channels) do not all
// reach: input channels over one 128-channel weight chunk, channel counts that rule out the 16-byte
// loads (scalar path), output channels below, at and above one 8-channel group (3, 8, 20), the
// upsampler's 2x2 phase kernel (output H + 1, W + 1), time-only and space-only kernels, accumulate
// (y += conv) and bf16 tensors, and a full 480x832 frame with 3 channel groups (more work items
// than the grid: the grid-stride loop). The 16 values past y must stay untouched.
// Bounds: f32 (fp32 FMA accumulation over <= 8100 products): 1e-5 of sum |x w| per output, written
// as atol = 1e-5 * max over outputs of that sum, rtol 1e-5; bf16 output (rounded to nearest even,
// relative 2^-9): rtol 4e-3 plus atol 1e-5 * that sum. Skips (77) without a GPU.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dit/vae_cudnn_direct.h"
#include "lib/device.h"
#include "lib/dtype.h"
#include "tests/test_util.h"

#define GUARD 16

typedef struct {
    int cin, cout, kt, kh, kw, ti, h, w, bf16, acc;
} dc_case;

// ref[o] = (acc ? y0[o] : 0) + sum x w (double); mag[o]: sum |x w| (the error scale).
static void host_conv(const dc_case *c, const float *x, const float *w, const float *y0, double *ref, double *mag) {
    const int to = c->ti - c->kt + 1, ho = vd_cudnn_conv_out_dim(c->h, c->kh), wo = vd_cudnn_conv_out_dim(c->w, c->kw);
    const int taps = c->kt * c->kh * c->kw;
    for (int t = 0; t < to; t++)
        for (int yy = 0; yy < ho; yy++)
            for (int xx = 0; xx < wo; xx++)
                for (int o = 0; o < c->cout; o++) {
                    double s = 0, m = 0;
                    for (int a = 0; a < c->kt; a++)
                        for (int b = 0; b < c->kh; b++)
                            for (int q = 0; q < c->kw; q++) {
                                const int iy = yy + b - c->kh / 2, ix = xx + q - c->kw / 2;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w) continue;
                                const float *xi = x + (((int64_t)(t + a) * c->h + iy) * c->w + ix) * c->cin;
                                const float *wi = w + ((int64_t)o * taps + (a * c->kh + b) * c->kw + q) * c->cin;
                                for (int i = 0; i < c->cin; i++) {
                                    s += (double)xi[i] * wi[i];
                                    m += fabs((double)xi[i] * wi[i]);
                                }
                            }
                    const int64_t oi = (((int64_t)t * ho + yy) * wo + xx) * c->cout + o;
                    ref[oi] = s + (c->acc ? y0[oi] : 0.0);
                    mag[oi] = m;
                }
}

// f32 values -> the device buffer (bf16 bit patterns with bf16).
static void *to_dev_layout(const float *v, int64_t n, int bf16) {
    if (!bf16) {
        float *o = malloc((size_t)n * 4);
        if (o) memcpy(o, v, (size_t)n * 4);
        return o;
    }
    uint16_t *o = malloc((size_t)n * 2);
    if (o)
        for (int64_t i = 0; i < n; i++) o[i] = vd_f32_to_bf16(v[i]);
    return o;
}

static void run_case(vd_cuda_ctx *ctx, vd_cuda_arena *ar, const dc_case *c, vt_rng *r) {
    const int to = c->ti - c->kt + 1, ho = vd_cudnn_conv_out_dim(c->h, c->kh), wo = vd_cudnn_conv_out_dim(c->w, c->kw);
    const int64_t nx = (int64_t)c->ti * c->h * c->w * c->cin, nw = (int64_t)c->cout * c->kt * c->kh * c->kw * c->cin;
    const int64_t ny = (int64_t)to * ho * wo * c->cout;
    const int es = c->bf16 ? 2 : 4;
    char name[160];
    snprintf(name, sizeof name, "direct conv cin %d cout %d k %dx%dx%d in %dx%dx%d %s%s", c->cin, c->cout, c->kt, c->kh,
             c->kw, c->ti, c->h, c->w, c->bf16 ? "bf16" : "f32", c->acc ? " accumulate" : "");
    float *x = malloc((size_t)nx * 4), *w = malloc((size_t)nw * 4), *y0 = malloc((size_t)(ny + GUARD) * 4);
    float *got = malloc((size_t)(ny + GUARD) * 4);
    double *ref = malloc((size_t)ny * 8), *mag = malloc((size_t)ny * 8);
    void *hx = NULL, *hw = NULL, *hy = NULL, *hgot = malloc((size_t)(ny + GUARD) * es);
    if (!x || !w || !y0 || !got || !ref || !mag || !hgot) {
        printf("FAIL %s: out of host memory\n", name);
        vt_failures++;
        goto done;
    }
    vt_fill_normal(r, x, nx, 1.0f);
    vt_fill_normal(r, w, nw, 1.0f / sqrtf((float)c->cin * c->kt * c->kh * c->kw));
    vt_fill_normal(r, y0, ny + GUARD, 1.0f);
    if (c->bf16) { // the values the kernel sees
        vt_round_bf16(x, nx);
        vt_round_bf16(w, nw);
        vt_round_bf16(y0, ny + GUARD);
    }
    hx = to_dev_layout(x, nx, c->bf16), hw = to_dev_layout(w, nw, c->bf16), hy = to_dev_layout(y0, ny + GUARD, c->bf16);
    const size_t mark = vd_cuda_arena_mark(ar);
    void *dx, *dw, *dy;
    vd_error err = {0};
    vd_status st = hx && hw && hy ? VD_OK : vd_error_set(&err, VD_ERR_OUT_OF_MEMORY, "out of host memory");
    if (st == VD_OK) st = vd_cuda_arena_alloc(ar, (size_t)nx * es, &dx, &err);
    if (st == VD_OK) st = vd_cuda_arena_alloc(ar, (size_t)nw * es, &dw, &err);
    if (st == VD_OK) st = vd_cuda_arena_alloc(ar, (size_t)(ny + GUARD) * es, &dy, &err);
    if (st == VD_OK) st = vd_cuda_upload(ctx, dx, hx, (size_t)nx * es, &err);
    if (st == VD_OK) st = vd_cuda_upload(ctx, dw, hw, (size_t)nw * es, &err);
    if (st == VD_OK) st = vd_cuda_upload(ctx, dy, hy, (size_t)(ny + GUARD) * es, &err);
    const vd_cudnn_conv_shape s = {c->cin, c->cout, c->kt, c->kh, c->kw, c->ti, c->h, c->w, 0, c->bf16};
    if (st == VD_OK) st = vd_cudnn_direct_run(&s, dx, dw, dy, c->acc != 0, vd_cuda_ctx_stream(ctx), &err);
    if (st == VD_OK) st = vd_cuda_sync(ctx, &err);
    if (st == VD_OK) st = vd_cuda_download(ctx, hgot, dy, (size_t)(ny + GUARD) * es, &err);
    vd_cuda_arena_reset(ar, mark);
    if (st != VD_OK) {
        printf("FAIL %s: %s\n", name, err.msg);
        vt_failures++;
        goto done;
    }
    for (int64_t i = 0; i < ny + GUARD; i++)
        got[i] = c->bf16 ? vd_bf16_to_f32(((const uint16_t *)hgot)[i]) : ((const float *)hgot)[i];
    host_conv(c, x, w, y0, ref, mag);
    double mmax = 0;
    for (int64_t i = 0; i < ny; i++) mmax = mag[i] > mmax ? mag[i] : mmax;
    VT_EXPECT(vt_check_d(name, got, ref, ny, 1e-5 * mmax, c->bf16 ? 4e-3 : 1e-5));
    int touched = 0;
    for (int i = 0; i < GUARD; i++) touched += memcmp(&got[ny + i], &y0[ny + i], 4) != 0;
    if (touched) {
        printf("FAIL %s: %d of the %d values past y were written\n", name, touched, GUARD);
        vt_failures++;
    }
done:
    free(x), free(w), free(y0), free(got), free(ref), free(mag), free(hx), free(hw), free(hy), free(hgot);
}

int main(int argc, char **argv) {
    if (!vt_have_gpu()) return VD_TEST_SKIP;
    vt_rng r;
    vt_rng_seed(&r, vt_base_seed(argc, argv, "test_vae_direct_conv"));
    static const dc_case cases[] = {
        {300, 3, 3, 3, 3, 4, 5, 7, 0, 0},    // 3 weight chunks, float4 loads, cout < 8
        {302, 3, 3, 3, 3, 4, 5, 7, 0, 0},    // 3 weight chunks, scalar loads, cout < 8
        {264, 20, 3, 3, 3, 3, 6, 5, 0, 1},   // 3 chunks, float4 loads, 3 channel groups, accumulate
        {264, 8, 3, 3, 3, 3, 4, 9, 1, 0},    // bf16 16-byte loads, 3 chunks
        {12, 16, 1, 3, 3, 2, 5, 6, 1, 1},    // bf16 scalar loads, accumulate (bf16 y read back)
        {16, 12, 1, 2, 2, 3, 5, 4, 0, 0},    // the upsampler's phase kernel: output 6x5
        {8, 16, 3, 1, 1, 5, 3, 3, 0, 1},     // time conv
        {96, 8, 3, 3, 3, 3, 6, 10, 0, 0},    // the VAE's conv_out (cin 96, cout padded 8), small frame
        {4, 20, 1, 3, 3, 1, 480, 832, 0, 0}, // 1560 tiles x 3 groups: more work items than the grid
    };
    vd_cuda_ctx *ctx = NULL;
    vd_cuda_arena ar = {0};
    vd_error err = {0};
    if (vd_cuda_ctx_create(&ctx, 0, &err) != VD_OK || vd_cuda_arena_init(&ar, (size_t)64 << 20, &err) != VD_OK) {
        printf("FAIL test_vae_direct_conv: %s\n", err.msg);
        vd_cuda_ctx_free(ctx);
        return 1;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(ctx, &ar, &cases[i], &r);
    vd_cuda_arena_free(&ar);
    vd_cuda_ctx_free(ctx);
    return vt_finish("test_vae_direct_conv");
}
