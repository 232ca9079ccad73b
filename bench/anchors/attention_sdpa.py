#!/usr/bin/env python3
"""Anchor for bench/bench_attention: PyTorch SDPA (flash and cuDNN backends) on the attention
shapes of the Wan DiT, timed with CUDA events, bf16, non-causal, no mask.

Writes JSON for bench_attention --anchor (same job, same GPU), e.g.

    python3 bench/anchors/attention_sdpa.py --json /tmp/sdpa.json
    build/bench/bench_attention --anchor /tmp/sdpa.json

Shapes (B, H, N, D) default to the two of issue 5: Wan-1.3B 480p (1, 12, 32760, 128) and
Wan-14B 720p (1, 40, 75600, 128). TFLOP/s counts 4 * B * H * N^2 * D (QK^T and PV).
"""
import argparse
import json
import sys


def time_backend(torch, backend, q, k, v, warmup, iters):
    from torch.nn.attention import sdpa_kernel
    import torch.nn.functional as F

    with sdpa_kernel([backend]):
        for _ in range(warmup):
            F.scaled_dot_product_attention(q, k, v)
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        times = []
        for _ in range(iters):
            start.record()
            F.scaled_dot_product_attention(q, k, v)
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]   # median, ms


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", required=True, help="output JSON path")
    ap.add_argument("--shapes", default="1,12,32760,128;1,40,75600,128", help="B,H,N,D;...")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10)
    args = ap.parse_args()

    import torch
    from torch.nn.attention import SDPBackend

    if not torch.cuda.is_available():
        print("attention_sdpa: torch has no CUDA device", file=sys.stderr)
        return 1
    dev = torch.cuda.get_device_name(0)
    out = {"device": dev, "torch": torch.__version__, "cuda": torch.version.cuda, "results": []}
    backends = [("sdpa_flash", SDPBackend.FLASH_ATTENTION), ("sdpa_cudnn", SDPBackend.CUDNN_ATTENTION)]
    for spec in args.shapes.split(";"):
        B, H, N, D = (int(x) for x in spec.split(","))
        g = torch.Generator(device="cuda").manual_seed(0)
        # [B, H, N, D] as SDPA expects; bf16 like vdit's CUDA path.
        q, k, v = (torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16, generator=g) for _ in range(3))
        flops = 4.0 * B * H * N * N * D
        for name, be in backends:
            row = {"B": B, "H": H, "N": N, "D": D, "backend": name}
            try:
                ms = time_backend(torch, be, q, k, v, args.warmup, args.iters)
                row.update(ms=ms, tflops=flops / (ms * 1e-3) / 1e12)
            except Exception as e:   # backend unavailable for this build/shape
                row.update(ms=None, tflops=None, error=str(e).splitlines()[0][:200])
            out["results"].append(row)
            print(f"{name:11s} B={B} H={H} N={N} D={D}: "
                  + (f"{row['ms']:.3f} ms, {row['tflops']:.1f} TFLOP/s" if row["ms"] else f"unavailable ({row['error']})"))
        del q, k, v
        torch.cuda.empty_cache()
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
