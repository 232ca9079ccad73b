// Philox4x32-10 and the Box-Muller math shared by the CPU (rng.c) and the GPU (rng.cu), written
// so that both produce the same bits (lib/rng.h).
//
// Why this is bit-identical: every floating-point step is one IEEE-754 double operation from
// {+, -, *, /, sqrt}, each correctly rounded to nearest on both sides, in a fixed order:
//   - device code uses the explicit round-to-nearest intrinsics (__dadd_rn, __dmul_rn, ...),
//     which the compiler never fuses into FMAs;
//   - host code is rng.c, compiled with -ffp-contract=off (lib/CMakeLists.txt) and without
//     -ffast-math, on x86-64 SSE2 / AArch64 doubles (no x87 extended precision).
// Constants are hex-float literals (exact bit patterns, no decimal parsing involved): the
// polynomial coefficients are 1/(2i+1), (-1)^i/(2i+1)! and (-1)^i/(2i)!, each correctly rounded
// (computed with Python fractions). Integer steps (exponent extraction, quadrant) are exact.
// No libm and no CUDA math library function is called.
//
// Accuracy (checked against libm in tests/test_rng.c): log, sin and cos to a few ulp of double,
// far below the float rounding of the final samples.
#pragma once
#include <stdint.h>

#if defined(__CUDACC__)
#define VD_PHILOX_FN static __host__ __device__ __forceinline__
#else
#define VD_PHILOX_FN static inline
#endif

#if defined(__CUDA_ARCH__)
#define VD_DADD(a, b) __dadd_rn((a), (b))
#define VD_DSUB(a, b) __dsub_rn((a), (b))
#define VD_DMUL(a, b) __dmul_rn((a), (b))
#define VD_DDIV(a, b) __ddiv_rn((a), (b))
#define VD_DSQRT(a) __dsqrt_rn(a)
#define VD_D2F(a) __double2float_rn(a)
#else
#include <math.h>
#define VD_DADD(a, b) ((a) + (b))
#define VD_DSUB(a, b) ((a) - (b))
#define VD_DMUL(a, b) ((a) * (b))
#define VD_DDIV(a, b) ((a) / (b))
#define VD_DSQRT(a) sqrt(a)
#define VD_D2F(a) ((float)(a))
#endif

// Philox4x32 constants (Salmon et al., SC'11): multipliers and Weyl key increments.
#define VD_PHILOX_M0 0xD2511F53u
#define VD_PHILOX_M1 0xCD9E8D57u
#define VD_PHILOX_W0 0x9E3779B9u
#define VD_PHILOX_W1 0xBB67AE85u

// One Philox4x32 round: two 32x32->64 products, the S-box-free mixing of the paper.
VD_PHILOX_FN void vd_philox_round(uint32_t c[4], const uint32_t k[2]) {
    uint64_t p0 = (uint64_t)VD_PHILOX_M0 * c[0];
    uint64_t p1 = (uint64_t)VD_PHILOX_M1 * c[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t n0 = hi1 ^ c[1] ^ k[0], n2 = hi0 ^ c[3] ^ k[1];
    c[0] = n0;
    c[1] = lo1;
    c[2] = n2;
    c[3] = lo0;
}

// Philox4x32-10: ten rounds, the key bumped by (W0, W1) between rounds.
VD_PHILOX_FN void vd_philox4x32_10_block(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    uint32_t k[2] = {key[0], key[1]};
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k[0] += VD_PHILOX_W0;
            k[1] += VD_PHILOX_W1;
        }
        vd_philox_round(c, k);
    }
    out[0] = c[0];
    out[1] = c[1];
    out[2] = c[2];
    out[3] = c[3];
}

// 2^e as a double for -1022 <= e <= 1023, built from its bits (exact).
VD_PHILOX_FN double vd_pow2(int e) {
    union { uint64_t u; double d; } b;
    b.u = (uint64_t)(e + 1023) << 52;
    return b.d;
}

