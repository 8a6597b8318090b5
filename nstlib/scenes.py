"""Procedurally generated scenes whose answer is known: a shape on a textured background, and its box.

Lesson 3 needs a classifier that runs offline and a way to *measure* whether a class activation map finds
the object (the pointing game). These scenes give both: the project trains its own small classifier on
them (``nstlib.shapes_classifier``), and every held-out scene carries the object's exact mask and box.

Each scene: a two-colour texture (smooth noise, stripes, checks or dots), a few distractor strokes and
blobs that belong to no class, then one object (or several, distinct classes) of a random class, size,
position, rotation and colour, kept in contrast with the background. Drawn at twice the size and
downsampled, so edges are anti-aliased. Deterministic for a given seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw

#: The object classes, in label order.
CLASSES = ("circle", "square", "triangle", "star", "cross", "ring")

#: Supersampling factor for anti-aliased edges.
_SS = 2


@dataclass
class Scenes:
    """A batch of scenes: ``images`` (N, 3, H, W) in [0, 1]; ``labels`` (N,); ``boxes`` (N, 4) as
    x0, y0, x1, y1 in pixels (x1, y1 exclusive); ``masks`` (N, H, W) bool. With several objects per scene
    the last three gain an object dimension: (N, K), (N, K, 4), (N, K, H, W)."""

    images: torch.Tensor
    labels: torch.Tensor
    boxes: torch.Tensor
    masks: torch.Tensor

    def __len__(self) -> int:
        return self.images.shape[0]

    def names(self) -> list:
        return [CLASSES[i] if isinstance(i, int) else [CLASSES[j] for j in i] for i in self.labels.tolist()]


# ------------------------------------------------------------------------------------------- textures


def _colour(rng) -> np.ndarray:
    return rng.uniform(0.0, 1.0, size=3)


def _texture(rng, size: int) -> np.ndarray:
    """An (H, W, 3) float texture in [0, 1] mixing two random colours with a random pattern."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    kind = rng.integers(4)
    if kind == 0:  # smooth value noise
        cells = int(rng.integers(3, 9))
        grid = rng.uniform(0, 1, size=(cells, cells)).astype(np.float32)
        t = np.asarray(Image.fromarray(grid, mode="F").resize((size, size), Image.Resampling.BICUBIC))
        t = (t - t.min()) / (np.ptp(t) + 1e-6)
    elif kind == 1:  # stripes at a random angle
        angle, freq = rng.uniform(0, math.pi), rng.uniform(3, 9)
        t = 0.5 + 0.5 * np.sin(2 * math.pi * freq * (xx * math.cos(angle) + yy * math.sin(angle)))
    elif kind == 2:  # checks
        n = rng.uniform(3, 8)
        t = ((np.floor(xx * n) + np.floor(yy * n)) % 2).astype(np.float32)
    else:  # dots
        n, phase = rng.uniform(4, 9), rng.uniform(0, 1, size=2)
        d = np.hypot((xx * n + phase[0]) % 1 - 0.5, (yy * n + phase[1]) % 1 - 0.5)
        t = (d < rng.uniform(0.15, 0.35)).astype(np.float32)
    c1, c2 = _colour(rng), _colour(rng)
    # Keep the texture's contrast moderate so that the object, not the pattern, is the strongest thing.
    c2 = c1 + (c2 - c1) * rng.uniform(0.25, 0.7)
    image = c1 * (1 - t[..., None]) + c2 * t[..., None]
    image += rng.normal(0, 0.03, size=image.shape)
    return image.clip(0, 1).astype(np.float32)


# ------------------------------------------------------------------------------------------- shapes


def _regular(cx, cy, r, n, angle, inner=None):
    """Vertices of a regular n-gon (or an n-pointed star when ``inner`` is the inner radius ratio)."""
    points = []
    steps = 2 * n if inner else n
    for k in range(steps):
        radius = r * (inner if inner and k % 2 else 1.0)
        a = angle + 2 * math.pi * k / steps
        points.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
    return points


def _cross(cx, cy, r, angle, arm=0.36):
    w = r * arm
    base = [(-w, -r), (w, -r), (w, -w), (r, -w), (r, w), (w, w), (w, r), (-w, r), (-w, w), (-r, w), (-r, -w),
            (-w, -w)]
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in base]


def _draw_shape(draw: ImageDraw.ImageDraw, label: int, cx, cy, r, angle, fill=255) -> None:
    name = CLASSES[label]
    if name == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif name == "square":
        draw.polygon(_regular(cx, cy, r * 1.05, 4, angle), fill=fill)
    elif name == "triangle":
        draw.polygon(_regular(cx, cy, r * 1.1, 3, angle), fill=fill)
    elif name == "star":
        draw.polygon(_regular(cx, cy, r * 1.1, 5, angle, inner=0.45), fill=fill)
    elif name == "cross":
        draw.polygon(_cross(cx, cy, r, angle), fill=fill)
    elif name == "ring":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        inner = r * 0.55
        draw.ellipse([cx - inner, cy - inner, cx + inner, cy + inner], fill=0)
    else:  # pragma: no cover - CLASSES and this function change together
        raise AssertionError(name)


