// Data movement: 3D patchify / unpatchify (wan21.md 1.2 and 1.5) and row gather / scatter.
// Inputs are whole numbers (each element's own flat index), so every check is exact equality
// and a wrong index shows up as the index it came from. Guard regions catch writes past the end.
// Usage: test_ops_patch [base_seed]   (seeds only the gather/scatter index sets)
#include <stdlib.h>
#include <string.h>

#include "lib/ops.h"
#include "tests/test_util.h"

// Reference patchify, written from the input side: element x[c, f, h, w] goes to token
// ((f/pt)*Hp + h/ph)*Wp + w/pw, slot ((c*pt + f%pt)*ph + h%ph)*pw + w%pw (channel slowest).
static void ref_patchify(float *tok, const float *x, int64_t C, int64_t F, int64_t H, int64_t W, int pt, int ph,
                         int pw) {
    const int64_t Hp = H / ph, Wp = W / pw, P = C * pt * ph * pw;
    for (int64_t c = 0; c < C; c++)
        for (int64_t f = 0; f < F; f++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++) {
                    const int64_t n = ((f / pt) * Hp + h / ph) * Wp + w / pw;
                    const int64_t slot = ((c * pt + f % pt) * ph + h % ph) * pw + w % pw;
                    tok[n * P + slot] = x[((c * F + f) * H + h) * W + w];
                }
}

// Reference unpatchify, written from the output side: y[c, f, h, w] reads token
// ((f/pt)*Hp + h/ph)*Wp + w/pw, slot ((f%pt * ph + h%ph) * pw + w%pw) * C + c (channel fastest).
static void ref_unpatchify(float *y, const float *tok, int64_t C, int64_t Fp, int64_t Hp, int64_t Wp, int pt, int ph,
                           int pw) {
    const int64_t F = Fp * pt, H = Hp * ph, W = Wp * pw, P = C * pt * ph * pw;
    for (int64_t c = 0; c < C; c++)
        for (int64_t f = 0; f < F; f++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++) {
                    const int64_t n = ((f / pt) * Hp + h / ph) * Wp + w / pw;
                    const int64_t slot = (((f % pt) * ph + h % ph) * pw + w % pw) * C + c;
                    y[((c * F + f) * H + h) * W + w] = tok[n * P + slot];
                }
}

static void patch_case(int64_t C, int64_t Fp, int64_t Hp, int64_t Wp, int pt, int ph, int pw) {
    const int64_t F = Fp * pt, H = Hp * ph, W = Wp * pw, n = C * F * H * W; // n = N * P too
    float *x = malloc((size_t)n * sizeof(float)), *tok = vt_guarded_alloc(n), *want = malloc((size_t)n * sizeof(float));
    float *y = vt_guarded_alloc(n);
    for (int64_t i = 0; i < n; i++) x[i] = (float)i; // exact up to 2^24
    VT_EXPECT(n < (1 << 24));
    char name[160];
    vd_error err = {0};
    VT_EXPECT(vd_patchify3d_cpu(tok, x, C, F, H, W, pt, ph, pw, &err) == VD_OK);
    ref_patchify(want, x, C, F, H, W, pt, ph, pw);
    snprintf(name, sizeof name, "patchify C=%lld F=%lld H=%lld W=%lld patch=(%d,%d,%d) (exact)", (long long)C,
             (long long)F, (long long)H, (long long)W, pt, ph, pw);
    vt_check(name, tok, want, n, 0, 0);
    VT_EXPECT(vt_guards_ok(tok, n));

    // Unpatchify the index-valued tokens; the reference says which token slot each y element takes.
    for (int64_t i = 0; i < n; i++) tok[i] = (float)i;
    vd_unpatchify3d_cpu(y, tok, C, Fp, Hp, Wp, pt, ph, pw);
    ref_unpatchify(want, tok, C, Fp, Hp, Wp, pt, ph, pw);
    snprintf(name, sizeof name, "unpatchify C=%lld Fp=%lld Hp=%lld Wp=%lld patch=(%d,%d,%d) (exact)", (long long)C,
             (long long)Fp, (long long)Hp, (long long)Wp, pt, ph, pw);
    vt_check(name, y, want, n, 0, 0);
    VT_EXPECT(vt_guards_ok(y, n));
    free(x), free(want);
    vt_guarded_free(tok), vt_guarded_free(y);
}

