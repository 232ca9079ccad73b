// Sigma and timestep schedules of the two samplers, reproduced from diffusers (numpy float64
// math, then float32 storage, as the references do).
#include <math.h>
#include <string.h>

#include "dit/scheduler.h"

static double flow_shift(double s, double u) { return s * u / (1.0 + (s - 1.0) * u); }
// The same in float32 arithmetic, as numpy/torch evaluate it on float32 arrays.
static float shift_f32(float s, float u) { return s * u / (1.0f + (s - 1.0f) * u); }

// diffusers UniPCMultistepScheduler.set_timesteps with use_flow_sigmas, final_sigmas_type zero:
// u = linspace(1, 1/1000, N+1)[:N]; sigma = shift(u); sigma_0 -= 1e-6 when within 1e-6 of 1;
// timestep = int64(sigma * 1000) (truncation); sigmas stored as float32 with a final 0.
void vd_sched_unipc_schedule(int n, double shift, float *sigmas, double *timesteps) {
    for (int i = 0; i < n; i++) {
        double u = (double)i * ((1.0 / 1000.0 - 1.0) / (double)n) + 1.0; // numpy linspace: i*step + start
        double sg = flow_shift(shift, u);
        if (i == 0 && fabs(sg - 1.0) < 1e-6) sg -= 1e-6;
        sigmas[i] = (float)sg;
        timesteps[i] = (double)(int64_t)(sg * 1000.0);
    }
    sigmas[n] = 0.0f;
}

// diffusers FlowMatchEulerDiscreteScheduler(shift).set_timesteps(N): the init table is already
// shifted, so sigma_max = shift(1) = 1 and sigma_min = shift(1/1000) (float32); the N timesteps
// are linspace(1000*sigma_max, 1000*sigma_min, N) and are shifted a second time (as diffusers does).
void vd_sched_euler_schedule(int n, double shift, float *sigmas, double *timesteps) {
    float smax = shift_f32((float)shift, 1.0f);
    float smin = shift_f32((float)shift, 1.0f / 1000.0f);
    double t0 = (double)smax * 1000.0, t1 = (double)smin * 1000.0;
    double step = n > 1 ? (t1 - t0) / (double)(n - 1) : 0.0;
    for (int i = 0; i < n; i++) {
        double t = (n > 1 && i == n - 1) ? t1 : (double)i * step + t0;
        float shifted = shift_f32((float)shift, (float)(t / 1000.0));
        sigmas[i] = shifted;
        timesteps[i] = (double)(float)(shifted * 1000.0f);
    }
    sigmas[n] = 0.0f;
}
