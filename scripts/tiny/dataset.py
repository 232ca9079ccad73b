#!/usr/bin/env python3
"""Procedural text-to-video clips for vdit-tiny: one simple object moving over a plain background.

Each clip: FRAMES x SIZE x SIZE RGB in [-1, 1], an object (shape, colour, size) that moves in
one of four directions at constant speed, on one of several backgrounds; caption built from the
attributes, e.g. "a small red circle moving left on a dark blue background".
Some (colour, shape) combinations are HELD_OUT of training and form the evaluation prompts.

Rendering runs in torch (CPU or GPU) so training can draw fresh clips every step.
`python3 scripts/tiny/dataset.py --out DIR -n 8` writes a few clips as PNG strips to look at.
"""
import argparse
import math
import os
import random

import torch

SIZE = 128        # pixels (height = width)
FRAMES = 17       # 4k+1 frames: 5 latent frames through the Wan VAE
if os.environ.get("VDIT_TINY_SMOKE"):   # a quick end-to-end check of the scripts on a CPU
    SIZE, FRAMES = 64, 5
# Reduced-scale experiments on a CPU (e.g. VDIT_TINY_SIZE=32 VDIT_TINY_FRAMES=9): object sizes and
# speeds scale with SIZE / 128 so a clip looks the same, only smaller.
SIZE = int(os.environ.get("VDIT_TINY_SIZE", SIZE))
FRAMES = int(os.environ.get("VDIT_TINY_FRAMES", FRAMES))
_SCALE = SIZE / 128.0
COLORS = {        # name -> RGB in [0, 1]
    "red": (0.90, 0.10, 0.10), "green": (0.10, 0.80, 0.20), "blue": (0.15, 0.35, 0.95),
    "yellow": (0.95, 0.90, 0.10), "white": (0.97, 0.97, 0.97), "purple": (0.65, 0.20, 0.85),
}
BACKGROUNDS = {
    "black": (0.02, 0.02, 0.02), "gray": (0.45, 0.45, 0.45), "dark blue": (0.05, 0.08, 0.30),
    "brown": (0.35, 0.22, 0.10),
}
SHAPES = ("circle", "square", "triangle")
SIZES = {"small": 11.0 * _SCALE, "large": 19.0 * _SCALE}   # object half-size in pixels
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
SPEED = (3.0 * _SCALE, 4.5 * _SCALE)      # pixels per frame, uniform range
# (colour, shape) pairs never shown in training; evaluation prompts use them.
HELD_OUT = {("red", "triangle"), ("blue", "circle"), ("yellow", "square"), ("white", "triangle"),
            ("green", "square"), ("purple", "circle")}


def caption(attrs):
    return f"a {attrs['size']} {attrs['color']} {attrs['shape']} moving {attrs['direction']} on a {attrs['background']} background"


def sample_attrs(rng, held_out=False):
    """Random attributes; held_out=True draws only held-out (colour, shape) pairs."""
    while True:
        a = {"color": rng.choice(list(COLORS)), "shape": rng.choice(SHAPES), "size": rng.choice(list(SIZES)),
             "direction": rng.choice(list(DIRECTIONS)), "background": rng.choice(list(BACKGROUNDS))}
        if ((a["color"], a["shape"]) in HELD_OUT) == held_out:
            return a


