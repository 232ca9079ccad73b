#!/usr/bin/env python3
"""Writes scheduler parity fixtures (tests/data/sched/*.safetensors) from diffusers.

For each (sampler, steps, shift) case: the sigmas and timesteps diffusers produces, and a
trajectory of a toy velocity field integrated step by step with the diffusers scheduler, so the
C schedulers can be checked step by step without a model. The toy field (also in
tests/test_scheduler.c, keep them identical):  v(x, t) = 0.5*x - 0.3*sin(3*x) + 0.001*t - 0.2
UniPC is configured exactly as the Wan2.1 diffusers scheduler_config.json (flow_prediction,
use_flow_sigmas, bh2, order 2, predict_x0, lower_order_final, final_sigmas_type zero).
Run: python3 scripts/gen_sched_fixtures.py  (needs torch, diffusers, safetensors)
"""
import os
import torch
from diffusers import UniPCMultistepScheduler, FlowMatchEulerDiscreteScheduler
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "sched")


def toy_velocity(x, t):
    return 0.5 * x - 0.3 * torch.sin(3.0 * x) + 0.001 * t - 0.2


def make(kind, shift):
    if kind == "unipc":
        return UniPCMultistepScheduler(
            num_train_timesteps=1000, solver_order=2, prediction_type="flow_prediction",
            use_flow_sigmas=True, flow_shift=shift, predict_x0=True, solver_type="bh2",
            lower_order_final=True, final_sigmas_type="zero", timestep_spacing="linspace",
            beta_start=0.0001, beta_end=0.02, beta_schedule="linear", thresholding=False,
            disable_corrector=[], steps_offset=0)
    return FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=shift)


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(2, 3, 5, 7, generator=g, dtype=torch.float32)  # odd-sized toy latent
    for kind in ("unipc", "euler"):
        for steps, shift in ((1, 3.0), (2, 3.0), (4, 5.0), (10, 3.0), (25, 8.0), (50, 3.0), (50, 5.0)):
            s = make(kind, shift)
            s.set_timesteps(steps)
            x = x0.clone()
            traj = [x.clone()]
            for t in s.timesteps:
                v = toy_velocity(x, t.float())
                x = s.step(v, t, x, return_dict=False)[0]
                traj.append(x.clone())
            name = f"{kind}_n{steps}_s{int(shift)}"
            save_file({
                "sigmas": s.sigmas.float().contiguous(),
                "timesteps": s.timesteps.double().contiguous(),
                "x0": x0.contiguous(),
                "trajectory": torch.stack(traj).contiguous(),
                "shift": torch.tensor([shift], dtype=torch.float64),
            }, os.path.join(OUT, name + ".safetensors"))
            print(name, "t:", [round(float(t), 3) for t in s.timesteps[:4]], "sigma_last", float(s.sigmas[-2]))


if __name__ == "__main__":
    main()
