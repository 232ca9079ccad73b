// vd_conv3d_cpu (im2col + sgemm) against a direct double-precision convolution over many shapes:
// 1x1x1 (the pure-GEMM path and a strided one), 3x3x3, 1x3x3, 3x1x1, 2x2x2 and (1,2,2) patch
// kernels, stride 2 in h/w and in d, padding 0/1/2, causal-style pd = 0, odd Cin/Cout, W = 1,
// a case larger than one im2col chunk, plus shape errors. Guard regions around every output.
// Usage: test_ops_conv3d [base_seed]   (case seed = base_seed*1000 + case index)
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ops.h"
#include "tests/test_util.h"

// Direct convolution: out[co,od,oh,ow] = bias[co] + sum over ci,a,b,c of
// w[co,ci,a,b,c] * x[ci, od*sd-pd+a, oh*sh-ph+b, ow*sw-pw+c] (zero outside the input).
static double ref_conv3d(double *out, const float *x, const float *w, const float *bias, const vd_conv3d_shape *s,
                         int64_t Do, int64_t Ho, int64_t Wo) {
    double max_abs_sum = 0;
    for (int64_t co = 0; co < s->cout; co++)
        for (int64_t od = 0; od < Do; od++)
            for (int64_t oh = 0; oh < Ho; oh++)
                for (int64_t ow = 0; ow < Wo; ow++) {
                    double acc = bias ? bias[co] : 0.0, abs_sum = bias ? fabs(bias[co]) : 0.0;
                    for (int64_t ci = 0; ci < s->cin; ci++)
                        for (int a = 0; a < s->kd; a++)
                            for (int b = 0; b < s->kh; b++)
                                for (int c = 0; c < s->kw; c++) {
                                    const int64_t id = od * s->sd - s->pd + a, ih = oh * s->sh - s->ph + b,
                                                  iw = ow * s->sw - s->pw + c;
                                    if (id < 0 || id >= s->d || ih < 0 || ih >= s->h || iw < 0 || iw >= s->w)
                                        continue;
                                    const double t =
                                        (double)w[(((co * s->cin + ci) * s->kd + a) * s->kh + b) * s->kw + c] *
                                        x[((ci * s->d + id) * s->h + ih) * s->w + iw];
                                    acc += t;
                                    abs_sum += fabs(t);
                                }
                    out[((co * Do + od) * Ho + oh) * Wo + ow] = acc;
                    max_abs_sum = fmax(max_abs_sum, abs_sum);
                }
    return max_abs_sum;
}

