// The Wan RMSNorm + RoPE kernels on the CPU: dit/wan_rms_rope.cuh compiled as host C++ with
// VD_WAN_EMU, every block run as 256 POSIX threads, __syncthreads and shfl.xor emulated through
// barriers and per-warp exchange slots (blocks one after another, so `static` stands in for
// __shared__). It runs the exact bodies of rms_rope_kernel and rms_rope_pool_kernel (pair
// ownership, the batched reductions with double-buffered partials, the next-batch loads, the
// ragged last tile and batch, the [H, T, head_dim] layout of the means, every pairs-per-thread
// instance and both input types) and checks, as the gpu test test_wan_rope_pool_cuda does:
//   1. the pooled kernel's output is bit-identical to the row kernel's;
//   2. the output is within one bf16 ulp (+ 1e-5) of vd_rmsnorm_cpu + vd_rope3d_cpu;
//   3. the means equal vd_attn_pool_tiles_cpu of the output up to the fp32 summation bound;
//   4. nothing is written past the means (guard canaries) and every mean is written (NaN fill).
// Not emulated: the GPU's rsqrtf / FMA contraction (host: 1 / sqrtf, no FMA; both kernels share
// the arithmetic, so 1. holds on either) and performance.
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <vector>

extern "C" {
#include "attention/attention.h"
#include "lib/dtype.h"
#include "lib/ops.h"
#include "tests/test_util.h"
}

// ---- the CUDA subset the kernels use ----
struct dim3e { unsigned x, y, z; };
static thread_local dim3e threadIdx, blockIdx;
static const dim3e blockDim = {256, 1, 1};
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
using std::min;

struct __nv_bfloat16 { uint16_t b; };
struct __nv_bfloat162 { __nv_bfloat16 x, y; };
struct float2 { float x, y; };
static inline float2 make_float2(float x, float y) { return float2{x, y}; }
static inline float2 __bfloat1622float2(__nv_bfloat162 v) { return float2{vd_bf16_to_f32(v.x.b), vd_bf16_to_f32(v.y.b)}; }
static inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) {
    return __nv_bfloat162{{vd_f32_to_bf16(a)}, {vd_f32_to_bf16(b)}};
}
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }

static pthread_barrier_t g_bar, g_wbar[8];
static float g_slot[8][32];
static inline void __syncthreads() { pthread_barrier_wait(&g_bar); }
static inline float __shfl_xor_sync(unsigned, float v, int o) {
    const int w = threadIdx.x / 32, l = threadIdx.x % 32;
    g_slot[w][l] = v;
    pthread_barrier_wait(&g_wbar[w]);
    const float r = g_slot[w][l ^ o];
    pthread_barrier_wait(&g_wbar[w]);
    return r;
}

#include "dit/wan_rms_rope.cuh"

// ---- launch: 256 threads, each running every block in turn (a barrier between blocks) ----
struct Launch {
    void (*body)(void *);
    void *arg;
    unsigned grid, tid;
    static void *run(void *p) {
        Launch *L = (Launch *)p;
        threadIdx = dim3e{L->tid, 0, 0};
        for (unsigned b = 0; b < L->grid; b++) {
            blockIdx = dim3e{b, 0, 0};
            L->body(L->arg);
            pthread_barrier_wait(&g_bar);
        }
        return NULL;
    }
};

static void launch(unsigned grid, void (*body)(void *), void *arg) {
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 256 * 1024);
    pthread_t th[256];
    Launch L[256];
    for (unsigned t = 0; t < 256; t++) {
        L[t] = Launch{body, arg, grid, t};
        if (pthread_create(&th[t], &at, Launch::run, &L[t])) {
            fprintf(stderr, "emu: pthread_create failed\n");
            abort();
        }
    }
    for (int t = 0; t < 256; t++) pthread_join(th[t], NULL);
    pthread_attr_destroy(&at);
}

// ---- one case ----
struct Args {
    uint16_t *out;
    float *pooled;
    const void *x;
    int64_t M;
    int C, hd, tile, Tn, rope;
    float eps;
    const float *w;
    vd_wan_rope_desc r;
};

