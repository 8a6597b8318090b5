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


def test_grid_rows_draws_one_row_per_entry_with_titles_labels_and_boxes():
    from nstlib import cam

    images = torch.rand(3, 3, 16, 16)
    rows = {"gradcam": torch.rand(3, 16, 16), "scorecam": torch.rand(3, 16, 16)}
    boxes = torch.tensor([[1, 1, 5, 5], [2, 2, 8, 8], [0, 0, 16, 16]])
    fig = cam.grid_rows(images, rows, boxes=boxes)
    axes = fig.axes
    assert len(axes) == 6 and fig.get_size_inches().tolist() == [9.0, 6.0]
    assert [axes[0].get_title(loc="left"), axes[3].get_title(loc="left")] == ["gradcam", "scorecam"]
    assert all(len(ax.patches) == 1 for ax in axes)
    assert (axes[1].patches[0].get_width(), axes[1].patches[0].get_xy()) == (6, (1.5, 1.5))
    matplotlib.pyplot.close(fig)

    titles = [["a", "b", "c"], ["d", "e", "f"]]
    labels = [["1", "2", "3"], ["4", "5", "6"]]
    fig = cam.grid_rows(images, rows, titles=titles, xlabels=labels, columns=True, size=(2, 3))
    axes = fig.axes  # 3 rows (images) x 2 columns (entries), row by row
    assert fig.get_size_inches().tolist() == [4.0, 9.0]
    assert [ax.get_title() for ax in axes] == ["a", "d", "b", "e", "c", "f"]
    assert [ax.get_xlabel() for ax in axes] == ["1", "4", "2", "5", "3", "6"]
    assert not any(ax.patches for ax in axes)
    matplotlib.pyplot.close(fig)
