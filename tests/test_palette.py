"""The off-palette share: colours a stylised picture has that neither of its sources has."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from nstlib import palette
from nstlib.core.errors import UsageError


def flat(rgb, size=(8, 6)):
    return Image.new("RGB", size, rgb)


def test_a_picture_made_of_its_sources_colours_is_all_on_palette():
    red, blue = flat((200, 30, 30)), flat((30, 30, 200))
    halves = np.zeros((6, 8, 3), dtype=np.uint8)
    halves[:, :4], halves[:, 4:] = (200, 30, 30), (30, 30, 200)
    assert palette.off_palette_share(Image.fromarray(halves), red, blue) == 0.0


def test_a_colour_in_neither_source_counts_and_a_near_one_does_not():
    red, blue = flat((200, 30, 30)), flat((30, 30, 200))
    mixed = np.zeros((6, 8, 3), dtype=np.uint8)
    mixed[:] = (203, 32, 29)  # a shade of the red: well under ΔE 20
    mixed[:3, :2] = (20, 220, 20)  # green: 6 of 48 pixels
    assert palette.off_palette_share(Image.fromarray(mixed), red, blue) == pytest.approx(6 / 48)


def test_distance_is_the_cielab_distance_to_the_nearest_source_colour():
    gray, white = flat((128, 128, 128)), flat((255, 255, 255))
    black = torch.zeros(1, 3, 4, 4)
    d = palette.distance_to_sources(black, gray, white)
    lab_gray = palette.lab(gray)[0]
    assert d.shape == (16,)
    assert np.allclose(d, np.linalg.norm(lab_gray), atol=palette.GRID)  # black is L=0, a=b=0


def test_threshold_is_a_parameter():
    dark, darker = flat((100, 100, 100)), torch.full((1, 3, 4, 4), 80 / 255)
    near = palette.distance_to_sources(darker, dark)[0]
    assert palette.off_palette_share(darker, dark, far=near - 1) == 1.0
    assert palette.off_palette_share(darker, dark, far=near + 1) == 0.0


def test_bad_input_is_named():
    with pytest.raises(UsageError, match="at least one source"):
        palette.off_palette_share(flat((0, 0, 0)))
    with pytest.raises(UsageError, match=r"\(1, 3, H, W\)"):
        palette.off_palette_share(torch.zeros(3, 4, 4), flat((0, 0, 0)))
