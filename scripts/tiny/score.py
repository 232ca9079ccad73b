#!/usr/bin/env python3
"""Scores a generated vdit-tiny clip for prompt adherence: the moving object's colour and its
direction of motion, estimated from the frames alone.

Method: the background colour is the median of the frame border; object pixels differ from it by
more than a threshold; the object's colour is the median of its pixels, named by the nearest
palette colour (dataset.COLORS); its direction is the sign of the dominant axis of the centroid's
displacement between the first and last frames where the object is visible.
"""
import numpy as np

try:
    from . import dataset
except ImportError:  # run as a script from scripts/tiny
    import dataset


def analyse(frames):
    """frames: uint8 [F, H, W, 3] -> (colour name or None, direction name or None)."""
    f = frames.astype(np.float32) / 255.0
    F, H, W, _ = f.shape
    border = np.concatenate([f[:, 0], f[:, -1], f[:, :, 0], f[:, :, -1]], axis=1)  # [F, 2H+2W, 3]
    bg = np.median(border.reshape(-1, 3), axis=0)
    diff = np.abs(f - bg).sum(-1)                          # [F, H, W]
    mask = diff > 0.35
    if mask.sum() < 10:
        return None, None
    colour = np.median(f[mask], axis=0)
    names = list(dataset.COLORS)
    dist = [np.sum((colour - np.array(dataset.COLORS[n])) ** 2) for n in names]
    colour_name = names[int(np.argmin(dist))]
    cents = []
    ys, xs = np.mgrid[0:H, 0:W]
    for i in range(F):
        m = mask[i]
        if m.sum() >= 5:
            cents.append((xs[m].mean(), ys[m].mean()))
    if len(cents) < 2:
        return colour_name, None
    dx, dy = cents[-1][0] - cents[0][0], cents[-1][1] - cents[0][1]
    if max(abs(dx), abs(dy)) < 4.0:   # less than 4 pixels over the clip: no clear motion
        return colour_name, None
    if abs(dx) >= abs(dy):
        return colour_name, ("right" if dx > 0 else "left")
    return colour_name, ("down" if dy > 0 else "up")


def score(results):
    """results: list of (attrs, frames) -> dict with colour and direction accuracy."""
    n = len(results)
    c_ok = d_ok = 0
    for attrs, frames in results:
        c, d = analyse(frames)
        c_ok += c == attrs["color"]
        d_ok += d == attrs["direction"]
    return {"n": n, "colour_acc": c_ok / max(n, 1), "direction_acc": d_ok / max(n, 1)}
