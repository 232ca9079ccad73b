// 3D convolution on the CPU (NCDHW, one sample, fp32) as im2col + OpenBLAS sgemm. The reference
// for the VAE decoder and for vd_conv3d_cuda.
//
// Output rows r = od*Ho + oh (one row = Wo outputs) are processed in chunks of nr rows: the
// column matrix col[K, nr*Wo], K = Cin*kd*kh*kw ordered (ci, a, b, c) like the flattened weight
// [Cout, Cin, kd, kh, kw], is filled from x (zeros where the window hits padding), then
//   out[:, r0*Wo : (r0+nr)*Wo] += weight[Cout, K] @ col[K, nr*Wo]      (ldc = Do*Ho*Wo)
// after out was seeded with the bias. Chunking over (depth, row) rather than whole depth slices
// keeps the scratch under VD_CONV3D_COL_BYTES even at full video resolution (one 480x832 slice
// of a Cin=96 3x3x3 conv would need 4.1 GB of columns). A 1x1x1 conv with stride 1 and no
// padding needs no columns: it is one sgemm on x viewed as [Cin, D*H*W].
#include <cblas.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

// 32 MiB of columns: at K = 96*27 = 2592 and Wo = 64 that is 50 output rows per sgemm
// (N = 3200), large enough for sgemm to run near its peak, small enough to stay in memory budgets.
#define VD_CONV3D_COL_BYTES ((size_t)32 << 20)

static int64_t out_len(int64_t in, int k, int s, int p) {
    const int64_t span = in + 2 * (int64_t)p - k;
    return span < 0 || s < 1 ? 0 : span / s + 1;
}

void vd_conv3d_out_dims(const vd_conv3d_shape *s, int64_t *dout, int64_t *hout, int64_t *wout) {
    *dout = out_len(s->d, s->kd, s->sd, s->pd);
    *hout = out_len(s->h, s->kh, s->sh, s->ph);
    *wout = out_len(s->w, s->kw, s->sw, s->pw);
}

static vd_status check_shape(const vd_conv3d_shape *s, vd_error *err) {
    if (s->cin < 1 || s->cout < 1 || s->d < 1 || s->h < 1 || s->w < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_conv3d_cpu: cin=%lld cout=%lld input %lldx%lldx%lld; each must be >= 1",
                            (long long)s->cin, (long long)s->cout, (long long)s->d, (long long)s->h, (long long)s->w);
    if (s->kd < 1 || s->kh < 1 || s->kw < 1 || s->sd < 1 || s->sh < 1 || s->sw < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_conv3d_cpu: kernel (%d,%d,%d) stride (%d,%d,%d); each must be >= 1", s->kd, s->kh,
                            s->kw, s->sd, s->sh, s->sw);
    if (s->pd < 0 || s->ph < 0 || s->pw < 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_conv3d_cpu: padding (%d,%d,%d); each must be >= 0", s->pd,
                            s->ph, s->pw);
    int64_t Do, Ho, Wo;
    vd_conv3d_out_dims(s, &Do, &Ho, &Wo);
    if (Do < 1 || Ho < 1 || Wo < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_conv3d_cpu: kernel (%d,%d,%d) is larger than the padded input (%lld,%lld,%lld); "
                            "output would be %lldx%lldx%lld",
                            s->kd, s->kh, s->kw, (long long)(s->d + 2 * s->pd), (long long)(s->h + 2 * s->ph),
                            (long long)(s->w + 2 * s->pw), (long long)Do, (long long)Ho, (long long)Wo);
    const int64_t K = s->cin * s->kd * s->kh * s->kw;
    if (K > INT_MAX || s->cout > INT_MAX || Do * Ho * Wo > INT_MAX || s->d * s->h * s->w > INT_MAX)
        return vd_error_set(err, VD_ERR_UNSUPPORTED,
                            "vd_conv3d_cpu: K=%lld, cout=%lld, output positions %lld or input positions %lld "
                            "exceed the BLAS int range %d",
                            (long long)K, (long long)s->cout, (long long)(Do * Ho * Wo),
                            (long long)(s->d * s->h * s->w), INT_MAX);
    return VD_OK;
}

