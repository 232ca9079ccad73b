// 3D convolution on CUDA (twin of lib/ops_conv3d.c): NCDHW, one sample, f32 in/out, bf16 operands
// with fp32 accumulation through cuBLASLt (vd_gemm_bf16_cuda). im2col in bf16:
//   wq[Cout, Kp]  = bf16(weight) (K = Cin*kd*kh*kw ordered (ci, a, b, c), zero-padded to Kp, a
//                   multiple of 8, so every row is 16-byte aligned for the tensor-core kernels)
//   col[P, Kp]    = bf16(x) under the window of each output position p (zeros in the padding)
//   out[:, chunk] = wq @ col^T       (M = Cout, N = positions of the chunk, ldo = Do*Ho*Wo)
// then out += bias[Cout] per row. Output rows r = od*Ho + oh are processed in chunks so that col
// stays under VD_CONV3D_CUDA_COL_BYTES. Workspace: wq + one chunk of col
// (vd_conv3d_cuda_workspace). Matches the CPU conv on bf16-rounded inputs within the fp32
// summation bound of tests/gpu/test_gemm_cuda.c.
#include "cuda_ctx.h"
#include "ops_cuda.h"

// 256 MiB of bf16 columns per GEMM: at K = 384*27 = 10368 that is 12945 output positions per
// GEMM (N), far past the size where cuBLASLt reaches its throughput.
#define VD_CONV3D_CUDA_COL_BYTES ((size_t)256 << 20)

typedef struct {
    int64_t Do, Ho, Wo, K, Kp, rows_per_chunk;
    size_t wq_bytes, col_bytes;
} conv_plan;

static bool conv_plan_make(const vd_conv3d_shape *s, conv_plan *p) {
    vd_conv3d_out_dims(s, &p->Do, &p->Ho, &p->Wo);
    if (p->Do < 1 || p->Ho < 1 || p->Wo < 1 || s->cin < 1 || s->cout < 1) return false;
    p->K = s->cin * s->kd * s->kh * s->kw;
    p->Kp = (p->K + 7) / 8 * 8;
    size_t row_bytes = (size_t)p->Wo * (size_t)p->Kp * 2;
    int64_t rows = (int64_t)(VD_CONV3D_CUDA_COL_BYTES / row_bytes);
    if (rows < 1) rows = 1;
    if (rows > p->Do * p->Ho) rows = p->Do * p->Ho;
    p->rows_per_chunk = rows;
    p->wq_bytes = ((size_t)s->cout * (size_t)p->Kp * 2 + 255) & ~(size_t)255;
    p->col_bytes = (size_t)rows * row_bytes;
    return true;
}

extern "C" size_t vd_conv3d_cuda_workspace(const vd_conv3d_shape *s) {
    conv_plan p;
    if (!conv_plan_make(s, &p)) return 0;
    return p.wq_bytes + p.col_bytes;
}

__device__ __forceinline__ uint16_t bf16_rne(float f) {
    uint32_t u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// wq[co, k] = bf16(weight[co, k]) for k < K, 0 for K <= k < Kp.
__global__ void conv_weight_bf16_kernel(uint16_t *wq, const float *weight, int64_t Cout, int64_t K, int64_t Kp) {
    const int64_t total = Cout * Kp;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t co = i / Kp, k = i - co * Kp;
        wq[i] = k < K ? bf16_rne(weight[co * K + k]) : (uint16_t)0;
    }
}

struct im2col_args {
    int64_t D, H, W, Ho, Wo, K, Kp, r0, n_pos;
    int kd, kh, kw, sd, sh, sw, pd, ph, pw;
};

// col[p, k] for the chunk's positions p = (r - r0)*Wo + ow, r = od*Ho + oh.
__global__ void conv_im2col_kernel(uint16_t *col, const float *x, im2col_args a) {
    const int64_t total = a.n_pos * a.Kp;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t p = i / a.Kp, k = i - p * a.Kp;
        uint16_t v = 0;
        if (k < a.K) {
            const int64_t r = a.r0 + p / a.Wo, ow = p % a.Wo, od = r / a.Ho, oh = r % a.Ho;
            int64_t t = k;
            const int64_t c = t % a.kw;
            t /= a.kw;
            const int64_t b = t % a.kh;
            t /= a.kh;
            const int64_t dd = t % a.kd, ci = t / a.kd;
            const int64_t id = od * a.sd - a.pd + dd, ih = oh * a.sh - a.ph + b, iw = ow * a.sw - a.pw + c;
            if (id >= 0 && id < a.D && ih >= 0 && ih < a.H && iw >= 0 && iw < a.W)
                v = bf16_rne(x[((ci * a.D + id) * a.H + ih) * a.W + iw]);
        }
        col[i] = v;
    }
}

