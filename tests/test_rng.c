// Philox4x32-10 Gaussian RNG (lib/rng.h, lib/philox_math.h), CPU side:
//  1. Known-answer vectors of Philox4x32-10 (the Random123 kat_vectors entries for philox4x32 10),
//     confirmed by this independent Python re-implementation of the paper's round function:
//        M0,M1,W0,W1 = 0xD2511F53,0xCD9E8D57,0x9E3779B9,0xBB67AE85
//        def philox(c, k):
//            for r in range(10):
//                if r: k = [(k[0]+W0) & 0xffffffff, (k[1]+W1) & 0xffffffff]
//                p0, p1 = M0*c[0], M1*c[2]
//                c = [(p1>>32)^c[1]^k[0], p1 & 0xffffffff, (p0>>32)^c[3]^k[1], p0 & 0xffffffff]
//            return c
//  2. vdit's own log / sin / cos (the only math the GPU shares) against libm (log in double,
//     sin/cos in long double so that the reference angle 2*pi*b/2^32 carries no double rounding).
//  3. The samples against Box-Muller recomputed with libm from the same Philox words (<= 1 ulp).
//  4. Statistics of 1e6 samples: mean, variance, skewness, kurtosis, tail masses, lag
//     correlations and the Kolmogorov-Smirnov distance to N(0,1), each with a bound of about
//     5 standard errors (stated per check), so a correct generator fails with p < 1e-5.
//  5. Determinism: same (seed, offset) gives the same bits; element i does not depend on n;
//     other seeds and offsets give other streams.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/philox_math.h"
#include "lib/rng.h"
#include "test_util.h"

