// Fidelity metrics between two RGB uint8 frames [H, W, 3] (rows packed unless a stride is given).
//
// PSNR: over all three RGB channels, MSE = mean over H*W*3 samples of (a - b)^2 in 0..255 units,
//       PSNR = 10 log10(255^2 / MSE) dB; +inf when the frames are identical (MSE = 0).
// SSIM: Wang, Bovik, Sheikh, Simoncelli 2004 (IEEE TIP 13(4)), on luma only:
//       Y = 0.299 R + 0.587 G + 0.114 B (BT.601 luma weights, unrounded, data range 255),
//       Gaussian window 11x11 with sigma 1.5 (separable, normalized), K1 = 0.01, K2 = 0.03,
//       population (not sample) covariances, mean of the SSIM map over the pixels whose whole
//       window lies inside the image ((H-10) x (W-10)). This equals scikit-image's
//       structural_similarity(Y_a, Y_b, gaussian_weights=True, sigma=1.5,
//       use_sample_covariance=False, data_range=255) on the same Y planes, which is how
//       scripts/gen_codecs_fixtures.py checks it. Frames must be at least 11x11.
//
// Video summaries: mean of per-frame PSNR (inf when any frame is identical), PSNR of the pooled
// MSE over all frames (finite unless the videos are identical), and mean of per-frame SSIM.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VD_SSIM_WIN 11
#define VD_SSIM_SIGMA 1.5

typedef struct {
    double mse;  // RGB, 0..255 units
    double psnr; // dB, +inf when mse == 0
    double ssim; // luma SSIM, <= 1
} vd_frame_metrics;

// y[H, W] = 0.299 R + 0.587 G + 0.114 B. stride in bytes (0 = w * 3).
void vd_rgb_to_luma601(const uint8_t *rgb, int w, int h, size_t stride, double *y);
double vd_mse_rgb(const uint8_t *a, const uint8_t *b, int w, int h);
double vd_psnr_from_mse(double mse, double peak);
// SSIM between two planes x, y [H, W] (any range; data_range is its width, 255 for 8 bit).
vd_status vd_ssim_plane(const double *x, const double *y, int w, int h, double data_range, double *out, vd_error *err);
// PSNR (RGB) and SSIM (luma) of one frame pair.
vd_status vd_frame_metrics_compute(const uint8_t *a, const uint8_t *b, int w, int h, vd_frame_metrics *m,
                                   vd_error *err);

typedef struct {
    int64_t n_frames;
    double sum_psnr, sum_mse, sum_ssim;
    int64_t n_identical; // frames with mse == 0 (psnr inf)
} vd_metrics_acc;

void vd_metrics_acc_init(vd_metrics_acc *acc);
void vd_metrics_acc_add(vd_metrics_acc *acc, const vd_frame_metrics *m);
double vd_metrics_acc_psnr_mean(const vd_metrics_acc *acc);   // mean of per-frame PSNR
double vd_metrics_acc_psnr_pooled(const vd_metrics_acc *acc); // PSNR of the mean MSE
double vd_metrics_acc_ssim_mean(const vd_metrics_acc *acc);

#ifdef __cplusplus
}
#endif
