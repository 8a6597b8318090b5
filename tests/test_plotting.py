"""The display helpers lessons call instead of building figures by hand."""

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402

from nstlib import plotting  # noqa: E402


def test_stretch_contrast_makes_a_faint_grating_span_the_range_and_keeps_its_hue():
    grating = 0.5 + 0.02 * torch.tensor([[1.0, -1.0] * 8] * 16)  # a faint 2-pixel grating, 16 x 16
    faint = torch.stack([grating, grating * 0.9, grating * 0.8]).unsqueeze(0)  # orange-ish, same pattern
    shown = plotting.stretch_contrast(faint)
    assert faint.max() - faint.min() < 0.5
    assert shown.min().item() == 0.0 and shown.max().item() == 1.0
    # the pattern is unchanged: light pixels stay light, dark stay dark, in every colour
    assert torch.equal(shown[0, 0] > shown[0, 0].mean(), faint[0, 0] > faint[0, 0].mean())
    # one stretch for all three colours: red stays brighter than blue on the light pixels
    assert (shown[0, 0][faint[0, 0] > 0.5] > shown[0, 2][faint[0, 0] > 0.5]).all()


def test_stretch_contrast_leaves_a_flat_image_flat():
    flat = torch.full((1, 3, 8, 8), 0.3)
    shown = plotting.stretch_contrast(flat)
    assert torch.isfinite(shown).all() and shown.std().item() == 0.0


def test_show_rows_draws_one_labelled_row_per_entry_pixel_by_pixel():
    rows = {"kernel": torch.rand(4, 3, 3, 3), "relu1_1": torch.rand(4, 3, 12, 12)}
    fig = plotting.show_rows(rows, ["#0", "#1", "#2", "#3"])
    axes = fig.axes
    assert len(axes) == 8
    assert [axes[0].get_ylabel(), axes[4].get_ylabel()] == ["kernel", "relu1_1"]
    assert [ax.get_title() for ax in axes[:4]] == ["#0", "#1", "#2", "#3"]
    shown = axes[5].images[0]
    assert shown.get_interpolation() == "nearest"
    assert shown.get_array().shape == (12, 12, 3)
    matplotlib.pyplot.close(fig)
