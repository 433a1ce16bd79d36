"""Synthetic "shapes" data set: one flat-coloured shape, roughly centred, on a flat background.

Deterministic for a given seed. Every image is drawn at 4x and box-filtered down, so edges are
anti-aliased like a real photo's. Captions read "a red circle on a blue background".
The geometry guarantees what lockstep's test checks: the central 8x8 pixels lie inside the shape
for every shape, size and jitter, and the outer 4-pixel border lies outside it.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# One source of truth for the palette and geometry, read by lockstep's tests too.
SPEC = json.loads((Path(__file__).resolve().parents[1] / "dataset.json").read_text())
SIZE = SPEC["size"]
SUPERSAMPLE = 4
COLORS: dict[str, tuple[int, int, int]] = {k: tuple(v) for k, v in SPEC["colors"].items()}
SHAPES: list[str] = SPEC["shapes"]
# Radius range (of the circumscribed circle, in output pixels) and centre jitter.
RADIUS_MIN, RADIUS_MAX, JITTER = (float(SPEC["geometry"][k]) for k in ("radiusMin", "radiusMax", "centreJitter"))


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def caption(color: str, shape: str, background: str) -> str:
    return f"{article(color)} {color} {shape} on {article(background)} {background} background"  # SPEC["caption"]


def _polygon(shape: str, cx: float, cy: float, r: float, rot: float) -> list[tuple[float, float]]:
    def ring(n: int, radius: float, offset: float) -> list[tuple[float, float]]:
        return [(cx + radius * math.sin(offset + 2 * math.pi * k / n), cy - radius * math.cos(offset + 2 * math.pi * k / n)) for k in range(n)]

    if shape == "square":
        return ring(4, r, math.pi / 4 + rot)
    if shape == "diamond":
        return ring(4, r, rot)
    if shape == "triangle":
        return ring(3, r, rot)
    if shape == "star":
        outer, inner = ring(5, r, rot), ring(5, r * 0.5, rot + math.pi / 5)
        return [p for pair in zip(outer, inner) for p in pair]
    raise ValueError(shape)


def draw(color: str, shape: str, background: str, rng: np.random.Generator) -> np.ndarray:
    """One 64x64 RGB uint8 image."""
    s = SUPERSAMPLE
    img = Image.new("RGB", (SIZE * s, SIZE * s), COLORS[background])
    d = ImageDraw.Draw(img)
    r = rng.uniform(RADIUS_MIN, RADIUS_MAX)
    cx = SIZE / 2 + rng.uniform(-JITTER, JITTER)
    cy = SIZE / 2 + rng.uniform(-JITTER, JITTER)
    rot = rng.uniform(-0.25, 0.25)
    if shape == "circle":
        d.ellipse([(cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s], fill=COLORS[color])
    else:
        d.polygon([(x * s, y * s) for x, y in _polygon(shape, cx, cy, r, rot)], fill=COLORS[color])
    return np.asarray(img.resize((SIZE, SIZE), Image.BOX), dtype=np.uint8)


def combos() -> list[tuple[str, str, str]]:
    """Every (colour, shape, background) with colour != background."""
    return [(c, sh, b) for c in COLORS for sh in SHAPES for b in COLORS if c != b]


def sample_batch(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[str]]:
    """n random images (uint8 [n,64,64,3]) and their captions."""
    all_combos = combos()
    picks = rng.integers(0, len(all_combos), size=n)
    images, captions = [], []
    for i in picks:
        c, sh, b = all_combos[i]
        images.append(draw(c, sh, b, rng))
        captions.append(caption(c, sh, b))
    return np.stack(images), captions


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    imgs, caps = sample_batch(rng, 16)
    grid = imgs.reshape(4, 4, SIZE, SIZE, 3).transpose(0, 2, 1, 3, 4).reshape(4 * SIZE, 4 * SIZE, 3)
    Image.fromarray(grid).save("/tmp/shapes_grid.png")
    print("\n".join(caps))
