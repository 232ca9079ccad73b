#!/usr/bin/env python3
"""Compare vdit's tokenizer and umT5 encoder with transformers on REAL Wan2.1 files.

Needs the Wan2.1 Diffusers layout (tokenizer/ and text_encoder/ under --model), the vdit
binary, and python3 with transformers + torch. The fixtures of tests/data/text cover random
small models; this script is the check on the real 256,384-piece tokenizer and umT5-XXL.

  python3 scripts/check_text_parity.py --model /path/Wan2.1-T2V-1.3B-Diffusers --vdit build/apps/vdit \
      [--device cuda|cpu] [--tokens-only]

Token ids must match exactly. Embeddings: vdit (cuda: bf16 weights; cpu: fp32) against
transformers in fp32 on the CPU (slow: ~5.7 B parameters), NMSE reported per prompt.
Prompts are cleaned with vdit's recipe on both sides (see dit/tokenizer_clean.h).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

PROMPTS = [
    "A cat walks on the grass, realistic style.",
    "",
    "Two  anthropomorphic cats in comfy boxing gear and bright gloves fight intensely on a spotlighted stage.",
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，"
    "丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，"
    "静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走",
    "Café déjà vu — naïve façade; ＡＢＣ ﬁ ① 🐱🌿 e\u0301 \u00ad x",
    "word " * 700,
]


def wc(t):
    """vdit's prompt cleaning recipe (dit/tokenizer_clean.h): ftfy's HTML step and uncurl_quotes,
    html.unescape twice, whitespace_clean. With ftfy installed, also report where Wan's real
    prompt_clean (ftfy.fix_text) differs from it."""
    import html
    u = t if "<" in t else html.unescape(t)
    u = re.sub("[\u201c-\u201f]", '"', re.sub("[\u2018-\u201b]", "'", u))
    u = re.sub(r"\s+", " ", html.unescape(html.unescape(u))).strip()
    try:
        import ftfy
        w = re.sub(r"\s+", " ", html.unescape(html.unescape(ftfy.fix_text(t))).strip()).strip()
        if w != u:
            print("note: Wan's ftfy-based prompt_clean differs from vdit's on %r" % t[:60])
    except ImportError:
        pass
    return u


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--vdit", default="build/apps/vdit")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--tokens-only", action="store_true")
    a = ap.parse_args()
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(os.path.join(a.model, "tokenizer"))
    tj = os.path.join(a.model, "tokenizer", "tokenizer.json")
    bad = 0
    for p in PROMPTS:
        ref = tok(wc(p), padding="max_length", max_length=512, truncation=True, add_special_tokens=True,
                  return_attention_mask=True)
        n = sum(ref["attention_mask"])
        out = subprocess.run([a.vdit, "tokenize", "--tokenizer", tj, wc(p)], capture_output=True, text=True)
        got = [int(x) for x in out.stdout.split()]
        ok = got == ref["input_ids"][:n]
        bad += not ok
        print("%s ids %-60r %d tokens" % ("ok  " if ok else "FAIL", p[:60], n))
        if not ok:
            print("   vdit :", got[:40])
            print("   hf   :", ref["input_ids"][:40])
    if a.tokens_only:
        sys.exit(1 if bad else 0)
    import numpy as np
    import torch
    from safetensors.numpy import load_file
    from transformers import UMT5EncoderModel
    enc = UMT5EncoderModel.from_pretrained(os.path.join(a.model, "text_encoder"), torch_dtype=torch.float32).eval()
    for p in PROMPTS[:4]:
        with tempfile.TemporaryDirectory() as d:
            f = os.path.join(d, "e.safetensors")
            subprocess.run([a.vdit, "encode-text", "--model", a.model, "--device", a.device, p, "--out", f], check=True)
            got = load_file(f)["prompt_embeds"][0]
        ref = tok(wc(p), padding="max_length", max_length=512, truncation=True, add_special_tokens=True,
                  return_attention_mask=True, return_tensors="pt")
        with torch.no_grad():
            h = enc(ref.input_ids, ref.attention_mask).last_hidden_state[0].numpy()
        n = int(ref.attention_mask.sum())
        h[n:] = 0
        nmse = float(((got - h) ** 2).sum() / max((h ** 2).sum(), 1e-30))
        print("embeddings %-50r n=%d nmse=%.3g max_abs=%.3g zero rows ok=%s" %
              (p[:50], n, nmse, float(np.abs(got - h).max()), bool((got[n:] == 0).all())))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
