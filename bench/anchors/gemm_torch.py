#!/usr/bin/env python3
"""Anchor for bench/bench_gemm.c: times torch.nn.functional.linear in bf16 (x @ w^T + bias,
bf16 output, PyTorch's cuBLAS/cuBLASLt path) on the same Wan2.1 shapes, on the same GPU, in the
same run. Prints a table and appends it (with the ratio vdit / torch per shape) to the newest
bench/results/gemm_*.md written by bench_gemm, or writes bench/results/gemm_torch_<date>.md.

Timing: CUDA events around `iters` back-to-back calls after `warmup` calls (bench_gemm uses the
wall clock around the same batch plus a sync: equivalent at these sizes).
usage: python3 bench/anchors/gemm_torch.py [--iters N] [--warmup N] [--results DIR]
"""
import argparse
import datetime
import glob
import os
import re
import sys

# (name, M, K, N): must match k_shapes in bench/bench_gemm.c
SHAPES = [
    ("1.3B qkvo (480p)", 32760, 1536, 1536),
    ("1.3B ffn up (480p)", 32760, 1536, 8960),
    ("1.3B ffn down (480p)", 32760, 8960, 1536),
    ("14B qkvo (720p)", 75600, 5120, 5120),
]


def vdit_numbers(md_path):
    """{(shape, out): TFLOP/s} from a bench_gemm results table."""
    res = {}
    with open(md_path) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 7 and re.match(r"^[0-9.]+$", cells[6]):
                res[(cells[0], cells[4])] = float(cells[6])
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--results", default="bench/results")
    a = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("gemm_torch: no CUDA device visible to torch", file=sys.stderr)
        return 1
    dev = torch.cuda.get_device_name(0)
    g = torch.Generator(device="cuda").manual_seed(0)
    rows = []
    for name, M, K, N in SHAPES:
        x = torch.randn(M, K, device="cuda", dtype=torch.bfloat16, generator=g)
        w = torch.randn(N, K, device="cuda", dtype=torch.bfloat16, generator=g)
        b = torch.randn(N, device="cuda", dtype=torch.bfloat16, generator=g)
        for _ in range(a.warmup):
            torch.nn.functional.linear(x, w, b)
        torch.cuda.synchronize()
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        for _ in range(a.iters):
            torch.nn.functional.linear(x, w, b)
        e1.record()
        torch.cuda.synchronize()
        ms = e0.elapsed_time(e1) / a.iters
        tf = 2.0 * M * N * K / (ms * 1e-3) / 1e12
        rows.append((name, M, K, N, ms, tf))
        del x, w, b
        torch.cuda.empty_cache()

    print(f"torch {torch.__version__} on {dev}, iters {a.iters}, warmup {a.warmup}")
    print(f"{'shape':22s} {'M':>6s} {'K':>6s} {'N':>6s} {'ms':>9s} {'TFLOP/s':>9s}")
    for name, M, K, N, ms, tf in rows:
        print(f"{name:22s} {M:6d} {K:6d} {N:6d} {ms:9.3f} {tf:9.1f}")

    cands = sorted(p for p in glob.glob(os.path.join(a.results, "gemm_*.md")) if "torch" not in os.path.basename(p))
    ours = vdit_numbers(cands[-1]) if cands else {}
    if cands:
        path, mode = cands[-1], "a"
    else:
        os.makedirs(a.results, exist_ok=True)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
        path, mode = os.path.join(a.results, f"gemm_torch_{stamp}.md"), "w"
    with open(path, mode) as f:
        f.write(f"\n## Anchor: torch.nn.functional.linear, bf16 in/out with bf16 bias (torch {torch.__version__}, {dev})\n\n")
        f.write("| shape | M | K | N | torch ms | torch TFLOP/s | vdit bf16+bias TFLOP/s | vdit / torch |\n")
        f.write("|---|---|---|---|---|---|---|---|\n")
        for name, M, K, N, ms, tf in rows:
            v = ours.get((name, "bf16+bias"))
            vs = f"{v:.1f}" if v is not None else "n/a"
            ratio = f"{v / tf:.2f}" if v is not None else "n/a"
            f.write(f"| {name} | {M} | {K} | {N} | {ms:.3f} | {tf:.1f} | {vs} | {ratio} |\n")
            if v is not None:
                print(f"  {name}: vdit {v:.1f} / torch {tf:.1f} TFLOP/s = {v / tf:.2f}")
    print(f"appended to {path}" if mode == "a" else f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