// col[K, nr*Wo] for output rows [r0, r0+nr).
static void im2col_rows(float *col, const float *x, const vd_conv3d_shape *s, int64_t Ho, int64_t Wo, int64_t r0,
                        int64_t nr) {
    const int64_t K = s->cin * s->kd * s->kh * s->kw, ncol = nr * Wo;
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < K; k++) {
        const int c = (int)(k % s->kw), b = (int)((k / s->kw) % s->kh), a = (int)((k / (s->kw * s->kh)) % s->kd);
        const int64_t ci = k / ((int64_t)s->kw * s->kh * s->kd);
        // valid ow range: 0 <= ow*sw - pw + c < W
        int64_t ow_lo = 0, ow_hi = 0;
        if (s->pw - c > 0) ow_lo = (s->pw - c + s->sw - 1) / s->sw;
        if (s->w + s->pw - c - 1 >= 0) ow_hi = (s->w + s->pw - c - 1) / s->sw + 1;
        if (ow_hi > Wo) ow_hi = Wo;
        if (ow_lo > ow_hi) ow_lo = ow_hi;
        float *crow = col + k * ncol;
        for (int64_t i = 0; i < nr; i++) {
            const int64_t r = r0 + i, od = r / Ho, oh = r % Ho;
            const int64_t id = od * s->sd - s->pd + a, ih = oh * s->sh - s->ph + b;
            float *dst = crow + i * Wo;
            if (id < 0 || id >= s->d || ih < 0 || ih >= s->h || ow_lo == ow_hi) {
                memset(dst, 0, (size_t)Wo * sizeof(float));
                continue;
            }
            const float *src = x + ((ci * s->d + id) * s->h + ih) * s->w;
            for (int64_t ow = 0; ow < ow_lo; ow++) dst[ow] = 0.0f;
            if (s->sw == 1) {
                memcpy(dst + ow_lo, src + ow_lo - s->pw + c, (size_t)(ow_hi - ow_lo) * sizeof(float));
            } else {
                for (int64_t ow = ow_lo; ow < ow_hi; ow++) dst[ow] = src[ow * s->sw - s->pw + c];
            }
            for (int64_t ow = ow_hi; ow < Wo; ow++) dst[ow] = 0.0f;
        }
    }
}

// out[Cout, Do, Ho, Wo] = conv(x[Cin, D, H, W], weight[Cout, Cin, kd, kh, kw]) + bias[Cout].
vd_status vd_conv3d_cpu(float *out, const float *x, const float *weight, const float *bias, const vd_conv3d_shape *s,
                        vd_error *err) {
    VD_TRY(check_shape(s, err));
    int64_t Do, Ho, Wo;
    vd_conv3d_out_dims(s, &Do, &Ho, &Wo);
    const int64_t K = s->cin * s->kd * s->kh * s->kw, L = Do * Ho * Wo, Cout = s->cout;

    // Seed out with the bias so every sgemm below accumulates with beta = 1.
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < Cout; o++) {
        const float v = bias ? bias[o] : 0.0f;
        float *orow = out + o * L;
        for (int64_t i = 0; i < L; i++) orow[i] = v;
    }

    const int pointwise = s->kd == 1 && s->kh == 1 && s->kw == 1 && s->sd == 1 && s->sh == 1 && s->sw == 1 &&
                          s->pd == 0 && s->ph == 0 && s->pw == 0;
    if (pointwise) { // out[Cout, L] += weight[Cout, Cin] @ x[Cin, L]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Cout, (int)L, (int)K, 1.0f, weight, (int)K, x,
                    (int)L, 1.0f, out, (int)L);
        return VD_OK;
    }

    const int64_t R = Do * Ho, row_bytes = K * Wo * (int64_t)sizeof(float);
    int64_t nr = (int64_t)(VD_CONV3D_COL_BYTES / (size_t)row_bytes);
    if (nr < 1) nr = 1;
    if (nr > R) nr = R;
    float *col = malloc((size_t)(nr * row_bytes));
    if (!col)
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY,
                            "vd_conv3d_cpu: cannot allocate %lld bytes of im2col scratch (K=%lld, %lld rows of %lld)",
                            (long long)(nr * row_bytes), (long long)K, (long long)nr, (long long)Wo);
    for (int64_t r0 = 0; r0 < R; r0 += nr) {
        const int64_t n = R - r0 < nr ? R - r0 : nr;
        im2col_rows(col, x, s, Ho, Wo, r0, n);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Cout, (int)(n * Wo), (int)K, 1.0f, weight, (int)K,
                    col, (int)(n * Wo), 1.0f, out + r0 * Wo, (int)L);
    }
    free(col);
    return VD_OK;
}
