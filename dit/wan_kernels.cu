// Fused elementwise/norm kernels of the Wan DiT forward (wan_kernels.h). They replace op chains
// that would each make a full pass over [N, C] activations:
//   LN + (table + time) modulation + bf16 cast          (was: layernorm, add, modulate, convert)
//   RMSNorm across heads + 3D RoPE + bf16 cast           (was: rmsnorm, rope, convert)
//   gated residual with (table + time) gate              (was: add, gated_add)
// Rows are reduced by one block each (C <= 8192 in every Wan config: 1536 / 5120).
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <string.h>

#include "dit/wan_kernels.h"
#include "dit/wan_rms_rope.cuh"
#include "lib/cuda_check.h"

#define LAUNCH_CHECK(err, name)                                                                              \
    do {                                                                                                     \
        cudaError_t ce_ = cudaGetLastError();                                                                \
        if (ce_ != cudaSuccess)                                                                              \
            return vd_error_set(err, VD_ERR_CUDA, "%s: launch of %s failed: %s", __func__, name, cudaGetErrorString(ce_)); \
    } while (0)

// ---- device helpers ------------------------------------------------------------------------

__device__ __forceinline__ float gelu_tanh_f(float x) {
    const float k = 0.7978845608028654f; // sqrt(2 / pi)
    return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

// ---- kernels -------------------------------------------------------------------------------

__global__ void ln_mod_kernel(__nv_bfloat16 *out, const float *x, int C, float eps, const float *w, const float *b,
                              const float *sh_a, const float *sh_b, const float *sc_a, const float *sc_b) {
    __shared__ float sh[32];
    const int64_t row = blockIdx.x;
    const float *xr = x + row * C;
    float s = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) s += xr[c];
    const float mean = block_sum(s, sh) / C;
    float v = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float d = xr[c] - mean;
        v += d * d;
    }
    const float rstd = rsqrtf(block_sum(v, sh) / C + eps);
    __nv_bfloat16 *o = out + row * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float y = (xr[c] - mean) * rstd;
        if (w) y = y * w[c] + b[c];
        if (sc_a) {
            float scale = sc_a[c] + (sc_b ? sc_b[c] : 0.0f);
            float shift = sh_a[c] + (sh_b ? sh_b[c] : 0.0f);
            y = y * (1.0f + scale) + shift;
        }
        o[c] = __float2bfloat16_rn(y);
    }
}

// Two channels per thread: x f32 pairs, y bf16 pairs, gate (g_a + g_b) pairs; C2 = C / 2.
__global__ void gated_add_kernel(float2 *x, const __nv_bfloat162 *y, const float2 *g_a, const float2 *g_b, int64_t n2,
                                 int C2) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n2; i += (int64_t)gridDim.x * blockDim.x) {
        const int c = (int)(i % C2);
        float2 g = make_float2(1.0f, 1.0f);
        if (g_a) {
            g = g_a[c];
            if (g_b) {
                float2 t = g_b[c];
                g.x += t.x;
                g.y += t.y;
            }
        }
        float2 a = x[i], b = __bfloat1622float2(y[i]);
        a.x += g.x * b.x;
        a.y += g.y * b.y;
        x[i] = a;
    }
}

__global__ void gelu_bf16_kernel(__nv_bfloat162 *x, int64_t n2) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n2; i += (int64_t)gridDim.x * blockDim.x) {
        float2 v = __bfloat1622float2(x[i]);
        x[i] = __floats2bfloat162_rn(gelu_tanh_f(v.x), gelu_tanh_f(v.y));
    }
}

__global__ void gelu_bf16_tail_kernel(__nv_bfloat16 *x, int64_t n) {
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i < n) x[i] = __float2bfloat16_rn(gelu_tanh_f(__bfloat162float(x[i])));
}

__global__ void gelu_f32_bf16_kernel(__nv_bfloat16 *out, const float *x, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = __float2bfloat16_rn(gelu_tanh_f(x[i]));
}

// One warp per output row; x (after the optional SiLU) staged in shared memory once per block.
__global__ void gemv_kernel(float *out, const float *W, const float *b, const float *x, int N, int K, int silu_in) {
    extern __shared__ float xs[];
    for (int k = threadIdx.x; k < K; k += blockDim.x) {
        float v = x[k];
        xs[k] = silu_in ? v / (1.0f + expf(-v)) : v;
    }
    __syncthreads();
    const int warps = blockDim.x >> 5, lane = threadIdx.x & 31;
    const int row = blockIdx.x * warps + (threadIdx.x >> 5);
    if (row >= N) return;
    const float *wr = W + (int64_t)row * K;
    float acc = 0.0f;
    for (int k = lane; k < K; k += 32) acc += wr[k] * xs[k];
    acc = warp_sum(acc);
    if (lane == 0) out[row] = acc + (b ? b[row] : 0.0f);
}

