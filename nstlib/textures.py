"""Style images the project draws itself: colourful, strongly textured, no network and no licence questions.

Style transfer copies texture statistics, so the styles here are made of texture: brush strokes along a
swirling flow, a tile mosaic, layered waves and ink hatching. ``flat`` is a smooth colour gradient with
almost no texture, there to show (lesson 4) that such a style has little to transfer.
Every texture is deterministic for a given ``seed``.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

#: Vivid palettes (RGB 0..255), one per texture by default.
PALETTES = {
    "night": [(18, 32, 92), (36, 74, 160), (74, 128, 204), (240, 206, 64), (250, 236, 150), (22, 54, 52)],
    "ember": [(140, 20, 30), (220, 70, 30), (250, 160, 40), (252, 220, 110), (60, 20, 60), (30, 90, 120)],
    "sea": [(8, 40, 90), (20, 90, 150), (60, 150, 190), (235, 240, 235), (190, 215, 220), (10, 25, 60)],
    "garden": [(40, 110, 60), (120, 180, 60), (230, 200, 50), (200, 60, 90), (120, 50, 140), (250, 245, 225)],
}


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def strokes(size: int = 512, seed: int = 0, palette: str = "night") -> Image.Image:
    """Thick, short brush strokes that follow a swirling flow field (in the spirit of a Van Gogh sky)."""
    rng, colors = _rng(seed), PALETTES[palette]
    image = Image.new("RGB", (size, size), colors[0])
    draw = ImageDraw.Draw(image)
    k1, k2 = rng.uniform(2.0, 4.0, 2)
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)

    def angle(x, y):
        u, v = x / size, y / size
        return np.pi * (np.sin(k1 * np.pi * u + p1) + np.cos(k2 * np.pi * v + p2) + 0.5 * np.sin(5 * np.pi * (u + v)))

    width = max(2, size // 60)
    length = size / 14
    n = int(9 * (size / width) ** 2 / 10)
    for _ in range(n):
        x, y = rng.uniform(0, size, 2)
        color = np.array(colors[rng.integers(len(colors))], dtype=float)
        color = tuple(int(c) for c in np.clip(color * rng.uniform(0.8, 1.2), 0, 255))
        points = [(x, y)]
        for _ in range(6):
            a = angle(x, y)
            x, y = x + np.cos(a) * length / 6, y + np.sin(a) * length / 6
            points.append((x, y))
        draw.line(points, fill=color, width=width, joint="curve")
        # A dark edge on one side of each stroke makes the texture read as paint, not blur.
        draw.line([(px + width / 2, py + width / 2) for px, py in points[1:]], fill=(10, 14, 40), width=1)
    return image


def mosaic(size: int = 512, seed: int = 0, palette: str = "ember", cells: int = 14) -> Image.Image:
    """Irregular tiles (a jittered Voronoi diagram) in vivid colours with dark grout lines."""
    rng, colors = _rng(seed), np.array(PALETTES[palette], dtype=np.float32)
    cell = size / cells
    grid = np.stack(np.meshgrid(np.arange(cells + 2), np.arange(cells + 2), indexing="ij"), -1) - 1.0
    seeds = (grid + rng.uniform(0.1, 0.9, grid.shape)) * cell  # (cells+2, cells+2, 2) as (y, x)
    tile = colors[rng.integers(len(colors), size=grid.shape[:2])] * rng.uniform(0.75, 1.15, grid.shape[:2] + (1,))
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    cy, cx = (ys // cell).astype(int) + 1, (xs // cell).astype(int) + 1
    best = np.full((size, size), np.inf, np.float32)
    second = np.full((size, size), np.inf, np.float32)
    out = np.zeros((size, size, 3), np.float32)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            sy, sx = seeds[cy + dy, cx + dx, 0], seeds[cy + dy, cx + dx, 1]
            d = np.hypot(ys - sy, xs - sx)
            closer = d < best
            second = np.where(closer, best, np.minimum(second, d))
            best = np.where(closer, d, best)
            out = np.where(closer[..., None], tile[cy + dy, cx + dx], out)
    shade = 1.0 - 0.35 * np.clip(best / cell, 0, 1)[..., None]  # tiles brighter at their centre
    out = out * shade
    grout = (second - best) < max(1.5, size / 200)
    out[grout] = (25, 20, 30)
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


def waves(size: int = 512, seed: int = 0, palette: str = "sea") -> Image.Image:
    """Layered, curling wave bands with white crests (a nod to woodblock prints)."""
    rng, colors = _rng(seed), np.array(PALETTES[palette], dtype=np.float32)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    phase = rng.uniform(0, 2 * np.pi, 3)
    warp = (0.05 * np.sin(2 * np.pi * (3 * xs + phase[0])) + 0.03 * np.sin(2 * np.pi * (7 * xs + 2 * ys + phase[1]))
            + 0.02 * np.sin(2 * np.pi * (13 * xs - 5 * ys + phase[2])))
    bands = (ys + warp) * 18.0
    index = np.floor(bands).astype(int) % 3
    frac = bands - np.floor(bands)
    out = colors[[0, 1, 2]][index] * (0.75 + 0.35 * frac[..., None])
    crest = frac > 0.86
    out[crest] = colors[3]
    foam = (np.sin(2 * np.pi * 40 * (xs + warp)) > 0.6) & (frac > 0.7) & ~crest
    out[foam] = colors[4]
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8)).filter(ImageFilter.SMOOTH)


def hatching(size: int = 512, seed: int = 0, palette: str = "garden") -> Image.Image:
    """Cross-hatched ink lines in several directions over patches of coloured wash."""
    rng = _rng(seed)
    image = mosaic(size, seed, palette, cells=6).filter(ImageFilter.GaussianBlur(size / 80))
    draw = ImageDraw.Draw(image)
    spacing = max(3, size // 50)
    center = size / 2
    for angle in (np.pi / 4, -np.pi / 4, np.pi / 12):
        d, n = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle), np.cos(angle)])
        for offset in np.arange(-size, size, spacing):
            if rng.random() < 0.35:
                continue
            t0, t1 = rng.uniform(-size, -size / 4), rng.uniform(size / 4, size)
            p0, p1 = center + offset * n + t0 * d, center + offset * n + t1 * d
            draw.line([tuple(p0), tuple(p1)], fill=(20, 20, 35), width=max(1, size // 200))
    return image


def flat(size: int = 512, seed: int = 0, palette: str = "ember") -> Image.Image:
    """A smooth two-colour gradient: colour but almost no texture (the counter-example)."""
    colors = np.array(PALETTES[palette], dtype=np.float32)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    t = ((xs + ys) / 2)[..., None]
    out = (1 - t) * colors[1] + t * colors[3]
    return Image.fromarray(out.astype(np.uint8))


TEXTURES = {"strokes": strokes, "mosaic": mosaic, "waves": waves, "hatching": hatching, "flat": flat}

#: The style used when none is given (CLI, notebook): bundled, drawn here, no network.
DEFAULT = "strokes"


def names() -> list[str]:
    return list(TEXTURES)


def draw(name: str = DEFAULT, size: int = 512, seed: int = 0) -> Image.Image:
    """One of the project's textures as an RGB PIL image of ``size`` x ``size`` pixels."""
    if name not in TEXTURES:
        raise KeyError(f"no texture called {name!r}; choose one of {', '.join(TEXTURES)}")
    if size < 32:
        raise ValueError(f"texture size must be at least 32 px (the network needs it), got {size}")
    return TEXTURES[name](size=size, seed=seed)


__all__ = ["draw", "names", "TEXTURES", "DEFAULT", "PALETTES"]
