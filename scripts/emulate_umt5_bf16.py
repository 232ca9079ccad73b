#!/usr/bin/env python3
"""Where the tolerance of tests/gpu/test_umt5_cuda.c comes from.

A plain torch re-implementation of the UMT5 encoder (checked here against the fixture outputs
tests/data/text/umt5_*_io.safetensors, which transformers produced), run twice on the CPU:
  ref: fp32 everywhere (what vd_umt5_forward_cpu computes; weights = the stored values in f32);
  emu: the rounding points of dit/umt5_cuda.cu, fp32 elsewhere:
       - every matrix weight (q, k, v, o, wi_0, wi_1, wo) rounded to bf16 at upload;
       - every GEMM input rounded to bf16 (RMSNorm0 output before q/k/v, the attention output
         before o, gelu(wi_0 h) * wi_1 h before wo);
       - GEMM outputs stay fp32 (cuBLASLt fp32 accumulate, VD_F32 output);
       - norms, bias tables, embedding rows, residual stream, softmax, attention (q.k, p.v) fp32.
The inputs are those of the gpu test: the same fixtures, lengths 1, 7, 77, 512, token ids drawn
with the test's vt_rng (splitmix64, seed = case index) and the same float arithmetic, plus the Wan
text path on umt5_tok (tok_umt5.json, "A cat walks..." and ""). It prints the NMSE of emu vs ref
as vt_compare computes it (sum (got-ref)^2 / sum ref^2), for the test's ids and, to see the spread
over inputs, for extra random id draws.

Usage: python3 scripts/emulate_umt5_bf16.py [--draws 8] [--bugs]   (CPU, a few minutes)
"""
import argparse
import glob
import json
import math
import os

import numpy as np
import torch
from safetensors.torch import load_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TEXT = os.path.join(ROOT, "tests", "data", "text")
CASES = ["umt5_a", "umt5_b", "umt5_c", "umt5_c_bf16", "umt5_c_f16", "umt5_tok"]
LENS = [1, 7, 77, 512]
M64 = (1 << 64) - 1


