// Wan 3D RoPE on CUDA (twin of lib/ops_rope.c; wan21.md 1.4), in place on x[N, NH, D] with
// token n = (f*Hp + h)*Wp + w. Pairs [0, dt/2) turn with f, the next dh/2 with h, the last dw/2
// with w (dt = D - 4*(D/6), dh = dw = 2*(D/6)); pair j of an axis with Da dims turns by
// pos / theta^(2j/Da). Like the reference, the angle, cos/sin and the rotation are in double and
// rounded once to fp32 (the rotation with _rn intrinsics: no FMA), so results match the CPU to the
// last bit except where CUDA's double cos/sin/pow differ from libm by an ulp of double.
// One thread per (token, pair): the angle and its cos/sin are computed once and applied to all
// NH heads (Wan 1.3B: 32760 tokens x 64 pairs = 2.1M threads, 12 heads each).
#include "cuda_ctx.h"
#include "ops_cuda.h"

__global__ void rope3d_kernel(float *x, int64_t Hp, int64_t Wp, int64_t N, int64_t NH, int64_t D, int64_t pt, int64_t ph,
                              int64_t dt, int64_t dh, int64_t dw, double theta) {
    const int64_t P = D / 2, total = N * P;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t n = i / P, p = i - n * P;
        const int64_t f = n / (Hp * Wp), h = (n / Wp) % Hp, w = n % Wp;
        int64_t pos, j, Da;
        if (p < pt) {
            pos = f, j = p, Da = dt;
        } else if (p < pt + ph) {
            pos = h, j = p - pt, Da = dh;
        } else {
            pos = w, j = p - pt - ph, Da = dw;
        }
        const double ang = __ddiv_rn((double)pos, pow(theta, __ddiv_rn(__dmul_rn(2.0, (double)j), (double)Da)));
        double sn, cs;
        sincos(ang, &sn, &cs);
        float *xp = x + n * NH * D + 2 * p;
        for (int64_t hd = 0; hd < NH; hd++, xp += D) {
            const double a = xp[0], b = xp[1];
            xp[0] = __double2float_rn(__dsub_rn(__dmul_rn(a, cs), __dmul_rn(b, sn)));
            xp[1] = __double2float_rn(__dadd_rn(__dmul_rn(a, sn), __dmul_rn(b, cs)));
        }
    }
}

extern "C" vd_status vd_rope3d_cuda(vd_cuda_ctx *ctx, float *x, int64_t Fp, int64_t Hp, int64_t Wp, int64_t NH, int64_t D,
                                    double theta, vd_error *err) {
    const int64_t s = D > 0 ? 2 * (D / 6) : 0, dh = s, dw = s, dt = D - 2 * s; // vd_rope3d_split
    if (D <= 0 || (D & 1) || (dt & 1))
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_rope3d_cuda: head dim D=%lld splits into t/h/w parts %lld/%lld/%lld; "
                            "D must be positive and D and every part even (e.g. D=128 -> 44/42/42)",
                            (long long)D, (long long)dt, (long long)dh, (long long)dw);
    if (Fp < 0 || Hp < 0 || Wp < 0 || NH < 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_rope3d_cuda: grid Fp=%lld Hp=%lld Wp=%lld, NH=%lld; all must be >= 0",
                            (long long)Fp, (long long)Hp, (long long)Wp, (long long)NH);
    if (!(theta > 0.0) || theta > 1.7976931348623157e308)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_rope3d_cuda: theta=%g; must be finite and > 0 (Wan: 10000)", theta);
    const int64_t N = Fp * Hp * Wp;
    if (N == 0 || NH == 0) return VD_OK;
    if (!x) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_rope3d_cuda: x is NULL");
    rope3d_kernel<<<vd_cuda_grid(N * (D / 2), VD_CUDA_BLOCK), VD_CUDA_BLOCK, 0, ctx->stream>>>(x, Hp, Wp, N, NH, D, dt / 2, dh / 2,
                                                                                                 dt, dh, dw, theta);
    VD_CUDA_LAUNCH_CHECK(err, ctx->stream, "rope3d_kernel");
    return VD_OK;
}