def render(attrs_list, rng, device="cpu", return_alpha=False):
    """Renders clips -> tensor [B, 3, FRAMES, SIZE, SIZE] in [-1, 1] (and the object's coverage
    alpha [B, 1, FRAMES, SIZE, SIZE] in [0, 1] when return_alpha). The per-clip parameters are
    drawn on the host and moved in one transfer; the pixels are computed on `device` in one pass."""
    B = len(attrs_list)
    cx = torch.empty(B, FRAMES)
    cy = torch.empty(B, FRAMES)
    r = torch.empty(B)
    fg = torch.empty(B, 3)
    bg = torch.empty(B, 3)
    kind = torch.empty(B)
    t = torch.arange(FRAMES, dtype=torch.float32)
    lo_pad = 2.0 * max(_SCALE, 0.5)
    for i, a in enumerate(attrs_list):
        half = SIZES[a["size"]]
        speed = rng.uniform(*SPEED)
        dx, dy = DIRECTIONS[a["direction"]]
        travel = speed * (FRAMES - 1)
        lo, hi = half + lo_pad, SIZE - half - lo_pad
        # start so the whole path stays inside the frame along the motion axis
        sx = rng.uniform(lo, hi) if dx == 0 else (rng.uniform(lo, hi - travel) if dx > 0 else rng.uniform(lo + travel, hi))
        sy = rng.uniform(lo, hi) if dy == 0 else (rng.uniform(lo, hi - travel) if dy > 0 else rng.uniform(lo + travel, hi))
        cx[i] = sx + dx * speed * t
        cy[i] = sy + dy * speed * t
        r[i] = half
        fg[i] = torch.tensor(COLORS[a["color"]])
        bg[i] = torch.tensor(BACKGROUNDS[a["background"]])
        kind[i] = SHAPES.index(a["shape"])
    params = torch.cat([cx, cy, r[:, None], fg, bg, kind[:, None]], 1).to(device, non_blocking=True)
    cx, cy = params[:, :FRAMES, None, None], params[:, FRAMES:2 * FRAMES, None, None]     # [B, F, 1, 1]
    r = params[:, 2 * FRAMES].view(B, 1, 1, 1)
    fg, bg = params[:, 2 * FRAMES + 1:2 * FRAMES + 4], params[:, 2 * FRAMES + 4:2 * FRAMES + 7]
    kind = params[:, 2 * FRAMES + 7].view(B, 1, 1, 1)
    ys = torch.arange(SIZE, device=device, dtype=torch.float32).view(1, 1, SIZE, 1) + 0.5
    xs = torch.arange(SIZE, device=device, dtype=torch.float32).view(1, 1, 1, SIZE) + 0.5
    # signed distance-ish fields per shape (negative inside), anti-aliased with a 1-pixel ramp
    px, py = xs - cx, ys - cy                                     # [B, F, S, S]
    d_circle = torch.sqrt(px * px + py * py) - r
    d_square = torch.maximum(px.abs(), py.abs()) - r * 0.85
    # upward-pointing isosceles triangle inside the box of half-size r
    d_tri = torch.maximum(py - r * 0.8, (px.abs() * 2.0 - (py + r)) / math.sqrt(5.0) * 2.0)
    d = torch.where(kind == 0, d_circle, torch.where(kind == 1, d_square, d_tri))
    alpha = (0.5 - d).clamp(0.0, 1.0).unsqueeze(1)              # [B, 1, F, S, S]
    video = bg.view(B, 3, 1, 1, 1) * (1 - alpha) + fg.view(B, 3, 1, 1, 1) * alpha
    video = video * 2.0 - 1.0
    return (video, alpha) if return_alpha else video


def batch(n, rng, device="cpu", held_out=False):
    attrs = [sample_attrs(rng, held_out) for _ in range(n)]
    return render(attrs, rng, device), [caption(a) for a in attrs], attrs


def all_captions():
    """Every training caption (for the tokenizer); held-out pairs excluded."""
    out = []
    for c in COLORS:
        for s in SHAPES:
            if (c, s) in HELD_OUT:
                continue
            for z in SIZES:
                for d in DIRECTIONS:
                    for b in BACKGROUNDS:
                        out.append(caption({"color": c, "shape": s, "size": z, "direction": d, "background": b}))
    return out


def eval_prompts(n=48, seed=1234):
    """Held-out evaluation prompts with their attributes (deterministic)."""
    rng = random.Random(seed)
    return [(caption(a), a) for a in (sample_attrs(rng, held_out=True) for _ in range(n))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("-n", type=int, default=6)
    args = ap.parse_args()
    from PIL import Image
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(0)
    video, caps, _ = batch(args.n, rng)
    for i in range(args.n):
        # [3, F, S, S] -> [S (y), F, S (x), 3] -> one row of frames
        strip = ((video[i].permute(2, 1, 3, 0).reshape(SIZE, FRAMES * SIZE, 3) + 1) * 127.5).clamp(0, 255).byte()
        Image.fromarray(strip.numpy()).save(os.path.join(args.out, f"clip{i}.png"))
        print(f"clip{i}.png: {caps[i]}")


if __name__ == "__main__":
    main()
