// Core ops, CPU reference (fp32, OpenBLAS sgemm, OpenMP). Every op here has a CUDA twin in
// ops_cuda.h that must match it within the tolerance its gpu test states.
// Pointers are contiguous row-major host buffers; shapes are given in the comments.
// Ops never allocate unless they say so; out may alias x only where the comment says "in place ok".
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

// out[M,N] = x[M,K] @ w[N,K]^T (+ bias[N] when bias != NULL). w is a torch Linear weight.
void vd_linear_cpu(float *out, const float *x, const float *w, const float *bias, int64_t M, int64_t K, int64_t N);
// out[M,N] = a[M,K] @ b[K,N]  (plain row-major matmul; beta=0).
void vd_matmul_cpu(float *out, const float *a, const float *b, int64_t M, int64_t K, int64_t N);

// LayerNorm over the last dim C of x[M,C]; w, b may be NULL (no affine). in place ok.
void vd_layernorm_cpu(float *out, const float *x, const float *w, const float *b, int64_t M, int64_t C, float eps);
// RMSNorm over the last dim: out = x / sqrt(mean(x^2) + eps) * w (w may be NULL). in place ok.
void vd_rmsnorm_cpu(float *out, const float *x, const float *w, int64_t M, int64_t C, float eps);

// Elementwise, n values, in place ok.
void vd_gelu_tanh_cpu(float *out, const float *x, int64_t n);
void vd_silu_cpu(float *out, const float *x, int64_t n);
void vd_add_cpu(float *out, const float *a, const float *b, int64_t n);
void vd_mul_cpu(float *out, const float *a, const float *b, int64_t n);
void vd_scale_cpu(float *out, const float *x, float s, int64_t n);
// Row-broadcast ops on x[M,C] with vectors of length C:
// out = x * (1 + scale) + shift  (Wan/adaLN modulation). in place ok.
void vd_modulate_cpu(float *out, const float *x, const float *shift, const float *scale, int64_t M, int64_t C);
// out = x + gate * y  (gated residual; gate[C] broadcast over M rows; gate NULL means 1). in place ok (out == x).
void vd_gated_add_cpu(float *out, const float *x, const float *y, const float *gate, int64_t M, int64_t C);
// out = x + bias[C] broadcast over rows. in place ok.
void vd_add_bias_cpu(float *out, const float *x, const float *bias, int64_t M, int64_t C);

// Softmax over the last dim of x[M,C] (max-subtracted). in place ok.
void vd_softmax_cpu(float *out, const float *x, int64_t M, int64_t C);

// 3D RoPE, interleaved pairs, in place on x[N, NH, D] with token n = (f*Hp + h)*Wp + w.
// Head dim split: t-part D - 4*(D/6) dims, h-part 2*(D/6), w-part 2*(D/6) (Wan: 44/42/42 for D=128).
// Inside an axis of Da dims, pair j rotates by pos * theta^(-2j/Da) (theta = 10000).
// Angles computed in double as the references do. x row stride = NH*D (contiguous).
// Returns VD_ERR_INVALID_ARG when D is odd or an axis part is odd.
vd_status vd_rope3d_cpu(float *x, int64_t Fp, int64_t Hp, int64_t Wp, int64_t NH, int64_t D, double theta, vd_error *err);
// Splits D into the three axis widths as above (dt + dh + dw = D).
void vd_rope3d_split(int64_t D, int64_t *dt, int64_t *dh, int64_t *dw);

// Patchify x[C, F, H, W] with patch (pt, ph, pw) into tokens[N, C*pt*ph*pw], token (f, h, w)
// frame-major; the 64-vector order is (c, dt, dh, dw) with c slowest (matches the conv weight
// flattened to [dim, C*pt*ph*pw]). Requires F%pt == H%ph == W%pw == 0 (else VD_ERR_INVALID_ARG).
vd_status vd_patchify3d_cpu(float *tokens, const float *x, int64_t C, int64_t F, int64_t H, int64_t W,
                            int pt, int ph, int pw, vd_error *err);
// Unpatchify tokens[N, pt*ph*pw*C] (channel FASTEST: index ((dt*ph + dh)*pw + dw)*C + c) into
// y[C, Fp*pt, Hp*ph, Wp*pw]  (Wan's output head order).
void vd_unpatchify3d_cpu(float *y, const float *tokens, int64_t C, int64_t Fp, int64_t Hp, int64_t Wp,
                         int pt, int ph, int pw);

// Row gather/scatter: out[i,:] = x[idx[i],:] for i < n_idx (rows of C floats);
// scatter: out[idx[i],:] = x[i,:]. Indices are trusted (validated by callers).
void vd_gather_rows_cpu(float *out, const float *x, const int32_t *idx, int64_t n_idx, int64_t C);
void vd_scatter_rows_cpu(float *out, const float *x, const int32_t *idx, int64_t n_idx, int64_t C);

// 3D convolution, NCDHW, one sample: x[Cin, D, H, W] -> out[Cout, Do, Ho, Wo], weight
// [Cout, Cin, kd, kh, kw], bias[Cout] or NULL, zero padding (pd, ph, pw) on both sides of each axis,
// stride (sd, sh, sw). Do = (D + 2pd - kd)/sd + 1 etc. Causal padding is done by the caller
// (pad the input, call with pd = 0). im2col + sgemm, chunked over output rows (od, oh) so the
// im2col buffer stays bounded (32 MiB). Allocates its own scratch; VD_ERR_OUT_OF_MEMORY if it cannot,
// VD_ERR_INVALID_ARG for a kernel < 1, stride < 1, padding < 0 or an empty output.
typedef struct {
    int64_t cin, cout, d, h, w;   // input shape
    int kd, kh, kw;               // kernel
    int sd, sh, sw;               // stride (>= 1)
    int pd, ph, pw;               // zero padding per side
} vd_conv3d_shape;
void vd_conv3d_out_dims(const vd_conv3d_shape *s, int64_t *dout, int64_t *hout, int64_t *wout);
vd_status vd_conv3d_cpu(float *out, const float *x, const float *weight, const float *bias,
                        const vd_conv3d_shape *s, vd_error *err);

// Sinusoidal timestep embedding (Wan: [cos | sin], w_j = 10000^(-j/half)), out[dim] for one t.
// Computed in double, rounded once to fp32; an odd dim gets a trailing 0.
void vd_timestep_embedding_cpu(float *out, float t, int64_t dim);

#ifdef __cplusplus
}
#endif
