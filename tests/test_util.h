// Test helpers shared by every test: seeded random fills, the comparison report of style.md
// (NaN/Inf first, then error bound; max abs, max rel, NMSE, worst index, first pairs), and the
// gpu-test skip convention (exit 77 when no device is visible).
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define VD_TEST_SKIP 77

// Deterministic xorshift-based generator for test inputs (not the product RNG).
typedef struct { uint64_t s; } vt_rng;
void vt_rng_seed(vt_rng *r, uint64_t seed);
float vt_uniform(vt_rng *r);                 // [0, 1)
float vt_normal(vt_rng *r);
void vt_fill_normal(vt_rng *r, float *x, int64_t n, float scale);
void vt_fill_uniform(vt_rng *r, float *x, int64_t n, float lo, float hi);
// Rounds every value through bf16 (inputs rounded to the kernel dtype before the reference runs).
void vt_round_bf16(float *x, int64_t n);

typedef struct {
    double max_abs, max_rel, nmse;
    int64_t worst;      // index of the max abs error
    int64_t n_nonfinite_mismatch;
} vt_diff;

// Compares got against ref (n values). NaN/Inf must match in position and sign.
vt_diff vt_compare(const float *got, const float *ref, int64_t n);
vt_diff vt_compare_d(const float *got, const double *ref, int64_t n);
// Prints a report line with the case name; returns true when the case passes:
// no non-finite mismatch and (max_abs <= atol + rtol*|ref| elementwise) ... implemented as
// every element |got-ref| <= atol + rtol*|ref|.
bool vt_check(const char *case_name, const float *got, const float *ref, int64_t n, double atol, double rtol);
bool vt_check_d(const char *case_name, const float *got, const double *ref, int64_t n, double atol, double rtol);
// NMSE-only check (sum (got-ref)^2 / sum ref^2 <= thr), with the same report.
bool vt_check_nmse(const char *case_name, const float *got, const float *ref, int64_t n, double thr);

// Host output buffer of n floats between two guard regions of VT_GUARD floats that hold a canary
// (-7.25e31, a value no op under test produces): vt_guards_ok says whether an op wrote past either
// end. The n values themselves are left uninitialized. Aborts when out of memory.
#define VT_GUARD 16
float *vt_guarded_alloc(int64_t n);
bool vt_guards_ok(const float *p, int64_t n);
void vt_guarded_free(float *p);   // p from vt_guarded_alloc, or NULL

// Base seed of a randomized test: argv[1] when given (decimal), else 1. Prints
// "<test_name>: base seed N (rerun: <test_name> N)" so a failing run can be repeated.
uint64_t vt_base_seed(int argc, char **argv, const char *test_name);
// Number of random sweeps: VD_TEST_SWEEPS from the environment, else dflt.
int vt_sweeps(int dflt);
// Path under the source tree: VDIT_SOURCE_DIR (set by ctest) + "/" + rel. Static buffer.
const char *vt_src_path(const char *rel);
// Returns true when a CUDA device is usable; gpu tests call `if (!vt_have_gpu()) return VD_TEST_SKIP;`.
bool vt_have_gpu(void);

#define VT_EXPECT(cond)                                                                      \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                  \
            vt_failures++;                                                                   \
        }                                                                                    \
    } while (0)
extern int vt_failures;
// Ends a test main: prints a summary and returns 0 or 1.
int vt_finish(const char *test_name);