// Tolerance as in test_ops_linear: an fp32 sum of n = K+1 terms has rounding error of about
// sqrt(n)*u*sum|terms| (u = 2^-24, probabilistic bound); atol = 4*sqrt(K+1)*u*max(sum|terms|)
// (~1.5e-2 at K=2592, observed ~7e-5) is still 40x below one missing or misplaced N(0,1) tap
// (~0.6), the smallest im2col bug; rtol 1e-6 for the last ulp of large outputs.
static void conv_case(uint64_t seed, vd_conv3d_shape s, int with_bias) {
    vt_rng r;
    vt_rng_seed(&r, seed);
    int64_t Do, Ho, Wo;
    vd_conv3d_out_dims(&s, &Do, &Ho, &Wo);
    const int64_t nx = s.cin * s.d * s.h * s.w, K = s.cin * s.kd * s.kh * s.kw, nw = s.cout * K;
    const int64_t no = s.cout * Do * Ho * Wo;
    float *x = malloc((size_t)nx * sizeof(float)), *w = malloc((size_t)nw * sizeof(float));
    float *bias = malloc((size_t)s.cout * sizeof(float)), *out = vt_guarded_alloc(no);
    double *ref = malloc((size_t)no * sizeof(double));
    vt_fill_normal(&r, x, nx, 1.0f);
    vt_fill_normal(&r, w, nw, 1.0f);
    vt_fill_normal(&r, bias, s.cout, 1.0f);
    for (int64_t i = 0; i < no; i++) out[i] = NAN;
    vd_error err = {0};
    const vd_status st = vd_conv3d_cpu(out, x, w, with_bias ? bias : NULL, &s, &err);
    char name[256];
    snprintf(name, sizeof name,
             "conv3d cin=%lld cout=%lld in=%lldx%lldx%lld k=(%d,%d,%d) s=(%d,%d,%d) p=(%d,%d,%d) -> %lldx%lldx%lld "
             "bias=%d seed=%llu",
             (long long)s.cin, (long long)s.cout, (long long)s.d, (long long)s.h, (long long)s.w, s.kd, s.kh, s.kw,
             s.sd, s.sh, s.sw, s.pd, s.ph, s.pw, (long long)Do, (long long)Ho, (long long)Wo, with_bias,
             (unsigned long long)seed);
    if (st != VD_OK) {
        printf("FAIL %s: status %s: %s\n", name, vd_status_str(st), err.msg);
        vt_failures++;
    } else {
        const double abs_sum = ref_conv3d(ref, x, w, with_bias ? bias : NULL, &s, Do, Ho, Wo);
        vt_check_d(name, out, ref, no, 4.0 * sqrt((double)(K + 1)) * 0x1p-24 * abs_sum, 1e-6);
        // Aggregate check, tighter than the elementwise bound: observed NMSE <= 1e-13 (~u^2*K);
        // 1e-10 still flags a single wrong tap in the K=2592 case (~5e-9).
        const vt_diff d = vt_compare_d(out, ref, no);
        VT_EXPECT(d.nmse <= 1e-10);
    }
    VT_EXPECT(vt_guards_ok(out, no));
    free(x), free(w), free(bias), free(ref);
    vt_guarded_free(out);
}

static vd_conv3d_shape shp(int64_t cin, int64_t cout, int64_t d, int64_t h, int64_t w, int kd, int kh, int kw, int sd,
                           int sh, int sw, int pd, int ph, int pw) {
    vd_conv3d_shape s = {cin, cout, d, h, w, kd, kh, kw, sd, sh, sw, pd, ph, pw};
    return s;
}

static void out_dims_and_errors(void) {
    int64_t Do, Ho, Wo;
    vd_conv3d_shape s = shp(96, 96, 4, 64, 64, 3, 3, 3, 1, 1, 1, 1, 1, 1);
    vd_conv3d_out_dims(&s, &Do, &Ho, &Wo);
    VT_EXPECT(Do == 4 && Ho == 64 && Wo == 64);
    s = shp(16, 1536, 21, 60, 104, 1, 2, 2, 1, 2, 2, 0, 0, 0); // Wan patch embed
    vd_conv3d_out_dims(&s, &Do, &Ho, &Wo);
    VT_EXPECT(Do == 21 && Ho == 30 && Wo == 52);
    s = shp(3, 3, 5, 9, 8, 3, 3, 3, 1, 2, 2, 0, 1, 1); // (9+2-3)/2+1 = 5, (8+2-3)/2+1 = 4
    vd_conv3d_out_dims(&s, &Do, &Ho, &Wo);
    VT_EXPECT(Do == 3 && Ho == 5 && Wo == 4);

    const vd_conv3d_shape bad[] = {
        shp(3, 3, 4, 4, 4, 3, 3, 3, 1, 0, 1, 1, 1, 1),  // stride 0
        shp(3, 3, 2, 4, 4, 3, 3, 3, 1, 1, 1, 0, 1, 1),  // kernel deeper than the unpadded depth
        shp(3, 3, 4, 4, 4, 3, 3, 3, 1, 1, 1, 1, -1, 1), // negative padding
        shp(0, 3, 4, 4, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0),  // no input channels
        shp(3, 3, 4, 4, 4, 0, 3, 3, 1, 1, 1, 0, 1, 1),  // zero kernel
    };
    static float dummy[4096];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vd_error err = {0};
        const vd_status st = vd_conv3d_cpu(dummy, dummy, dummy, NULL, &bad[i], &err);
        printf("%s conv3d bad shape %zu rejected: %s\n", st == VD_ERR_INVALID_ARG ? "ok  " : "FAIL", i, err.msg);
        VT_EXPECT(st == VD_ERR_INVALID_ARG && strstr(err.msg, "vd_conv3d_cpu") != NULL);
    }
}