static void test_kat(void) {
    static const uint32_t ctr[3][4] = {{0, 0, 0, 0},
                                       {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                                       {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}};
    static const uint32_t key[3][2] = {{0, 0}, {0xffffffffu, 0xffffffffu}, {0xa4093822u, 0x299f31d0u}};
    static const uint32_t want[3][4] = {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
                                        {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu},
                                        {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}};
    for (int t = 0; t < 3; t++) {
        uint32_t got[4];
        vd_philox4x32_10(ctr[t], key[t], got);
        int ok = memcmp(got, want[t], sizeof got) == 0;
        printf("%s kat %d: %08x %08x %08x %08x\n", ok ? "ok  " : "FAIL", t, got[0], got[1], got[2], got[3]);
        VT_EXPECT(ok);
    }
}

// Every 2^20-th word plus the edges; bounds are a few ulp of double (2^-52 = 2.2e-16).
static void test_math(void) {
    double worst_log = 0, worst_sc = 0;
    for (uint64_t v = 1; v <= (1ull << 32); v += (v < 4096 ? 1 : (1ull << 20) + 7)) {
        double ref = log((double)v * 0x1p-32);
        double got = vd_philox_log_u32(v);
        double e = fabs(got - ref) / (fabs(ref) > 1e-300 ? fabs(ref) : 1.0);
        if (v == (1ull << 32)) e = fabs(got); // log(1) = 0 exactly
        if (e > worst_log) worst_log = e;
    }
    double l1 = vd_philox_log_u32(1ull << 32);
    VT_EXPECT(l1 == 0.0);
    for (uint64_t b = 0; b <= 0xffffffffull; b += 999983) {
        double s, c;
        vd_philox_sincos_u32((uint32_t)b, &s, &c);
        long double a = 6.283185307179586476925286766559L * ((long double)b * 0x1p-32L);
        double es = (double)fabsl(s - sinl(a)), ec = (double)fabsl(c - cosl(a));
        if (es > worst_sc) worst_sc = es;
        if (ec > worst_sc) worst_sc = ec;
    }
    uint32_t edges[] = {0u, 0x20000000u, 0x40000000u, 0x80000000u, 0xC0000000u, 0xffffffffu, 0x1fffffffu, 0x3fffffffu};
    for (int i = 0; i < 8; i++) {
        double s, c;
        vd_philox_sincos_u32(edges[i], &s, &c);
        long double a = 6.283185307179586476925286766559L * ((long double)edges[i] * 0x1p-32L);
        if ((double)fabsl(s - sinl(a)) > worst_sc) worst_sc = (double)fabsl(s - sinl(a));
        if ((double)fabsl(c - cosl(a)) > worst_sc) worst_sc = (double)fabsl(c - cosl(a));
    }
    // log: relative 4 ulp of double; sin/cos: absolute 4e-16 against long-double libm (exact angle)
    bool ok = worst_log < 8.9e-16 && worst_sc < 4e-16;
    printf("%s math: worst rel err log %.3g (< 8.9e-16), worst abs err sin/cos %.3g (< 4e-16)\n", ok ? "ok  " : "FAIL",
           worst_log, worst_sc);
    VT_EXPECT(ok);
}

static float ulp_f(float x) { return nextafterf(fabsf(x), INFINITY) - fabsf(x); }

static void test_box_muller_vs_libm(void) {
    const int64_t n_blk = 50000;
    int64_t exact = 0, bad = 0;
    for (int64_t b = 0; b < n_blk; b++) {
        uint32_t ctr[4] = {(uint32_t)b, 5u, 0u, 0u}, key[2] = {1234u, 0u}, x[4];
        vd_philox4x32_10(ctr, key, x);
        float got[4];
        vd_philox_normal4((uint64_t)b, 1234u, 5u, got);
        for (int p = 0; p < 2; p++) {
            double u1 = ((double)x[2 * p] + 1.0) * 0x1p-32, ang = 6.283185307179586476925 * ((double)x[2 * p + 1] * 0x1p-32);
            double r = sqrt(-2.0 * log(u1));
            float ref[2] = {(float)(r * cos(ang)), (float)(r * sin(ang))};
            for (int j = 0; j < 2; j++) {
                float g = got[2 * p + j];
                if (g == ref[j]) exact++;
                else if (fabsf(g - ref[j]) > ulp_f(ref[j]) && fabsf(g - ref[j]) > 1e-12f) bad++;
            }
        }
    }
    bool ok = bad == 0 && exact > (4 * n_blk) * 99 / 100;
    printf("%s box-muller vs libm: %lld samples, %lld bit-equal, %lld beyond 1 ulp\n", ok ? "ok  " : "FAIL",
           (long long)(4 * n_blk), (long long)exact, (long long)bad);
    VT_EXPECT(ok);
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void check_stat(const char *name, double got, double want, double bound) {
    bool ok = fabs(got - want) <= bound && isfinite(got);
    printf("%s stat %s: %.6f (expected %.6f +- %.2g)\n", ok ? "ok  " : "FAIL", name, got, want, bound);
    if (!ok) vt_failures++;
}

static void test_statistics(void) {
    const int64_t n = 1000000;
    float *z = malloc(sizeof(float) * n);
    VD_ASSERT(z);
    vd_rng_normal_cpu(z, n, 20251128u, 0);
    double s1 = 0, s2 = 0, s3 = 0, s4 = 0, t1 = 0, t2 = 0, t3 = 0, c1 = 0, c4 = 0;
    int64_t nonfinite = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = z[i];
        if (!isfinite(v)) nonfinite++;
        s1 += v;
        s2 += v * v;
        s3 += v * v * v;
        s4 += v * v * v * v;
        double a = fabs(v);
        t1 += a > 1;
        t2 += a > 2;
        t3 += a > 3;
        if (i + 1 < n) c1 += v * z[i + 1];
        if (i + 4 < n) c4 += v * z[i + 4];
    }
    VT_EXPECT(nonfinite == 0);
    double m = s1 / n, var = s2 / n - m * m, sq = sqrt((double)n);
    // standard errors of N(0,1) moments: mean 1/sqrt(n), var sqrt(2/n), skew sqrt(6/n), kurt sqrt(24/n)
    check_stat("mean", m, 0.0, 5.0 / sq);
    check_stat("variance", var, 1.0, 5.0 * sqrt(2.0) / sq);
    check_stat("skewness", s3 / n, 0.0, 5.0 * sqrt(15.0) / sq); // var(z^3) = 15
    check_stat("kurtosis", s4 / n, 3.0, 5.0 * sqrt(96.0) / sq);  // var(z^4) = 105 - 9 = 96
    double p1 = erfc(1.0 / sqrt(2.0)), p2 = erfc(2.0 / sqrt(2.0)), p3 = erfc(3.0 / sqrt(2.0));
    check_stat("P(|z|>1)", t1 / n, p1, 5.0 * sqrt(p1 * (1 - p1) / n));
    check_stat("P(|z|>2)", t2 / n, p2, 5.0 * sqrt(p2 * (1 - p2) / n));
    check_stat("P(|z|>3)", t3 / n, p3, 5.0 * sqrt(p3 * (1 - p3) / n));
    check_stat("lag-1 corr", c1 / n, 0.0, 5.0 / sq); // neighbours share a Box-Muller pair: must still be uncorrelated
    check_stat("lag-4 corr", c4 / n, 0.0, 5.0 / sq); // neighbouring Philox blocks
    qsort(z, (size_t)n, sizeof(float), cmp_float);
    double ks = 0;
    for (int64_t i = 0; i < n; i++) {
        double F = 0.5 * erfc(-z[i] / sqrt(2.0));
        double d = fmax(fabs(F - (double)i / n), fabs(F - (double)(i + 1) / n));
        if (d > ks) ks = d;
    }
    // Kolmogorov distribution: P(sqrt(n) D > 2.0) ~ 1.3e-3 ... 2.3 gives ~1e-4
    check_stat("KS distance * sqrt(n)", ks * sq, 0.0, 2.3);
    printf("     max |z| = %.4f (Box-Muller with 32-bit u1 caps |z| at 6.66)\n", fmax(fabs(z[0]), fabs(z[n - 1])));
    VT_EXPECT(fabs(z[0]) <= 6.67 && fabs(z[n - 1]) <= 6.67);
    free(z);
}

static void test_determinism(void) {
    const int64_t n = 1003;
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n), *c = malloc(sizeof(float) * n);
    VD_ASSERT(a && b && c);
    vd_rng_normal_cpu(a, n, 42, 7);
    vd_rng_normal_cpu(b, n, 42, 7);
    VT_EXPECT(memcmp(a, b, sizeof(float) * n) == 0);
    for (int64_t k = 1; k <= 9; k++) { // prefixes, including n not a multiple of 4
        memset(c, 0xA5, sizeof(float) * n);
        vd_rng_normal_cpu(c, k, 42, 7);
        VT_EXPECT(memcmp(a, c, sizeof(float) * k) == 0);
        uint32_t canary;
        memcpy(&canary, &c[k], 4);
        VT_EXPECT(canary == 0xA5A5A5A5u); // nothing written past n
    }
    int64_t same_seed = 0, same_off = 0;
    vd_rng_normal_cpu(b, n, 43, 7);
    vd_rng_normal_cpu(c, n, 42, 8);
    for (int64_t i = 0; i < n; i++) {
        same_seed += a[i] == b[i];
        same_off += a[i] == c[i];
    }
    // (seed 1<<32) must differ from seed 0: the key's high word is used
    float h0[8], h1[8];
    vd_rng_normal_cpu(h0, 8, 0, 0);
    vd_rng_normal_cpu(h1, 8, 1ull << 32, 0);
    VT_EXPECT(memcmp(h0, h1, sizeof h0) != 0);
    vd_rng_normal_cpu(h1, 8, 0, 1ull << 32);
    VT_EXPECT(memcmp(h0, h1, sizeof h0) != 0);
    printf("%s determinism: repeat equal, prefixes equal, %lld/%lld equal across seeds, %lld across offsets\n",
           same_seed < 3 && same_off < 3 ? "ok  " : "FAIL", (long long)same_seed, (long long)n, (long long)same_off);
    VT_EXPECT(same_seed < 3 && same_off < 3);
    free(a);
    free(b);
    free(c);
}

int main(void) {
    test_kat();
    test_math();
    test_box_muller_vs_libm();
    test_statistics();
    test_determinism();
    return vt_finish("test_rng");
}
