#!/usr/bin/env python3
"""Trains vdit-tiny: all three Wan2.1 parts, small, on procedural clips (scripts/tiny/dataset.py),
inside one wall-clock budget (--total-seconds, everything included: start-up, training, saving,
evaluation, tar).

Phases:
  1. VAE   : diffusers AutoencoderKLWan (small base_dim) as a deterministic autoencoder on clips
             rendered on the device, cut around the object (--vae-crop, --vae-frames). The loss
             averages the object's pixels (renderer's alpha) and the background's separately and
             adds them (object x --fg-weight): the object covers 1-9% of a frame, and a plain
             per-pixel loss is minimised by painting the background alone (the first bundled
             model's VAE erased the object, which is why its DiT could not follow the prompt).
             --resume-vae DIR starts from a saved VAE instead of from scratch.
  2. stats : per-channel latent mean/std -> vae config latents_mean / latents_std (Wan convention:
             z = latents * std + mean before decoding).
  3. pool  : a pool of --pool clips is rendered and encoded ONCE with the frozen VAE (mode), with
             its captions pre-tokenised; the DiT phase then never touches pixels or the tokenizer.
  4. DiT   : WanTransformer3DModel + UMT5EncoderModel trained jointly with flow matching
             (x_t = (1 - s) x0 + s eps, target eps - x0, timestep 1000 s, s = shift-3 of uniform),
             10% captions dropped to "" for classifier-free guidance; large batch, bf16 autocast,
             no host synchronisation in the loop except every --log-every steps. The context is
             padded to 512 rows exactly as WanPipeline and vdit do (UMT5 runs on the real tokens
             only: exact, since pads are masked and zeroed).
  5. save  : WanPipeline.save_pretrained layout in fp16, vdit.json, tar (written BEFORE the
             evaluation, so a cut-short evaluation never loses the model), then a held-out
             evaluation with diffusers' WanPipeline (scripts/tiny/score.py), vdit.json + tar again.

The DiT phase gets whatever time is left of --total-seconds after --reserve-seconds for step 5.
Run on the GPU machine (from the repository root; about 220 s in all):
  python3 scripts/tiny/train.py --out /tmp/vdit-tiny --tar $OUT/vdit-tiny.tar --resume-vae assets/vdit-tiny
Reduced-scale CPU runs: VDIT_TINY_SIZE=32 VDIT_TINY_FRAMES=9 (dataset.py) and small --vae-batch,
--pool, --batch; scripts/tiny/test_train.py checks the exactness claims; scripts/tiny/proof_dit.py
is the CPU-sized proof of the DiT recipe.
"""
import time
T_START = time.time()   # the budget counts from here (imports included)

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tiny import dataset, score, tokenizer as tiny_tok  # noqa: E402

from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel  # noqa: E402
from transformers import UMT5Config, UMT5EncoderModel  # noqa: E402

TEXT_LEN = 512        # Wan pads the prompt embedding to 512 rows; the DiT attends to all of them (vdit too)
SHIFT = 3.0
DEFAULTS = {"width": dataset.SIZE, "height": dataset.SIZE, "frames": dataset.FRAMES, "steps": 20, "guidance": 5.0,
            "shift": SHIFT, "fps": 8, "negative_prompt": ""}


def log(*a):
    print(f"[{time.time() - T_START:6.1f} s]", *a, flush=True)


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


def autocast(device):
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda")


def cosine_lr(lr, step, warmup, frac):
    return lr * min(1.0, (step + 1) / warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))


def object_crops(x, alpha, crop, frames, jitter):
    """Crops [B, C, frames, crop, crop] around each clip's object (centroid of its alpha over
    those frames, +- jitter pixels at random), clamped inside the frame; all on the device."""
    B, _, _, S, _ = x.shape
    x, alpha = x[:, :, :frames], alpha[:, :, :frames]
    if crop >= S:
        return x, alpha
    m = alpha[:, 0].sum(1)                                              # [B, S, S]
    ar = torch.arange(S, device=x.device, dtype=torch.float32)
    tot = m.sum((1, 2)).clamp_min(1e-6)
    cy = (m.sum(2) * ar).sum(1) / tot
    cx = (m.sum(1) * ar).sum(1) / tot
    off = torch.stack([cy, cx], 1) - crop / 2 + (torch.rand(B, 2, device=x.device) * 2 - 1) * jitter
    off = off.round().clamp(0, S - crop).long()                          # [B, 2]
    ac = torch.arange(crop, device=x.device)
    yy = (off[:, 0, None] + ac)[:, :, None]                              # [B, crop, 1]
    xx = (off[:, 1, None] + ac)[:, None, :]                              # [B, 1, crop]
    b = torch.arange(B, device=x.device)[:, None, None]
    cut = lambda t: t.permute(0, 3, 4, 1, 2)[b, yy, xx].permute(0, 3, 4, 1, 2).contiguous()
    return cut(x), cut(alpha)


