// Scheduler state and the per-step updates. UniPC follows diffusers'
// multistep_uni_c_bh_update (corrector) and multistep_uni_p_bh_update (predictor) with
// bh2, predict_x0 and flow sigmas (alpha = 1 - sigma); see ../shared design wan21.md sec. 5.
#include "dit/scheduler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tensor.h"

void vd_sched_unipc_schedule(int n, double shift, float *sigmas, double *timesteps);
void vd_sched_euler_schedule(int n, double shift, float *sigmas, double *timesteps);

static const char *k_names[VD_SAMPLER_COUNT] = {"unipc", "euler"};

const char *vd_sampler_name(vd_sampler_kind k) { return (k >= 0 && k < VD_SAMPLER_COUNT) ? k_names[k] : "?"; }

int vd_sampler_from_name(const char *name, vd_sampler_kind *out) {
    for (int i = 0; i < VD_SAMPLER_COUNT; i++)
        if (name && !strcmp(name, k_names[i])) {
            *out = (vd_sampler_kind)i;
            return 0;
        }
    return -1;
}

vd_status vd_scheduler_init(vd_scheduler *s, vd_sampler_kind kind, int n_steps, double shift, int64_t numel,
                            vd_error *err) {
    memset(s, 0, sizeof *s);
    if (kind < 0 || kind >= VD_SAMPLER_COUNT)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_scheduler_init: unknown sampler %d (use unipc or euler)", (int)kind);
    if (n_steps < 1 || n_steps > 1000)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_scheduler_init: steps %d outside [1, 1000]", n_steps);
    if (!(shift > 0.0) || !isfinite(shift))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_scheduler_init: shift %g must be a finite number > 0", shift);
    if (numel <= 0)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_scheduler_init: latent size %lld must be > 0", (long long)numel);
    s->kind = kind;
    s->n_steps = n_steps;
    s->shift = shift;
    s->numel = numel;
    s->sigmas = malloc(sizeof(float) * (size_t)(n_steps + 1));
    s->timesteps = malloc(sizeof(double) * (size_t)n_steps);
    if (kind == VD_SAMPLER_UNIPC) {
        s->m_prev = vd_host_alloc(sizeof(float) * (size_t)numel);
        s->m_prev2 = vd_host_alloc(sizeof(float) * (size_t)numel);
        s->last_sample = vd_host_alloc(sizeof(float) * (size_t)numel);
        s->m_spare = vd_host_alloc(sizeof(float) * (size_t)numel);
    }
    if (!s->sigmas || !s->timesteps ||
        (kind == VD_SAMPLER_UNIPC && (!s->m_prev || !s->m_prev2 || !s->last_sample || !s->m_spare))) {
        vd_scheduler_free(s);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_scheduler_init: no memory for %lld-element state", (long long)numel);
    }
    if (kind == VD_SAMPLER_UNIPC) vd_sched_unipc_schedule(n_steps, shift, s->sigmas, s->timesteps);
    else vd_sched_euler_schedule(n_steps, shift, s->sigmas, s->timesteps);
    return VD_OK;
}

void vd_scheduler_free(vd_scheduler *s) {
    if (!s) return;
    free(s->sigmas);
    free(s->timesteps);
    vd_host_free(s->m_prev);
    vd_host_free(s->m_prev2);
    vd_host_free(s->last_sample);
    vd_host_free(s->m_spare);
    memset(s, 0, sizeof *s);
}

// lambda = log(alpha) - log(sigma) with alpha = 1 - sigma (flow sigmas); +inf at sigma 0.
static double lambda_of(float sigma) { return log(1.0 - (double)sigma) - log((double)sigma); }

