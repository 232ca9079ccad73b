#!/usr/bin/env python3
"""Generates the Wan2.1 DiT parity fixtures under tests/data/dit/ (read by tests/test_wan_dit.c).

Each case is a tiny random diffusers WanTransformer3DModel with every parameter perturbed away
from its default init (p += sigma * N(0, 1)), saved in fp32 as a model directory
(config.json + diffusion_pytorch_model.safetensors), plus io.safetensors holding the inputs
(latent [B, Cin, F, H, W], timestep [B], context [B, Lt, text_dim]) and `expected` [B, Cout, F, H, W].

Golden output: the diffusers modules run in float64, with the timestep sinusoid also computed in
float64 as the original Wan code does (diffusers computes it in float32, whose angle error at
t ~ 1000 is ~1e-4 rad). The float32 diffusers output is compared with the golden one and the
relative error (max|a - b| / max|b|) is stored as metadata `fp32_diffusers_rel_err`: the error
a correct fp32 engine is expected to have, printed by the C test next to its own.

One case is written with the original Wan / ComfyUI key names and an original-style config.json
(dim, num_heads, in_dim, ...), so both layouts are covered.

Usage: python3 scripts/gen_dit_fixtures.py [--out tests/data/dit]   (CPU only; ~10 s)
"""
import argparse
import json
import os
import shutil

import torch
from diffusers import WanTransformer3DModel
from safetensors.torch import save_file

# name, diffusers config, inputs (B, F, H, W, Lt, timesteps), seed, layout
CASES = [
    ("d32h2l2", dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=32, in_channels=4,
                     out_channels=4, text_dim=40, freq_dim=32, ffn_dim=96, num_layers=2, cross_attn_norm=True,
                     qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024),
     dict(B=2, F=3, H=6, W=10, Lt=7, t=[999.0, 37.5]), 1, "diffusers"),
    ("d16h3l3", dict(patch_size=(1, 2, 2), num_attention_heads=3, attention_head_dim=16, in_channels=5,
                     out_channels=3, text_dim=24, freq_dim=64, ffn_dim=80, num_layers=3, cross_attn_norm=False,
                     qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024),
     dict(B=1, F=1, H=4, W=6, Lt=1, t=[500.0]), 2, "diffusers"),
    ("orig_d24h2l1", dict(patch_size=(2, 2, 2), num_attention_heads=2, attention_head_dim=24, in_channels=3,
                          out_channels=5, text_dim=32, freq_dim=16, ffn_dim=64, num_layers=1, cross_attn_norm=True,
                          qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024),
     dict(B=1, F=4, H=6, W=4, Lt=5, t=[731.0]), 3, "orig"),
]

# diffusers -> original Wan key map (wan21.md sec. 2.1/2.2). Block keys after "blocks.N.".
BLOCK_MAP = {
    "scale_shift_table": "modulation",
    "attn1.to_q": "self_attn.q", "attn1.to_k": "self_attn.k", "attn1.to_v": "self_attn.v",
    "attn1.to_out.0": "self_attn.o", "attn1.norm_q": "self_attn.norm_q", "attn1.norm_k": "self_attn.norm_k",
    "norm2": "norm3",
    "attn2.to_q": "cross_attn.q", "attn2.to_k": "cross_attn.k", "attn2.to_v": "cross_attn.v",
    "attn2.to_out.0": "cross_attn.o", "attn2.norm_q": "cross_attn.norm_q", "attn2.norm_k": "cross_attn.norm_k",
    "ffn.net.0.proj": "ffn.0", "ffn.net.2": "ffn.2",
}
TOP_MAP = {
    "patch_embedding": "patch_embedding",
    "condition_embedder.text_embedder.linear_1": "text_embedding.0",
    "condition_embedder.text_embedder.linear_2": "text_embedding.2",
    "condition_embedder.time_embedder.linear_1": "time_embedding.0",
    "condition_embedder.time_embedder.linear_2": "time_embedding.2",
    "condition_embedder.time_proj": "time_projection.1",
    "proj_out": "head.head",
    "scale_shift_table": "head.modulation",
}


