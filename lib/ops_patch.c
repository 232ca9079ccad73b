// Data movement on the CPU: 3D patchify (latent -> tokens), unpatchify (head output -> latent)
// and row gather/scatter by index. Pure copies, so results are exact; the CUDA twins must match
// bit for bit. Index maps (wan21.md 1.2 and 1.5), with Fp = F/pt, Hp = H/ph, Wp = W/pw and
// token n = (fp*Hp + hp)*Wp + wp:
//   patchify:   tokens[n][((c*pt + dt)*ph + dh)*pw + dw]   = x[c, fp*pt+dt, hp*ph+dh, wp*pw+dw]
//   unpatchify: tokens[n][((dt*ph + dh)*pw + dw)*C + c]    -> y[c, fp*pt+dt, hp*ph+dh, wp*pw+dw]
// (channel slowest on the way in, as the patch-embed conv weight flattens; channel fastest on
// the way out, as the output head is laid out).
#include <string.h>

#include "ops.h"

// tokens[N, C*pt*ph*pw] from x[C, F, H, W].
vd_status vd_patchify3d_cpu(float *tokens, const float *x, int64_t C, int64_t F, int64_t H, int64_t W, int pt, int ph,
                            int pw, vd_error *err) {
    if (pt < 1 || ph < 1 || pw < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_patchify3d_cpu: patch (%d,%d,%d); each size must be >= 1", pt,
                            ph, pw);
    if (C < 1 || F < 1 || H < 1 || W < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_patchify3d_cpu: input [C=%lld, F=%lld, H=%lld, W=%lld]; each dim must be >= 1",
                            (long long)C, (long long)F, (long long)H, (long long)W);
    if (F % pt || H % ph || W % pw)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_patchify3d_cpu: input F=%lld, H=%lld, W=%lld is not divisible by patch (%d,%d,%d); "
                            "hint: latent frames/height/width must be multiples of the patch size",
                            (long long)F, (long long)H, (long long)W, pt, ph, pw);
    const int64_t Fp = F / pt, Hp = H / ph, Wp = W / pw, N = Fp * Hp * Wp;
    const int64_t P = (int64_t)C * pt * ph * pw;
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; n++) {
        const int64_t fp = n / (Hp * Wp), hp = (n / Wp) % Hp, wp = n % Wp;
        float *tok = tokens + n * P;
        int64_t k = 0;
        for (int64_t c = 0; c < C; c++)
            for (int dt = 0; dt < pt; dt++)
                for (int dh = 0; dh < ph; dh++) {
                    // the pw values of one patch row are contiguous in x
                    const float *src = x + ((c * F + fp * pt + dt) * H + hp * ph + dh) * W + wp * pw;
                    memcpy(tok + k, src, (size_t)pw * sizeof(float));
                    k += pw;
                }
    }
    return VD_OK;
}

// y[C, Fp*pt, Hp*ph, Wp*pw] from tokens[N, pt*ph*pw*C].
void vd_unpatchify3d_cpu(float *y, const float *tokens, int64_t C, int64_t Fp, int64_t Hp, int64_t Wp, int pt, int ph,
                         int pw) {
    const int64_t F = Fp * pt, H = Hp * ph, W = Wp * pw, N = Fp * Hp * Wp;
    const int64_t P = (int64_t)C * pt * ph * pw;
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; n++) {
        const int64_t fp = n / (Hp * Wp), hp = (n / Wp) % Hp, wp = n % Wp;
        const float *tok = tokens + n * P;
        for (int dt = 0; dt < pt; dt++)
            for (int dh = 0; dh < ph; dh++)
                for (int dw = 0; dw < pw; dw++) {
                    const float *src = tok + ((int64_t)(dt * ph + dh) * pw + dw) * C;
                    float *dst = y + ((fp * pt + dt) * H + hp * ph + dh) * W + wp * pw + dw;
                    for (int64_t c = 0; c < C; c++) dst[c * F * H * W] = src[c];
                }
    }
}

// out[i,:] = x[idx[i],:], rows of C floats.
void vd_gather_rows_cpu(float *out, const float *x, const int32_t *idx, int64_t n_idx, int64_t C) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n_idx; i++) memcpy(out + i * C, x + (int64_t)idx[i] * C, (size_t)C * sizeof(float));
}

// out[idx[i],:] = x[i,:]. Rows are written in parallel, so repeated indices give an unspecified
// winner; callers pass permutations or other duplicate-free index sets.
void vd_scatter_rows_cpu(float *out, const float *x, const int32_t *idx, int64_t n_idx, int64_t C) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n_idx; i++) memcpy(out + (int64_t)idx[i] * C, x + i * C, (size_t)C * sizeof(float));
}
