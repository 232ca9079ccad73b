// PSNR (RGB) and SSIM (BT.601 luma, Gaussian 11x11 sigma 1.5), see metrics.h.
#include "codecs/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void vd_rgb_to_luma601(const uint8_t *rgb, int w, int h, size_t stride, double *y) {
    if (stride == 0) stride = (size_t)w * 3;
    for (int r = 0; r < h; r++) {
        const uint8_t *p = rgb + (size_t)r * stride;
        for (int c = 0; c < w; c++) y[(size_t)r * w + c] = 0.299 * p[3 * c] + 0.587 * p[3 * c + 1] + 0.114 * p[3 * c + 2];
    }
}

double vd_mse_rgb(const uint8_t *a, const uint8_t *b, int w, int h) {
    size_t n = (size_t)w * h * 3;
    uint64_t se = 0; // exact: at most 255^2 * 3 * 16384^2 < 2^64
    for (size_t i = 0; i < n; i++) {
        int d = (int)a[i] - (int)b[i];
        se += (uint64_t)(d * d);
    }
    return (double)se / (double)n;
}

double vd_psnr_from_mse(double mse, double peak) {
    if (mse <= 0) return INFINITY;
    return 10.0 * log10(peak * peak / mse);
}

// Normalized 1-D Gaussian taps g[0..WIN-1], centre at WIN/2 (scipy's gaussian_filter with
// truncate 3.5 gives radius int(3.5 * 1.5 + 0.5) = 5, i.e. the same 11 taps).
static void gaussian_taps(double *g) {
    const int r = VD_SSIM_WIN / 2;
    double sum = 0;
    for (int k = -r; k <= r; k++) sum += (g[k + r] = exp(-0.5 * k * k / (VD_SSIM_SIGMA * VD_SSIM_SIGMA)));
    for (int k = 0; k < VD_SSIM_WIN; k++) g[k] /= sum;
}

// out[(h-10), (w-10)] = valid 2-D Gaussian filter of in[h, w]; tmp holds [h, w-10].
static void filter_valid(const double *in, int w, int h, const double *g, double *tmp, double *out) {
    const int ow = w - VD_SSIM_WIN + 1, oh = h - VD_SSIM_WIN + 1;
    for (int r = 0; r < h; r++) {
        const double *row = in + (size_t)r * w;
        for (int c = 0; c < ow; c++) {
            double s = 0;
            for (int k = 0; k < VD_SSIM_WIN; k++) s += g[k] * row[c + k];
            tmp[(size_t)r * ow + c] = s;
        }
    }
    for (int r = 0; r < oh; r++) {
        for (int c = 0; c < ow; c++) {
            double s = 0;
            for (int k = 0; k < VD_SSIM_WIN; k++) s += g[k] * tmp[(size_t)(r + k) * ow + c];
            out[(size_t)r * ow + c] = s;
        }
    }
}

vd_status vd_ssim_plane(const double *x, const double *y, int w, int h, double data_range, double *out, vd_error *err) {
    if (w < VD_SSIM_WIN || h < VD_SSIM_WIN)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_ssim_plane: frame %dx%d is smaller than the %dx%d SSIM window",
                            w, h, VD_SSIM_WIN, VD_SSIM_WIN);
    if (!(data_range > 0))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_ssim_plane: data_range %g must be > 0", data_range);
    const size_t n = (size_t)w * h;
    const int ow = w - VD_SSIM_WIN + 1, oh = h - VD_SSIM_WIN + 1;
    const size_t on = (size_t)ow * oh;
    // prod [h, w]; tmp [h, ow]; mu_x, mu_y, e_xx, e_yy, e_xy [oh, ow]
    double *prod = malloc(n * sizeof(double)), *tmp = malloc((size_t)h * ow * sizeof(double));
    double *f = malloc(5 * on * sizeof(double));
    if (!prod || !tmp || !f) {
        free(prod), free(tmp), free(f);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_ssim_plane: %dx%d: out of memory", w, h);
    }
    double g[VD_SSIM_WIN];
    gaussian_taps(g);
    double *ux = f, *uy = f + on, *uxx = f + 2 * on, *uyy = f + 3 * on, *uxy = f + 4 * on;
    filter_valid(x, w, h, g, tmp, ux);
    filter_valid(y, w, h, g, tmp, uy);
    for (size_t i = 0; i < n; i++) prod[i] = x[i] * x[i];
    filter_valid(prod, w, h, g, tmp, uxx);
    for (size_t i = 0; i < n; i++) prod[i] = y[i] * y[i];
    filter_valid(prod, w, h, g, tmp, uyy);
    for (size_t i = 0; i < n; i++) prod[i] = x[i] * y[i];
    filter_valid(prod, w, h, g, tmp, uxy);
    const double c1 = (0.01 * data_range) * (0.01 * data_range), c2 = (0.03 * data_range) * (0.03 * data_range);
    double sum = 0;
    for (size_t i = 0; i < on; i++) {
        double vx = uxx[i] - ux[i] * ux[i], vy = uyy[i] - uy[i] * uy[i], vxy = uxy[i] - ux[i] * uy[i];
        double num = (2 * ux[i] * uy[i] + c1) * (2 * vxy + c2);
        double den = (ux[i] * ux[i] + uy[i] * uy[i] + c1) * (vx + vy + c2);
        sum += num / den;
    }
    *out = sum / (double)on;
    free(prod), free(tmp), free(f);
    return VD_OK;
}

vd_status vd_frame_metrics_compute(const uint8_t *a, const uint8_t *b, int w, int h, vd_frame_metrics *m,
                                   vd_error *err) {
    m->mse = vd_mse_rgb(a, b, w, h);
    m->psnr = vd_psnr_from_mse(m->mse, 255.0);
    size_t n = (size_t)w * h;
    double *ya = malloc(2 * n * sizeof(double));
    if (!ya) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_frame_metrics_compute: %dx%d: out of memory", w, h);
    double *yb = ya + n;
    vd_rgb_to_luma601(a, w, h, 0, ya);
    vd_rgb_to_luma601(b, w, h, 0, yb);
    vd_status s = vd_ssim_plane(ya, yb, w, h, 255.0, &m->ssim, err);
    free(ya);
    return s;
}

void vd_metrics_acc_init(vd_metrics_acc *acc) { memset(acc, 0, sizeof *acc); }

void vd_metrics_acc_add(vd_metrics_acc *acc, const vd_frame_metrics *m) {
    acc->n_frames++;
    acc->sum_mse += m->mse;
    acc->sum_ssim += m->ssim;
    if (m->mse <= 0) acc->n_identical++;
    else acc->sum_psnr += m->psnr;
}

double vd_metrics_acc_psnr_mean(const vd_metrics_acc *acc) {
    if (acc->n_frames == 0) return NAN;
    if (acc->n_identical > 0) return INFINITY;
    return acc->sum_psnr / (double)acc->n_frames;
}

double vd_metrics_acc_psnr_pooled(const vd_metrics_acc *acc) {
    if (acc->n_frames == 0) return NAN;
    return vd_psnr_from_mse(acc->sum_mse / (double)acc->n_frames, 255.0);
}

double vd_metrics_acc_ssim_mean(const vd_metrics_acc *acc) {
    return acc->n_frames ? acc->sum_ssim / (double)acc->n_frames : NAN;
}