def to_orig(name):
    if name.startswith("blocks."):
        _, n, rest = name.split(".", 2)
        for k, v in BLOCK_MAP.items():
            if rest == k or rest.startswith(k + "."):
                return f"blocks.{n}.{v}{rest[len(k):]}"
    for k, v in TOP_MAP.items():
        if name == k or name.startswith(k + "."):
            return v + name[len(k):]
    raise KeyError(name)


def sinusoid64(t, dim):
    half = dim // 2
    w = 10000.0 ** (-torch.arange(half, dtype=torch.float64) / half)
    a = t.to(torch.float64)[:, None] * w[None, :]
    return torch.cat([a.cos(), a.sin()], dim=-1)


def rel_err(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def make_case(out_root, name, cfg, io, seed, layout):
    torch.manual_seed(seed)
    model = WanTransformer3DModel(**cfg).eval()
    with torch.no_grad():
        for pname, p in model.named_parameters():
            sigma = 0.1 if p.ndim == 1 else 0.05  # 1-D: norm weights/biases, pushed off 1/0
            p.add_(torch.randn_like(p) * sigma)
    g = torch.Generator().manual_seed(seed + 100)
    B, F, H, W, Lt = io["B"], io["F"], io["H"], io["W"], io["Lt"]
    latent = torch.randn(B, cfg["in_channels"], F, H, W, generator=g)
    context = torch.randn(B, Lt, cfg["text_dim"], generator=g)
    timestep = torch.tensor(io["t"], dtype=torch.float32)

    with torch.no_grad():
        out32 = model(latent, timestep, context, return_dict=False)[0]
        m64 = WanTransformer3DModel(**cfg).eval()
        m64.load_state_dict(model.state_dict())
        m64 = m64.double()
        m64.condition_embedder.timesteps_proj.forward = lambda t: sinusoid64(t, cfg["freq_dim"])
        out64 = m64(latent.double(), timestep.double(), context.double(), return_dict=False)[0]
    base = rel_err(out32.double(), out64)
    print(f"{name}: out {tuple(out64.shape)}, fp32 diffusers vs fp64 golden rel err {base:.3e}")

    d = os.path.join(out_root, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    sd = {k: v.detach().contiguous().float() for k, v in model.state_dict().items()}
    if layout == "diffusers":
        model.save_pretrained(d, safe_serialization=True)
    else:
        save_file({to_orig(k): v for k, v in sd.items()}, os.path.join(d, "diffusion_pytorch_model.safetensors"))
        dim = cfg["num_attention_heads"] * cfg["attention_head_dim"]
        orig_cfg = {"_class_name": "WanModel", "model_type": "t2v", "dim": dim, "num_heads": cfg["num_attention_heads"],
                    "in_dim": cfg["in_channels"], "out_dim": cfg["out_channels"], "text_dim": cfg["text_dim"],
                    "freq_dim": cfg["freq_dim"], "ffn_dim": cfg["ffn_dim"], "num_layers": cfg["num_layers"],
                    "eps": cfg["eps"], "text_len": 512, "patch_size": list(cfg["patch_size"]),
                    "cross_attn_norm": cfg["cross_attn_norm"], "qk_norm": True}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(orig_cfg, f, indent=2)
    meta = {"generator": "scripts/gen_dit_fixtures.py", "seed": str(seed), "layout": layout,
            "fp32_diffusers_rel_err": f"{base:.6e}", "torch": torch.__version__,
            "diffusers": __import__("diffusers").__version__}
    save_file({"latent": latent.contiguous(), "timestep": timestep, "context": context.contiguous(),
               "expected": out64.float().contiguous()}, os.path.join(d, "io.safetensors"), metadata=meta)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "dit"))
    a = ap.parse_args()
    torch.set_num_threads(2)
    for c in CASES:
        make_case(a.out, *c)


if __name__ == "__main__":
    main()
