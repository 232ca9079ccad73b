#!/usr/bin/env python3
"""Parity fixtures for the Wan VAE decoder (tests/test_vae.c) from diffusers AutoencoderKLWan.

For each small random config: config.json + diffusion_pytorch_model.safetensors (post_quant_conv
and decoder weights only, diffusers key names, f32) and cases.safetensors holding, per case k:
  latent_k   [1, z, F, H, W]  normalized latent (what the DiT produces)
  out_k      [1, 3, F_out, H*s, W*s]  AutoencoderKLWan.decode(latent * std + mean), clamped
  tiled_k    same, through diffusers tiled_decode with the tile/stride in the metadata (when asked)
Metadata (JSON in __metadata__): per case F/H/W and tile settings in latent pixels.

Usage: python3 scripts/gen_vae_fixtures.py [out_dir]   (default tests/data/vae)
Seeds are fixed; outputs are deterministic for a given torch/diffusers version (recorded).
"""
import json
import os
import sys

import torch
from diffusers import AutoencoderKLWan
from safetensors.torch import save_file

torch.set_num_threads(1)

CONFIGS = [
    # name, config overrides, weight init gain, cases [(F, H, W, tile)] with tile = (th, tw, sh, sw) or None
    ("tiny3", dict(base_dim=8, z_dim=4, dim_mult=[1, 2, 2], num_res_blocks=1,
                   temperal_downsample=[True, True], scale_factor_spatial=4),
     [(3, 5, 7, (4, 4, 3, 3)), (1, 3, 3, None), (2, 4, 6, None)]),
    ("wan4", dict(base_dim=8, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=1,
                  temperal_downsample=[False, True, True], scale_factor_spatial=8),
     [(1, 3, 5, None), (3, 3, 3, (2, 2, 1, 1))]),
]


