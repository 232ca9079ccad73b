#!/usr/bin/env python3
"""CPU-sized proof of train.py's DiT recipe (not of its VAE phase): does the DiT + UMT5, trained
exactly as train_dit trains them (pre-tokenised captions, 10% dropped, exact pad-folded 512-row
cross-attention, flow matching with shift 3, AdamW + warm-up/cosine, lr, batch), learn to follow
colour and direction on HELD-OUT (colour, shape) pairs?

The VAE is replaced by a fixed, lossless-at-cell-level proxy so that the experiment fits a 2-core
CPU: clips of VDIT_TINY_SIZE (default 64) pixels and 9 frames become latents [16, 3, SIZE/8,
SIZE/8] (the Wan latent layout: 4x temporal by taking frames 0, 4, 8; 8x8 cells; channels 0-2 the
cell's colour: the object's when it covers >= 25% of the cell, else the background's; channels
3-15 zero). Decoding repeats cells and frames; the decoded ground truth scores 100%/100% with
score.py, so accuracies below are the DiT's. Generation: 20 Euler flow steps, shift 3, CFG 5.
  VDIT_TINY_SIZE=64 VDIT_TINY_FRAMES=9 python3 scripts/tiny/proof_dit.py --seconds 600 --batch 32
"""
import argparse
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tiny import dataset, score, train as tr  # noqa: E402


def proxy_encode(video, alpha):
    """video [B, 3, 9, S, S], alpha [B, 1, 9, S, S] -> latents [B, 16, 3, S/8, S/8]."""
    v, a = video[:, :, ::4], alpha[:, :, ::4]
    cov = F.avg_pool3d(a, (1, 8, 8))
    obj = F.avg_pool3d(v * a, (1, 8, 8)) / cov.clamp_min(1e-6)
    bg = F.avg_pool3d(v * (1 - a), (1, 8, 8)) / (1 - cov).clamp_min(1e-6)
    z = torch.where(cov >= 0.25, obj, bg)
    return F.pad(z, (0, 0, 0, 0, 0, 0, 0, 13))


def proxy_decode(z):
    """latents [B, 16, 3, h, w] -> uint8 frames [B, 9, 8h, 8w, 3] (frame i shows latent frame i // 4, clamped)."""
    v = F.interpolate(z[:, :3], scale_factor=(1, 8, 8), mode="nearest")
    idx = torch.tensor([min(i // 4 + (i % 4 > 1), 2) for i in range(9)])   # nearest sampled frame
    v = v[:, :, idx]
    return ((v.permute(0, 2, 3, 4, 1) + 1) * 127.5).round().clamp(0, 255).byte().numpy()


@torch.no_grad()
def generate(dit, te, tok, prompts, mean, std, shape, steps=20, guidance=5.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((len(prompts),) + shape, generator=g)
    t = tok(list(prompts) + [""] * len(prompts), padding="longest", return_tensors="pt")
    L = t.input_ids.shape[1]
    proc = tr.fold_padding(dit)
    proc.pad_bias = math.log(tr.TEXT_LEN - L)
    ctx = tr.context(te, t.input_ids, t.attention_mask, L + 1)
    u = torch.linspace(1, 0, steps + 1)
    sig = tr.SHIFT * u / (1 + (tr.SHIFT - 1) * u)
    for i in range(steps):
        s = sig[i].repeat(2 * len(prompts))
        v = dit(torch.cat([x, x]), timestep=s * 1000, encoder_hidden_states=ctx, return_dict=False)[0]
        vc, vu = v.chunk(2)
        x = x + (sig[i + 1] - sig[i]) * (vu + guidance * (vc - vu))
    return x * std + mean


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--pool", type=int, default=4096)
    ap.add_argument("--eval", type=int, default=48)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    assert dataset.FRAMES == 9 and dataset.SIZE % 16 == 0, "run with VDIT_TINY_FRAMES=9 and VDIT_TINY_SIZE a multiple of 16"
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = random.Random(0)
    tok = tr.tiny_tok.build(dataset.all_captions())
    te, dit = tr.build_text(len(tok)), tr.build_dit()
    # ground truth through the proxy scores 100%: the proxy keeps what the scorer reads
    attrs = [dataset.sample_attrs(rng, held_out=True) for _ in range(48)]
    v, a = dataset.render(attrs, rng, return_alpha=True)
    gt = score.score(list(zip(attrs, proxy_decode(proxy_encode(v, a)))))
    tr.log("proxy ground truth (held-out):", gt)
    zs, caps = [], []
    for i in range(0, args.pool, 256):
        attrs = [dataset.sample_attrs(rng) for _ in range(256)]
        v, a = dataset.render(attrs, rng, return_alpha=True)
        zs.append(proxy_encode(v, a))
        caps += [dataset.caption(x) for x in attrs]
    z = torch.cat(zs)
    t = tok(caps + [""], padding="longest", return_tensors="pt")
    pool = (z, t.input_ids[:-1], t.attention_mask[:-1], t.input_ids[-1], t.attention_mask[-1])
    mean = z.mean(dim=(0, 2, 3, 4)).view(1, -1, 1, 1, 1)
    std = z.std(dim=(0, 2, 3, 4)).clamp_min(1e-3).view(1, -1, 1, 1, 1)
    tr.log(f"pool {tuple(z.shape)}; training {args.seconds:.0f} s, batch {args.batch}, lr {args.lr}")
    dit.train(); te.train()
    steps, loss = tr.train_dit(dit, te, pool, mean, std, args.seconds, "cpu", args.batch, args.lr, log_every=25)
    dit.eval(); te.eval()
    prompts = dataset.eval_prompts(args.eval)
    t0 = time.time()
    out = generate(dit, te, tok, [p for p, _ in prompts], mean, std, tuple(z.shape[1:]))
    res = score.score(list(zip([a for _, a in prompts], proxy_decode(out))))
    tr.log(f"held-out prompts after {steps} steps (batch {args.batch}): {res} (generation {time.time() - t0:.0f} s)")
    train_prompts = [(dataset.caption(a), a) for a in (dataset.sample_attrs(random.Random(7)) for _ in range(args.eval))]
    out = generate(dit, te, tok, [p for p, _ in train_prompts], mean, std, tuple(z.shape[1:]), seed=1)
    tr.log("training-distribution prompts:", score.score(list(zip([a for _, a in train_prompts], proxy_decode(out)))))


if __name__ == "__main__":
    main()