template <typename T> static void body_row(void *p) {
    Args *a = (Args *)p;
    rms_rope_kernel<T>((__nv_bfloat16 *)a->out, (const T *)a->x, a->C, a->eps, a->w, a->r, a->rope);
}
template <typename T, int PPT> static void body_pool(void *p) {
    Args *a = (Args *)p;
    rms_rope_pool_kernel<T, PPT>((__nv_bfloat16 *)a->out, a->pooled, (const T *)a->x, a->M, a->C, a->eps, a->w, a->r,
                                 a->rope, a->hd, a->tile, a->Tn);
}
template <typename T> static void (*pool_body(int ppt))(void *) {
    switch (ppt) {
    case 1: return body_pool<T, 1>;
    case 3: return body_pool<T, 3>;
    case 6: return body_pool<T, 6>;
    case 10: return body_pool<T, 10>;
    default: return body_pool<T, 16>;
    }
}

struct Case {
    const char *name;
    int F, Hp, Wp, NH, D, tile, bf16, rope;
};

static void report(bool ok, const char *what) {
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) vt_failures++;
}

static void run_case(const Case &c, uint64_t seed) {
    const int64_t N = (int64_t)c.F * c.Hp * c.Wp, C = (int64_t)c.NH * c.D, T = (N + c.tile - 1) / c.tile;
    const int maxp = 64, P = c.D / 2;
    vt_rng g;
    vt_rng_seed(&g, seed);
    std::vector<float> x(N * C), w(C), yref(N * C), y(N * C), pown(c.NH * T * c.D);
    vt_fill_normal(&g, x.data(), N * C, 1.0f);
    for (int64_t n = 0; n < N; n++) {   // varied row RMS
        const float s = 0.25f * powf(16.0f, vt_uniform(&g));
        for (int64_t i = 0; i < C; i++) x[n * C + i] *= s;
    }
    vt_fill_uniform(&g, w.data(), C, 0.5f, 1.5f);
    if (c.bf16) vt_round_bf16(x.data(), N * C);
    std::vector<uint16_t> xb(N * C);
    for (int64_t i = 0; i < N * C; i++) xb[i] = vd_f32_to_bf16(x[i]);
    // RoPE tables as vd_wan_cuda_create builds them
    int64_t dt, dh, dw;
    vd_rope3d_split(c.D, &dt, &dh, &dw);
    const int64_t off[3] = {0, dt / 2, (dt + dh) / 2}, width[3] = {dt, dh, dw}, ntab = (int64_t)3 * maxp * P;
    std::vector<float> tab(2 * ntab);
    for (int ax = 0; ax < 3; ax++)
        for (int p = 0; p < maxp; p++)
            for (int j = 0; j < P; j++) {
                const int64_t ja = j - off[ax], i = ((int64_t)ax * maxp + p) * P + j;
                const double ang = ja >= 0 && ja < width[ax] / 2 ? p * pow(10000.0, -2.0 * ja / width[ax]) : 0;
                tab[i] = (float)cos(ang);
                tab[ntab + i] = (float)sin(ang);
            }
    std::vector<uint16_t> out_row(N * C), out_pool(N * C, 0xFFFF);
    float *pooled = vt_guarded_alloc(c.NH * T * c.D);
    for (int64_t i = 0; i < c.NH * T * c.D; i++) pooled[i] = NAN;
    Args a = {out_row.data(), pooled, c.bf16 ? (const void *)xb.data() : (const void *)x.data(), N, (int)C, c.D, c.tile,
              (int)T, c.rope, 1e-6f, w.data(),
              vd_wan_rope_desc{tab.data(), tab.data() + ntab, maxp, c.D, (int)(dt / 2), (int)(dh / 2), c.Hp, c.Wp}};
    launch((unsigned)N, c.bf16 ? body_row<__nv_bfloat16> : body_row<float>, &a);
    a.out = out_pool.data();
    const int ppt = rms_rope_pool_ppt(C);
    launch((unsigned)T, c.bf16 ? pool_body<__nv_bfloat16>(ppt) : pool_body<float>(ppt), &a);

    char what[256];
    int64_t ndiff = 0;
    for (int64_t i = 0; i < N * C; i++) ndiff += out_row[i] != out_pool[i];
    snprintf(what, sizeof what, "%s: pooled kernel's output bit-identical to the row kernel's (%lld of %lld differ; %d "
             "pairs per thread)", c.name, (long long)ndiff, (long long)(N * C), ppt);
    report(ndiff == 0, what);

    vd_rmsnorm_cpu(yref.data(), x.data(), w.data(), N, C, 1e-6f);
    if (c.rope) {
        vd_error e = {};
        if (vd_rope3d_cpu(yref.data(), c.F, c.Hp, c.Wp, c.NH, c.D, 10000.0, &e) != VD_OK) {
            fprintf(stderr, "vd_rope3d_cpu: %s\n", e.msg);
            abort();
        }
    }
    vt_round_bf16(yref.data(), N * C);
    for (int64_t i = 0; i < N * C; i++) y[i] = vd_bf16_to_f32(out_pool[i]);
    snprintf(what, sizeof what, "%s: output vs CPU RMSNorm + RoPE (one bf16 ulp)", c.name);
    vt_check(what, y.data(), yref.data(), N * C, 1e-5, 1.0 / 128);

    vd_attn_pool_tiles_cpu(pown.data(), y.data(), N * C, C, c.D, 1, (int)N, c.NH, c.D, c.tile);
    int64_t bad = 0;
    double worst = 0;
    for (int h = 0; h < c.NH; h++)
        for (int64_t t = 0; t < T; t++) {
            const int64_t n0 = t * c.tile, n1 = std::min(n0 + c.tile, N);
            for (int d = 0; d < c.D; d++) {
                double mabs = 0;
                for (int64_t n = n0; n < n1; n++) mabs += fabs(y[(n * c.NH + h) * c.D + d]);
                const int64_t i = ((int64_t)h * T + t) * c.D + d;
                const double e = fabs((double)pooled[i] - pown[i]);
                const double bound = 2.0 * mabs / 16777216.0 + 4.0 * fabs(pown[i]) / 16777216.0 + 1e-12;
                bad += !(e <= bound);
                worst = std::max(worst, std::isnan(e) ? INFINITY : e);
            }
        }
    snprintf(what, sizeof what, "%s: %lld of %lld tile means off vd_attn_pool_tiles_cpu of the output (tile %d, %lld "
             "tiles; worst %.3g)", c.name, (long long)bad, (long long)(c.NH * T * c.D), c.tile, (long long)T, worst);
    report(bad == 0, what);
    snprintf(what, sizeof what, "%s: nothing written past the means", c.name);
    report(vt_guards_ok(pooled, c.NH * T * c.D), what);
    vt_guarded_free(pooled);
}

