import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from nstlib import activations as A  # noqa: E402
from nstlib import hooks, models  # noqa: E402


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    return models.vgg("vgg16", "random", last_layer="pool2", verbose=False)


def test_capture_all_gets_every_conv_and_pool_with_the_right_shapes(small):
    x = torch.rand(1, 3, 48, 64)
    acts = A.capture_all(small, x)
    assert list(acts) == ["conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2", "pool2"]
    assert acts["conv1_1"].shape == (1, 64, 48, 64)
    assert acts["pool1"].shape == (1, 64, 24, 32)
    assert acts["pool2"].shape == (1, 128, 12, 16)
    assert not any(t.requires_grad for t in acts.values())
    assert hooks.active_hooks(small) == 0
    assert not small.training
    lines = A.describe(acts)
    assert lines[0].split() == ["conv1_1", "64", "channels", "48", "x", "64"]


def test_capture_all_conv_output_is_before_the_relu(small):
    acts = A.capture_all(small, torch.rand(1, 3, 32, 32), ["conv1_1"])
    assert acts["conv1_1"].min() < 0  # a ReLU output would never be negative


def test_capture_all_full_vgg16_layer_list():
    assert len(A.conv_and_pool_layers("vgg16")) == 13 + 5
    assert len(A.conv_and_pool_layers("vgg19")) == 16 + 5


def test_unknown_layer_and_layer_past_the_end_are_clear_errors(small):
    with pytest.raises(KeyError, match="Valid names are"):
        A.capture_all(small, torch.rand(1, 3, 32, 32), ["conv9_9"])
    with pytest.raises(KeyError, match="last_layer='conv3_1'"):
        A.capture_all(small, torch.rand(1, 3, 32, 32), ["conv3_1"])


def test_blank_fraction_on_a_constructed_tensor():
    acts = torch.ones(1, 8, 4, 4)
    acts[0, 0] = -1.0  # negative everywhere: blank
    acts[0, 1] = 0.0  # zero everywhere: blank
    acts[0, 2] = -1.0
    acts[0, 2, 1, 1] = 0.1  # one positive value: not blank
    assert A.blank_fraction(acts) == pytest.approx(2 / 8)
    assert A.blank_fraction(acts[0]) == pytest.approx(2 / 8)
    assert A.blank_fraction(acts, threshold=0.5) == pytest.approx(3 / 8)
    assert A.zero_fraction(acts) == pytest.approx((16 + 16 + 15) / (8 * 16))
    with pytest.raises(ValueError, match="one image"):
        A.blank_fraction(torch.ones(2, 3, 4, 4))


def test_normalize_channels_is_per_channel_and_handles_constant_channels():
    ramp = torch.linspace(-5, 5, 16).view(4, 4)
    t = torch.stack([ramp, torch.full((4, 4), 3.0), torch.linspace(0, 1e-3, 16).view(4, 4)])
    n = A.normalize_channels(t)
    for c in (0, 2):
        assert n[c].min() == 0 and n[c].max() == pytest.approx(1)
    assert torch.all(n[1] == 0)


def test_first_layer_filters_are_rgb_patches_each_in_0_1(offline_vgg16):
    p = A.first_layer_filters(offline_vgg16)
    assert p.shape == (64, 3, 3, 3)
    assert torch.allclose(p.flatten(1).amin(1), torch.zeros(64))
    assert torch.allclose(p.flatten(1).amax(1), torch.ones(64))
    # The offline pack reads BGR: the patches are flipped back to RGB.
    w = offline_vgg16.features.conv1_1.weight.detach()
    i = 5
    lo, hi = w[i].min(), w[i].max()
    assert torch.allclose(p[i], ((w[i] - lo) / (hi - lo)).flip(0), atol=1e-6)


def test_blank_share_grows_from_first_to_last_block(offline_vgg16):
    fr = A.blank_fractions(offline_vgg16, {"cat": "cat"}, size=128)["cat"]
    assert fr["conv1_1"] == 0.0
    assert fr["conv5_1"] > 0.2 > fr["conv1_1"]


def test_show_channels_pages_and_errors(small):
    acts = A.capture_all(small, torch.rand(1, 3, 32, 32))
    fig = A.show_channels(acts, "conv2_1", page=3, per_page=32)
    assert "channels 96-127 of 128" in fig._suptitle.get_text()
    plt.close(fig)
    with pytest.raises(IndexError, match="page 0 to 3"):
        A.show_channels(acts, "conv2_1", page=4, per_page=32)
    with pytest.raises(KeyError, match="captured layers are"):
        A.show_channels(acts, "conv5_1")
    with pytest.raises(IndexError, match="use 0 to 63"):
        A.check_channel(acts["conv1_1"], 64, "conv1_1")
    assert A.check_channel(acts["conv1_1"], 63) == 63


def test_explore_draws_a_static_view_headless(small, monkeypatch):
    monkeypatch.setenv("NSTLIB_STATIC", "1")
    fig = A.explore(small, {"cat": "cat"}, layers=["conv1_1", "pool2"], size=64)
    assert fig is not None and "conv1_1" in fig._suptitle.get_text()
    plt.close("all")
    assert hooks.active_hooks(small) == 0
