#!/usr/bin/env python3
"""Where the gpu test's tolerance comes from (tests/gpu/test_wan_dit_cuda.c).

A plain torch re-implementation of the Wan2.1 DiT forward (checked against diffusers in fp32:
~5e-6 relative), run twice: in fp32, and with bf16 rounding at every point where
dit/wan_dit_cuda.cu rounds (GEMM inputs and outputs, q/k after RMSNorm + RoPE, v, attention
output, FFN hidden after GELU, text embedding), fp32 everywhere else (residual stream, LN/RMS
statistics, modulation, time MLP). Weights are bf16-representable, as in the gpu test, on the
same kinds of configs. Seen (torch 2.15, CPU): max|bf16 - fp32| / max|fp32| = 2.2e-3 .. 3.5e-3,
NMSE = 6.7e-6 .. 9.5e-6, also on a 1.3B-width config (12 x 128, ffn 8960, 4 layers).
The gpu test allows 1.5e-2 and 1e-4: ~4x and ~10x that, for the flash kernel's bf16 P and the
different accumulation orders of cuBLASLt and the CPU.

Usage: python3 scripts/emulate_dit_bf16.py   (CPU, ~1 min)
"""
import torch, math
from diffusers import WanTransformer3DModel
torch.manual_seed(0)

def rb(x, on):  # round to bf16 and back
    return x.to(torch.bfloat16).float() if on else x

