#!/usr/bin/env python3
"""Fixtures for the text-to-video pipeline test (tests/test_pipeline.c, issue 8).

Builds a TINY random Wan2.1 pipeline with diffusers (WanTransformer3DModel 2 layers x 2 heads of 64,
UMT5EncoderModel d_model 32 with the vdit-tiny style Unigram tokenizer over a few captions,
AutoencoderKLWan base_dim 8), saves it with WanPipeline.save_pretrained (fp16 weights) into
tests/data/pipeline/model, reloads it in fp32, and runs WanPipeline from a fixed initial latent
(saved, for vdit's --init-latent) with a prompt, a negative prompt, steps, guidance, and the
scheduler's own flow_shift (5.0 here, so the test also checks that vdit reads the default shift from
scheduler/scheduler_config.json). Expected frames (output_type "np", [0,1] floats) are stored as
uint8 round(x * 255), the same quantisation vdit's VAE applies.

Output: tests/data/pipeline/model/..., tests/data/pipeline/cases.safetensors with
  init_latent f32 [16, F', H/8, W/8]   expected_frames u8 [F, H, W, 3] (UniPC, the Wan default)
  expected_frames_euler u8 [F, H, W, 3] (same run with FlowMatchEulerDiscreteScheduler(shift))
and the run settings in the safetensors metadata ("json").
Run: python3 scripts/gen_pipeline_fixtures.py [OUT_DIR]
"""
import json
import os
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny import tokenizer as tiny_tok  # noqa: E402

from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import UMT5Config, UMT5EncoderModel  # noqa: E402

torch.set_num_threads(2)

CAPTIONS = ["a red circle moving left", "a blue square moving right", "a green triangle on a dark background",
            "a small yellow ball bouncing up and down", "bright tones, overexposed, static, blurred details"]
RUN = dict(prompt="A  red circle &amp; a blue square,   moving left ", negative_prompt="blurred details, static",
           width=48, height=32, frames=9, steps=4, guidance=5.0, shift=5.0, sampler="unipc")


def build(seed):
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    tok = tiny_tok.build(CAPTIONS)
    tcfg = UMT5Config(vocab_size=len(tok), d_model=32, d_kv=16, d_ff=64, num_layers=2, num_heads=2,
                      relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.0,
                      feed_forward_proj="gated-gelu", layer_norm_epsilon=1e-6, pad_token_id=0, eos_token_id=1,
                      decoder_start_token_id=0, is_encoder_decoder=False, use_cache=False)
    te = UMT5EncoderModel(tcfg).eval()
    dit = WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=64, in_channels=16,
                                out_channels=16, text_dim=32, freq_dim=256, ffn_dim=256, num_layers=2,
                                cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6,
                                rope_max_seq_len=1024).eval()
    mean = [round(float(x), 4) for x in torch.randn(16, generator=g) * 0.3]
    std = [round(float(x), 4) for x in torch.rand(16, generator=g) * 1.0 + 0.5]
    vae = AutoencoderKLWan(base_dim=8, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=1, attn_scales=[],
                           temperal_downsample=[False, True, True], dropout=0.0, latents_mean=mean,
                           latents_std=std).eval()
    with torch.no_grad():
        # Default inits leave biases ~0, norm gains 1 and the DiT head/modulation small: perturb them so a
        # wrong index or a dropped term in vdit shows in the frames.
        for n, p in list(dit.named_parameters()) + list(vae.named_parameters()):
            if n.endswith("gamma") or n.endswith("norm_q.weight") or n.endswith("norm_k.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif n.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            elif n.endswith("scale_shift_table"):
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
        # Make the text matter: with default inits cond and uncond velocities differ so little that
        # guidance 1 and 5 give frames within ~50 dB, and a broken CFG would pass a 40 dB check.
        for n, p in dit.named_parameters():
            if ("attn2.to_out.0.weight" in n or "attn2.to_v.weight" in n or "text_embedder" in n) and n.endswith("weight"):
                p.mul_(4.0)
    sched = UniPCMultistepScheduler(num_train_timesteps=1000, solver_order=2, prediction_type="flow_prediction",
                                    use_flow_sigmas=True, flow_shift=RUN["shift"], predict_x0=True, solver_type="bh2",
                                    lower_order_final=True, final_sigmas_type="zero")
    return WanPipeline(tokenizer=tok, text_encoder=te, transformer=dit, vae=vae, scheduler=sched)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data", "pipeline")
    mdir = os.path.join(out, "model")
    if os.path.isdir(mdir):
        shutil.rmtree(mdir)
    pipe = build(1234)
    pipe.to(torch.float16).save_pretrained(mdir, safe_serialization=True)
    # Reference run in fp32 from the saved (fp16-rounded) weights, as vdit reads them.
    pipe = WanPipeline.from_pretrained(mdir, torch_dtype=torch.float32)
    F_lat = (RUN["frames"] - 1) // 4 + 1
    g = torch.Generator().manual_seed(99)
    z0 = torch.randn(1, 16, F_lat, RUN["height"] // 8, RUN["width"] // 8, generator=g)
    with torch.no_grad():
        frames = pipe(prompt=RUN["prompt"], negative_prompt=RUN["negative_prompt"], height=RUN["height"],
                      width=RUN["width"], num_frames=RUN["frames"], num_inference_steps=RUN["steps"],
                      guidance_scale=RUN["guidance"], latents=z0.clone(), output_type="np").frames[0]
    # The same run with flow-matching Euler (vdit --sampler euler): FlowMatchEulerDiscreteScheduler(shift).
    from diffusers import FlowMatchEulerDiscreteScheduler
    pipe.scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=RUN["shift"])
    with torch.no_grad():
        frames_e = pipe(prompt=RUN["prompt"], negative_prompt=RUN["negative_prompt"], height=RUN["height"],
                        width=RUN["width"], num_frames=RUN["frames"], num_inference_steps=RUN["steps"],
                        guidance_scale=RUN["guidance"], latents=z0.clone(), output_type="np").frames[0]
    u8e = np.clip(np.round(np.asarray(frames_e, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)
    frames = np.asarray(frames, dtype=np.float32)
    u8 = np.clip(np.round(frames * 255.0), 0, 255).astype(np.uint8)
    print(f"frames {u8.shape}, mean {u8.mean():.1f}, std {u8.std():.1f}, "
          f"saturated {(u8 == 0).mean() + (u8 == 255).mean():.3f}")
    import diffusers
    import transformers
    meta = dict(RUN, generator="scripts/gen_pipeline_fixtures.py", torch=torch.__version__,
                diffusers=diffusers.__version__, transformers=transformers.__version__)
    save_file({"init_latent": z0[0].contiguous(), "expected_frames": torch.from_numpy(u8).contiguous(),
               "expected_frames_euler": torch.from_numpy(u8e).contiguous()},
              os.path.join(out, "cases.safetensors"), metadata={"json": json.dumps(meta)})
    total = sum(os.path.getsize(os.path.join(r, n)) for r, _, fs in os.walk(out) for n in fs)
    print(f"wrote {out}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