// ---- launchers -----------------------------------------------------------------------------

static unsigned grid_for(int64_t n) {
    int64_t g = (n + 255) / 256;
    if (g > 132 * 32) g = 132 * 32; // grid-stride loops: a few waves on 132 SMs
    return (unsigned)(g < 1 ? 1 : g);
}

extern "C" vd_status vd_wan_ln_mod_cuda(void *stream, uint16_t *out, const float *x, int64_t M, int64_t C, float eps,
                                        const float *w, const float *b, const float *sh_a, const float *sh_b,
                                        const float *sc_a, const float *sc_b, vd_error *err) {
    if (M <= 0) return VD_OK;
    ln_mod_kernel<<<(unsigned)M, ROW_THREADS, 0, (cudaStream_t)stream>>>((__nv_bfloat16 *)out, x, (int)C, eps, w, b, sh_a,
                                                                         sh_b, sc_a, sc_b);
    LAUNCH_CHECK(err, "ln_mod_kernel");
    return VD_OK;
}

extern "C" vd_status vd_wan_rms_rope_cuda(void *stream, uint16_t *out, const void *x, int x_bf16, int64_t M, int64_t C,
                                          float eps, const float *w, const vd_wan_rope_desc *rope, vd_error *err) {
    if (M <= 0) return VD_OK;
    if (C % 2) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_rms_rope_cuda: C %lld must be even", (long long)C);
    vd_wan_rope_desc r;
    memset(&r, 0, sizeof r);
    if (rope) r = *rope;
    if (x_bf16)
        rms_rope_kernel<__nv_bfloat16><<<(unsigned)M, ROW_THREADS, 0, (cudaStream_t)stream>>>(
            (__nv_bfloat16 *)out, (const __nv_bfloat16 *)x, (int)C, eps, w, r, rope != NULL);
    else
        rms_rope_kernel<float><<<(unsigned)M, ROW_THREADS, 0, (cudaStream_t)stream>>>((__nv_bfloat16 *)out, (const float *)x,
                                                                                     (int)C, eps, w, r, rope != NULL);
    LAUNCH_CHECK(err, "rms_rope_kernel");
    return VD_OK;
}

template <typename T, int PPT>
static void rms_rope_pool_launch(cudaStream_t st, uint16_t *out, const void *x, int64_t M, int C, float eps, const float *w,
                                 const vd_wan_rope_desc &r, int rope, const vd_wan_pool_desc *pool, int Tn) {
    rms_rope_pool_kernel<T, PPT><<<(unsigned)Tn, ROW_THREADS, 0, st>>>((__nv_bfloat16 *)out, pool->out, (const T *)x, M, C,
                                                                      eps, w, r, rope, pool->head_dim, pool->tile, Tn);
}

template <typename T>
static vd_status rms_rope_pool_dispatch(cudaStream_t st, uint16_t *out, const void *x, int64_t M, int C, float eps,
                                        const float *w, const vd_wan_rope_desc &r, int rope, const vd_wan_pool_desc *pool,
                                        int Tn, vd_error *err) {
    switch (rms_rope_pool_ppt(C)) {
    case 1: rms_rope_pool_launch<T, 1>(st, out, x, M, C, eps, w, r, rope, pool, Tn); break;
    case 3: rms_rope_pool_launch<T, 3>(st, out, x, M, C, eps, w, r, rope, pool, Tn); break;
    case 6: rms_rope_pool_launch<T, 6>(st, out, x, M, C, eps, w, r, rope, pool, Tn); break;
    case 10: rms_rope_pool_launch<T, 10>(st, out, x, M, C, eps, w, r, rope, pool, Tn); break;
    default: rms_rope_pool_launch<T, 16>(st, out, x, M, C, eps, w, r, rope, pool, Tn); break;   // C <= 8192 checked
    }
    LAUNCH_CHECK(err, "rms_rope_pool_kernel");
    return VD_OK;
}

