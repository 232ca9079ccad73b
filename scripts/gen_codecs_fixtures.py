#!/usr/bin/env python3
"""Writes tests/data/codecs/metrics_skimage.txt: PSNR and SSIM values computed by scikit-image
for image pairs that tests/test_codecs_metrics.c regenerates bit-exactly in C.

Images are produced by integer-only recipes (no float, no library RNG), implemented identically
here and in the C test, so the fixture holds only the recipe and the expected numbers:
  base(w, h, seed)       A[y, x, c] = (x*7 + y*3 + c*50 + seed*17 + ((x//4 + y//4) % 2) * 60) % 256,
                         then a 3x3 box blur (edge-clamped, floor division) to get smooth and sharp areas
  noise A (amp)          B = clip(A + (r % (2*amp + 1)) - amp), r from xorshift32 per sample in
                         raster order (y, x, c), state = (seed * 2654435761 + 1) mod 2^32
  shift A (k)            B = clip(A + k)
  blur A                 B = 3x3 box blur of A (edge-clamped, floor division)
  same                   B = A

Expected values (the references the C code must match):
  psnr: skimage.metrics.peak_signal_noise_ratio(A, B, data_range=255) on the uint8 RGB arrays
  ssim: skimage.metrics.structural_similarity(YA, YB, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, data_range=255) with Y = 0.299 R + 0.587 G + 0.114 B (float64)

Also writes small still images made by Pillow (an encoder independent of vdit) that the image
reading test decodes with stb_image, each of a 24x16 pattern the C test regenerates:
  image_rgb_q95.jpg  RGB JPEG, quality 95       (lossy: checked by PSNR)
  image_gray.png     8-bit greyscale PNG        (exact: R = G = B = grey)
  image_rgba.png     RGBA PNG, varying alpha    (exact: alpha dropped, colour kept)
pattern(x, y) = ((x * 10 + y * 3) % 256, (y * 15) % 256, (x * 5 + y * 7 + 60) % 256)

Run from the repository root: python3 scripts/gen_codecs_fixtures.py
Needs numpy and scikit-image; the C tests never need Python.
"""
import os
import sys

import numpy as np
import skimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

MASK = 0xFFFFFFFF


def xorshift32(state):
    state ^= (state << 13) & MASK
    state ^= state >> 17
    state ^= (state << 5) & MASK
    return state & MASK


def box3(img):
    h, w, _ = img.shape
    out = np.empty_like(img)
    src = img.astype(np.int64)
    for y in range(h):
        for x in range(w):
            acc = np.zeros(3, dtype=np.int64)
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    yy = min(max(y + dy, 0), h - 1)
                    xx = min(max(x + dx, 0), w - 1)
                    acc += src[yy, xx]
            out[y, x] = acc // 9
    return out


def base(w, h, seed):
    a = np.empty((h, w, 3), dtype=np.uint8)
    for y in range(h):
        for x in range(w):
            for c in range(3):
                a[y, x, c] = (x * 7 + y * 3 + c * 50 + seed * 17 + ((x // 4 + y // 4) % 2) * 60) % 256
    return box3(a)


def distort(a, kind, param, seed):
    h, w, _ = a.shape
    if kind == "same":
        return a.copy()
    if kind == "shift":
        return np.clip(a.astype(np.int64) + param, 0, 255).astype(np.uint8)
    if kind == "blur":
        return box3(a)
    if kind == "noise":
        b = np.empty_like(a)
        st = (seed * 2654435761 + 1) & MASK
        for y in range(h):
            for x in range(w):
                for c in range(3):
                    st = xorshift32(st)
                    v = int(a[y, x, c]) + (st % (2 * param + 1)) - param
                    b[y, x, c] = min(max(v, 0), 255)
        return b
    raise ValueError(kind)


def luma(img):
    f = img.astype(np.float64)
    return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]


CASES = [
    # name, w, h, seed, kind, param
    ("noise8", 32, 24, 1, "noise", 8),
    ("noise20_odd", 37, 29, 2, "noise", 20),
    ("noise3_min", 11, 11, 3, "noise", 3),
    ("noise60", 48, 20, 4, "noise", 60),
    ("shift12", 32, 24, 5, "shift", 12),
    ("shift_neg30", 25, 31, 6, "shift", -30),
    ("blur", 40, 33, 7, "blur", 0),
    ("same", 16, 12, 8, "same", 0),
]


def still_pattern(w=24, h=16):
    a = np.empty((h, w, 3), dtype=np.uint8)
    for y in range(h):
        for x in range(w):
            a[y, x] = ((x * 10 + y * 3) % 256, (y * 15) % 256, (x * 5 + y * 7 + 60) % 256)
    return a


def write_images(dirpath):
    from PIL import Image
    a = still_pattern()
    Image.fromarray(a, "RGB").save(os.path.join(dirpath, "image_rgb_q95.jpg"), quality=95, subsampling=0)
    Image.fromarray(a[..., 1], "L").save(os.path.join(dirpath, "image_gray.png"))
    alpha = ((np.arange(a.shape[1])[None, :] * 11 + np.arange(a.shape[0])[:, None] * 5) % 256).astype(np.uint8)
    Image.fromarray(np.dstack([a, alpha]), "RGBA").save(os.path.join(dirpath, "image_rgba.png"))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    write_images(os.path.join(root, "tests", "data", "codecs"))
    out = os.path.join(root, "tests", "data", "codecs", "metrics_skimage.txt")
    lines = [
        "# generated by scripts/gen_codecs_fixtures.py, do not edit",
        f"# scikit-image {skimage.__version__}, numpy {np.__version__}",
        "# name w h seed kind param psnr_rgb ssim_luma   (psnr 'inf' when identical)",
    ]
    for name, w, h, seed, kind, param in CASES:
        a = base(w, h, seed)
        b = distort(a, kind, param, seed)
        if np.array_equal(a, b):
            psnr = float("inf")
        else:
            psnr = peak_signal_noise_ratio(a, b, data_range=255)
        ssim = structural_similarity(luma(a), luma(b), gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=255)
        lines.append(f"{name} {w} {h} {seed} {kind} {param} {psnr:.12g} {ssim:.15g}")
        print(lines[-1])
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", out, file=sys.stderr)


if __name__ == "__main__":
    main()
