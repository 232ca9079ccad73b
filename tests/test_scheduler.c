// Scheduler parity with diffusers: sigmas, timesteps and a step-by-step trajectory of a toy
// velocity field (fixtures from scripts/gen_sched_fixtures.py), plus bad-argument checks.
// Tolerances: sigmas are float32 results of float64 math in both engines -> within 1 ulp
// (rtol 2.4e-7); timesteps: UniPC exact integers (seen: 0 error); Euler float32 values
// within 2 ulp (seen: 1 ulp on a few steps; diffusers' float32 evaluation order differs slightly).
// Trajectory: diffusers runs the update in float32 torch ops, vdit in double -> rtol 1e-5
// (relative to max |x|) over up to 50 steps.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dit/scheduler.h"
#include "lib/safetensors.h"
#include "tests/test_util.h"

static float toy_velocity(float x, double t) {
    // Same field as scripts/gen_sched_fixtures.py, evaluated in float32 like torch.
    return 0.5f * x - 0.3f * sinf(3.0f * x) + 0.001f * (float)t - 0.2f;
}

static void run_case(const char *kind_name, int steps, int shift) {
    char rel[256], path[4096], name[128];
    snprintf(rel, sizeof rel, "data/sched/%s_n%d_s%d.safetensors", kind_name, steps, shift);
    snprintf(path, sizeof path, "%s", rel); // tests run in tests/
    snprintf(name, sizeof name, "%s n=%d shift=%d", kind_name, steps, shift);
    vd_error err = {0};
    vd_st_file *f = NULL;
    if (vd_st_open(&f, path, &err) != VD_OK) {
        printf("FAIL %s: %s\n", name, err.msg);
        vt_failures++;
        return;
    }
    vd_tensor sig, ts, x0, traj;
    VT_EXPECT(vd_st_load_f32(vd_st_find(f, "sigmas"), &sig, &err) == VD_OK);
    VT_EXPECT(vd_st_load_f32(vd_st_find(f, "timesteps"), &ts, &err) == VD_OK);
    VT_EXPECT(vd_st_load_f32(vd_st_find(f, "x0"), &x0, &err) == VD_OK);
    VT_EXPECT(vd_st_load_f32(vd_st_find(f, "trajectory"), &traj, &err) == VD_OK);
    int64_t n = vd_tensor_numel(&x0);

    vd_sampler_kind kind;
    VT_EXPECT(vd_sampler_from_name(kind_name, &kind) == 0);
    vd_scheduler s;
    VT_EXPECT(vd_scheduler_init(&s, kind, steps, (double)shift, n, &err) == VD_OK);
    char cname[160];
    snprintf(cname, sizeof cname, "%s sigmas", name);
    vt_check(cname, s.sigmas, sig.data, steps + 1, 0.0, 2.4e-7);
    float *t32 = malloc(sizeof(float) * (size_t)steps);
    for (int i = 0; i < steps; i++) t32[i] = (float)s.timesteps[i];
    snprintf(cname, sizeof cname, "%s timesteps", name);
    vt_check(cname, t32, ts.data, steps, 0.0, 2.4e-7);

    float *x = malloc(sizeof(float) * (size_t)n), *v = malloc(sizeof(float) * (size_t)n);
    memcpy(x, x0.data, sizeof(float) * (size_t)n);
    double worst = 0;
    int worst_step = -1;
    for (int i = 0; i < steps; i++) {
        for (int64_t e = 0; e < n; e++) v[e] = toy_velocity(x[e], s.timesteps[i]);
        VT_EXPECT(vd_scheduler_step(&s, v, x, &err) == VD_OK);
        const float *ref = (const float *)traj.data + (size_t)(i + 1) * (size_t)n;
        double maxref = 0, maxerr = 0;
        for (int64_t e = 0; e < n; e++) {
            maxref = fmax(maxref, fabs(ref[e]));
            maxerr = fmax(maxerr, fabs((double)x[e] - ref[e]));
        }
        double relerr = maxerr / fmax(maxref, 1e-6);
        if (relerr > worst) { worst = relerr; worst_step = i; }
    }
    bool ok = worst <= 1e-5;
    printf("%s %s trajectory: worst rel err %.3g at step %d (bound 1e-5)\n", ok ? "ok  " : "FAIL", name, worst, worst_step);
    if (!ok) vt_failures++;
    // One step too many is an error, not a crash.
    VT_EXPECT(vd_scheduler_step(&s, v, x, &err) == VD_ERR_INVALID_ARG);
    free(x); free(v); free(t32);
    vd_scheduler_free(&s);
    vd_tensor_free(&sig); vd_tensor_free(&ts); vd_tensor_free(&x0); vd_tensor_free(&traj);
    vd_st_close(f);
}

int main(void) {
    static const int cases[][2] = {{1, 3}, {2, 3}, {4, 5}, {10, 3}, {25, 8}, {50, 3}, {50, 5}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        run_case("unipc", cases[c][0], cases[c][1]);
        run_case("euler", cases[c][0], cases[c][1]);
    }
    vd_scheduler s;
    vd_error err = {0};
    VT_EXPECT(vd_scheduler_init(&s, VD_SAMPLER_UNIPC, 0, 3.0, 10, &err) == VD_ERR_INVALID_ARG);
    VT_EXPECT(strstr(err.msg, "steps 0") != NULL);
    VT_EXPECT(vd_scheduler_init(&s, VD_SAMPLER_UNIPC, 10, -1.0, 10, &err) == VD_ERR_INVALID_ARG);
    VT_EXPECT(vd_scheduler_init(&s, VD_SAMPLER_EULER, 10, 3.0, 0, &err) == VD_ERR_INVALID_ARG);
    vd_sampler_kind k;
    VT_EXPECT(vd_sampler_from_name("dpm++", &k) == -1);
    return vt_finish("test_scheduler");
}