// Corrector at step i (>= 1): refines x (the current sample, = prediction made at i-1) using the
// x0 prediction m_i of this step. order p is the order the previous predictor used.
static void unipc_correct(vd_scheduler *s, const float *m_cur, float *x, int i, int p) {
    double sig_t = s->sigmas[i], sig_s0 = s->sigmas[i - 1];
    double alpha_t = 1.0 - sig_t;
    double lam_t = lambda_of(s->sigmas[i]), lam_s0 = lambda_of(s->sigmas[i - 1]);
    double h = lam_t - lam_s0, hh = -h;
    double phi1 = expm1(hh), B = expm1(hh);
    double rho_d = 0.0, rho_t = 0.5, r = 1.0;
    if (p == 2) {
        r = (lambda_of(s->sigmas[i - 2]) - lam_s0) / h;
        double k1 = phi1 / hh - 1.0, k2 = k1 / hh - 0.5;
        double b1 = k1 / B, b2 = 2.0 * k2 / B;
        // Solve [[1, 1], [r, 1]] (rho_d, rho_t) = (b1, b2).
        rho_d = (b1 - b2) / (1.0 - r);
        rho_t = b1 - rho_d;
        rho_d = (double)(float)rho_d; // diffusers casts rhos to the sample dtype
        rho_t = (double)(float)rho_t;
    }
    const float *x_last = s->last_sample, *m0 = s->m_prev, *m1 = s->m_prev2;
    double ratio = sig_t / sig_s0;
    for (int64_t e = 0; e < s->numel; e++) {
        double corr = p == 2 ? rho_d * ((double)m1[e] - m0[e]) / r : 0.0;
        double xt = ratio * x_last[e] - alpha_t * phi1 * m0[e];
        x[e] = (float)(xt - alpha_t * B * (corr + rho_t * ((double)m_cur[e] - m0[e])));
    }
}

// Predictor from step i to i+1 with order q, using m_cur (= m_i) and m_prev (= m_{i-1}).
static void unipc_predict(vd_scheduler *s, const float *m_cur, float *x, int i, int q) {
    if (s->sigmas[i + 1] == 0.0f) { // lambda = +inf: exp(-h) = 0, x_{i+1} = m_i exactly
        memcpy(x, m_cur, sizeof(float) * (size_t)s->numel);
        return;
    }
    double sig_t = s->sigmas[i + 1], sig_s0 = s->sigmas[i];
    double alpha_t = 1.0 - sig_t;
    double lam_t = lambda_of(s->sigmas[i + 1]), lam_s0 = lambda_of(s->sigmas[i]);
    double h = lam_t - lam_s0, hh = -h;
    double phi1 = expm1(hh), B = expm1(hh);
    double r = q == 2 ? (lambda_of(s->sigmas[i - 1]) - lam_s0) / h : 1.0;
    double ratio = sig_t / sig_s0;
    for (int64_t e = 0; e < s->numel; e++) {
        double xt = ratio * x[e] - alpha_t * phi1 * m_cur[e];
        if (q == 2) xt -= alpha_t * B * 0.5 * (((double)s->m_prev[e] - m_cur[e]) / r);
        x[e] = (float)xt;
    }
}

static vd_status unipc_step(vd_scheduler *s, const float *v, float *x) {
    int i = s->step_index;
    int64_t n = s->numel;
    float sigma = s->sigmas[i];
    // x0 prediction from the flow output: m = x - sigma * v (on the uncorrected sample), written
    // into the spare buffer: the corrector below still reads m_{i-1} and m_{i-2}.
    float *m_cur = s->m_spare;
    for (int64_t e = 0; e < n; e++) m_cur[e] = (float)((double)x[e] - (double)sigma * v[e]);
    if (i > 0) unipc_correct(s, m_cur, x, i, s->last_order);
    int q = s->n_steps - i < 2 ? s->n_steps - i : 2; // lower_order_final
    if (q > s->lower_order_nums + 1) q = s->lower_order_nums + 1; // warm-up
    memcpy(s->last_sample, x, sizeof(float) * (size_t)n);
    unipc_predict(s, m_cur, x, i, q);
    // Rotate the x0 history without allocating: m_prev2 <- m_prev <- m_cur, spare <- old m_prev2.
    s->m_spare = s->m_prev2;
    s->m_prev2 = s->m_prev;
    s->m_prev = m_cur;
    s->last_order = q;
    if (s->lower_order_nums < 2) s->lower_order_nums++;
    return VD_OK;
}

vd_status vd_scheduler_step(vd_scheduler *s, const float *v, float *x, vd_error *err) {
    if (s->step_index >= s->n_steps)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_scheduler_step: all %d steps already taken", s->n_steps);
    if (s->kind == VD_SAMPLER_EULER) {
        double dt = (double)s->sigmas[s->step_index + 1] - (double)s->sigmas[s->step_index];
        for (int64_t e = 0; e < s->numel; e++) x[e] = (float)((double)x[e] + dt * v[e]);
    } else {
        VD_TRY(unipc_step(s, v, x));
    }
    s->step_index++;
    return VD_OK;
}
