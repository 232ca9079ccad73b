#!/usr/bin/env python3
"""Checks of train.py's exactness claims, on a CPU in a few seconds:
1. PadFoldedCrossAttn with an (L + 1)-row context gives the same DiT output as diffusers' own
   processor with the 512-row zero-padded context that WanPipeline and vdit use (and differs
   without the log(512 - L) bias, so the check can fail).
2. object_crops cuts the same pixels as plain slicing at the offsets it chose, and keeps the object.
  python3 scripts/tiny/test_train.py
"""
import math
import os
import random
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tiny import dataset, train as tr  # noqa: E402


def check_fold():
    torch.manual_seed(0)
    tok = tr.tiny_tok.build(dataset.all_captions())
    te, dit = tr.build_text(len(tok)), tr.build_dit()
    for p in dit.parameters():   # random everywhere (zero-initialised output layers would hide differences)
        p.data.normal_(0, 0.05)
    te.eval(); dit.eval()
    caps = ["a small red circle moving left on a dark blue background", "", "a large white square moving up on a gray background"]
    t = tok(caps, padding="longest", return_tensors="pt")
    ids, mask = t.input_ids, t.attention_mask
    x, ts = torch.randn(3, 16, 2, 4, 4), torch.tensor([100., 500., 900.])
    L = ids.shape[1]
    with torch.no_grad():
        ref = dit(x, timestep=ts, encoder_hidden_states=tr.context(te, ids, mask), return_dict=False)[0]
        proc = tr.fold_padding(dit)
        proc.pad_bias = math.log(tr.TEXT_LEN - L)
        out = dit(x, timestep=ts, encoder_hidden_states=tr.context(te, ids, mask, L + 1), return_dict=False)[0]
        proc.pad_bias = 0.0
        wrong = dit(x, timestep=ts, encoder_hidden_states=tr.context(te, ids, mask, L + 1), return_dict=False)[0]
    err, err_wrong, scale = (out - ref).abs().max().item(), (wrong - ref).abs().max().item(), ref.abs().max().item()
    print(f"fold: L {L}, max |folded - 512 rows| {err:.2e} (output scale {scale:.2e}); without the bias {err_wrong:.2e}")
    return err < 1e-4 * scale and err_wrong > 1e-2 * scale


def check_crops():
    rng = random.Random(0)
    attrs = [dataset.sample_attrs(rng) for _ in range(6)]
    x, a = dataset.render(attrs, rng, return_alpha=True)
    torch.manual_seed(1)
    xc, ac = tr.object_crops(x, a, 48, 9, 0.0)
    ok = True
    for b in range(6):   # find the offset by exhaustive search of the alpha crop, compare the pixels
        best = None
        for oy in range(dataset.SIZE - 48 + 1):
            for ox in range(dataset.SIZE - 48 + 1):
                if torch.equal(a[b, :, :9, oy:oy + 48, ox:ox + 48], ac[b]):
                    best = (oy, ox)
                    break
            if best:
                break
        ok &= best is not None and torch.equal(x[b, :, :9, best[0]:best[0] + 48, best[1]:best[1] + 48], xc[b])
    kept = (ac.sum() / a[:, :, :9].sum()).item()
    print(f"crops: pixels equal to slicing: {bool(ok)}, object coverage kept {kept:.1%}")
    return bool(ok) and kept > 0.8


if __name__ == "__main__":
    torch.set_num_threads(1)
    good = check_fold() & check_crops()
    print("PASS" if good else "FAIL")
    sys.exit(0 if good else 1)
