#!/usr/bin/env python3
"""Anchor for bench/bench_dit: diffusers WanTransformer3DModel (bf16, PyTorch SDPA) on the GPU.

1. Builds the 1.3B or 14B config with random weights (default init, then every parameter
   perturbed by N(0, 0.02^2) so no tensor keeps a constant init), casts to bf16 and saves it with
   save_pretrained into --model-dir (config.json + safetensors shards): vdit loads the same weights.
2. Reloads it with from_pretrained(torch_dtype=bfloat16), which keeps diffusers'
   _keep_in_fp32_modules (time_embedder, scale_shift_table, norms) in fp32, as a user would run it.
3. Writes the inputs (latent, timestep, context) and diffusers' output to --io (safetensors) so the
   C bench runs the same call and reports its deviation from diffusers.
4. Times full forwards (CUDA-synchronized wall clock, after warmup), then one more forward with
   CUDA events around every scaled_dot_product_attention call (self + cross) for the breakdown,
   and records the peak allocated GPU memory. Prints one JSON line and writes it to --json.

Usage (on the GPU machine):
  python3 bench/anchors/dit_diffusers.py --config 1.3B --model-dir /tmp/wan13 --io /tmp/wan13_io.safetensors --json /tmp/wan13_diffusers.json
"""
import argparse
import json
import os
import time

import torch
import torch.nn.functional as F
from diffusers import WanTransformer3DModel
from safetensors.torch import save_file

CONFIGS = {
    # wan21.md sec. 1.1; shapes of sec. 7 (480x832x81 -> latent 21x60x104; 720x1280x81 -> 21x90x160)
    "1.3B": dict(cfg=dict(num_attention_heads=12, attention_head_dim=128, ffn_dim=8960, num_layers=30), latent=(21, 60, 104)),
    "14B": dict(cfg=dict(num_attention_heads=40, attention_head_dim=128, ffn_dim=13824, num_layers=40), latent=(21, 90, 160)),
    # smoke test of this script and of bench_dit's file handling (runs on a CPU too: --device cpu)
    "tiny": dict(cfg=dict(num_attention_heads=2, attention_head_dim=64, ffn_dim=256, num_layers=2), latent=(3, 10, 14)),
}
COMMON = dict(patch_size=(1, 2, 2), in_channels=16, out_channels=16, text_dim=4096, freq_dim=256, cross_attn_norm=True,
              qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)


def build_and_save(name, model_dir, seed, dev):
    torch.manual_seed(seed)
    cfg = dict(COMMON, **CONFIGS[name]["cfg"])
    with torch.device(dev):
        model = WanTransformer3DModel(**cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    model = model.to(torch.bfloat16)
    os.makedirs(model_dir, exist_ok=True)
    model.save_pretrained(model_dir, safe_serialization=True, max_shard_size="10GB")
    del model
    torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=sorted(CONFIGS), required=True)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--io", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--text-len", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--skip-save", action="store_true", help="reuse the weights already in --model-dir")
    a = ap.parse_args()

    t0 = time.time()
    if not a.skip_save:
        build_and_save(a.config, a.model_dir, a.seed, a.device)
    t_save = time.time() - t0
    model = WanTransformer3DModel.from_pretrained(a.model_dir, torch_dtype=torch.bfloat16).to(a.device).eval()
    n_params = sum(p.numel() for p in model.parameters())

    Fl, H, W = CONFIGS[a.config]["latent"]
    dev = a.device
    cuda = dev.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    g = torch.Generator(device=dev).manual_seed(a.seed + 1)
    latent = torch.randn(1, 16, Fl, H, W, generator=g, device=dev, dtype=torch.float32)
    context = torch.randn(1, a.text_len, 4096, generator=g, device=dev, dtype=torch.float32)
    timestep = torch.tensor([999.0], device=dev)
    tokens = Fl * (H // 2) * (W // 2)

    def fwd():
        with torch.no_grad():
            return model(latent.to(torch.bfloat16), timestep, context.to(torch.bfloat16), return_dict=False)[0]

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    for _ in range(a.warmup):
        out = fwd()
    sync()
    times = []
    for _ in range(a.iters):
        t = time.perf_counter()
        out = fwd()
        sync()
        times.append((time.perf_counter() - t) * 1e3)
    peak = torch.cuda.max_memory_allocated() if cuda else 0

    # Breakdown: CUDA events around every SDPA call (self-attention has Nq == Nk == tokens).
    events = []
    orig_sdpa = F.scaled_dot_product_attention

    def timed_sdpa(*args, **kw):  # diffusers passes query=, key=, value= as keywords
        q = kw["query"] if "query" in kw else args[0]
        k = kw["key"] if "key" in kw else args[1]
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        o = orig_sdpa(*args, **kw)
        e.record()
        events.append((q.shape[-2] == k.shape[-2], s, e))  # [B, NH, N, D]: self-attention has Nq == Nk
        return o

    self_ms = cross_ms = total_ev = 0.0
    if cuda:
        torch.nn.functional.scaled_dot_product_attention = timed_sdpa
        t = time.perf_counter()
        fwd()
        sync()
        total_ev = (time.perf_counter() - t) * 1e3
        torch.nn.functional.scaled_dot_product_attention = orig_sdpa
        self_ms = sum(s.elapsed_time(e) for is_self, s, e in events if is_self)
        cross_ms = sum(s.elapsed_time(e) for is_self, s, e in events if not is_self)

    save_file({"latent": latent.cpu().contiguous(), "timestep": timestep.cpu(), "context": context.cpu().contiguous(),
               "diffusers_output": out.float().cpu().contiguous()}, a.io)
    res = {"engine": "diffusers", "diffusers": __import__("diffusers").__version__, "torch": torch.__version__,
           "device": torch.cuda.get_device_name(0) if cuda else "cpu", "config": a.config, "params": n_params, "tokens": tokens,
           "text_len": a.text_len, "latent": [16, Fl, H, W], "ms_per_forward": sorted(times)[len(times) // 2],
           "ms_all": times, "sdpa_calls": len(events), "self_attn_ms": self_ms, "cross_attn_ms": cross_ms,
           "timed_forward_ms": total_ev, "other_ms": total_ev - self_ms - cross_ms, "peak_alloc_bytes": peak,
           "sdpa_backends": {"flash": torch.backends.cuda.flash_sdp_enabled(), "cudnn": torch.backends.cuda.cudnn_sdp_enabled(),
                             "mem_efficient": torch.backends.cuda.mem_efficient_sdp_enabled()},
           "save_s": t_save}
    print(json.dumps(res))
    with open(a.json, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
