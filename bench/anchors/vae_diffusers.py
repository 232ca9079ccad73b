#!/usr/bin/env python3
"""Wan VAE decode benchmark: vdit (bench_vae) vs diffusers AutoencoderKLWan.decode, same weights
and latent, same run. Writes bench/results/vae_<date>.md.

Steps: build AutoencoderKLWan with the Wan2.1 VAE config and random weights (seeded), save the
decoder weights + config.json to a work folder, draw a latent [1, 16, F, H, W] (default the
480x832x81 case: 21 x 60 x 104), decode it with diffusers on CUDA in fp32 (time, peak
allocated/reserved memory), then run bench_vae on the same files in a subprocess (its own
process, so the memory numbers do not mix) and compare the two videos (max abs diff, PSNR).

  python3 bench/anchors/vae_diffusers.py --bench-bin build/bench/bench_vae [--latent 21,60,104]
         [--tile] [--work /tmp/vae_bench] [--skip-diffusers]
"""
import argparse
import datetime
import json
import math
import os
import subprocess
import sys
import time

import torch
from safetensors.torch import load_file, save_file


def wan21_config():
    return dict(base_dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[],
                temperal_downsample=[False, True, True], dropout=0.0, is_residual=False, in_channels=3,
                out_channels=3, scale_factor_temporal=4, scale_factor_spatial=8,
                latents_mean=[-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715,
                              0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921],
                latents_std=[2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652,
                             1.5579, 1.6382, 1.1253, 2.8251, 1.9160])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench-bin", default="build/bench/bench_vae")
    ap.add_argument("--latent", default="21,60,104")
    ap.add_argument("--work", default="/tmp/vae_bench")
    ap.add_argument("--tile", action="store_true", help="tiled decode on both sides (diffusers enable_tiling defaults)")
    ap.add_argument("--chunk", type=int, default=1)
    ap.add_argument("--skip-diffusers", action="store_true")
    ap.add_argument("--convs", default="cudnn,gemm",
                    help="CUDA conv implementations of bench_vae to run (cudnn: channels-last cuDNN runner; gemm: cuBLAS GEMM runner)")
    ap.add_argument("--precs", default="tf32,fp32",
                    help="CUDA precisions of bench_vae to run (tf32, fp32, bf16: bf16 convolutions, cudnn only)")
    ap.add_argument("--profile", action="store_true",
                    help="VDIT_VAE_PROFILE=1 for the cudnn runs: prints the device time of the cuDNN convs vs the rest")
    ap.add_argument("--device", default="cuda", help="cuda (the benchmark) or cpu (a smoke test of this script)")
    ap.add_argument("--results", default=os.path.join(os.path.dirname(__file__), "..", "results"))
    args = ap.parse_args()
    F, H, W = (int(x) for x in args.latent.split(","))
    from diffusers import AutoencoderKLWan
    import diffusers

    os.makedirs(args.work, exist_ok=True)
    cfg = wan21_config()
    torch.manual_seed(0)
    vae = AutoencoderKLWan(**cfg).eval()
    # Default init leaves gammas at 1 and biases at 0: perturb so every parameter matters.
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for n, p in vae.named_parameters():
            if n.endswith("gamma"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif n.endswith("bias"):
                p.copy_(0.02 * torch.randn(p.shape, generator=g))
    sd = {k: v.contiguous() for k, v in vae.state_dict().items() if k.startswith(("decoder.", "post_quant_conv."))}
    save_file(sd, os.path.join(args.work, "diffusion_pytorch_model.safetensors"))
    full = dict(cfg, _class_name="AutoencoderKLWan", _diffusers_version=diffusers.__version__)
    with open(os.path.join(args.work, "config.json"), "w") as f:
        json.dump(full, f, indent=2)
    zn = torch.randn(1, 16, F, H, W, generator=torch.Generator().manual_seed(2))
    save_file({"latents": zn}, os.path.join(args.work, "latent.safetensors"))
    mean = torch.tensor(cfg["latents_mean"]).view(1, -1, 1, 1, 1)
    std = torch.tensor(cfg["latents_std"]).view(1, -1, 1, 1, 1)
    z = zn * std + mean

    rows = []
    ref = None
    dev = args.device
    gpu = torch.cuda.get_device_name(0) if dev == "cuda" else "cpu"
    cuda = dev == "cuda"
    if not args.skip_diffusers:
        vae.encoder = None  # decode only: do not count encoder weights
        vae = vae.to(dev)
        if args.tile:
            vae.enable_tiling()
        with torch.no_grad():
            vae.decode(z[:, :, :2].to(dev))  # warm-up (cuDNN autotune, allocator), as bench_vae does
            if cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            zc = z.to(dev)
            if cuda:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            out = vae.decode(zc).sample
            if cuda:
                torch.cuda.synchronize()
            dt = time.perf_counter() - t0
        rows.append(dict(impl="diffusers AutoencoderKLWan.decode (fp32, cuDNN TF32 convs: %s)"
                         % torch.backends.cudnn.allow_tf32,
                         seconds=dt, peak_alloc=torch.cuda.max_memory_allocated() if cuda else 0,
                         peak_reserved=torch.cuda.max_memory_reserved() if cuda else 0, first_frame="-"))
        ref = out.float().cpu()
        del out, zc, vae
        if cuda:
            torch.cuda.empty_cache()

    cmd = [args.bench_bin, "--vae", args.work, "--input", os.path.join(args.work, "latent.safetensors"),
           "--device", dev, "--chunk", str(args.chunk), "--out", os.path.join(args.work, "vdit_video.safetensors")]
    if args.tile:
        cmd.append("--tile")
    res = {}
    runs = [(c, p) for c in args.convs.split(",") for p in args.precs.split(",")] if cuda else [("cpu", "fp32")]
    for conv, prec in runs:
        if prec == "bf16" and conv != "cudnn":
            continue  # bf16 convolutions exist in the cuDNN runner only
        env = dict(os.environ, VDIT_VAE_FP32="1" if prec == "fp32" else "0", VDIT_VAE_BF16="1" if prec == "bf16" else "0")
        if args.profile:
            env["VDIT_VAE_PROFILE"] = "1"
        p = subprocess.run(cmd + (["--conv", conv] if cuda else []), capture_output=True, text=True, env=env)
        if p.returncode == 2 and conv == "cudnn":
            print(f"bench_vae --conv cudnn unavailable (build without cuDNN): {p.stderr.strip()}", file=sys.stderr)
            continue
        if p.returncode != 0:
            print(p.stderr, file=sys.stderr)
            sys.exit(f"bench_vae failed ({conv}, {prec}): rc {p.returncode}")
        for line in p.stderr.splitlines():
            if "profile" in line:
                print(f"[{conv} {prec}] {line}")
        j = json.loads(p.stdout.strip().splitlines()[-1])
        label = (f"conv {j.get('conv', conv)}, {prec}" if cuda else prec)
        row = dict(impl=f"vdit bench_vae ({label}, chunk {args.chunk})", seconds=j["seconds"],
                   peak_alloc=j["peak_live_bytes"], peak_reserved=j["pool_reserved_high_bytes"],
                   first_frame="%.3f" % j["first_frame_s"])
        if ref is not None:
            got = load_file(os.path.join(args.work, "vdit_video.safetensors"))["video"]
            diff = (got - ref).abs()
            mse = float(((got - ref) / 2).pow(2).mean())
            row["max_abs"] = float(diff.max())
            row["psnr"] = 10 * math.log10(1.0 / mse) if mse > 0 else float("inf")
        rows.append(row)
        res[prec] = j

    date = datetime.date.today().isoformat()
    os.makedirs(args.results, exist_ok=True)
    path = os.path.join(args.results, f"vae_{date}.md" if cuda else f"vae_{date}_cpu_smoke.md")
    gib = 1024 ** 3
    lines = [f"# Wan2.1 VAE decode: vdit vs diffusers ({date})", "",
             f"GPU: {gpu}; torch {torch.__version__}, diffusers {diffusers.__version__}; latent [1, 16, {F}, {H}, {W}] "
             f"-> {j['frames']} frames {j['height']}x{j['width']}; tiling: {args.tile}; "
             "Wan2.1 VAE config, random weights (seeded), both sides fp32 activations.", "",
             "| implementation | seconds | first frame s | peak allocated GiB | peak reserved GiB | vs diffusers | max abs diff | PSNR dB |",
             "|---|---|---|---|---|---|---|---|"]
    base = rows[0]["seconds"] if ref is not None else None
    for r in rows:
        speed = "%.2fx" % (base / r["seconds"]) if base else "-"
        lines.append("| %s | %.3f | %s | %.2f | %.2f | %s | %s | %s |" % (
            r["impl"], r["seconds"], r["first_frame"], r["peak_alloc"] / gib, r["peak_reserved"] / gib, speed,
            "%.2e" % r["max_abs"] if "max_abs" in r else "-", "%.1f" % r["psnr"] if "psnr" in r else "-"))
    lines += ["", "Command: `" + " ".join(sys.argv) + "`", "",
              "Peak allocated: torch.cuda.max_memory_allocated (diffusers, weights included) / vdit's count of live "
              "cudaMallocAsync bytes (weights, caches, activations). Peak reserved: torch max_memory_reserved / "
              "the CUDA mempool's reserved high-water mark. PSNR on [0, 1] pixels vs the diffusers video.", ""]
    with open(path, "a") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print("wrote", path)


if __name__ == "__main__":
    main()
