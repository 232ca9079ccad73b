// Sinusoidal encodings: the Wan 3D RoPE (vd_rope3d_cpu, wan21.md 1.4) and the timestep embedding
// (vd_timestep_embedding_cpu, wan21.md 1.2 step 2), each against a double reference built
// directly from the spec text.
// Usage: test_ops_rope [base_seed]   (case seed = base_seed*1000 + case index)
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ops.h"
#include "tests/test_util.h"

// Reference: for token (f,h,w) and head, the D/2 interleaved pairs form complex numbers
// z_p = x[2p] + i x[2p+1]; the first 22 (D=128) belong to the frame axis, the next 21 to height,
// the last 21 to width (axis widths in dims: D - 4*(D/6), 2*(D/6), 2*(D/6)). Pair j of an axis of
// Da dims is multiplied by exp(i * pos * theta^(-2j/Da)).
static void ref_rope(double *ref, const float *x, int64_t F, int64_t H, int64_t W, int64_t NH, int64_t D,
                     double theta) {
    const int64_t axis_dims[3] = {D - 4 * (D / 6), 2 * (D / 6), 2 * (D / 6)};
    for (int64_t f = 0; f < F; f++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t w = 0; w < W; w++) {
                const int64_t n = (f * H + h) * W + w;
                const int64_t pos[3] = {f, h, w};
                for (int64_t hd = 0; hd < NH; hd++) {
                    const float *xv = x + (n * NH + hd) * D;
                    double *rv = ref + (n * NH + hd) * D;
                    int64_t p = 0;
                    for (int axis = 0; axis < 3; axis++) {
                        const int64_t Da = axis_dims[axis];
                        for (int64_t j = 0; j < Da / 2; j++, p++) {
                            const double angle = (double)pos[axis] * pow(theta, -2.0 * (double)j / (double)Da);
                            const double complex z = xv[2 * p] + I * (double)xv[2 * p + 1];
                            const double complex rz = z * cexp(I * angle);
                            rv[2 * p] = creal(rz);
                            rv[2 * p + 1] = cimag(rz);
                        }
                    }
                }
            }
}

// Tolerance: the op rotates in double and rounds once, so each output is within half an ulp of
// the double reference (the angle/pow evaluation orders differ by ~1e-16 relative, negligible):
// rtol 2^-23, atol 1e-7 for outputs that cancel to near zero.
static void rope_case(uint64_t seed, int64_t F, int64_t H, int64_t W, int64_t NH, int64_t D) {
    vt_rng r;
    vt_rng_seed(&r, seed);
    const int64_t n = F * H * W * NH * D;
    float *x = malloc((size_t)n * sizeof(float)), *y = malloc((size_t)n * sizeof(float));
    double *ref = malloc((size_t)n * sizeof(double));
    vt_fill_normal(&r, x, n, 1.0f);
    memcpy(y, x, (size_t)n * sizeof(float));
    vd_error err = {0};
    const vd_status st = vd_rope3d_cpu(y, F, H, W, NH, D, 10000.0, &err);
    VT_EXPECT(st == VD_OK);
    ref_rope(ref, x, F, H, W, NH, D, 10000.0);
    char name[160];
    snprintf(name, sizeof name, "rope3d F=%lld H=%lld W=%lld NH=%lld D=%lld seed=%llu", (long long)F, (long long)H,
             (long long)W, (long long)NH, (long long)D, (unsigned long long)seed);
    vt_check_d(name, y, ref, n, 1e-7, 0x1p-23);
    // Token 0 sits at (0,0,0): every angle is 0, so it must come back bit-identical.
    VT_EXPECT(memcmp(y, x, (size_t)(NH * D) * sizeof(float)) == 0);
    free(x), free(y), free(ref);
}

static void rope_split_and_errors(void) {
    int64_t dt, dh, dw;
    vd_rope3d_split(128, &dt, &dh, &dw);
    VT_EXPECT(dt == 44 && dh == 42 && dw == 42); // wan21.md 1.4 / sd.cpp axes_dim {44,42,42}
    vd_rope3d_split(64, &dt, &dh, &dw);
    VT_EXPECT(dt == 24 && dh == 20 && dw == 20);
    vd_rope3d_split(96, &dt, &dh, &dw);
    VT_EXPECT(dt == 32 && dh == 32 && dw == 32);

    // Odd D (which is the only way a part can be odd: dh, dw are even by construction and
    // dt = D - 4*(D/6) has D's parity) and D <= 0 are rejected before x is touched.
    const int64_t bad[] = {127, 63, 7, 1, 0, -2};
    float x[2 * 127];
    for (int i = 0; i < 2 * 127; i++) x[i] = (float)i;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vd_error err = {0};
        const vd_status st = vd_rope3d_cpu(x, 1, 1, 2, 1, bad[i], 10000.0, &err);
        printf("%s rope3d D=%lld rejected: %s\n", st == VD_ERR_INVALID_ARG ? "ok  " : "FAIL", (long long)bad[i],
               err.msg);
        VT_EXPECT(st == VD_ERR_INVALID_ARG);
        VT_EXPECT(err.code == VD_ERR_INVALID_ARG && strstr(err.msg, "vd_rope3d_cpu") != NULL);
    }
    int untouched = 1;
    for (int i = 0; i < 2 * 127; i++) untouched &= x[i] == (float)i;
    VT_EXPECT(untouched);
    vd_error err = {0};
    VT_EXPECT(vd_rope3d_cpu(x, 1, 1, 2, 1, 64, 0.0, &err) == VD_ERR_INVALID_ARG);
    VT_EXPECT(vd_rope3d_cpu(x, -1, 1, 2, 1, 64, 10000.0, &err) == VD_ERR_INVALID_ARG);
}

