// 3D patchify / unpatchify on CUDA (twins of lib/ops_patch.c; pure copies, bit-exact). One thread
// per output element, index maps as in ops_patch.c (token n = (fp*Hp + hp)*Wp + wp):
//   patchify:   tokens[n][((c*pt + dt)*ph + dh)*pw + dw]   = x[c, fp*pt+dt, hp*ph+dh, wp*pw+dw]
//   unpatchify: y[c, fp*pt+dt, hp*ph+dh, wp*pw+dw]          = tokens[n][((dt*ph + dh)*pw + dw)*C + c]
// Writes are coalesced; reads stride by pw (patchify) or by C (unpatchify), a few % of a
// DiT step at Wan sizes.
#include "cuda_ctx.h"
#include "ops_cuda.h"

__global__ void patchify3d_kernel(float *tokens, const float *x, int64_t C, int64_t F, int64_t H, int64_t W, int pt, int ph,
                                  int pw) {
    const int64_t Hp = H / ph, Wp = W / pw, P = C * pt * ph * pw, total = C * F * H * W;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t n = i / P;
        int64_t k = i - n * P;
        const int64_t dw = k % pw;
        k /= pw;
        const int64_t dh = k % ph;
        k /= ph;
        const int64_t dt = k % pt, c = k / pt;
        const int64_t fp = n / (Hp * Wp), hp = (n / Wp) % Hp, wp = n % Wp;
        tokens[i] = x[((c * F + fp * pt + dt) * H + hp * ph + dh) * W + wp * pw + dw];
    }
}

__global__ void unpatchify3d_kernel(float *y, const float *tokens, int64_t C, int64_t Fp, int64_t Hp, int64_t Wp, int pt,
                                    int ph, int pw) {
    const int64_t F = Fp * pt, H = Hp * ph, W = Wp * pw, P = C * pt * ph * pw, total = C * F * H * W;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i;
        const int64_t ww = r % W;
        r /= W;
        const int64_t hh = r % H;
        r /= H;
        const int64_t ff = r % F, c = r / F;
        const int64_t fp = ff / pt, dt = ff % pt, hp = hh / ph, dh = hh % ph, wp = ww / pw, dw = ww % pw;
        const int64_t n = (fp * Hp + hp) * Wp + wp;
        y[i] = tokens[n * P + ((dt * ph + dh) * pw + dw) * C + c];
    }
}

extern "C" vd_status vd_patchify3d_cuda(vd_cuda_ctx *ctx, float *tokens, const float *x, int64_t C, int64_t F, int64_t H,
                                        int64_t W, int pt, int ph, int pw, vd_error *err) {
    if (pt < 1 || ph < 1 || pw < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_patchify3d_cuda: patch (%d,%d,%d); each size must be >= 1", pt, ph, pw);
    if (C < 1 || F < 1 || H < 1 || W < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_patchify3d_cuda: input [C=%lld, F=%lld, H=%lld, W=%lld]; each dim must be >= 1",
                            (long long)C, (long long)F, (long long)H, (long long)W);
    if (F % pt || H % ph || W % pw)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_patchify3d_cuda: input F=%lld, H=%lld, W=%lld is not divisible by patch (%d,%d,%d); "
                            "hint: latent frames/height/width must be multiples of the patch size",
                            (long long)F, (long long)H, (long long)W, pt, ph, pw);
    if (!tokens || !x) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_patchify3d_cuda: NULL buffer");
    const int64_t total = C * F * H * W;
    patchify3d_kernel<<<vd_cuda_grid(total, VD_CUDA_BLOCK), VD_CUDA_BLOCK, 0, ctx->stream>>>(tokens, x, C, F, H, W, pt, ph, pw);
    VD_CUDA_LAUNCH_CHECK(err, ctx->stream, "patchify3d_kernel");
    return VD_OK;
}

extern "C" vd_status vd_unpatchify3d_cuda(vd_cuda_ctx *ctx, float *y, const float *tokens, int64_t C, int64_t Fp, int64_t Hp,
                                          int64_t Wp, int pt, int ph, int pw, vd_error *err) {
    if (pt < 1 || ph < 1 || pw < 1 || C < 0 || Fp < 0 || Hp < 0 || Wp < 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_unpatchify3d_cuda: C=%lld grid (%lld,%lld,%lld) patch (%d,%d,%d); sizes must be >= 0 and "
                            "patch sizes >= 1",
                            (long long)C, (long long)Fp, (long long)Hp, (long long)Wp, pt, ph, pw);
    const int64_t total = C * Fp * pt * Hp * ph * Wp * pw;
    if (total == 0) return VD_OK;
    if (!tokens || !y) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_unpatchify3d_cuda: NULL buffer");
    unpatchify3d_kernel<<<vd_cuda_grid(total, VD_CUDA_BLOCK), VD_CUDA_BLOCK, 0, ctx->stream>>>(y, tokens, C, Fp, Hp, Wp, pt, ph, pw);
    VD_CUDA_LAUNCH_CHECK(err, ctx->stream, "unpatchify3d_kernel");
    return VD_OK;
}