def train_vae(vae, seconds, device, rng, batch, lr, fg_weight, crop, frames, log_every=50):
    """Deterministic latents (mode): the DiT is trained on, and the pipelines decode, exactly these.
    Each step sees `frames` (4k+1) frames of `crop` x `crop` pixels cut around the object (the VAE
    is convolutional and causal in time, so this teaches the whole-clip mapping at a fraction of the
    cost, and every sample contains the object, unlike random crops). Loss per pixel (L1 + MSE)
    of the background and of the object averaged separately, object weighted fg_weight, plus a tiny
    L2 on the latents to keep their scale bounded."""
    opt = torch.optim.AdamW(vae.parameters(), lr=lr, weight_decay=0.0, betas=(0.9, 0.99))
    t0, step, hist = time.time(), 0, []
    while time.time() - t0 < seconds:
        for g in opt.param_groups:
            g["lr"] = cosine_lr(lr, step, 30, (time.time() - t0) / seconds)
        attrs = [dataset.sample_attrs(rng) for _ in range(batch)]
        x, alpha = dataset.render(attrs, rng, device, return_alpha=True)
        x, alpha = object_crops(x, alpha, crop, frames, crop / 8)
        with autocast(device):
            z = vae.encode(x).latent_dist.mode()
            rec = vae.decode(z).sample
        rec = rec.float()
        err = ((rec - x).abs() + (rec - x) ** 2).mean(1, keepdim=True)
        # background and object pixels averaged separately: the object counts fg_weight times the
        # background whatever its coverage (1-9% of a whole frame)
        loss_bg = (err * (1 - alpha)).sum() / (1 - alpha).sum().clamp_min(1.0)
        loss_fg = (err * alpha).sum() / alpha.sum().clamp_min(1.0)
        loss = loss_bg + fg_weight * loss_fg + 1e-4 * z.float().pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        step += 1
        hist.append(torch.stack([(rec - x).abs().mean(), ((rec - x).abs() * alpha).sum() / alpha.sum() / 3]).detach())
        if step % log_every == 0:
            h = torch.stack(hist[-log_every:]).mean(0).tolist()
            log(f"vae step {step}: l1 {h[0]:.4f}, object-pixel l1 {h[1]:.4f}, lr {opt.param_groups[0]['lr']:.1e}, "
                f"{step / (time.time() - t0):.2f} steps/s")
    log(f"vae: {step} steps in {time.time() - t0:.0f} s (batch {batch}, {frames} x {crop}^2 object crops)")
    return step


@torch.no_grad()
def vae_check(vae, device, rng, n=16):
    """Whole-clip L1, object-pixel L1 and the scorer on reconstructions (colour, direction)."""
    attrs = [dataset.sample_attrs(rng) for _ in range(n)]
    x, alpha = dataset.render(attrs, rng, device, return_alpha=True)
    with autocast(device):
        rec = vae.decode(vae.encode(x).latent_dist.mode()).sample
    rec = rec.float().clamp(-1, 1)
    l1 = (rec - x).abs().mean().item()
    l1_obj = (((rec - x).abs() * alpha).sum() / alpha.sum() / 3).item()
    frames = ((rec.permute(0, 2, 3, 4, 1) + 1) * 127.5).round().clamp(0, 255).byte().cpu().numpy()
    s = score.score(list(zip(attrs, frames)))
    return {"l1": l1, "l1_object": l1_obj, "recon_colour_acc": s["colour_acc"], "recon_direction_acc": s["direction_acc"]}