def _distractors(rng, draw: ImageDraw.ImageDraw, big: int) -> None:
    """Strokes and lumpy blobs in random colours: clutter that is no class, drawn under the objects."""
    for _ in range(int(rng.integers(0, 3))):
        x0, y0, x1, y1 = rng.uniform(0, big, size=4)
        colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
        draw.line([(x0, y0), (x1, y1)], fill=colour, width=int(rng.integers(big // 64 + 1, big // 24 + 2)))
    for _ in range(int(rng.integers(0, 2))):
        cx, cy, r = rng.uniform(0.1 * big, 0.9 * big), rng.uniform(0.1 * big, 0.9 * big), rng.uniform(0.04, 0.1) * big
        n = 9
        points = [(cx + r * rng.uniform(0.6, 1.3) * math.cos(2 * math.pi * k / n),
                   cy + r * rng.uniform(0.6, 1.3) * math.sin(2 * math.pi * k / n)) for k in range(n)]
        draw.polygon(points, fill=tuple(int(v) for v in rng.integers(0, 256, size=3)))


def _object_colour(rng, background: np.ndarray) -> np.ndarray:
    """A colour that stands out from the background's mean colour."""
    mean = background.reshape(-1, 3).mean(0)
    for _ in range(50):
        colour = _colour(rng)
        if np.linalg.norm(colour - mean) > 0.45:
            return colour
    return 1.0 - mean


def draw_scene(rng: np.random.Generator, size: int = 64, labels=None, distractors: bool = True):
    """One scene as (image (H, W, 3) float32, labels list, boxes list of (x0, y0, x1, y1), masks list).

    labels: class indices (or names) of the objects to draw, distinct; default one random class.
    """
    if size < 32:
        raise ValueError(f"scenes need at least 32 px (the classifier pools five times), got size={size}")
    if labels is None:
        labels = [int(rng.integers(len(CLASSES)))]
    labels = [CLASSES.index(label) if isinstance(label, str) else int(label) for label in labels]
    big = size * _SS
    background = _texture(rng, size)
    canvas = Image.fromarray((background * 255).round().astype(np.uint8)).resize((big, big), Image.Resampling.BICUBIC)
    if distractors:
        _distractors(rng, ImageDraw.Draw(canvas), big)
    image = np.asarray(canvas, dtype=np.float32) / 255.0
    # Several objects: place them on a coarse grid of slots so that they do not overlap.
    slots = _slots(rng, len(labels))
    boxes, masks = [], []
    for label, (sx, sy, sw) in zip(labels, slots):
        if len(labels) == 1:
            r = rng.uniform(0.13, 0.22) * big
            cx, cy = rng.uniform(r, big - r, size=2)
        else:  # inside its own quarter of the image
            r = rng.uniform(0.11, 0.15) * big
            cx = (sx * big) + rng.uniform(r, sw * big - r)
            cy = (sy * big) + rng.uniform(r, sw * big - r)
        mask_big = Image.new("L", (big, big), 0)
        _draw_shape(ImageDraw.Draw(mask_big), label, cx, cy, r, rng.uniform(0, 2 * math.pi))
        alpha = np.asarray(mask_big.resize((size, size), Image.Resampling.BOX), dtype=np.float32) / 255.0
        alpha_big = np.asarray(mask_big, dtype=np.float32)[..., None] / 255.0
        colour = _object_colour(rng, background)
        shade = 1.0 + rng.uniform(-0.15, 0.15) * (np.mgrid[0:big, 0:big][0] / big - 0.5)[..., None]
        image = image * (1 - alpha_big) + (colour * shade).clip(0, 1) * alpha_big
        mask = alpha > 0.5
        ys, xs = np.nonzero(mask)
        boxes.append((int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))
        masks.append(mask)
    small = Image.fromarray((image * 255).round().astype(np.uint8)).resize((size, size), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0, labels, boxes, masks


def _slots(rng, n: int):
    """n non-overlapping square regions (x, y, side) in unit coordinates."""
    if n == 1:
        return [(0.0, 0.0, 1.0)]
    if n > 4:
        raise ValueError(f"at most 4 objects per scene, got {n}")
    cells = [(0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5)]
    order = rng.permutation(4)[:n]
    return [(cells[i][0], cells[i][1], 0.5) for i in order]


def make_scenes(n: int, size: int = 64, seed: int = 0, n_objects: int = 1, labels=None,
                distractors: bool = True) -> Scenes:
    """``n`` scenes, reproducible from ``seed``; classes are balanced (cycled, then shuffled).

    labels: optional list of ``n`` labels (or label lists when ``n_objects`` > 1) to draw instead.
    """
    if n_objects < 1 or n_objects > len(CLASSES):
        raise ValueError(f"n_objects must be between 1 and {len(CLASSES)}, got {n_objects}")
    rng = np.random.default_rng(seed)
    if labels is None:
        if n_objects == 1:
            labels = [[int(c)] for c in rng.permutation(np.arange(n) % len(CLASSES))]
        else:
            labels = [list(rng.choice(len(CLASSES), size=n_objects, replace=False)) for _ in range(n)]
    else:
        labels = [[lab] if n_objects == 1 and not isinstance(lab, (list, tuple)) else list(lab) for lab in labels]
        if len(labels) != n:
            raise ValueError(f"got {len(labels)} labels for n={n} scenes")
    images, all_labels, all_boxes, all_masks = [], [], [], []
    for scene_labels in labels:
        image, labs, boxes, masks = draw_scene(rng, size, scene_labels, distractors)
        images.append(image)
        all_labels.append(labs)
        all_boxes.append(boxes)
        all_masks.append(np.stack(masks))
    images = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    labels_t = torch.tensor(all_labels, dtype=torch.long)
    boxes_t = torch.tensor(all_boxes, dtype=torch.long)
    masks_t = torch.from_numpy(np.stack(all_masks))
    if n_objects == 1:
        labels_t, boxes_t, masks_t = labels_t[:, 0], boxes_t[:, 0], masks_t[:, 0]
    return Scenes(images, labels_t, boxes_t, masks_t)


__all__ = ["CLASSES", "Scenes", "draw_scene", "make_scenes"]