// Hand-worked case of wan21.md 1.5 for patch (1,2,2), C = 2, one token: slot ((dt*2+dh)*2+dw)*2+c.
static void patch_known_answer(void) {
    // x[2, 1, 2, 2] = c*10 + h*2 + w  -> token 0 (channel slowest) = [0,1,2,3, 10,11,12,13]
    const float x[8] = {0, 1, 2, 3, 10, 11, 12, 13};
    const float tok_want[8] = {0, 1, 2, 3, 10, 11, 12, 13};
    float tok[8], y[8];
    vd_error err = {0};
    VT_EXPECT(vd_patchify3d_cpu(tok, x, 2, 1, 2, 2, 1, 2, 2, &err) == VD_OK);
    vt_check("patchify hand case C=2 1x2x2", tok, tok_want, 8, 0, 0);
    // Channel-fastest token [a0 b0 a1 b1 a2 b2 a3 b3] -> y[0] = [a0..a3], y[1] = [b0..b3].
    const float t2[8] = {0, 10, 1, 11, 2, 12, 3, 13};
    vd_unpatchify3d_cpu(y, t2, 2, 1, 1, 1, 1, 2, 2);
    vt_check("unpatchify hand case C=2 1x2x2", y, x, 8, 0, 0);
}

// With C = 1 the two slot orders coincide, so unpatchify(patchify(x)) must give x back.
static void patch_roundtrip(int64_t F, int64_t H, int64_t W, int pt, int ph, int pw) {
    const int64_t n = F * H * W;
    float *x = malloc((size_t)n * sizeof(float)), *tok = malloc((size_t)n * sizeof(float));
    float *y = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) x[i] = (float)(i * 7 % 1009);
    vd_error err = {0};
    VT_EXPECT(vd_patchify3d_cpu(tok, x, 1, F, H, W, pt, ph, pw, &err) == VD_OK);
    vd_unpatchify3d_cpu(y, tok, 1, F / pt, H / ph, W / pw, pt, ph, pw);
    char name[128];
    snprintf(name, sizeof name, "patch round trip C=1 %lldx%lldx%lld patch=(%d,%d,%d)", (long long)F, (long long)H,
             (long long)W, pt, ph, pw);
    vt_check(name, y, x, n, 0, 0);
    free(x), free(tok), free(y);
}

static void patch_errors(void) {
    struct { int64_t C, F, H, W; int pt, ph, pw; } bad[] = {
        {16, 3, 4, 4, 2, 2, 2}, // F % pt
        {16, 2, 5, 4, 1, 2, 2}, // H % ph
        {16, 2, 4, 7, 1, 2, 2}, // W % pw
        {16, 2, 4, 4, 0, 2, 2}, // zero patch
        {16, 2, 4, 4, 1, -2, 2},
        {0, 2, 4, 4, 1, 2, 2},  // empty input
    };
    static float x[16 * 3 * 5 * 7], tok[16 * 3 * 5 * 7]; // never read: every call must fail first
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vd_error err = {0};
        const vd_status st = vd_patchify3d_cpu(tok, x, bad[i].C, bad[i].F, bad[i].H, bad[i].W, bad[i].pt, bad[i].ph,
                                               bad[i].pw, &err);
        printf("%s patchify bad case %zu rejected: %s\n", st == VD_ERR_INVALID_ARG ? "ok  " : "FAIL", i, err.msg);
        VT_EXPECT(st == VD_ERR_INVALID_ARG && strstr(err.msg, "vd_patchify3d_cpu") != NULL);
    }
}