@torch.no_grad()
def encode_pool(vae, tok, n, device, rng, chunk, seconds):
    """Renders n training clips, encodes them once -> latents [n, C, f, h, w] (bf16 on the device),
    pre-tokenised captions ids/mask [n, L] and the ids of the empty caption."""
    zs, caps, t0 = [], [], time.time()
    for i in range(0, n, chunk):
        if i and time.time() - t0 > seconds:
            log(f"pool: stopped at {i} clips (--pool-seconds {seconds})")
            break
        attrs = [dataset.sample_attrs(rng) for _ in range(min(chunk, n - i))]
        x = dataset.render(attrs, rng, device)
        with autocast(device):
            zs.append(vae.encode(x).latent_dist.mode().to(torch.bfloat16 if device == "cuda" else torch.float32))
        caps += [dataset.caption(a) for a in attrs]
    t = tok(caps + [""], padding="longest", truncation=True, max_length=TEXT_LEN, return_tensors="pt")
    ids, mask = t.input_ids.to(device), t.attention_mask.to(device)
    return torch.cat(zs), ids[:-1], mask[:-1], ids[-1], mask[-1]


def context(te, ids, mask, text_len=TEXT_LEN):
    """WanPipeline's procedure on pre-tokenised rows: encode, zero rows past each length, pad with
    zero rows to text_len (512 as in WanPipeline and vdit, or L + 1 for PadFoldedCrossAttn)."""
    L = ids.shape[1]
    h = te(ids, attention_mask=mask).last_hidden_state * mask[:, :, None].to(torch.float32)
    return F.pad(h, (0, 0, 0, text_len - L))


class PadFoldedCrossAttn:
    """Cross-attention processor, exactly equal to attending over the 512-row padded context
    that WanPipeline and vdit use, at the cost of L + 1 rows.

    The padded rows of the context are all zero, so the DiT maps each of them to the same key and
    value. softmax over 512 keys of which the last n = 512 - L are one identical key k_p equals
    softmax over L + 1 keys where k_p appears once with log(n) added to its logit. The model is
    therefore trained for the 512-row inference of both pipelines while the training step spends
    nothing on the ~500 padding rows. Set .pad_bias to log(512 - L) before a forward with an
    (L + 1)-row context (last row zero)."""

    def __init__(self):
        self.pad_bias = 0.0

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, rotary_emb=None, **kw):
        q = attn.norm_q(attn.to_q(hidden_states))
        k = attn.norm_k(attn.to_k(encoder_hidden_states))
        v = attn.to_v(encoder_hidden_states)
        q, k, v = (t.unflatten(2, (attn.heads, -1)).transpose(1, 2) for t in (q, k, v))   # [B, H, S, D]
        Lc = k.shape[2]
        bias = torch.zeros(Lc, device=q.device, dtype=torch.float32)
        bias[-1] = self.pad_bias
        # plain math attention (L + 1 keys: cheap), scores and softmax in fp32: no kernel constraints on the bias
        scores = torch.matmul(q, k.transpose(-1, -2)).float() * (q.shape[-1] ** -0.5) + bias
        o = torch.matmul(scores.softmax(-1).to(v.dtype), v)
        o = o.transpose(1, 2).flatten(2)
        return attn.to_out[1](attn.to_out[0](o))


def fold_padding(dit):
    """Installs one shared PadFoldedCrossAttn on every block's cross-attention; returns it."""
    proc = PadFoldedCrossAttn()
    for blk in dit.blocks:
        blk.attn2.processor = proc
    return proc