// Known answer: D=6 has parts 2/2/2 (one pair per axis, j = 0, frequency 1), so token (f,h,w)
// turns pair 0 by f, pair 1 by h and pair 2 by w radians. x = (1,0) per pair -> (cos, sin).
static void rope_known_answer(void) {
    const int64_t F = 2, H = 3, W = 4, D = 6;
    float x[2 * 3 * 4 * 6];
    for (int64_t n = 0; n < F * H * W; n++)
        for (int p = 0; p < 3; p++) x[n * D + 2 * p] = 1.0f, x[n * D + 2 * p + 1] = 0.0f;
    vd_error err = {0};
    VT_EXPECT(vd_rope3d_cpu(x, F, H, W, 1, D, 10000.0, &err) == VD_OK);
    float want[2 * 3 * 4 * 6];
    for (int64_t f = 0; f < F; f++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t w = 0; w < W; w++) {
                float *o = want + ((f * H + h) * W + w) * D;
                const double a[3] = {(double)f, (double)h, (double)w};
                for (int p = 0; p < 3; p++) o[2 * p] = (float)cos(a[p]), o[2 * p + 1] = (float)sin(a[p]);
            }
    vt_check("rope3d D=6 known angles (f, h, w radians)", x, want, F * H * W * D, 1e-7, 0x1p-23);
}

// Timestep embedding: [cos(t w_j) | sin(t w_j)], w_j = 10000^(-j/half), j < half. The op computes
// in double and rounds once; the reference uses exp(-j/half * ln 10000), which differs by ~1e-16
// relative in w_j (angles up to 1000 -> ~1e-13 absolute), so the fp32 result is within half an
// ulp (<= 3e-8 for |v| <= 1): atol 6e-8.
static void timestep_cases(void) {
    const float ts[] = {0.0f, 1.0f, 999.0f, 1000.0f, 437.25f, 0.03125f};
    const int64_t dims[] = {256, 64, 6, 2};
    for (size_t ti = 0; ti < sizeof ts / sizeof ts[0]; ti++)
        for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
            const int64_t dim = dims[di], half = dim / 2;
            float out[256];
            double ref[256];
            for (int64_t j = 0; j < half; j++) {
                const double w = exp(-(double)j / (double)half * log(10000.0));
                ref[j] = cos((double)ts[ti] * w);
                ref[half + j] = sin((double)ts[ti] * w);
            }
            vd_timestep_embedding_cpu(out, ts[ti], dim);
            char name[96];
            snprintf(name, sizeof name, "timestep_embedding t=%g dim=%lld", ts[ti], (long long)dim);
            vt_check_d(name, out, ref, dim, 6e-8, 0);
        }
    // t = 0: cos half all 1, sin half all 0.
    float out[256];
    vd_timestep_embedding_cpu(out, 0.0f, 256);
    int ok = 1;
    for (int j = 0; j < 128; j++) ok &= out[j] == 1.0f && out[128 + j] == 0.0f;
    VT_EXPECT(ok);
    // j = 0 has w = 1: element 0 is cos(t), element half is sin(t).
    vd_timestep_embedding_cpu(out, 2.0f, 256);
    VT_EXPECT(out[0] == (float)cos(2.0) && out[128] == (float)sin(2.0));
    // Odd dim: trailing zero after [cos | sin] of half = 2.
    float o5[5];
    vd_timestep_embedding_cpu(o5, 3.0f, 5);
    VT_EXPECT(o5[0] == (float)cos(3.0) && o5[2] == (float)sin(3.0) && o5[4] == 0.0f);
}

int main(int argc, char **argv) {
    const uint64_t base = vt_base_seed(argc, argv, "test_ops_rope");
    rope_split_and_errors();
    rope_known_answer();
    uint64_t ci = 0;
    // F != H != W grids, odd sizes, F = 1, and positions up to 40 (angles up to 40 rad).
    rope_case(base * 1000 + ci++, 3, 5, 7, 2, 128);
    rope_case(base * 1000 + ci++, 2, 7, 5, 3, 64);
    rope_case(base * 1000 + ci++, 1, 4, 9, 1, 128);
    rope_case(base * 1000 + ci++, 5, 3, 2, 1, 64);
    rope_case(base * 1000 + ci++, 1, 1, 1, 4, 128);
    rope_case(base * 1000 + ci++, 21, 2, 40, 1, 128);
    rope_case(base * 1000 + ci++, 2, 3, 5, 2, 96);
    timestep_cases();
    return vt_finish("test_ops_rope");
}