// out[co, q] += bias[co] for q < n_out.
__global__ void conv_bias_kernel(float *out, const float *bias, int64_t Cout, int64_t n_out) {
    for (int64_t co = blockIdx.y; co < Cout; co += gridDim.y)
        for (int64_t q = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; q < n_out; q += (int64_t)gridDim.x * blockDim.x)
            out[co * n_out + q] += bias[co];
}

extern "C" vd_status vd_conv3d_cuda(vd_cuda_ctx *ctx, float *out, const float *x, const float *weight, const float *bias,
                                    const vd_conv3d_shape *s, void *ws, vd_error *err) {
    if (s->cin < 1 || s->cout < 1 || s->d < 1 || s->h < 1 || s->w < 1 || s->kd < 1 || s->kh < 1 || s->kw < 1 || s->sd < 1 ||
        s->sh < 1 || s->sw < 1 || s->pd < 0 || s->ph < 0 || s->pw < 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_conv3d_cuda: cin=%lld cout=%lld input %lldx%lldx%lld kernel (%d,%d,%d) stride (%d,%d,%d) "
                            "padding (%d,%d,%d); sizes, kernel and stride must be >= 1, padding >= 0",
                            (long long)s->cin, (long long)s->cout, (long long)s->d, (long long)s->h, (long long)s->w, s->kd,
                            s->kh, s->kw, s->sd, s->sh, s->sw, s->pd, s->ph, s->pw);
    conv_plan p;
    if (!conv_plan_make(s, &p))
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_conv3d_cuda: kernel (%d,%d,%d) is larger than the padded input (%lld,%lld,%lld)", s->kd,
                            s->kh, s->kw, (long long)(s->d + 2 * s->pd), (long long)(s->h + 2 * s->ph),
                            (long long)(s->w + 2 * s->pw));
    if (!out || !x || !weight || !ws)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_conv3d_cuda: NULL buffer (out %p, x %p, weight %p, workspace %p; workspace needs %zu bytes)",
                            (void *)out, (const void *)x, (const void *)weight, ws, p.wq_bytes + p.col_bytes);
    uint16_t *wq = (uint16_t *)ws, *col = (uint16_t *)((char *)ws + p.wq_bytes);
    conv_weight_bf16_kernel<<<vd_cuda_grid(s->cout * p.Kp, VD_CUDA_BLOCK), VD_CUDA_BLOCK, 0, ctx->stream>>>(wq, weight, s->cout,
                                                                                                            p.K, p.Kp);
    VD_CUDA_LAUNCH_CHECK(err, ctx->stream, "conv_weight_bf16_kernel");
    const int64_t n_rows = p.Do * p.Ho, n_out = n_rows * p.Wo;
    im2col_args a = {s->d, s->h, s->w, p.Ho, p.Wo, p.K, p.Kp, 0, 0, s->kd, s->kh, s->kw, s->sd, s->sh, s->sw, s->pd, s->ph, s->pw};
    for (int64_t r0 = 0; r0 < n_rows; r0 += p.rows_per_chunk) {
        const int64_t nr = n_rows - r0 < p.rows_per_chunk ? n_rows - r0 : p.rows_per_chunk;
        a.r0 = r0;
        a.n_pos = nr * p.Wo;
        conv_im2col_kernel<<<vd_cuda_grid(a.n_pos * p.Kp, VD_CUDA_BLOCK), VD_CUDA_BLOCK, 0, ctx->stream>>>(col, x, a);
        VD_CUDA_LAUNCH_CHECK(err, ctx->stream, "conv_im2col_kernel");
        VD_TRY(vd_gemm_bf16_cuda(ctx, out + r0 * p.Wo, VD_F32, n_out, wq, p.Kp, col, p.Kp, NULL, s->cout, p.Kp, a.n_pos, err));
    }
    if (bias) {
        dim3 grid(vd_cuda_grid(n_out, VD_CUDA_BLOCK) < 1024 ? vd_cuda_grid(n_out, VD_CUDA_BLOCK) : 1024,
                  (unsigned)(s->cout < 65535 ? s->cout : 65535));
        conv_bias_kernel<<<grid, VD_CUDA_BLOCK, 0, ctx->stream>>>(out, bias, s->cout, n_out);
        VD_CUDA_LAUNCH_CHECK(err, ctx->stream, "conv_bias_kernel");
    }
    return VD_OK;
}