def rope_tables(D, maxp=1024, theta=10000.0):
    h = w = 2 * (D // 6); t = D - h - w
    out = []
    for d in (t, h, w):
        j = torch.arange(d // 2, dtype=torch.float64)
        f = theta ** (-2 * j / d)
        ang = torch.arange(maxp, dtype=torch.float64)[:, None] * f[None]
        out.append((ang.cos().float(), ang.sin().float()))
    return out

def apply_rope(x, Fp, Hp, Wp, tabs):  # x [N, NH, D]
    N, NH, D = x.shape
    n = torch.arange(N)
    pos = [n // (Hp * Wp), (n // Wp) % Hp, n % Wp]
    cs, sn = [], []
    for a in range(3):
        cs.append(tabs[a][0][pos[a]]); sn.append(tabs[a][1][pos[a]])
    c = torch.cat(cs, -1)[:, None, :]; s = torch.cat(sn, -1)[:, None, :]
    x1, x2 = x[..., 0::2], x[..., 1::2]
    o = torch.empty_like(x)
    o[..., 0::2] = x1 * c - x2 * s
    o[..., 1::2] = x1 * s + x2 * c
    return o

def fwd(m, latent, t, ctx, bf):
    cfg = m.config; NH = cfg.num_attention_heads; D = cfg.attention_head_dim; C = NH * D; eps = cfg.eps
    sd = {k: v.float() for k, v in m.state_dict().items()}
    if bf: sd = {k: rb(v, True) if v.ndim >= 2 and 'scale_shift' not in k and 'time_embedder' not in k and 'time_proj' not in k else v for k, v in sd.items()}
    lin = lambda x, p: x @ sd[p + '.weight'].T + sd[p + '.bias']
    Cin, F, H, W = latent.shape
    pt, ph, pw = cfg.patch_size; Fp, Hp, Wp = F // pt, H // ph, W // pw; N = Fp * Hp * Wp
    half = cfg.freq_dim // 2
    w_ = 10000.0 ** (-torch.arange(half, dtype=torch.float64) / half)
    a = float(t) * w_
    s = torch.cat([a.cos(), a.sin()]).float()
    e = lin(torch.nn.functional.silu(lin(s, 'condition_embedder.time_embedder.linear_1')), 'condition_embedder.time_embedder.linear_2')
    e6 = lin(torch.nn.functional.silu(e), 'condition_embedder.time_proj').view(6, C)
    g = lambda x: torch.nn.functional.gelu(x, approximate='tanh')
    c1 = lin(rb(ctx, bf), 'condition_embedder.text_embedder.linear_1')
    ce = rb(lin(rb(g(c1), bf), 'condition_embedder.text_embedder.linear_2'), bf)
    tok = latent.view(Cin, Fp, pt, Hp, ph, Wp, pw).permute(1, 3, 5, 0, 2, 4, 6).reshape(N, -1)
    x = rb(tok, bf) @ sd['patch_embedding.weight'].reshape(C, -1).T + sd['patch_embedding.bias']
    tabs = rope_tables(D)
    ln = lambda x: torch.nn.functional.layer_norm(x, (C,), eps=eps)
    rms = lambda x, w: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w
    def attn(q, k, v):
        q = q.view(-1, NH, D).transpose(0, 1); k = k.view(-1, NH, D).transpose(0, 1); v = v.view(-1, NH, D).transpose(0, 1)
        o = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(D), -1) @ v
        return o.transpose(0, 1).reshape(-1, C)
    for l in range(cfg.num_layers):
        p = f'blocks.{l}.'
        mod = sd[p + 'scale_shift_table'].view(6, C) + e6
        h = rb(ln(x) * (1 + mod[1]) + mod[0], bf)
        q = rb(rms(rb(lin(h, p + 'attn1.to_q'), bf), sd[p + 'attn1.norm_q.weight']).view(N, NH, D), False)
        q = rb(apply_rope(q, Fp, Hp, Wp, tabs), bf).reshape(N, C)
        k = rms(rb(lin(h, p + 'attn1.to_k'), bf), sd[p + 'attn1.norm_k.weight']).view(N, NH, D)
        k = rb(apply_rope(k, Fp, Hp, Wp, tabs), bf).reshape(N, C)
        v = rb(lin(h, p + 'attn1.to_v'), bf)
        o = rb(attn(q, k, v), bf)
        x = x + mod[2] * rb(lin(o, p + 'attn1.to_out.0'), bf)
        h = rb(torch.nn.functional.layer_norm(x, (C,), sd[p + 'norm2.weight'], sd[p + 'norm2.bias'], eps) if cfg.cross_attn_norm else x, bf)
        q = rb(rms(rb(lin(h, p + 'attn2.to_q'), bf), sd[p + 'attn2.norm_q.weight']), bf)
        k = rb(rms(lin(ce, p + 'attn2.to_k'), sd[p + 'attn2.norm_k.weight']), bf)
        v = rb(lin(ce, p + 'attn2.to_v'), bf)
        o = rb(attn(q, k, v), bf)
        x = x + rb(lin(o, p + 'attn2.to_out.0'), bf)
        h = rb(ln(x) * (1 + mod[4]) + mod[3], bf)
        f = rb(g(rb(lin(h, p + 'ffn.net.0.proj'), bf)), bf)
        x = x + mod[5] * rb(lin(f, p + 'ffn.net.2'), bf)
    hm = sd['scale_shift_table'].view(2, C) + e
    h = rb(ln(x) * (1 + hm[1]) + hm[0], bf)
    out = lin(h, 'proj_out')
    Co = cfg.out_channels
    return out.view(Fp, Hp, Wp, pt, ph, pw, Co).permute(6, 0, 3, 1, 4, 2, 5).reshape(Co, F, H, W)

cases = [("h2d64l2", 2, 64, 256, 2, 16, 16, 64, 256, True, (3, 10, 14), 19),
         ("h3d128l2", 3, 128, 512, 2, 16, 16, 96, 256, True, (2, 6, 8), 33),
         ("h4d64l3", 4, 64, 320, 3, 8, 12, 48, 64, False, (5, 4, 18), 7),
         ("1.3B-like 4 layers", 12, 128, 8960, 4, 16, 16, 4096, 256, True, (3, 12, 16), 64)]
for name, NH, D, ffn, L, cin, cout, td, fd, cn, (F, H, W), Lt in cases:
    m = WanTransformer3DModel(num_attention_heads=NH, attention_head_dim=D, ffn_dim=ffn, num_layers=L, in_channels=cin,
                              out_channels=cout, text_dim=td, freq_dim=fd, cross_attn_norm=cn).eval()
    with torch.no_grad():
        for pn, p in m.named_parameters():
            if p.ndim >= 2 and 'scale_shift' not in pn: p.copy_(torch.randn_like(p) / math.sqrt(p[0].numel()))
            elif 'norm' in pn and pn.endswith('weight'): p.copy_(1 + 0.1 * torch.randn_like(p))
            elif 'scale_shift' in pn: p.copy_(torch.randn_like(p) / math.sqrt(NH * D))
            else: p.copy_(0.05 * torch.randn_like(p))
            p.copy_(p.to(torch.bfloat16).float())
        lat = torch.randn(cin, F, H, W); ctx = torch.randn(Lt, td)
        for t in (999.0, 412.0):
            ref = m(lat[None], torch.tensor([t]), ctx[None], return_dict=False)[0][0]
            mine = fwd(m, lat, t, ctx, False)
            emu = fwd(m, lat, t, ctx, True)
            re = lambda a, b: ((a - b).abs().max() / b.abs().max()).item()
            nm = lambda a, b: (((a - b) ** 2).sum() / (b ** 2).sum()).item()
            print(f"{name} t={t}: torch-impl vs diffusers fp32 rel {re(mine, ref):.2e}; bf16-emulated vs fp32 rel {re(emu, mine):.3e} nmse {nm(emu, mine):.3e}")