def train_dit(dit, te, pool, mean, std, seconds, device, batch, lr, log_every=100):
    z_all, ids_all, mask_all, ids_empty, mask_empty = pool
    n = z_all.shape[0]
    params = list(dit.parameters()) + list(te.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01, betas=(0.9, 0.99), fused=device == "cuda")
    L = ids_all.shape[1]
    proc = fold_padding(dit)
    proc.pad_bias = math.log(TEXT_LEN - L)
    t0, step, losses, loss_ema = time.time(), 0, [], None
    while True:
        frac = (time.time() - t0) / seconds
        if frac >= 1.0:
            break
        for g in opt.param_groups:   # warm-up then cosine decay over the time budget
            g["lr"] = cosine_lr(lr, step, 100, frac)
        idx = torch.randint(0, n, (batch,), device=device)
        x0 = (z_all[idx].float() - mean) / std
        drop = torch.rand(batch, device=device) < 0.1
        ids = torch.where(drop[:, None], ids_empty[None], ids_all[idx])
        mask = torch.where(drop[:, None], mask_empty[None], mask_all[idx])
        u = torch.rand(batch, device=device)
        s = SHIFT * u / (1 + (SHIFT - 1) * u)
        eps = torch.randn_like(x0)
        sv = s.view(-1, 1, 1, 1, 1)
        xt = (1 - sv) * x0 + sv * eps
        with autocast(device):
            ctx = context(te, ids, mask, L + 1)   # + PadFoldedCrossAttn == the 512-row context
            pred = dit(xt, timestep=s * 1000, encoder_hidden_states=ctx, return_dict=False)[0]
        loss = F.mse_loss(pred.float(), eps - x0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        losses.append(loss.detach())
        if step % log_every == 0:
            loss_ema = torch.stack(losses).mean().item()
            losses = []
            log(f"dit step {step}: loss {loss_ema:.4f}, lr {opt.param_groups[0]['lr']:.1e}, "
                f"{step / (time.time() - t0):.2f} steps/s (batch {batch})")
    if losses:
        loss_ema = torch.stack(losses).mean().item()
    log(f"dit: {step} steps in {time.time() - t0:.0f} s (batch {batch}), final loss {loss_ema:.4f}")
    for blk in dit.blocks:   # back to diffusers' own processor (what is saved and evaluated)
        blk.attn2.set_processor(type(blk.attn1.processor)())
    return step, loss_ema


@torch.no_grad()
def evaluate(folder, device, n=48, chunk=16, deadline=None):
    pipe = WanPipeline.from_pretrained(folder, torch_dtype=torch.float32).to(device)
    pipe.set_progress_bar_config(disable=True)
    results = []
    prompts = dataset.eval_prompts(n)
    for i in range(0, n, chunk):
        if deadline is not None and time.time() > deadline:
            log(f"evaluation stopped at {i} prompts (time budget)")
            break
        part = prompts[i:i + chunk]
        g = torch.Generator(device=device).manual_seed(i)
        out = pipe(prompt=[p for p, _ in part], negative_prompt=[DEFAULTS["negative_prompt"]] * len(part),
                   height=DEFAULTS["height"], width=DEFAULTS["width"], num_frames=DEFAULTS["frames"],
                   num_inference_steps=DEFAULTS["steps"], guidance_scale=DEFAULTS["guidance"], generator=g,
                   output_type="np").frames
        for (p, a), fr in zip(part, out):
            results.append((a, (fr * 255).round().clip(0, 255).astype("uint8")))
    return score.score(results)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--tar", default=None, help="also pack the model folder into this tar (after saving and after eval)")
    ap.add_argument("--total-seconds", type=float, default=220, help="wall-clock budget of the whole run")
    ap.add_argument("--reserve-seconds", type=float, default=30, help="kept for saving + evaluation + tar")
    ap.add_argument("--resume-vae", default=None, help="start the VAE from this saved model folder")
    ap.add_argument("--vae-seconds", type=float, default=60)
    ap.add_argument("--vae-batch", type=int, default=48)
    ap.add_argument("--vae-lr", type=float, default=5e-4)
    ap.add_argument("--fg-weight", type=float, default=1.0, help="object loss (mean over its pixels) weight vs background")
    ap.add_argument("--vae-crop", type=int, default=64, help="object-centred crop size of VAE training clips")
    ap.add_argument("--vae-frames", type=int, default=17, help="frames (4k+1) of VAE training clips (17: all four causal chunks)")
    ap.add_argument("--vae-check", type=int, default=16, help="whole clips reconstructed to check the VAE")
    ap.add_argument("--pool", type=int, default=8192, help="clips encoded once for the DiT phase")
    ap.add_argument("--pool-chunk", type=int, default=128)
    ap.add_argument("--pool-seconds", type=float, default=25, help="stop encoding the pool after this long")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval", type=int, default=48)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    ap.add_argument("--log-every", type=int, default=100)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    deadline = T_START + args.total_seconds
    tok = tiny_tok.build(dataset.all_captions())
    vae = (AutoencoderKLWan.from_pretrained(args.resume_vae, subfolder="vae", torch_dtype=torch.float32)
           if args.resume_vae else build_vae())
    te, dit = build_text(len(tok)), build_dit()
    vae, te, dit = vae.to(device), te.to(device), dit.to(device)
    log(f"params: vae {sum(p.numel() for p in vae.parameters())/1e6:.2f} M, text {sum(p.numel() for p in te.parameters())/1e6:.2f} M, "
        f"dit {sum(p.numel() for p in dit.parameters())/1e6:.2f} M; device {device}; clips {dataset.FRAMES} x {dataset.SIZE}^2")
    vae_steps = 0
    if args.vae_seconds > 0:
        vae.train()
        vae_steps = train_vae(vae, args.vae_seconds, device, rng, args.vae_batch, args.vae_lr, args.fg_weight,
                              args.vae_crop, args.vae_frames, log_every=max(args.log_every // 4, 10))
    vae.eval()
    for p in vae.parameters():
        p.requires_grad_(False)
    vae_q = vae_check(vae, device, random.Random(1234), args.vae_check)   # same clips in every run
    log("vae whole-clip check (pixels in [-1, 1]):", {k: round(v, 4) for k, v in vae_q.items()})
    if args.pool <= 0:
        if args.vae_seconds > 0:
            vae.half().save_pretrained(os.path.join(args.out, "vae"))
        log("no pool: VAE only (saved to", os.path.join(args.out, "vae") + ")")
        return
    pool = encode_pool(vae, tok, args.pool, device, rng, args.pool_chunk, args.pool_seconds)
    z = pool[0].float()
    mean, std = z.mean(dim=(0, 2, 3, 4)), z.std(dim=(0, 2, 3, 4)).clamp_min(1e-3)
    del z
    vae.register_to_config(latents_mean=mean.tolist(), latents_std=std.tolist())
    log(f"pool: {pool[0].shape[0]} clips encoded, latents {tuple(pool[0].shape[1:])}, captions {tuple(pool[1].shape)}; "
        "latent std", [round(v, 2) for v in std.tolist()])
    dit_seconds = deadline - args.reserve_seconds - time.time()
    if dit_seconds < 20:
        log(f"WARNING: only {dit_seconds:.0f} s left for the DiT phase; training it 20 s anyway (over budget)")
        dit_seconds = 20.0
    dit.train(); te.train()
    steps, loss = train_dit(dit, te, pool, mean.view(1, -1, 1, 1, 1), std.view(1, -1, 1, 1, 1), dit_seconds, device,
                            args.batch, args.lr, args.log_every)
    n_pool = int(pool[0].shape[0])
    del pool
    dit.eval(); te.eval()
    sched = UniPCMultistepScheduler(num_train_timesteps=1000, solver_order=2, prediction_type="flow_prediction",
                                    use_flow_sigmas=True, flow_shift=SHIFT, predict_x0=True, solver_type="bh2",
                                    lower_order_final=True, final_sigmas_type="zero")
    pipe = WanPipeline(tokenizer=tok, text_encoder=te.half(), transformer=dit.half(), vae=vae.half(), scheduler=sched)
    pipe.save_pretrained(args.out, safe_serialization=True)
    meta = dict(DEFAULTS, train={
        "vae_steps": vae_steps, "vae_batch": args.vae_batch, "vae_seconds": args.vae_seconds, "vae_fg_weight": args.fg_weight,
        "vae_crop": args.vae_crop, "vae_frames": args.vae_frames,
        "vae_resumed_from": args.resume_vae, "vae_check": vae_q, "pool_clips": n_pool,
        "dit_steps": steps, "dit_final_loss": loss, "batch": args.batch, "lr": args.lr, "dit_seconds": round(dit_seconds, 1),
        "seed": args.seed, "device": torch.cuda.get_device_name() if device == "cuda" else "cpu"})

    def write_meta():
        with open(os.path.join(args.out, "vdit.json"), "w") as f:
            json.dump(meta, f, indent=2)
        if args.tar:
            import tarfile
            with tarfile.open(args.tar + ".part", "w") as t:
                t.add(args.out, arcname="vdit-tiny")
            os.replace(args.tar + ".part", args.tar)
    write_meta()   # the model is safe even if the evaluation below is cut short
    log("saved", args.out, "and tar" if args.tar else "")
    if args.eval > 0:
        meta["eval_diffusers"] = evaluate(args.out, device, args.eval, deadline=deadline - 3)
        log("held-out eval (diffusers WanPipeline):", meta["eval_diffusers"])
        write_meta()
    total = sum(os.path.getsize(os.path.join(r, n)) for r, _, fs in os.walk(args.out) for n in fs)
    log(f"done: {args.out} {total/1e6:.1f} MB")


if __name__ == "__main__":
    main()