// Natural log of u = v * 2^-32 for an integer v in [1, 2^32], i.e. u in (0, 1].
// v = m * 2^k with m in [sqrt(1/2), sqrt(2)) (k from the integer's bit length, exact);
// ln u = (k - 32) ln 2 + ln m, ln m = 2 atanh(s) = 2 s (1 + s^2/3 + s^4/5 + ...), s = (m-1)/(m+1),
// |s| <= 0.1716, so 11 terms reach 2^-53. ln 2 is split (hi has 32 trailing zero bits, so
// (k-32)*hi is exact).
VD_PHILOX_FN double vd_philox_log_u32(uint64_t v) {
    int k = 0;
    while (k < 32 && (v >> (k + 1)) != 0) k++; // k = floor(log2 v), 0..32
    double m = VD_DMUL((double)v, vd_pow2(-k)); // [1, 2), exact
    if (m > 0x1.6a09e667f3bcdp+0) {             // > sqrt(2): use m/2 in [0.707, 1)
        m = VD_DMUL(m, 0.5);
        k++;
    }
    double s = VD_DDIV(VD_DSUB(m, 1.0), VD_DADD(m, 1.0));
    double t = VD_DMUL(s, s);
    double p = 0x1.8618618618618p-5;            // 1/21
    p = VD_DADD(0x1.af286bca1af28p-5, VD_DMUL(t, p)); // 1/19
    p = VD_DADD(0x1.e1e1e1e1e1e1ep-5, VD_DMUL(t, p)); // 1/17
    p = VD_DADD(0x1.1111111111111p-4, VD_DMUL(t, p)); // 1/15
    p = VD_DADD(0x1.3b13b13b13b14p-4, VD_DMUL(t, p)); // 1/13
    p = VD_DADD(0x1.745d1745d1746p-4, VD_DMUL(t, p)); // 1/11
    p = VD_DADD(0x1.c71c71c71c71cp-4, VD_DMUL(t, p)); // 1/9
    p = VD_DADD(0x1.2492492492492p-3, VD_DMUL(t, p)); // 1/7
    p = VD_DADD(0x1.999999999999ap-3, VD_DMUL(t, p)); // 1/5
    p = VD_DADD(0x1.5555555555555p-2, VD_DMUL(t, p)); // 1/3
    p = VD_DADD(1.0, VD_DMUL(t, p));
    double ln_m = VD_DMUL(VD_DMUL(2.0, s), p);
    double e = (double)(k - 32);
    return VD_DADD(VD_DMUL(e, 0x1.62e4200000000p-1), VD_DADD(VD_DMUL(e, 0x1.fdf473de6af28p-22), ln_m));
}

// sin and cos of theta = g * pi/2 for g in [0, 1/2] (theta in [0, pi/4]): Taylor polynomials,
// 9 terms for sin and 10 for cos reach 2^-53 at pi/4.
VD_PHILOX_FN void vd_philox_sincos_octant(double g, double *s_out, double *c_out) {
    double th = VD_DMUL(g, 0x1.921fb54442d18p+0);
    double t = VD_DMUL(th, th);
    double s = 0x1.952c77030ad4ap-49;                 // 1/17!
    s = VD_DADD(-0x1.ae7f3e733b81fp-41, VD_DMUL(t, s)); // -1/15!
    s = VD_DADD(0x1.6124613a86d09p-33, VD_DMUL(t, s));  // 1/13!
    s = VD_DADD(-0x1.ae64567f544e4p-26, VD_DMUL(t, s)); // -1/11!
    s = VD_DADD(0x1.71de3a556c734p-19, VD_DMUL(t, s));  // 1/9!
    s = VD_DADD(-0x1.a01a01a01a01ap-13, VD_DMUL(t, s)); // -1/7!
    s = VD_DADD(0x1.1111111111111p-7, VD_DMUL(t, s));   // 1/5!
    s = VD_DADD(-0x1.5555555555555p-3, VD_DMUL(t, s));  // -1/3!
    s = VD_DADD(1.0, VD_DMUL(t, s));
    double c = -0x1.6827863b97d97p-53;                // -1/18!
    c = VD_DADD(0x1.ae7f3e733b81fp-45, VD_DMUL(t, c));  // 1/16!
    c = VD_DADD(-0x1.93974a8c07c9dp-37, VD_DMUL(t, c)); // -1/14!
    c = VD_DADD(0x1.1eed8eff8d898p-29, VD_DMUL(t, c));  // 1/12!
    c = VD_DADD(-0x1.27e4fb7789f5cp-22, VD_DMUL(t, c)); // -1/10!
    c = VD_DADD(0x1.a01a01a01a01ap-16, VD_DMUL(t, c));  // 1/8!
    c = VD_DADD(-0x1.6c16c16c16c17p-10, VD_DMUL(t, c)); // -1/6!
    c = VD_DADD(0x1.5555555555555p-5, VD_DMUL(t, c));   // 1/4!
    c = VD_DADD(-0.5, VD_DMUL(t, c));                   // -1/2!
    c = VD_DADD(1.0, VD_DMUL(t, c));
    *s_out = VD_DMUL(th, s);
    *c_out = c;
}

