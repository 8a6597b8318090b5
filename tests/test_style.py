"""Neural style transfer: the losses on known cases, the loop's safety nets, and the command line."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from nstlib import hooks, images, style, textures
from nstlib.cli import main


@pytest.fixture(scope="module")
def model(style_vgg16):
    return style_vgg16


@pytest.fixture(scope="module")
def pictures():
    content = images.sample("cat", 64)  # 64 x 43
    return content, textures.draw("mosaic", 64)


def small(pictures, model, **kwargs):
    options = dict(size=64, steps=8, scales=1, model=model, progress=False, seed=0)
    options.update(kwargs)
    return style.stylize(*pictures, **options)


# ------------------------------------------------------------------------------------------- losses


def test_gram_of_a_known_tensor():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)  # C=2, H=1, W=2
    expected = torch.tensor([[5.0, 11.0], [11.0, 25.0]]) / (2 * 1 * 2)
    assert torch.allclose(style.gram(f)[0], expected)


def test_gram_does_not_depend_on_image_size():
    f = torch.rand(1, 3, 4, 4)
    tiled = f.repeat(1, 1, 2, 3)  # the same statistics on a larger canvas
    assert torch.allclose(style.gram(f), style.gram(tiled), atol=1e-6)


def test_gram_is_fp32_for_bf16_features_and_rejects_bad_shapes():
    assert style.gram(torch.rand(1, 4, 3, 3, dtype=torch.bfloat16)).dtype == torch.float32
    with pytest.raises(ValueError, match="batch, channels, height, width"):
        style.gram(torch.rand(4, 3, 3))


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_gram_and_its_one_product_backward_match_autograd_in_both_layouts(layout):
    torch.manual_seed(0)
    f = torch.randn(2, 5, 4, 3, dtype=torch.double)
    if layout == "channels_last":
        f = f.contiguous(memory_format=torch.channels_last)
    f.requires_grad_(True)
    flat = f.detach().reshape(2, 5, 12).requires_grad_(True)
    weights = torch.randn(2, 5, 5, dtype=torch.double)
    want = flat @ flat.transpose(1, 2) / 60
    (want_grad,) = torch.autograd.grad((want * weights).sum(), flat)
    got = style.gram(f)
    (got_grad,) = torch.autograd.grad((got.double() * weights).sum(), f)
    assert torch.allclose(got.double(), want.detach(), atol=1e-6)
    assert torch.allclose(got_grad.reshape(2, 5, 12), want_grad, atol=1e-5)


def test_bf16_channels_last_gram_stays_close_to_fp32():
    torch.manual_seed(0)
    f = torch.rand(1, 16, 20, 24)
    low = style.gram(f.to(torch.bfloat16).contiguous(memory_format=torch.channels_last))
    assert low.dtype == torch.float32
    assert float(style.relative_error(low, style.gram(f))) < 1e-4


def test_scales_auto_is_one_below_the_largest_size_and_bad_scales_are_refused(pictures, model):
    assert [style.auto_scales(n) for n in (384, 512, 1023, 1024)] == [1, 1, 1, 2]
    _, record = small(pictures, model, scales="auto", steps=2)
    assert len(record.sizes) == 1
    with pytest.raises(ValueError, match="scales must be 'auto' or a whole number"):
        small(pictures, model, scales=0)


def test_out_of_range_is_zero_inside_and_pulls_stray_pixels_back():
    inside = torch.rand(1, 3, 8, 8)
    assert style.out_of_range(inside) == 0
    x = torch.tensor([-0.2, 0.5, 1.3]).reshape(1, 3, 1, 1).requires_grad_(True)
    (grad,) = torch.autograd.grad(style.out_of_range(x), x)
    assert grad.flatten()[0] < 0 and grad.flatten()[1] == 0 and grad.flatten()[2] > 0  # descent moves them inward


def test_losses_are_zero_at_the_target_and_positive_elsewhere():
    f = torch.rand(1, 8, 5, 7)
    assert style.content_loss(f, f) == 0
    assert style.style_loss(f, style.gram(f)) == 0
    assert style.tv_loss(torch.full((1, 3, 9, 9), 0.3)) == 0
    g = torch.rand(1, 8, 5, 7)
    assert style.content_loss(g, f) > 0 and style.style_loss(g, style.gram(f)) > 0
    # Dimensionless: the all-zero image is exactly "100 % off", whatever the scale of the features.
    assert math.isclose(float(style.content_loss(torch.zeros_like(f), 100 * f)), 1.0, rel_tol=1e-6)


def test_content_loss_gradient_points_from_the_target_to_the_image():
    target = torch.rand(1, 4, 6, 6)
    delta = torch.randn_like(target) * 0.1
    x = (target + delta).requires_grad_(True)
    (grad,) = torch.autograd.grad(style.content_loss(x, target), x)
    assert torch.allclose(grad, 2 * delta / target.pow(2).sum(), atol=1e-6)
    with torch.no_grad():
        assert style.content_loss(x - 0.1 * grad / grad.norm(), target) < style.content_loss(x, target)


def test_objective_is_zero_for_the_content_with_style_equal_to_content(model):
    content = torch.rand(1, 3, 48, 48)
    objective = style.Objective(model, content, [content], tv_weight=0.0)
    terms = objective(content)
    assert float(terms["total"]) < 1e-6
    assert set(terms) >= {"total", "content", "style", "tv", "style/relu1_1", "style/relu5_1"}


def test_objective_takes_a_settings_object_or_its_fields_by_name(model):
    content, texture = torch.rand(1, 3, 48, 48), torch.rand(1, 3, 48, 48)
    settings = style.StyleSettings(style_weight=5.0, tv_weight=0.0, style_layers=["relu1_1", "relu2_1"])
    by_object = style.Objective(model, content, [texture], settings)
    by_name = style.Objective(model, content, [texture], style_weight=5.0, tv_weight=0.0,
                              style_layers=["relu1_1", "relu2_1"])
    x = torch.rand(1, 3, 48, 48)
    assert by_object.style_layers == ["relu1_1", "relu2_1"] and by_object.weights["style"] == 5.0
    assert float(by_object(x)["total"]) == float(by_name(x)["total"])
    with pytest.raises(TypeError, match="style_weight"):
        style.Objective(model, content, [texture], stile_weight=1.0)


def test_per_image_relative_error_is_the_mean_of_each_images_error():
    value, target = torch.rand(3, 4, 5), torch.rand(3, 4, 5)
    each = [float(style.relative_error(v, t)) for v, t in zip(value, target)]
    assert float(style.relative_error(value, target, per_image=True)) == pytest.approx(sum(each) / 3, rel=1e-6)
    assert float(style.relative_error(value, target)) != pytest.approx(sum(each) / 3, rel=1e-6)


def test_bad_layer_names_and_weights_say_what_is_valid(pictures, model):
    with pytest.raises(KeyError, match="Valid names"):
        small(pictures, model, style_layers=["relu9_9"])
    with pytest.raises(KeyError, match="relu5_1"):
        small(pictures, model, content_layers=["conv4_9"])
    with pytest.raises(ValueError, match="one weight per layer"):
        small(pictures, model, layer_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="optimizer"):
        small(pictures, model, optimizer="sgd")
    with pytest.raises(ValueError, match="one per style image"):
        style.stylize(pictures[0], [pictures[1], pictures[1]], size=64, steps=1, model=model, style_blend=[1.0],
                      progress=False)


# ------------------------------------------------------------------------------------------- the loop


def test_stylize_lowers_the_loss_and_counts_steps_and_evaluations(pictures, model):
    image, record = small(pictures, model, steps=10)
    assert image.shape == (1, 3, 43, 64) and image.dtype == torch.float32 and image.device.type == "cpu"
    assert 0 <= float(image.min()) and float(image.max()) <= 1
    assert record.stopped == "finished" and record.steps == 10
    assert record.evals == len(record.total) >= record.steps
    assert min(record.total) < 0.8 * record.total[0]
    assert set(record.style_layers) == set(style.STYLE_LAYERS)
    assert hooks.active_hooks(model) == 0 and not model.training
    assert not any(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_coarse_to_fine_and_both_optimisers(pictures, model, optimizer):
    image, record = style.stylize(*pictures, size=96, steps=9, scales=2, optimizer=optimizer, model=model,
                                  progress=False)
    assert image.shape[-1] == 96 and len(record.sizes) == 2 and record.sizes[0][1] == 48
    assert set(record.scale) == {0, 1} and record.stopped == "finished"


def test_different_sizes_and_aspect_ratios_just_work(model):
    content = np.random.default_rng(0).random((50, 120, 3)).astype(np.float32)
    style_image = textures.draw("waves", 40).resize((40, 90))  # portrait vs landscape
    for init in ("content", "style", "noise"):
        image, _ = style.stylize(content, style_image, size=120, steps=3, scales=1, init=init, model=model,
                                 progress=False)
        assert image.shape == (1, 3, 50, 120)


def test_a_nan_loss_stops_with_a_clear_message_and_the_best_image(pictures, model):
    def poison(state):
        if state.record.steps == 3:
            state.image.data.fill_(float("nan"))

    with pytest.warns(RuntimeWarning, match="loss became nan.*best image so far"):
        image, record = small(pictures, model, callback=poison)
    assert record.stopped == "nan" and "best image" in record.message
    assert torch.isfinite(image).all() and image.shape == (1, 3, 43, 64)
    assert math.isfinite(record.best_loss) and record.steps == 3


def test_an_interrupt_returns_the_best_image_so_far(pictures, model, capsys):
    def stop(state):
        if state.record.steps == 4:
            raise KeyboardInterrupt

    image, record = small(pictures, model, steps=50, callback=stop)
    assert record.stopped == "interrupted" and record.steps == 4
    assert "interrupted" in capsys.readouterr().out
    assert torch.isfinite(image).all() and image.shape == (1, 3, 43, 64)
    assert record.best_loss <= min(record.total)


def test_a_callback_can_stop_early(pictures, model):
    _, record = small(pictures, model, steps=50, callback=lambda s: s.record.steps >= 2)
    assert record.stopped == "callback" and record.steps == 2


def test_colour_preservation_keeps_the_contents_chroma(pictures, model):
    image, _ = small(pictures, model, preserve_colors=True, steps=4)
    content = images.to_tensor(pictures[0])
    chroma = style.rgb_to_yiq(image)[:, 1:] - style.rgb_to_yiq(content)[:, 1:]
    assert float(chroma.abs().mean()) < 0.02


def test_several_styles_blend(pictures, model):
    styles = [textures.draw("strokes", 64), textures.draw("waves", 64)]
    image, record = style.stylize(pictures[0], styles, size=64, steps=3, scales=1, style_blend=[3, 1],
                                  model=model, progress=False)
    assert image.shape == (1, 3, 43, 64) and record.stopped == "finished"


def test_style_blend_weights_the_style_targets_and_pull_the_result_towards_the_heavier_style(pictures, model):
    strokes, waves = textures.draw("strokes", 64), textures.draw("waves", 64)
    content, a, b = (images.to_tensor(p) for p in (pictures[0], strokes, waves))
    blended = style.Objective(model, content, [a, b], style_blend=[3, 1])
    only_a, only_b = style.Objective(model, content, [a]), style.Objective(model, content, [b])
    for name in blended.style_layers:
        want = 0.75 * only_a.style_targets[name] + 0.25 * only_b.style_targets[name]
        assert torch.allclose(blended.style_targets[name], want, rtol=1e-4, atol=1e-8)

    def result(blend):
        image, _ = style.stylize(pictures[0], [strokes, waves], size=64, steps=15, scales=1, style_blend=blend,
                                 content_weight=0.0, model=model, progress=False, seed=0)
        return image

    more_strokes, more_waves = result([3, 1]), result([1, 3])
    assert only_a(more_strokes)["style"] < only_a(more_waves)["style"]
    assert only_b(more_waves)["style"] < only_b(more_strokes)["style"]


def test_too_large_sizes_are_capped_with_a_warning(pictures, model, monkeypatch):
    monkeypatch.setenv("NSTLIB_MAX_SIZE", "64")
    with pytest.warns(UserWarning, match="above the maximum"):
        image, _ = small(pictures, model, size=200, steps=1)
    assert max(image.shape[-2:]) == 64


def test_rgb_yiq_round_trip():
    x = torch.rand(1, 3, 5, 5)
    assert torch.allclose(style.yiq_to_rgb(style.rgb_to_yiq(x)), x, atol=1e-5)


# ------------------------------------------------------------------------------------------- textures, CLI


def test_textures_are_deterministic_textured_rgb():
    for name in textures.names():
        a, b = textures.draw(name, 64, seed=1), textures.draw(name, 64, seed=1)
        assert a.size == (64, 64) and a.mode == "RGB" and np.array_equal(np.asarray(a), np.asarray(b))
    strokes = np.asarray(textures.draw("strokes", 128), dtype=float)
    flat = np.asarray(textures.draw("flat", 128), dtype=float)
    assert np.abs(np.diff(strokes, axis=1)).mean() > 10 * np.abs(np.diff(flat, axis=1)).mean()
    with pytest.raises(KeyError, match="choose one of"):
        textures.draw("van gogh")


def test_cli_with_no_images_writes_a_png(tmp_path, capsys):
    out = tmp_path / "out.png"
    code = main(["stylize", "-o", str(out), "--size", "48", "--steps", "3", "--scales", "1", "--weights", "random",
                 "--no-progress"])
    assert code == 0 and "wrote" in capsys.readouterr().out
    with Image.open(out) as image:
        assert image.mode == "RGB" and max(image.size) == 48


def test_cli_errors_are_one_readable_line(tmp_path, capsys):
    code = main(["stylize", "no_such_photo.jpg", "-o", str(tmp_path / "x.png"), "--weights", "random"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("nstlib stylize: error: CONTENT no_such_photo.jpg: no such file, and not a bundled name")
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "x.png").exists()
