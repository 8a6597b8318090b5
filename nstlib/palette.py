"""Colours a stylised picture invented: the share of its pixels far from every colour of its two sources.

Style transfer should paint with the style's colours and the photo's; pixels whose colour is in neither (the
"rainbow speckle" of an optimisation pushed too hard) are artefacts. ``off_palette_share`` measures them in
CIELAB, where a Euclidean distance (ΔE 1976) of about 2 is just noticeable and 20 is a clearly other colour.
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.color import rgb2lab

from . import images
from .core.errors import UsageError

#: ΔE (CIELAB 1976) beyond which a pixel's colour counts as in neither source.
FAR = 20.0

#: Width of the CIELAB grid the sources' colours are binned on before the search; a bin's centre is at most
#: ``GRID * sqrt(3) / 2`` (about 1.7) from any colour in it, well under ``FAR``.
GRID = 2.0


def lab(picture) -> np.ndarray:
    """(N, 3) CIELAB colours of a picture (anything ``images.load`` reads, or a (1, 3, H, W) tensor in [0, 1])."""
    if isinstance(picture, torch.Tensor):
        if picture.ndim != 4 or picture.shape[:2] != (1, 3):
            raise UsageError(f"expected one RGB picture as a (1, 3, H, W) tensor, got shape {tuple(picture.shape)}")
        rgb = images.to_numpy(picture)
    else:
        rgb = np.asarray(images.load(picture, min_size=1), dtype=np.float32) / 255.0
    return rgb2lab(rgb).reshape(-1, 3).astype(np.float32)


def source_colours(*sources) -> np.ndarray:
    """The distinct colours of the sources, binned on a ``GRID``-wide CIELAB grid: (K, 3) bin centres."""
    if not sources:
        raise UsageError("off_palette_share needs at least one source picture (the photo, the style)")
    colours = np.concatenate([lab(s) for s in sources])
    return (np.unique(np.floor(colours / GRID), axis=0) + 0.5) * GRID


def distance_to_sources(picture, *sources, chunk: int = 4096) -> np.ndarray:
    """ΔE of each pixel of ``picture`` to the nearest colour of the sources, (N,) in row-major order."""
    palette = torch.from_numpy(source_colours(*sources).astype(np.float32))
    pixels = torch.from_numpy(lab(picture))
    return torch.cat([torch.cdist(part, palette).min(dim=1).values for part in pixels.split(chunk)]).numpy()


def off_palette_share(picture, *sources, far: float = FAR) -> float:
    """Fraction of ``picture``'s pixels more than ``far`` ΔE from every colour of every source (0 to 1)."""
    return float((distance_to_sources(picture, *sources) > far).mean())
