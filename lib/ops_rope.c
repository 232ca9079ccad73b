// Wan 3D RoPE on the CPU (wan21.md 1.4): interleaved pairs (2p, 2p+1) of each head's D dims,
// the D/2 pairs split over three axes: pairs [0, dt/2) rotate with the frame index f, the next
// dh/2 with the row h, the last dw/2 with the column w (dt = D - 4*(D/6), dh = dw = 2*(D/6);
// 44/42/42 for D=128, 24/20/20 for D=64). Pair j of an axis with Da dims turns by
// angle = pos * theta^(-2j/Da); (a, b) -> (a cos - b sin, a sin + b cos).
// Math is in double and rounded once to fp32, as orig Wan does (float64 complex multiply).
// No tables: each token computes its own cos/sin in chunks of ROPE_CHUNK pairs (stack buffer),
// and shares them across the NH heads; the op allocates nothing.
#include <math.h>

#include "ops.h"

#define ROPE_CHUNK 32

void vd_rope3d_split(int64_t D, int64_t *dt, int64_t *dh, int64_t *dw) {
    const int64_t s = 2 * (D / 6);
    *dh = s;
    *dw = s;
    *dt = D - 2 * s;
}

// x[N, NH, D] in place, token n = (f*Hp + h)*Wp + w.
vd_status vd_rope3d_cpu(float *x, int64_t Fp, int64_t Hp, int64_t Wp, int64_t NH, int64_t D, double theta,
                        vd_error *err) {
    int64_t dt, dh, dw;
    vd_rope3d_split(D, &dt, &dh, &dw);
    if (D <= 0 || (D & 1) || (dt & 1) || (dh & 1) || (dw & 1))
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_rope3d_cpu: head dim D=%lld splits into t/h/w parts %lld/%lld/%lld; "
                            "D must be positive and D and every part even (e.g. D=128 -> 44/42/42)",
                            (long long)D, (long long)dt, (long long)dh, (long long)dw);
    if (Fp < 0 || Hp < 0 || Wp < 0 || NH < 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_rope3d_cpu: grid Fp=%lld Hp=%lld Wp=%lld, NH=%lld; all must be >= 0",
                            (long long)Fp, (long long)Hp, (long long)Wp, (long long)NH);
    if (!(theta > 0.0) || !isfinite(theta))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_rope3d_cpu: theta=%g; must be finite and > 0 (Wan: 10000)",
                            theta);

    const int64_t N = Fp * Hp * Wp, P = D / 2, pt = dt / 2, ph = dh / 2;
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; n++) {
        const int64_t f = n / (Hp * Wp), h = (n / Wp) % Hp, w = n % Wp;
        float *xn = x + n * NH * D;
        double cs[ROPE_CHUNK], sn[ROPE_CHUNK];
        for (int64_t p0 = 0; p0 < P; p0 += ROPE_CHUNK) {
            const int64_t pc = P - p0 < ROPE_CHUNK ? P - p0 : ROPE_CHUNK;
            for (int64_t k = 0; k < pc; k++) {
                const int64_t p = p0 + k;
                int64_t pos, j, Da;
                if (p < pt) {
                    pos = f, j = p, Da = dt;
                } else if (p < pt + ph) {
                    pos = h, j = p - pt, Da = dh;
                } else {
                    pos = w, j = p - pt - ph, Da = dw;
                }
                // 1 / theta^(2j/Da) in double, the form of orig Wan's rope_params.
                const double ang = (double)pos / pow(theta, 2.0 * (double)j / (double)Da);
                cs[k] = cos(ang);
                sn[k] = sin(ang);
            }
            for (int64_t hd = 0; hd < NH; hd++) {
                float *xp = xn + hd * D + 2 * p0;
                for (int64_t k = 0; k < pc; k++) {
                    const double a = xp[2 * k], b = xp[2 * k + 1];
                    xp[2 * k] = (float)(a * cs[k] - b * sn[k]);
                    xp[2 * k + 1] = (float)(a * sn[k] + b * cs[k]);
                }
            }
        }
    }
    return VD_OK;
}