// sin and cos of 2*pi*b/2^32. The quadrant is b's top two bits and the position inside it
// r/2^30 (exact); positions past the middle of a quadrant use the complement (exact in
// integers), so the polynomials only see [0, pi/4].
VD_PHILOX_FN void vd_philox_sincos_u32(uint32_t b, double *s_out, double *c_out) {
    uint32_t q = b >> 30, r = b & 0x3FFFFFFFu;
    double sp, cp, s, c; // sin/cos of phi = (r / 2^30) * pi/2
    if (r >= 0x20000000u) {
        vd_philox_sincos_octant(VD_DMUL((double)(0x40000000u - r), 0x1p-30), &cp, &sp);
    } else {
        vd_philox_sincos_octant(VD_DMUL((double)r, 0x1p-30), &sp, &cp);
    }
    switch (q) {
    case 0: s = sp; c = cp; break;
    case 1: s = cp; c = -sp; break;
    case 2: s = -sp; c = -cp; break;
    default: s = -cp; c = sp; break;
    }
    *s_out = s;
    *c_out = c;
}

// Box-Muller on two 32-bit words: u1 = (a + 1)/2^32 in (0, 1], angle 2*pi*b/2^32.
// z0 = sqrt(-2 ln u1) cos(angle), z1 = sqrt(-2 ln u1) sin(angle); |z| <= sqrt(64 ln 2) = 6.66.
VD_PHILOX_FN void vd_philox_box_muller(uint32_t a, uint32_t b, float *z0, float *z1) {
    double l = vd_philox_log_u32((uint64_t)a + 1u);
    double rad = VD_DSQRT(VD_DMUL(-2.0, l));
    double s, c;
    vd_philox_sincos_u32(b, &s, &c);
    *z0 = VD_D2F(VD_DMUL(rad, c));
    *z1 = VD_D2F(VD_DMUL(rad, s));
}

// Four normals for block `blk` of the stream (seed, offset): elements 4*blk .. 4*blk+3.
// Counter (blk lo, offset lo, offset hi, blk hi) under key (seed lo, seed hi); blk hi is 0 for any
// tensor below 2^34 elements, which is the (i/4, offset lo, offset hi, 0) of rng.h.
VD_PHILOX_FN void vd_philox_normal4(uint64_t blk, uint64_t seed, uint64_t offset, float z[4]) {
    uint32_t ctr[4] = {(uint32_t)blk, (uint32_t)offset, (uint32_t)(offset >> 32), (uint32_t)(blk >> 32)};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t x[4];
    vd_philox4x32_10_block(ctr, key, x);
    vd_philox_box_muller(x[0], x[1], &z[0], &z[1]);
    vd_philox_box_muller(x[2], x[3], &z[2], &z[3]);
}