int main(int argc, char **argv) {
    const uint64_t base = vt_base_seed(argc, argv, "test_ops_conv3d");
    out_dims_and_errors();
    const vd_conv3d_shape cases[] = {
        shp(3, 5, 3, 5, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0),      // 1x1x1: single sgemm path
        shp(17, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0),     // one voxel, one output channel
        shp(5, 3, 3, 7, 9, 1, 1, 1, 1, 2, 2, 0, 0, 0),      // 1x1x1 with stride 2 in h/w (im2col path)
        shp(3, 5, 3, 5, 7, 1, 1, 1, 1, 1, 1, 0, 1, 2),      // 1x1x1 with padding: border outputs = bias
        shp(17, 5, 4, 7, 9, 3, 3, 3, 1, 1, 1, 1, 1, 1),     // 3x3x3 same padding
        shp(3, 17, 5, 6, 7, 3, 3, 3, 1, 1, 1, 0, 0, 0),     // 3x3x3 valid
        shp(5, 3, 2, 6, 5, 1, 3, 3, 1, 1, 1, 0, 1, 1),      // 1x3x3 (VAE spatial-only)
        shp(7, 9, 5, 3, 4, 3, 1, 1, 1, 1, 1, 1, 0, 0),      // 3x1x1 (VAE time conv)
        shp(7, 9, 5, 3, 4, 3, 1, 1, 1, 1, 1, 0, 0, 0),      // 3x1x1 causal style (caller padded, pd = 0)
        shp(5, 7, 3, 9, 8, 3, 3, 3, 1, 2, 2, 1, 1, 1),      // stride 2 in h/w, padding 1, odd/even H/W
        shp(5, 7, 3, 9, 8, 1, 3, 3, 1, 2, 2, 0, 0, 0),      // stride 2 in h/w, padding 0
        shp(3, 5, 7, 7, 7, 3, 3, 3, 2, 2, 2, 0, 0, 0),      // stride 2 everywhere
        shp(3, 4, 4, 6, 6, 3, 3, 3, 3, 1, 2, 1, 1, 1),      // stride 3 in d
        shp(16, 33, 2, 6, 10, 2, 2, 2, 2, 2, 2, 0, 0, 0),   // 2x2x2 patch
        shp(16, 64, 3, 6, 8, 1, 2, 2, 1, 2, 2, 0, 0, 0),    // Wan patch embed (1,2,2)
        shp(3, 5, 2, 3, 1, 3, 3, 3, 1, 1, 1, 1, 1, 1),      // W = 1 with a 3-wide kernel
        shp(3, 3, 1, 1, 1, 3, 3, 3, 1, 1, 1, 1, 1, 1),      // only the centre tap sees data
        shp(2, 3, 3, 4, 5, 3, 4, 5, 1, 1, 1, 0, 0, 0),      // kernel = input: one output voxel
        shp(3, 2, 2, 5, 4, 1, 3, 1, 1, 1, 1, 2, 2, 2),      // padding larger than the kernel reach
        shp(96, 3, 2, 64, 64, 3, 3, 3, 1, 1, 1, 1, 1, 1),   // K=2592: 128 output rows, > one 32 MiB chunk
    };
    const int nc = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < nc; i++) conv_case(base * 1000 + (uint64_t)i, cases[i], i % 3 != 1);
    return vt_finish("test_ops_conv3d");
}
