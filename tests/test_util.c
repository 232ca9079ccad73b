#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/device.h"
#include "lib/dtype.h"

int vt_failures = 0;

void vt_rng_seed(vt_rng *r, uint64_t seed) { r->s = seed * 0x9E3779B97F4A7C15ull + 0x1234567ull; }

static uint64_t next_u64(vt_rng *r) { // splitmix64
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float vt_uniform(vt_rng *r) { return (float)((next_u64(r) >> 40) * (1.0 / 16777216.0)); }

float vt_normal(vt_rng *r) {
    double u1 = ((next_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (next_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void vt_fill_normal(vt_rng *r, float *x, int64_t n, float scale) {
    for (int64_t i = 0; i < n; i++) x[i] = vt_normal(r) * scale;
}

void vt_fill_uniform(vt_rng *r, float *x, int64_t n, float lo, float hi) {
    for (int64_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * vt_uniform(r);
}

void vt_round_bf16(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = vd_bf16_to_f32(vd_f32_to_bf16(x[i]));
}

static vt_diff compare_impl(const float *got, const float *reff, const double *refd, int64_t n) {
    vt_diff d = {0, 0, 0, -1, 0};
    double se = 0, sr = 0;
    for (int64_t i = 0; i < n; i++) {
        double g = got[i], r = reff ? (double)reff[i] : refd[i];
        if (!isfinite(g) || !isfinite(r)) {
            bool same = (isnan(g) && isnan(r)) || (isinf(g) && isinf(r) && signbit(g) == signbit(r));
            if (!same) d.n_nonfinite_mismatch++;
            continue;
        }
        double e = fabs(g - r);
        if (e > d.max_abs || d.worst < 0) { if (e >= d.max_abs) { d.max_abs = e; d.worst = i; } }
        double rel = e / (fabs(r) > 1e-30 ? fabs(r) : 1e-30);
        if (fabs(r) > 1e-6 && rel > d.max_rel) d.max_rel = rel;
        se += e * e;
        sr += r * r;
    }
    d.nmse = sr > 0 ? se / sr : se;
    return d;
}

vt_diff vt_compare(const float *got, const float *ref, int64_t n) { return compare_impl(got, ref, NULL, n); }
vt_diff vt_compare_d(const float *got, const double *ref, int64_t n) { return compare_impl(got, NULL, ref, n); }

static bool check_impl(const char *name, const float *got, const float *reff, const double *refd, int64_t n,
                       double atol, double rtol) {
    vt_diff d = compare_impl(got, reff, refd, n);
    int64_t bad = 0, first_bad = -1;
    for (int64_t i = 0; i < n; i++) {
        double g = got[i], r = reff ? (double)reff[i] : refd[i];
        if (!isfinite(g) || !isfinite(r)) continue;
        if (fabs(g - r) > atol + rtol * fabs(r)) {
            if (first_bad < 0) first_bad = i;
            bad++;
        }
    }
    bool ok = bad == 0 && d.n_nonfinite_mismatch == 0;
    printf("%s %s: n=%lld max_abs=%.3g max_rel=%.3g nmse=%.3g worst=%lld (atol=%.2g rtol=%.2g)\n",
           ok ? "ok  " : "FAIL", name, (long long)n, d.max_abs, d.max_rel, d.nmse, (long long)d.worst, atol, rtol);
    if (!ok) {
        printf("     %lld elements out of bound, %lld non-finite mismatches; first pairs (i: got ref):\n",
               (long long)bad, (long long)d.n_nonfinite_mismatch);
        int shown = 0;
        for (int64_t i = first_bad < 0 ? 0 : first_bad; i < n && shown < 5; i++) {
            double g = got[i], r = reff ? (double)reff[i] : refd[i];
            if (fabs(g - r) > atol + rtol * fabs(r) || (isfinite(g) != isfinite(r))) {
                printf("     %lld: %.7g %.7g\n", (long long)i, g, r);
                shown++;
            }
        }
        vt_failures++;
    }
    return ok;
}

bool vt_check(const char *name, const float *got, const float *ref, int64_t n, double atol, double rtol) {
    return check_impl(name, got, ref, NULL, n, atol, rtol);
}
bool vt_check_d(const char *name, const float *got, const double *ref, int64_t n, double atol, double rtol) {
    return check_impl(name, got, NULL, ref, n, atol, rtol);
}

bool vt_check_nmse(const char *name, const float *got, const float *ref, int64_t n, double thr) {
    vt_diff d = vt_compare(got, ref, n);
    bool ok = d.n_nonfinite_mismatch == 0 && d.nmse <= thr;
    printf("%s %s: n=%lld max_abs=%.3g nmse=%.3g (thr %.2g) worst=%lld\n", ok ? "ok  " : "FAIL", name,
           (long long)n, d.max_abs, d.nmse, thr, (long long)d.worst);
    if (!ok) vt_failures++;
    return ok;
}

static const float VT_CANARY = -7.25e31f;

float *vt_guarded_alloc(int64_t n) {
    float *p = malloc((size_t)(n + 2 * VT_GUARD) * sizeof(float));
    if (!p) {
        fprintf(stderr, "vt_guarded_alloc: out of memory for %lld floats\n", (long long)n);
        abort();
    }
    for (int i = 0; i < VT_GUARD; i++) p[i] = p[VT_GUARD + n + i] = VT_CANARY;
    return p + VT_GUARD;
}

bool vt_guards_ok(const float *p, int64_t n) {
    for (int i = 0; i < VT_GUARD; i++)
        if (p[i - VT_GUARD] != VT_CANARY || p[n + i] != VT_CANARY) return false;
    return true;
}

void vt_guarded_free(float *p) {
    if (p) free(p - VT_GUARD);
}

uint64_t vt_base_seed(int argc, char **argv, const char *test_name) {
    const uint64_t base = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    printf("%s: base seed %llu (rerun: %s %llu)\n", test_name, (unsigned long long)base, test_name,
           (unsigned long long)base);
    return base;
}

int vt_sweeps(int dflt) {
    const char *e = getenv("VD_TEST_SWEEPS");
    int v = e ? atoi(e) : 0;
    return v > 0 ? v : dflt;
}

const char *vt_src_path(const char *rel) {
    static char buf[4096];
    const char *root = getenv("VDIT_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/%s", root ? root : "..", rel);
    return buf;
}

bool vt_have_gpu(void) { return vd_cuda_available(); }

int vt_finish(const char *test_name) {
    if (vt_failures) {
        printf("%s: %d failure(s)\n", test_name, vt_failures);
        return 1;
    }
    printf("%s: all passed\n", test_name);
    return 0;
}
