#!/usr/bin/env python3
"""Anchor for bench/bench_pipeline: diffusers WanPipeline end to end, stage by stage, on the GPU.

1. Builds a random Wan2.1 T2V pipeline in the diffusers layout and saves it with save_pretrained
   into --model-dir (vdit loads the same folder):
     transformer  the 1.3B config (or "tiny" for a CPU smoke test), default init + N(0, 0.02^2)
                  perturbation, bf16
     text_encoder a random SMALL UMT5 (2 layers, d_model 4096 = the DiT's text_dim, 64 heads x 64,
                  d_ff 10240) with the vdit-tiny tokenizer (assets/vdit-tiny/tokenizer, small vocab):
                  the XXL encoder's 24 layers and 256k-row embedding are not worth initialising for
                  a benchmark whose text stage runs once; bf16
     vae          AutoencoderKLWan with the Wan2.1 config (base_dim 96), random init, fp32
   plus init_latent.safetensors (torch.randn, seed 0) so both engines start from the same noise.
2. Runs WanPipeline as a user would (transformer/text encoder bf16, VAE fp32, SDPA attention):
   encode (encode_prompt, prompt + negative), denoise (output_type="latent", CFG, UniPC),
   decode (latents de-normalised, vae.decode, postprocess to uint8), each CUDA-synchronised, with
   the peak allocated GPU memory of each stage (torch.cuda.max_memory_allocated, reset per stage).
3. Writes the frames (uint8 [F, H, W, 3]) to --frames and one JSON line to --json.

Usage (GPU machine):
  python3 bench/anchors/pipeline_diffusers.py --config 1.3B --model-dir /tmp/wanp --json /tmp/wanp.diffusers.json \
      --frames /tmp/wanp.frames.safetensors
  build/bench/bench_pipeline --model /tmp/wanp --anchor /tmp/wanp.diffusers.json --frames /tmp/wanp.frames.safetensors
Smoke test (CPU): --config tiny --device cpu --width 64 --height 32 --num-frames 5 --steps 2
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel
from safetensors.torch import save_file
from transformers import T5TokenizerFast, UMT5Config, UMT5EncoderModel

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DIT = {
    "1.3B": dict(num_attention_heads=12, attention_head_dim=128, ffn_dim=8960, num_layers=30),
    "tiny": dict(num_attention_heads=2, attention_head_dim=64, ffn_dim=256, num_layers=2),
}
PROMPT = "a small red circle moving left on a dark blue background"
NEGATIVE = "Bright tones, overexposed, static, blurred details, subtitles"


def build_and_save(cfg_name, model_dir, seed, dev):
    torch.manual_seed(seed)
    tok = T5TokenizerFast.from_pretrained(os.path.join(ROOT, "assets", "vdit-tiny", "tokenizer"))
    small = cfg_name == "tiny"
    tcfg = UMT5Config(vocab_size=len(tok), d_model=4096, d_kv=64, d_ff=1024 if small else 10240, num_layers=1 if small else 2,
                      num_heads=64, relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.0,
                      feed_forward_proj="gated-gelu", layer_norm_epsilon=1e-6, pad_token_id=0, eos_token_id=1,
                      decoder_start_token_id=0, is_encoder_decoder=False, use_cache=False)
    with torch.device(dev):
        te = UMT5EncoderModel(tcfg)
        dit = WanTransformer3DModel(patch_size=(1, 2, 2), in_channels=16, out_channels=16, text_dim=4096, freq_dim=256,
                                    cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024,
                                    **DIT[cfg_name])
        vae = AutoencoderKLWan(base_dim=16 if small else 96)
    with torch.no_grad():
        for p in dit.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    sched = UniPCMultistepScheduler(num_train_timesteps=1000, solver_order=2, prediction_type="flow_prediction",
                                    use_flow_sigmas=True, flow_shift=3.0, predict_x0=True, solver_type="bh2",
                                    lower_order_final=True, final_sigmas_type="zero")
    pipe = WanPipeline(tokenizer=tok, text_encoder=te.to(torch.bfloat16), transformer=dit.to(torch.bfloat16), vae=vae,
                       scheduler=sched)
    pipe.save_pretrained(model_dir, safe_serialization=True, max_shard_size="10GB")
    del pipe, te, dit, vae
    if dev == "cuda":
        torch.cuda.empty_cache()


def sync(dev):
    if dev == "cuda":
        torch.cuda.synchronize()


def peak_and_reset(dev):
    if dev != "cuda":
        return 0
    p = torch.cuda.max_memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=sorted(DIT), default="1.3B")
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--frames", required=True, help="output: uint8 frames [F, H, W, 3] (safetensors)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--width", type=int, default=832)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--num-frames", type=int, default=81)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--guidance", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reuse", action="store_true", help="keep an existing --model-dir")
    a = ap.parse_args()
    dev = a.device
    t0 = time.time()
    if not (a.reuse and os.path.isfile(os.path.join(a.model_dir, "model_index.json"))):
        build_and_save(a.config, a.model_dir, a.seed, dev)
    build_s = time.time() - t0
    F_lat = (a.num_frames - 1) // 4 + 1
    g = torch.Generator().manual_seed(a.seed)
    z0 = torch.randn(1, 16, F_lat, a.height // 8, a.width // 8, generator=g)
    save_file({"init_latent": z0[0].contiguous()}, os.path.join(a.model_dir, "init_latent.safetensors"))

    t = time.time()
    pipe = WanPipeline.from_pretrained(a.model_dir, torch_dtype=torch.bfloat16)
    pipe.vae.to(torch.float32)
    pipe.to(dev)
    sync(dev)
    load_s = time.time() - t
    peak_and_reset(dev)
    res = {"engine": "diffusers", "config": a.config, "width": a.width, "height": a.height, "frames": a.num_frames,
           "steps": a.steps, "guidance": a.guidance, "device": torch.cuda.get_device_name() if dev == "cuda" else "cpu",
           "torch": torch.__version__, "build_s": build_s, "load_s": load_s}
    import diffusers
    res["diffusers"] = diffusers.__version__
    with torch.no_grad():
        t = time.time()
        pe, ne = pipe.encode_prompt(PROMPT, NEGATIVE, do_classifier_free_guidance=a.guidance > 1.0, max_sequence_length=512,
                                    device=dev)
        sync(dev)
        res["encode_s"], res["encode_peak_bytes"] = time.time() - t, peak_and_reset(dev)
        t = time.time()
        lat = pipe(prompt_embeds=pe, negative_prompt_embeds=ne, height=a.height, width=a.width, num_frames=a.num_frames,
                   num_inference_steps=a.steps, guidance_scale=a.guidance, latents=z0.to(dev), output_type="latent").frames
        sync(dev)
        res["denoise_s"], res["denoise_peak_bytes"] = time.time() - t, peak_and_reset(dev)
        t = time.time()
        vae = pipe.vae
        lat = lat.to(vae.dtype)
        mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1).to(lat)
        std = 1.0 / torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1).to(lat)
        video = vae.decode(lat / std + mean, return_dict=False)[0]
        frames = pipe.video_processor.postprocess_video(video, output_type="np")[0]
        sync(dev)
        res["decode_s"], res["decode_peak_bytes"] = time.time() - t, peak_and_reset(dev)
    u8 = np.clip(np.round(np.asarray(frames, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)
    save_file({"frames": torch.from_numpy(u8).contiguous()}, a.frames)
    res["total_s"] = res["encode_s"] + res["denoise_s"] + res["decode_s"]
    res["prompt"], res["negative_prompt"] = PROMPT, NEGATIVE
    line = json.dumps(res)
    print(line)
    with open(a.json, "w") as f:
        f.write(line + "\n")


if __name__ == "__main__":
    main()