extern "C" vd_status vd_wan_rms_rope_pool_cuda(void *stream, uint16_t *out, const void *x, int x_bf16, int64_t M, int64_t C,
                                               float eps, const float *w, const vd_wan_rope_desc *rope,
                                               const vd_wan_pool_desc *pool, vd_error *err) {
    if (!pool) return vd_wan_rms_rope_cuda(stream, out, x, x_bf16, M, C, eps, w, rope, err);
    if (M <= 0) return VD_OK;
    if (C % 2 || C > 8192)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_rms_rope_pool_cuda: C %lld must be even and <= 8192", (long long)C);
    if (!pool->out || pool->head_dim <= 0 || pool->head_dim % 2 || C % pool->head_dim || pool->tile < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_wan_rms_rope_pool_cuda: pool out=%p head_dim=%d tile=%d (out needed, head_dim even and "
                            "dividing C = %lld, tile >= 1)",
                            (void *)pool->out, pool->head_dim, pool->tile, (long long)C);
    const int64_t Tn = (M + pool->tile - 1) / pool->tile;
    if (Tn > 2147483647LL)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_wan_rms_rope_pool_cuda: %lld tiles (max 2^31 - 1)", (long long)Tn);
    if (rope && (rope->D <= 0 || rope->D % 2 || rope->max_pos <= 0 || (int64_t)3 * rope->max_pos * (rope->D / 2) > 2147483647LL))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_rms_rope_pool_cuda: rope D=%d max_pos=%d (D even > 0, tables < 2^31 "
                            "entries)", rope->D, rope->max_pos);
    vd_wan_rope_desc r;
    memset(&r, 0, sizeof r);
    if (rope) r = *rope;
    cudaStream_t st = (cudaStream_t)stream;
    if (x_bf16) return rms_rope_pool_dispatch<__nv_bfloat16>(st, out, x, M, (int)C, eps, w, r, rope != NULL, pool, (int)Tn, err);
    return rms_rope_pool_dispatch<float>(st, out, x, M, (int)C, eps, w, r, rope != NULL, pool, (int)Tn, err);
}

extern "C" vd_status vd_wan_gated_add_cuda(void *stream, float *x, const uint16_t *y, const float *g_a, const float *g_b,
                                           int64_t M, int64_t C, vd_error *err) {
    const int64_t n = M * C;
    if (n <= 0) return VD_OK;
    if (C % 2) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_gated_add_cuda: C %lld must be even", (long long)C);
    gated_add_kernel<<<grid_for(n / 2), 256, 0, (cudaStream_t)stream>>>((float2 *)x, (const __nv_bfloat162 *)y,
                                                                        (const float2 *)g_a, (const float2 *)g_b, n / 2,
                                                                        (int)(C / 2));
    LAUNCH_CHECK(err, "gated_add_kernel");
    return VD_OK;
}

extern "C" vd_status vd_wan_gelu_bf16_cuda(void *stream, uint16_t *x, int64_t n, vd_error *err) {
    if (n <= 0) return VD_OK;
    gelu_bf16_kernel<<<grid_for(n / 2 + 1), 256, 0, (cudaStream_t)stream>>>((__nv_bfloat162 *)x, n / 2);
    if (n % 2) gelu_bf16_tail_kernel<<<1, 1, 0, (cudaStream_t)stream>>>((__nv_bfloat16 *)x + (n - 1), 1);
    LAUNCH_CHECK(err, "gelu_bf16_kernel");
    return VD_OK;
}

extern "C" vd_status vd_wan_gelu_f32_to_bf16_cuda(void *stream, uint16_t *out, const float *x, int64_t n, vd_error *err) {
    if (n <= 0) return VD_OK;
    gelu_f32_bf16_kernel<<<grid_for(n), 256, 0, (cudaStream_t)stream>>>((__nv_bfloat16 *)out, x, n);
    LAUNCH_CHECK(err, "gelu_f32_bf16_kernel");
    return VD_OK;
}

extern "C" vd_status vd_wan_gemv_f32_cuda(void *stream, float *out, const float *W, const float *b, const float *x, int64_t N,
                                          int64_t K, int silu_in, vd_error *err) {
    if (K > 12288 || K < 1 || N < 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_gemv_f32_cuda: K %lld must be in [1, 12288], N %lld >= 1",
                            (long long)K, (long long)N);
    const int warps = 8;
    gemv_kernel<<<(unsigned)((N + warps - 1) / warps), warps * 32, (size_t)K * sizeof(float), (cudaStream_t)stream>>>(
        out, W, b, x, (int)N, (int)K, silu_in);
    LAUNCH_CHECK(err, "gemv_kernel");
    return VD_OK;
}