// gather: out[i] = x[idx[i]]; scatter: out[idx[i]] = x[i]. Rows hold row_id*1000 + column.
static void gather_scatter_case(uint64_t seed, int64_t rows, int64_t n_idx, int64_t C) {
    vt_rng r;
    vt_rng_seed(&r, seed);
    // A random permutation of the rows (Fisher-Yates); the first n_idx entries are a
    // duplicate-free index set.
    int32_t *perm = malloc((size_t)rows * sizeof(int32_t));
    for (int64_t i = 0; i < rows; i++) perm[i] = (int32_t)i;
    for (int64_t i = rows - 1; i > 0; i--) {
        int64_t j = (int64_t)(vt_uniform(&r) * (float)(i + 1));
        if (j > i) j = i;
        const int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    float *x = malloc((size_t)(rows * C) * sizeof(float)), *g = vt_guarded_alloc(n_idx * C);
    float *want = malloc((size_t)(rows * C) * sizeof(float)), *s = vt_guarded_alloc(rows * C);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t c = 0; c < C; c++) x[i * C + c] = (float)(i * 1000 + c);
    char name[128];

    vd_gather_rows_cpu(g, x, perm, n_idx, C);
    for (int64_t i = 0; i < n_idx; i++)
        for (int64_t c = 0; c < C; c++) want[i * C + c] = (float)((int64_t)perm[i] * 1000 + c);
    snprintf(name, sizeof name, "gather rows=%lld n_idx=%lld C=%lld seed=%llu", (long long)rows, (long long)n_idx,
             (long long)C, (unsigned long long)seed);
    vt_check(name, g, want, n_idx * C, 0, 0);
    VT_EXPECT(vt_guards_ok(g, n_idx * C));

    // Scatter the gathered rows back into a -1 canvas: the rows in the index set come back, the
    // others stay -1.
    for (int64_t i = 0; i < rows * C; i++) s[i] = -1.0f, want[i] = -1.0f;
    vd_scatter_rows_cpu(s, g, perm, n_idx, C);
    for (int64_t i = 0; i < n_idx; i++)
        for (int64_t c = 0; c < C; c++) want[(int64_t)perm[i] * C + c] = (float)((int64_t)perm[i] * 1000 + c);
    snprintf(name, sizeof name, "scatter rows=%lld n_idx=%lld C=%lld seed=%llu", (long long)rows, (long long)n_idx,
             (long long)C, (unsigned long long)seed);
    vt_check(name, s, want, rows * C, 0, 0);
    VT_EXPECT(vt_guards_ok(s, rows * C));
    free(perm), free(x), free(want);
    vt_guarded_free(g), vt_guarded_free(s);
}

int main(int argc, char **argv) {
    const uint64_t base = vt_base_seed(argc, argv, "test_ops_patch");
    patch_known_answer();
    // Wan's (1,2,2) and a (2,2,2) patch; F = 1, H != W, odd token grids, odd channel counts.
    patch_case(16, 3, 5, 7, 1, 2, 2);
    patch_case(16, 1, 4, 6, 1, 2, 2);
    patch_case(3, 2, 3, 5, 2, 2, 2);
    patch_case(1, 3, 2, 1, 2, 2, 2);
    patch_case(17, 1, 1, 1, 2, 2, 2);
    patch_case(5, 2, 3, 4, 1, 1, 1);
    patch_case(2, 2, 1, 3, 3, 1, 2);
    patch_roundtrip(4, 10, 14, 1, 2, 2);
    patch_roundtrip(6, 8, 12, 2, 2, 2);
    patch_errors();
    uint64_t ci = 0;
    const int64_t Cs[] = {1, 3, 17, 64, 130};
    const int64_t sets[][2] = {{1, 1}, {5, 5}, {7, 3}, {13, 13}, {33, 20}};
    for (int k = 0; k < 5; k++)
        for (int c = 0; c < 5; c++, ci++) gather_scatter_case(base * 1000 + ci, sets[k][0], sets[k][1], Cs[c]);
    return vt_finish("test_ops_patch");
}
