import pytest
import torch

from nstlib import filters as Fl
from nstlib import hooks, images, models
from nstlib.core.errors import UsageError


@pytest.fixture(scope="module")
def offline_c21():
    return models.vgg("vgg16", "offline", last_layer="conv2_1", verbose=False)


@pytest.fixture(scope="module")
def random_c31():
    torch.manual_seed(0)
    return models.vgg("vgg16", "random", last_layer="conv3_1", verbose=False)


def test_fourier_parametrisation_round_trips():
    torch.manual_seed(0)
    images = torch.rand(2, 3, 40, 36) * 0.9 + 0.05
    param = Fl.FourierImage.from_image(images)
    assert param.spectrum.shape == (2, 3, 40, 36 // 2 + 1, 2)
    assert torch.allclose(param.image(), images, atol=1e-4)
    # and the other way: a random spectrum gives images strictly inside (0, 1), of the right shape
    p = Fl.FourierImage(3, (33, 47), sd=1.0)
    x = p.image()
    assert x.shape == (3, 3, 33, 47) and x.min() > 0 and x.max() < 1
    again = Fl.FourierImage.from_image(x.detach())
    assert torch.allclose(again.image(), x, atol=1e-4)
    # the spectrum itself round-trips except the imaginary parts of the real-valued (DC, Nyquist) terms
    assert torch.allclose(again.spectrum[..., 1:, 0], p.spectrum.detach()[..., 1:, 0], atol=1e-3)


def test_fourier_start_is_grey_and_colour_matrix_is_normalised():
    p = Fl.FourierImage(1, 32, sd=0.0)
    assert torch.allclose(p.image(), torch.full((1, 3, 32, 32), 0.5))
    m = Fl.color_matrix()
    assert m.norm(dim=0).max() == pytest.approx(1.0)
    scale = Fl.frequency_scale(32, 32)
    assert scale[0, 0] == pytest.approx(32.0)  # DC capped at 1 / (1 / max side)
    assert scale[0, 1] == pytest.approx(32.0) and scale[16, 16] == pytest.approx(1 / (0.5 * 2**0.5))
    with pytest.raises(ValueError, match="do not fit"):
        p.set_image(torch.rand(1, 3, 16, 16))


def test_random_affine_keeps_batch_and_identity_without_randomness():
    x = torch.rand(3, 3, 20, 20)
    y = Fl.random_affine(x, generator=torch.Generator().manual_seed(0))
    assert y.shape == (3, 3, 44, 44)
    same = Fl.random_affine(x, pad=0, jitter=0, scale=(1.0, 1.0), degrees=0.0)
    assert torch.allclose(same, x, atol=1e-5)


def test_filter_means_picks_one_channel_per_image():
    acts = torch.arange(2 * 4 * 2 * 2, dtype=torch.float32).view(2, 4, 2, 2)
    got = Fl.filter_means(acts, [3, 1])
    assert torch.allclose(got, torch.stack([acts[0, 3].mean(), acts[1, 1].mean()]))


def test_unknown_layer_and_channel_out_of_range_are_clear_errors(random_c31):
    with pytest.raises(KeyError, match="Valid names are"):
        Fl.visualize(random_c31, "conv3_9", [0], size=32, steps=1, progress=False)
    with pytest.raises(IndexError, match="conv3_1, which has 256 channels: use 0 to 255"):
        Fl.visualize(random_c31, "conv3_1", [0, 256], size=32, steps=1, progress=False)
    with pytest.raises(IndexError, match="use 0 to 63"):
        Fl.naive_ascent(random_c31, "conv1_1", [-1], size=32, steps=1, progress=False)
    with pytest.raises(ValueError, match="one channel per image"):
        Fl.objective(random_c31, torch.rand(3, 3, 32, 32), "conv3_1", [0, 1])


@pytest.mark.parametrize("loop", ["naive", "nstlib"])
def test_the_objective_rises_and_no_hook_remains(offline_c21, loop):
    channels = [3, 40]
    start = Fl.objective(offline_c21, Fl.grey_start(2, 32, generator=torch.Generator().manual_seed(0)),
                         "conv2_1", channels)
    if loop == "naive":
        r = Fl.naive_ascent(offline_c21, "conv2_1", channels, size=32, steps=8, progress=False)
    else:
        r = Fl.visualize(offline_c21, "conv2_1", channels, size=32, steps=8, progress=False)
    end = Fl.objective(offline_c21, r.images, "conv2_1", channels)
    assert r.images.shape == (2, 3, 32, 32)
    assert r.images.min() >= 0 and r.images.max() <= 1
    assert torch.all(end > start + 1.0), (start, end)
    assert len(r.history) == 8
    assert hooks.active_hooks(offline_c21) == 0
    assert not offline_c21.training
    assert r.images.device == next(offline_c21.parameters()).device


def test_visualize_is_deterministic_when_seeded_and_octaves_keep_the_size(random_c31):
    a = Fl.visualize(random_c31, "conv3_1", [1, 2], size=32, steps=2, seed=5, progress=False).images
    b = Fl.visualize(random_c31, "conv3_1", [1, 2], size=32, steps=2, seed=5, progress=False).images
    assert torch.equal(a, b)
    c = Fl.visualize(random_c31, "conv3_1", [1], size=64, steps=2, octaves=2, progress=False)
    assert c.images.shape == (1, 3, 64, 64) and len(c.history) == 2
    assert Fl._octave_plan(10, 2, 64, 64) == [((32, 32), 5), ((64, 64), 5)]


def test_visualize_stops_at_a_target_checked_every_few_steps(offline_c21):
    r = Fl.visualize(offline_c21, "conv2_1", [3], size=32, steps=50, target=-1e9, progress=False)
    assert len(r.history) == 10  # checked every 10 steps by default: a check costs a forward pass
    r = Fl.visualize(offline_c21, "conv2_1", [3], size=32, steps=50, target=-1e9, check_every=1, progress=False)
    assert len(r.history) == 1
    with pytest.raises(ValueError, match="check_every"):
        Fl.visualize(offline_c21, "conv2_1", [3], size=32, steps=5, check_every=0, progress=False)


def test_visualize_in_bf16_reaches_what_fp32_reaches(offline_c21):
    kwargs = dict(size=32, steps=12, progress=False)
    low = Fl.visualize(offline_c21, "conv2_1", [3, 40], amp="bf16", **kwargs)
    full = Fl.visualize(offline_c21, "conv2_1", [3, 40], amp="off", **kwargs)
    assert low.images.dtype == torch.float32
    low_score = Fl.objective(offline_c21, low.images, "conv2_1", [3, 40])
    full_score = Fl.objective(offline_c21, full.images, "conv2_1", [3, 40])
    assert torch.allclose(low_score, full_score, rtol=0.1, atol=2.0), (low_score, full_score)
    assert next(offline_c21.parameters()).dtype == torch.float32  # the caller's model is not converted


def test_dream_changes_the_photo_and_raises_the_layer_objective(offline_c21):
    torch.manual_seed(0)
    photo = torch.rand(1, 3, 32, 32) * 0.5 + 0.25
    out = Fl.dream(offline_c21, photo, "conv2_1", steps=3, progress=False)
    assert out.shape == photo.shape and 0 <= out.min() and out.max() <= 1
    before = offline_c21.extract(photo, ["conv2_1"])["conv2_1"].clamp(min=0).pow(2).mean()
    after = offline_c21.extract(out, ["conv2_1"])["conv2_1"].clamp(min=0).pow(2).mean()
    assert after > before
    assert hooks.active_hooks(offline_c21) == 0


def test_top_samples_ranks_images_by_the_filter(offline_c21):
    names = ["cat", "coffee", "rocket", "astronaut"]
    ranking = Fl.top_samples(offline_c21, "conv2_1", 3, names, size=48)
    # measured here without top_samples: channel 3's mean over conv2_1's positions, on each photo
    means = {}
    for name in names:
        x = images.to_tensor(images.sample(name), 48)
        means[name] = offline_c21.extract(x, ["conv2_1"])["conv2_1"][0, 3].mean().item()
    assert [name for name, _ in ranking] == sorted(names, key=lambda n: -means[n])
    assert all(score == pytest.approx(means[name], rel=1e-4, abs=1e-6) for name, score in ranking)
    assert len({round(v, 4) for v in means.values()}) == len(names)  # distinct scores: the order is meaningful


def test_robust_objective_is_seeded_and_is_the_raw_objective_without_transformation(offline_c21):
    images = torch.rand(2, 3, 40, 40, generator=torch.Generator().manual_seed(1))
    a = Fl.robust_objective(offline_c21, images, "conv2_1", [3, 40], seed=4)
    b = Fl.robust_objective(offline_c21, images, "conv2_1", [3, 40], seed=4)
    c = Fl.robust_objective(offline_c21, images, "conv2_1", [3, 40], seed=5)
    assert a.shape == (2,) and torch.equal(a, b) and not torch.equal(a, c)
    assert Fl.robust_transforms(3, seed=4) == Fl.robust_transforms(3, seed=4)
    identity = Fl.robust_objective(offline_c21, images, "conv2_1", [3, 40], jitter=0, scale=(1.0, 1.0), degrees=0)
    assert torch.allclose(identity, Fl.objective(offline_c21, images, "conv2_1", [3, 40]), rtol=1e-4, atol=1e-4)


def test_robust_objective_prefers_a_pattern_to_its_pixel_shuffled_copy(offline_c21):
    # A pattern made for the filter: its nstlib visualisation. Shuffling its pixels keeps every pixel value
    # (so the colour histogram and the mean colour) and destroys the structure the filter looks for.
    pattern = Fl.visualize(offline_c21, "conv2_1", [3], size=48, steps=30, progress=False).images
    order = torch.randperm(48 * 48, generator=torch.Generator().manual_seed(0))
    shuffled = pattern.flatten(2)[..., order].view_as(pattern)
    smooth = Fl.robust_objective(offline_c21, pattern, "conv2_1", [3])
    noise = Fl.robust_objective(offline_c21, shuffled, "conv2_1", [3])
    assert smooth.item() > noise.item() + 1.0, (smooth, noise)


def test_rail_share_counts_values_near_0_or_1():
    x = torch.tensor([0.0, 0.005, 0.5, 0.995, 1.0, 0.3, 0.7, 0.01]).view(1, 1, 2, 4)
    assert Fl.rail_share(x) == pytest.approx(4 / 8)


def test_random_affine_zooms_log_uniformly_and_a_zoom_in_can_see_any_part():
    x = torch.zeros(64, 1, 32, 32)
    x[..., 16:] = 1.0  # dark left half, bright right half
    g = torch.Generator().manual_seed(0)
    zoomed = Fl.random_affine(x, pad=0, jitter=0, scale=(2.0, 2.0), degrees=0.0, generator=g)
    means = zoomed.mean(dim=(1, 2, 3))
    # a 2x zoom sees half the image; shifted far enough, it sees the dark half alone or the bright half alone
    assert means.min() < 0.1 and means.max() > 0.9, (means.min(), means.max())
    # log-uniform: zooming in by up to 2 is as likely as zooming out by up to 2 (a grey square shrinks or grows)
    square = torch.zeros(400, 1, 33, 33)
    square[..., 8:25, 8:25] = 1.0
    area = Fl.random_affine(square, pad=0, jitter=0, scale=(0.5, 2.0), degrees=0.0, generator=g).mean(dim=(1, 2, 3))
    grew, shrank = (area > square[0].mean() * 1.2).float().mean(), (area < square[0].mean() / 1.2).float().mean()
    assert abs(grew - shrank) < 0.15, (grew, shrank)


@pytest.mark.parametrize("scale", [(2.0, 0.5), (0.0, 1.0), "big", (1.0,)])
def test_visualize_refuses_a_bad_scale_range(random_c31, scale):
    with pytest.raises(UsageError, match="scale"):
        Fl.visualize(random_c31, "conv3_1", [0], size=32, steps=1, scale=scale, progress=False)


@pytest.mark.parametrize(("shown_at", "message"), [(8, "shown_at=8 is too small"),
                                                    ("big", "shown_at= must be a whole number")])
def test_across_sizes_refuses_a_size_the_network_cannot_see(random_c31, shown_at, message):
    with pytest.raises(UsageError, match=message):
        Fl.across_sizes(random_c31, "conv3_1", 0, size=32, shown_at=shown_at, steps=1, progress=False)


@pytest.fixture(scope="module")
def offline_c31():
    return models.vgg("vgg16", "offline", last_layer="conv3_1", verbose=False)


@pytest.mark.slow
def test_the_defaults_make_patterns_that_hold_at_another_size_better_than_the_pixel_grid_settings(offline_c31):
    # Made at 48 px, shown at twice the size: the pixel-grid settings tuned the pattern to its own grid.
    check = Fl.across_sizes(offline_c31, "conv3_1", 7, size=48, shown_at=96, steps=60, progress=False)
    (old_here, old_there), (new_here, new_there) = check.scores.values()
    assert new_there / new_here > old_there / old_here + 0.1, check.scores  # the share of its score it keeps
    assert "kept" in str(check) and set(check.patterns) == set(check.maps) == set(check.scores)
    fig = check.show()
    assert len(fig.axes) == 6


@pytest.mark.slow
def test_the_defaults_keep_patterns_off_the_colour_rails(offline_c31):
    r = Fl.visualize(offline_c31, "conv3_1", [7, 12], size=64, steps=60, progress=False)
    old = Fl.visualize(offline_c31, "conv3_1", [7, 12], Fl.PIXEL_GRID, size=64, steps=60, progress=False)
    assert Fl.rail_share(r.images, 0.02) <= 0.10
    assert Fl.rail_share(r.images, 0.02) < Fl.rail_share(old.images, 0.02), "the new defaults saturate less"