int main(int argc, char **argv) {
    const uint64_t seed = vt_base_seed(argc, argv, "test_wan_rope_pool_emu");
    pthread_barrier_init(&g_bar, NULL, 256);
    for (int i = 0; i < 8; i++) pthread_barrier_init(&g_wbar[i], NULL, 32);
    static const Case cases[] = {
        {"N=180 NH=12 D=128 tile 128 bf16 rope (ragged 52-row tile)", 3, 6, 10, 12, 128, 128, 1, 1},
        {"N=35 NH=2 D=64 tile 16 bf16 rope (C=128: one pair per thread)", 1, 5, 7, 2, 64, 16, 1, 1},
        {"N=70 NH=12 D=64 tile 64 f32 input rope", 2, 5, 7, 12, 64, 64, 0, 1},
        {"N=37 NH=24 D=128 tile 32 bf16 no rope (6 pairs per thread)", 1, 1, 37, 24, 128, 32, 1, 0},
        {"N=20 NH=40 D=128 tile 7 bf16 rope (10 pairs per thread)", 1, 4, 5, 40, 128, 7, 1, 1},
        {"N=9 NH=64 D=128 tile 4 bf16 rope (C=8192: 16 pairs per thread)", 1, 3, 3, 64, 128, 4, 1, 1},
        {"N=12 NH=12 D=128 tile 1 f32 input rope", 1, 3, 4, 12, 128, 1, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(cases[i], seed + i);
    return vt_finish("test_wan_rope_pool_emu");
}