def make_model(name, over, seed):
    cfg = dict(base_dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[],
               temperal_downsample=[False, True, True], dropout=0.0, is_residual=False,
               in_channels=3, out_channels=3, scale_factor_temporal=4, scale_factor_spatial=8)
    cfg.update(over)
    g = torch.Generator().manual_seed(seed)
    cfg["latents_mean"] = [round(float(x), 4) for x in torch.randn(cfg["z_dim"], generator=g) * 0.5]
    cfg["latents_std"] = [round(float(x), 4) for x in torch.rand(cfg["z_dim"], generator=g) * 2.0 + 0.5]
    torch.manual_seed(seed)
    vae = AutoencoderKLWan(**cfg).eval()
    # Default init gives gammas of exactly 1 and zero-ish biases: perturb them so a wrong
    # gamma/bias index shows up in the parity check.
    with torch.no_grad():
        for n, p in vae.named_parameters():
            if n.endswith("gamma"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif n.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
    return vae, cfg


def main():
    out_root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data", "vae")
    import diffusers
    for ci, (name, over, cases) in enumerate(CONFIGS):
        vae, cfg = make_model(name, over, 1000 + ci)
        d = os.path.join(out_root, name)
        os.makedirs(d, exist_ok=True)
        full = dict(cfg)
        full["_class_name"] = "AutoencoderKLWan"
        full["_diffusers_version"] = diffusers.__version__
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(full, f, indent=2)
        sd = {k: v.contiguous() for k, v in vae.state_dict().items()
              if k.startswith("decoder.") or k.startswith("post_quant_conv.")}
        save_file(sd, os.path.join(d, "diffusion_pytorch_model.safetensors"))
        mean = torch.tensor(cfg["latents_mean"]).view(1, -1, 1, 1, 1)
        std = torch.tensor(cfg["latents_std"]).view(1, -1, 1, 1, 1)
        s = cfg["scale_factor_spatial"]
        tensors, meta = {}, {"generator": "scripts/gen_vae_fixtures.py", "torch": torch.__version__,
                             "diffusers": diffusers.__version__, "cases": []}
        g = torch.Generator().manual_seed(2000 + ci)
        for k, (F, H, W, tile) in enumerate(cases):
            zn = torch.randn(1, cfg["z_dim"], F, H, W, generator=g)
            z = zn * std + mean
            with torch.no_grad():
                vae.disable_tiling()
                out = vae.decode(z).sample
                tensors[f"latent_{k}"] = zn.contiguous()
                tensors[f"out_{k}"] = out.contiguous()
                entry = {"F": F, "H": H, "W": W, "tiled": tile is not None}
                if tile is not None:
                    th, tw, sh, sw = tile
                    vae.enable_tiling(tile_sample_min_height=th * s, tile_sample_min_width=tw * s,
                                      tile_sample_stride_height=sh * s, tile_sample_stride_width=sw * s)
                    tout = vae.decode(z).sample
                    vae.disable_tiling()
                    tensors[f"tiled_{k}"] = tout.contiguous()
                    entry.update({"tile_h": th, "tile_w": tw, "stride_h": sh, "stride_w": sw})
            meta["cases"].append(entry)
            print(f"{name} case {k}: latent {tuple(zn.shape)} -> {tuple(out.shape)}, range "
                  f"[{out.min():.3f}, {out.max():.3f}], |out|>=1: {(out.abs() >= 1).float().mean():.3f}")
        save_file(tensors, os.path.join(d, "cases.safetensors"), metadata={"json": json.dumps(meta)})
    orig_key_pairs(os.path.join(out_root, "wan21_orig_keys.json"))


def orig_key_pairs(out_path):
    """(diffusers key, original Wan key) for every decoder weight of the Wan2.1 VAE config.

    The original names come from an inverse of diffusers' single-file converter written here,
    and every pair is checked by running diffusers' convert_wan_vae_to_diffusers on it.
    """
    from diffusers.loaders.single_file_utils import convert_wan_vae_to_diffusers
    with torch.device("meta"):
        vae = AutoencoderKLWan()
    res = {"norm1.": "residual.0.", "conv1.": "residual.2.", "norm2.": "residual.3.", "conv2.": "residual.6.",
           "conv_shortcut.": "shortcut."}
    per = vae.config.num_res_blocks + 2

    def inv(k):
        if k.startswith("post_quant_conv."):
            return "conv2." + k[len("post_quant_conv."):]
        if k.startswith("decoder.conv_in."):
            return "decoder.conv1." + k[len("decoder.conv_in."):]
        if k == "decoder.norm_out.gamma":
            return "decoder.head.0.gamma"
        if k.startswith("decoder.conv_out."):
            return "decoder.head.2." + k[len("decoder.conv_out."):]
        if k.startswith("decoder.mid_block.attentions.0."):
            return "decoder.middle.1." + k[len("decoder.mid_block.attentions.0."):]
        p = k.split(".")
        if k.startswith("decoder.mid_block.resnets."):
            rest = ".".join(p[4:]) + "."
            for a, b in res.items():
                if rest.startswith(a):
                    return f"decoder.middle.{0 if p[3] == '0' else 2}." + (b + rest[len(a):])[:-1]
        if k.startswith("decoder.up_blocks.") and p[3] == "resnets":
            rest = ".".join(p[5:]) + "."
            for a, b in res.items():
                if rest.startswith(a):
                    return f"decoder.upsamples.{int(p[2]) * per + int(p[4])}." + (b + rest[len(a):])[:-1]
        if k.startswith("decoder.up_blocks.") and p[3] == "upsamplers":
            return f"decoder.upsamples.{int(p[2]) * per + per - 1}." + ".".join(p[5:])
        raise KeyError(k)

    pairs = []
    for k in vae.state_dict().keys():
        if not (k.startswith("decoder.") or k.startswith("post_quant_conv.")):
            continue
        o = inv(k)
        back = list(convert_wan_vae_to_diffusers({o: torch.zeros(1)}).keys())
        assert back == [k], (k, o, back)
        pairs.append([k, o])
    with open(out_path, "w") as f:
        json.dump({"generator": "scripts/gen_vae_fixtures.py (checked with diffusers convert_wan_vae_to_diffusers)",
                   "pairs": pairs}, f, indent=0)
    print(f"{len(pairs)} original-name pairs -> {out_path}")


if __name__ == "__main__":
    main()
