#!/usr/bin/env python3
"""Trains vdit-tiny: all three Wan2.1 parts, small, on procedural clips (scripts/tiny/dataset.py).

Phases (each time-budgeted, so the whole run fits one GPU call):
  1. VAE   : diffusers AutoencoderKLWan (small base_dim) as an autoencoder (L1 + MSE + tiny KL).
  2. stats : per-channel latent mean/std -> vae config latents_mean / latents_std (Wan convention:
             z = latents * std + mean before decoding).
  3. DiT   : WanTransformer3DModel + UMT5EncoderModel trained jointly with the flow-matching
             objective (x_t = (1 - s) x0 + s eps, target eps - x0, timestep = 1000 s, s from a
             shifted uniform), 10% captions dropped to "" for classifier-free guidance.
  4. save  : WanPipeline.save_pretrained layout in fp16, plus vdit.json (the defaults vdit uses),
             then a held-out evaluation with diffusers' WanPipeline (scripts/tiny/score.py).
Resume: --resume DIR continues from a saved model folder (the VAE phase is skipped when
--vae-seconds 0).
Run on the GPU machine:  python3 scripts/tiny/train.py --out /tmp/vdit-tiny --vae-seconds 150 --dit-seconds 330
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tiny import dataset, score, tokenizer as tiny_tok  # noqa: E402

from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel  # noqa: E402
from transformers import UMT5Config, UMT5EncoderModel  # noqa: E402

TEXT_LEN = 512        # Wan pads the prompt embedding to 512 rows; the DiT attends to all of them
SHIFT = 3.0
DEFAULTS = {"width": 128, "height": 128, "frames": 17, "steps": 20, "guidance": 5.0, "shift": SHIFT,
            "fps": 8, "negative_prompt": ""}


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, flush=True)


def build_vae():
    return AutoencoderKLWan(base_dim=16, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=1, attn_scales=[],
                            temperal_downsample=[False, True, True], dropout=0.0)


def build_text(vocab):
    cfg = UMT5Config(vocab_size=vocab, d_model=128, d_kv=32, d_ff=256, num_layers=2, num_heads=4,
                     relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.0,
                     feed_forward_proj="gated-gelu", layer_norm_epsilon=1e-6, pad_token_id=0, eos_token_id=1,
                     decoder_start_token_id=0, is_encoder_decoder=False, use_cache=False)
    return UMT5EncoderModel(cfg)


def build_dit():
    return WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=4, attention_head_dim=64, in_channels=16,
                                 out_channels=16, text_dim=128, freq_dim=256, ffn_dim=1024, num_layers=4,
                                 cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)


def encode_text(tok, te, captions, device):
    """The WanPipeline procedure: tokenize to 512 with mask, encode, zero rows past the length."""
    t = tok(captions, padding="max_length", max_length=TEXT_LEN, truncation=True, add_special_tokens=True,
            return_attention_mask=True, return_tensors="pt")
    ids, mask = t.input_ids.to(device), t.attention_mask.to(device)
    # Encoding only the first max(len) positions is exact (pads are masked out of attention and the
    # relative bias of real positions does not depend on them) and much cheaper than 512.
    L = int(mask.sum(1).max())
    h = te(ids[:, :L], attention_mask=mask[:, :L]).last_hidden_state
    h = h * mask[:, :L, None].to(h.dtype)
    out = torch.zeros(len(captions), TEXT_LEN, h.shape[-1], device=device, dtype=h.dtype)
    out[:, :L] = h
    return out


def train_vae(vae, seconds, device, rng, lr=5e-4, crop=64, frames=9):
    """Trains on random crops (crop x crop pixels, the first `frames` = 4k+1 frames) of fresh clips:
    the VAE is fully convolutional, so crops teach the same mapping at ~8x less cost per step than
    whole 17 x 128 x 128 clips (a first run on whole clips reached only L1 0.2 in 476 steps)."""
    opt = torch.optim.AdamW(vae.parameters(), lr=lr, weight_decay=0.0)
    t0, step, ema = time.time(), 0, None
    while time.time() - t0 < seconds:
        frac = (time.time() - t0) / seconds
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        x, _, _ = dataset.batch(16, rng, device)
        oy, ox = rng.randrange(0, dataset.SIZE - crop + 1), rng.randrange(0, dataset.SIZE - crop + 1)
        x = x[:, :, :frames, oy:oy + crop, ox:ox + crop].contiguous()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
            post = vae.encode(x).latent_dist
            z = post.sample()
            rec = vae.decode(z).sample
        rec = rec.float()
        kl = post.kl().mean() / x[0].numel()
        l1 = F.l1_loss(rec, x)
        loss = l1 + F.mse_loss(rec, x) + 1e-4 * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        step += 1
        ema = l1.item() if ema is None else 0.98 * ema + 0.02 * l1.item()
        if step % 200 == 0:
            log(f"vae step {step} l1(ema) {ema:.4f} lr {opt.param_groups[0]['lr']:.2e}")
    log(f"vae: {step} steps in {time.time() - t0:.0f} s, l1(ema) {ema:.4f}")


@torch.no_grad()
def vae_check(vae, device, rng):
    """L1 of whole-clip reconstructions (the number the model card quotes)."""
    x, _, _ = dataset.batch(8, rng, device)
    rec = vae.decode(vae.encode(x).latent_dist.mode()).sample.float()
    return F.l1_loss(rec, x).item()


@torch.no_grad()
def latent_stats(vae, device, rng, n=128):
    zs = []
    for _ in range(n // 16):
        x, _, _ = dataset.batch(16, rng, device)
        zs.append(vae.encode(x).latent_dist.mode().float())
    z = torch.cat(zs)                                      # [n, 16, F, H, W]
    mean = z.mean(dim=(0, 2, 3, 4))
    std = z.std(dim=(0, 2, 3, 4)).clamp_min(1e-3)
    return mean.tolist(), std.tolist()


def train_dit(dit, te, tok, vae, seconds, device, rng, batch=32, lr=3e-4):
    mean = torch.tensor(vae.config.latents_mean, device=device).view(1, -1, 1, 1, 1)
    std = torch.tensor(vae.config.latents_std, device=device).view(1, -1, 1, 1, 1)
    params = list(dit.parameters()) + list(te.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01, betas=(0.9, 0.99))
    t0, step, ema = time.time(), 0, None
    vae.eval()
    while time.time() - t0 < seconds:
        frac = (time.time() - t0) / seconds
        for g in opt.param_groups:   # warm-up then cosine decay over the time budget
            g["lr"] = lr * min(1.0, (step + 1) / 200) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        x, caps, _ = dataset.batch(batch, rng, device)
        caps = ["" if rng.random() < 0.1 else c for c in caps]
        with torch.no_grad():
            x0 = (vae.encode(x).latent_dist.mode() - mean) / std
        u = torch.rand(batch, device=device)
        s = SHIFT * u / (1 + (SHIFT - 1) * u)
        eps = torch.randn_like(x0)
        sv = s.view(-1, 1, 1, 1, 1)
        xt = (1 - sv) * x0 + sv * eps
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
            ctx = encode_text(tok, te, caps, device)
            pred = dit(xt, timestep=s * 1000, encoder_hidden_states=ctx, return_dict=False)[0]
        loss = F.mse_loss(pred.float(), eps - x0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 200 == 0:
            log(f"dit step {step} loss(ema) {ema:.4f} lr {opt.param_groups[0]['lr']:.2e}")
    log(f"dit: {step} steps in {time.time() - t0:.0f} s, final loss(ema) {ema:.4f}")
    return step, ema


@torch.no_grad()
def evaluate(folder, device, n=48):
    pipe = WanPipeline.from_pretrained(folder, torch_dtype=torch.float32).to(device)
    results = []
    prompts = dataset.eval_prompts(n)
    for i in range(0, n, 16):
        chunk = prompts[i:i + 16]
        g = torch.Generator(device=device).manual_seed(i)
        out = pipe(prompt=[p for p, _ in chunk], negative_prompt=[DEFAULTS["negative_prompt"]] * len(chunk),
                   height=DEFAULTS["height"], width=DEFAULTS["width"], num_frames=DEFAULTS["frames"],
                   num_inference_steps=DEFAULTS["steps"], guidance_scale=DEFAULTS["guidance"], generator=g,
                   output_type="np").frames
        for (p, a), fr in zip(chunk, out):
            results.append((a, (fr * 255).round().clip(0, 255).astype("uint8")))
    return score.score(results)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--resume", default=None)
    ap.add_argument("--vae-seconds", type=float, default=150)
    ap.add_argument("--dit-seconds", type=float, default=330)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval", type=int, default=48)
    ap.add_argument("--tar", default=None, help="also pack the model folder into this tar (after saving and after eval)")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    torch.backends.cuda.matmul.allow_tf32 = True
    tok = tiny_tok.build(dataset.all_captions())
    if args.resume:
        vae = AutoencoderKLWan.from_pretrained(args.resume, subfolder="vae", torch_dtype=torch.float32)
        te = UMT5EncoderModel.from_pretrained(args.resume, subfolder="text_encoder", torch_dtype=torch.float32)
        dit = WanTransformer3DModel.from_pretrained(args.resume, subfolder="transformer", torch_dtype=torch.float32)
    else:
        vae, te, dit = build_vae(), build_text(len(tok)), build_dit()
    vae, te, dit = vae.to(device), te.to(device), dit.to(device)
    log(f"params: vae {sum(p.numel() for p in vae.parameters())/1e6:.2f} M, text {sum(p.numel() for p in te.parameters())/1e6:.2f} M, "
        f"dit {sum(p.numel() for p in dit.parameters())/1e6:.2f} M; device {device}")
    if args.vae_seconds > 0:
        vae.train()
        train_vae(vae, args.vae_seconds, device, rng)
        vae.eval()
        meta_vae_l1 = vae_check(vae, device, rng)
        log(f"vae whole-clip reconstruction L1 {meta_vae_l1:.4f} (pixel range [-1, 1])")
        mean, std = latent_stats(vae, device, rng)
        vae.register_to_config(latents_mean=mean, latents_std=std)
        log("latent mean", [round(m, 3) for m in mean], "std", [round(s, 3) for s in std])
    else:
        meta_vae_l1 = None
    for p in vae.parameters():
        p.requires_grad_(False)
    dit.train(); te.train()
    steps, loss = train_dit(dit, te, tok, vae, args.dit_seconds, device, rng, batch=args.batch)
    dit.eval(); te.eval()
    sched = UniPCMultistepScheduler(num_train_timesteps=1000, solver_order=2, prediction_type="flow_prediction",
                                    use_flow_sigmas=True, flow_shift=SHIFT, predict_x0=True, solver_type="bh2",
                                    lower_order_final=True, final_sigmas_type="zero")
    pipe = WanPipeline(tokenizer=tok, text_encoder=te.half(), transformer=dit.half(), vae=vae.half(), scheduler=sched)
    pipe.save_pretrained(args.out, safe_serialization=True)
    meta = dict(DEFAULTS, train={"vae_recon_l1": meta_vae_l1, "dit_steps": steps, "dit_final_loss": loss, "batch": args.batch,
                                 "vae_seconds": args.vae_seconds, "dit_seconds": args.dit_seconds, "seed": args.seed,
                                 "device": torch.cuda.get_device_name() if device == "cuda" else "cpu"})
    def write_meta():
        with open(os.path.join(args.out, "vdit.json"), "w") as f:
            json.dump(meta, f, indent=2)
        if args.tar:
            import tarfile
            with tarfile.open(args.tar + ".part", "w") as t:
                t.add(args.out, arcname="vdit-tiny")
            os.replace(args.tar + ".part", args.tar)
    write_meta()   # the model is safe even if the evaluation below is cut short
    if args.eval > 0:
        meta["eval_diffusers"] = evaluate(args.out, device, args.eval)
        log("held-out eval (diffusers WanPipeline):", meta["eval_diffusers"])
        write_meta()
    total = sum(os.path.getsize(os.path.join(r, n)) for r, _, fs in os.walk(args.out) for n in fs)
    log(f"saved {args.out}: {total/1e6:.1f} MB")


if __name__ == "__main__":
    main()
