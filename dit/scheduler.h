// Samplers for flow-matching video models (Wan2.1): UniPC multistep (bh2, order 2, flow
// prediction, predict_x0, lower_order_final, final sigma 0) exactly as diffusers'
// UniPCMultistepScheduler is configured by the Wan pipeline, and flow-matching Euler as
// diffusers' FlowMatchEulerDiscreteScheduler(shift). Sigmas/timesteps match those references
// (tests/data/sched fixtures); the update math runs in double per element and stores fp32.
//
// Use: vd_scheduler_init -> for i in [0, n_steps): t = s.timesteps[i]; v = model(x, t);
//      vd_scheduler_step(&s, v, x) (x updated in place) -> vd_scheduler_free.
#pragma once
#include <stdint.h>

#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { VD_SAMPLER_UNIPC = 0, VD_SAMPLER_EULER, VD_SAMPLER_COUNT } vd_sampler_kind;

const char *vd_sampler_name(vd_sampler_kind k);
int vd_sampler_from_name(const char *name, vd_sampler_kind *out); // "unipc" | "euler"; 0 ok

typedef struct {
    vd_sampler_kind kind;
    int n_steps;
    double shift;
    int64_t numel;        // elements of the latent x
    float *sigmas;        // [n_steps + 1], last = 0
    double *timesteps;    // [n_steps]: what the DiT receives (UniPC: integer-valued; Euler: float)
    int step_index;       // steps taken so far
    // UniPC state (NULL for Euler): x0 predictions of the last two steps, the sample saved
    // before the last predictor, and the order used by the last step.
    float *m_prev, *m_prev2, *last_sample;
    float *m_spare;       // the next step's x0 prediction (the three m buffers rotate, no allocation per step)
    int last_order, lower_order_nums;
} vd_scheduler;

// n_steps in [1, 1000], shift > 0, numel > 0; allocates the state.
vd_status vd_scheduler_init(vd_scheduler *s, vd_sampler_kind kind, int n_steps, double shift, int64_t numel,
                            vd_error *err);
// Advances x (numel floats, in place) by one step given the model's velocity v at the current step.
// Returns VD_ERR_INVALID_ARG when called more than n_steps times.
vd_status vd_scheduler_step(vd_scheduler *s, const float *v, float *x, vd_error *err);
void vd_scheduler_free(vd_scheduler *s);

#ifdef __cplusplus
}
#endif