class VtRng:  # tests/test_util.c: vt_rng_seed, splitmix64, vt_uniform
    def __init__(self, seed):
        self.s = (seed * 0x9E3779B97F4A7C15 + 0x1234567) & M64

    def uniform(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z ^= z >> 31
        return np.float32((z >> 40) * (1.0 / 16777216.0))


def test_ids(rng, n, vocab):
    # (int32_t)(vt_uniform(&rng) * (float)vocab) % vocab, the product in float32
    return [int(np.float32(rng.uniform() * np.float32(vocab))) % vocab for _ in range(n)]


def load(name):
    d = os.path.join(TEXT, name)
    sd = {}
    for f in sorted(glob.glob(os.path.join(d, "*.safetensors"))):
        sd.update(load_file(f))
    cfg = json.load(open(os.path.join(d, "config.json")))
    return sd, cfg


def bucket(rel, nb, md):  # HF UMT5 _relative_position_bucket, bidirectional, fp32 log
    half = nb // 2
    out = (rel > 0).long() * half
    a = rel.abs()
    exact = half // 2
    large = exact + (torch.log(a.float() / exact) / math.log(md / exact) * (half - exact)).long()
    large = torch.minimum(large, torch.full_like(large, half - 1))
    return out + torch.where(a < exact, a, large)


def rb(x):
    return x.to(torch.bfloat16).float()


BUGS = {
    "bucket_sign": "relative position taken as i - j instead of j - i",
    "scaled_logits": "logits scaled by 1/sqrt(d_kv) (T5 has no scaling)",
    "shared_bias": "layer 0's bias table used in every layer (T5, not umT5)",
    "no_bias": "relative position bias left out",
    "gelu_erf": "erf GELU instead of the tanh form",
    "bias_far": "positions |rel| >= max_distance/2 get the bias of |rel| = 1 (a long-range bucket bug)",
    "bf16_out": "GEMM outputs also rounded to bf16 (bf16 output type instead of f32)",
}


def forward(sd, cfg, ids, emu, bug=None):
    """ids: list of n real token ids -> [n, d_model] f32. emu: the CUDA path's bf16 rounding.
    bug: one of BUGS, to see how far a plausible implementation error moves the result."""
    f = lambda k: sd[k].float()
    W = (lambda k: rb(f(k))) if emu else f
    X = rb if emu else (lambda t: t)
    nh, dkv = cfg["num_heads"], cfg["d_kv"]
    eps = cfg["layer_norm_epsilon"]
    emb = sd.get("shared.weight", sd.get("encoder.embed_tokens.weight")).float()
    x = emb[torch.tensor(ids, dtype=torch.long)]
    n = x.shape[0]
    pos = torch.arange(n)
    rel = pos[None, :] - pos[:, None]  # [i, j], rel = j - i
    if bug == "bucket_sign":
        rel = -rel
    if bug == "bias_far":
        rel = torch.where(rel.abs() >= cfg["relative_attention_max_distance"] // 2, rel.sign(), rel)
    bk = bucket(rel, cfg["relative_attention_num_buckets"], cfg["relative_attention_max_distance"])
    O = rb if bug == "bf16_out" else (lambda t: t)

    def rms(t, w):
        return t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + eps) * w

    for l in range(cfg["num_layers"]):
        p = "encoder.block.%d.layer." % l
        h = X(rms(x, f(p + "0.layer_norm.weight")))
        q = O(h @ W(p + "0.SelfAttention.q.weight").T).view(n, nh, dkv).transpose(0, 1)
        k = O(h @ W(p + "0.SelfAttention.k.weight").T).view(n, nh, dkv).transpose(0, 1)
        v = O(h @ W(p + "0.SelfAttention.v.weight").T).view(n, nh, dkv).transpose(0, 1)
        tp = "encoder.block.0.layer." if bug == "shared_bias" else p
        tab = f(tp + "0.SelfAttention.relative_attention_bias.weight")  # [nb, nh]
        logits = q @ k.transpose(1, 2)                                 # no 1/sqrt(d_kv)
        if bug == "scaled_logits":
            logits = logits / math.sqrt(dkv)
        if bug != "no_bias":
            logits = logits + tab[bk].permute(2, 0, 1)
        a = torch.softmax(logits, -1) @ v
        a = X(a.transpose(0, 1).reshape(n, nh * dkv))
        x = x + O(a @ W(p + "0.SelfAttention.o.weight").T)
        h = X(rms(x, f(p + "1.layer_norm.weight")))
        g0 = O(h @ W(p + "1.DenseReluDense.wi_0.weight").T)
        g1 = O(h @ W(p + "1.DenseReluDense.wi_1.weight").T)
        g = X(torch.nn.functional.gelu(g0, approximate="none" if bug == "gelu_erf" else "tanh") * g1)
        x = x + O(g @ W(p + "1.DenseReluDense.wo.weight").T)
    return rms(x, f("encoder.final_layer_norm.weight"))


def nmse(got, ref):
    return float(((got.double() - ref.double()) ** 2).sum() / (ref.double() ** 2).sum())


def check_reference():
    """The torch model against the transformers outputs stored with the fixtures."""
    worst = 0.0
    for name in CASES:
        sd, cfg = load(name)
        io = load_file(os.path.join(TEXT, name + "_io.safetensors"))
        nr = int(io["attention_mask"].sum())
        h = forward(sd, cfg, io["input_ids"][:nr].tolist(), False)
        e = float((h - io["hidden"][:nr]).abs().max() / io["hidden"][:nr].abs().max())
        worst = max(worst, e)
        print("reference check %-12s n=%3d  max|torch - transformers| / max|h| = %.2g" % (name, nr, e))
    assert worst < 1e-4, "the torch re-implementation does not match the fixtures"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=8, help="extra random id draws per case and length")
    ap.add_argument("--bugs", action="store_true", help="also: NMSE of buggy variants (emulated) on the test's ids")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    check_reference()
    if args.bugs:
        print("\nNMSE(buggy emulated CUDA path, fp32 reference) on the gpu test's ids; 'none' = no bug")
        for b, what in BUGS.items():
            print("  %-13s %s" % (b, what))
        print("%-12s %4s %9s " % ("case", "n", "none") + " ".join("%13s" % b for b in BUGS))
        for ci, name in enumerate(CASES):
            sd, cfg = load(name)
            rng = VtRng(ci)
            for n in LENS:
                ids = test_ids(rng, n, cfg["vocab_size"])
                ref = forward(sd, cfg, ids, False)
                e = [nmse(forward(sd, cfg, ids, True, b), ref) for b in [None] + list(BUGS)]
                print("%-12s %4d %9.3g " % (name, n, e[0]) + " ".join("%13.3g" % v for v in e[1:]))
    print("\nNMSE(emulated CUDA bf16 path, fp32 CPU reference); 'test ids' = the gpu test's inputs")
    print("%-12s %4s  %10s   %10s %10s  (over %d other id draws)" % ("case", "n", "test ids", "median", "max",
                                                                      args.draws))
    gen = torch.Generator().manual_seed(1234)
    worst = 0.0
    for ci, name in enumerate(CASES):
        sd, cfg = load(name)
        vocab = cfg["vocab_size"]
        rng = VtRng(ci)
        for n in LENS:
            ids = test_ids(rng, n, vocab)
            e = nmse(forward(sd, cfg, ids, True), forward(sd, cfg, ids, False))
            worst = max(worst, e)
            extra = []
            for _ in range(args.draws):
                r = torch.randint(0, vocab, (n,), generator=gen).tolist()
                extra.append(nmse(forward(sd, cfg, r, True), forward(sd, cfg, r, False)))
            print("%-12s %4d  %10.3g   %10.3g %10.3g" % (name, n, e, float(np.median(extra)) if extra else math.nan,
                                                           max(extra, default=math.nan)))
        if name == "umt5_tok":
            from tokenizers import Tokenizer
            tk = Tokenizer.from_file(os.path.join(TEXT, "tok_umt5.json"))
            for i, t in enumerate(["A cat walks on the grass, realistic style.", ""]):
                ids = tk.encode(t).ids
                e = nmse(forward(sd, cfg, ids, True), forward(sd, cfg, ids, False))
                worst = max(worst, e)
                print("%-12s %4d  %10.3g   (text path prompt %d)" % (name, len(ids), e, i))
    print("\nworst NMSE on the test's inputs: %.3g" % worst)


if __name__ == "__main__":
    main()
