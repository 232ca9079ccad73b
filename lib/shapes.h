// Dimension letters used in shape comments across vdit (defined once, here).
//   B  : batch                         F  : latent frames (frames after the VAE's 4x time compression)
//   H,W: latent height and width       Fp, Hp, Wp: token grid after patchify (patch 1x2x2 for Wan)
//   N  : tokens after patchify (Fp*Hp*Wp), frame-major, raster order inside a frame
//   C  : model width (dim)             NH : query heads   NKV: key/value heads   D : head dim
//   L  : layers (or text length where the comment says so)
//   M,K: GEMM rows and reduction length; a Linear weight is stored [N_out, K] as in torch.
#pragma once
