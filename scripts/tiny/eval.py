#!/usr/bin/env python3
"""Prompt-adherence evaluation of a model through vdit itself (not diffusers).

For each held-out prompt (dataset.eval_prompts: (colour, shape) pairs never seen in training),
runs `vdit generate` (PNG frames), then scores the moving object's colour and direction of motion
from the frames (score.py) and prints the accuracies. Needs numpy and Pillow only.

  python3 scripts/tiny/eval.py --vdit build/apps/vdit [--model assets/vdit-tiny] [-n 24] [--device cpu]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tiny import dataset, score  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vdit", required=True, help="path to the vdit executable")
    ap.add_argument("--model", default=None, help="model folder (default: vdit's bundled model)")
    ap.add_argument("-n", type=int, default=24, help="number of held-out prompts")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="write the summary here")
    args = ap.parse_args()
    prompts = dataset.eval_prompts(args.n)
    results, t0 = [], time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for i, (prompt, attrs) in enumerate(prompts):
            out = os.path.join(tmp, f"p{i}")
            os.makedirs(out)
            cmd = [args.vdit, "generate", "--prompt", prompt, "--seed", str(args.seed + i), "--device", args.device,
                   "-o", os.path.join(out, "%04d.png")]
            if args.model:
                cmd += ["--model", args.model]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"vdit generate failed ({r.returncode}) on '{prompt}':\n{r.stderr}", file=sys.stderr)
                return 1
            frames = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in sorted(glob.glob(os.path.join(out, "*.png")))])
            c, d = score.analyse(frames)
            results.append((attrs, frames))
            print(f"[{i + 1}/{len(prompts)}] {prompt}: colour {c} ({'ok' if c == attrs['color'] else 'x'}), "
                  f"direction {d} ({'ok' if d == attrs['direction'] else 'x'})", flush=True)
    s = score.score(results)
    s["seconds"] = round(time.time() - t0, 1)
    print(f"held-out prompts: {s['n']}, colour accuracy {s['colour_acc']:.1%}, direction accuracy {s['direction_acc']:.1%} "
          f"({s['seconds']} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(s, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
