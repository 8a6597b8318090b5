"""stylize and visualize take their options as a settings object or by name, checked in one place."""

from __future__ import annotations

import pytest
import torch

from nstlib import filters, images, models, style, textures


@pytest.fixture(scope="module")
def vgg(style_vgg16):
    return style_vgg16


@pytest.fixture(scope="module")
def pictures():
    return images.sample("cat", 48), textures.draw("mosaic", 48)


def test_stylize_settings_object_and_names_give_the_same_run(vgg, pictures):
    options = dict(size=48, steps=3, scales=1, model=vgg, progress=False, seed=0)
    by_name = style.stylize(*pictures, **options)
    by_object = style.stylize(*pictures, style.StyleSettings(**options))
    overridden = style.stylize(*pictures, style.StyleSettings(**{**options, "steps": 1}), steps=3)
    for other in (by_object, overridden):
        assert torch.equal(other.image, by_name.image)
        assert other.record.total == by_name.record.total


def test_stylize_overrides_leave_the_callers_settings_alone(vgg, pictures):
    settings = style.StyleSettings(size=48, steps=2, scales=1, model=vgg, progress=False)
    style.stylize(*pictures, settings, steps=1)
    assert settings.steps == 2


@pytest.mark.parametrize(("option", "message"), [
    ({"optimizer": "sgd"}, "optimizer must be 'lbfgs' or 'adam'"),
    ({"init": "zeros"}, "init must be 'content', 'style', 'noise' or a tensor"),
    ({"steps": 0}, "steps must be at least 1"),
    ({"style_layers": []}, "style_layers is empty"),
    ({"scales": 0}, "scales must be 'auto' or a whole number >= 1"),
])
def test_style_settings_are_checked_before_any_work(option, message):
    with pytest.raises(ValueError, match=message):
        style.StyleSettings(**option).validated()
    with pytest.raises(ValueError, match=message):
        style.stylize(None, None, **option)


def test_an_unknown_option_is_a_type_error(pictures):
    with pytest.raises(TypeError, match="stile"):
        style.stylize(*pictures, stile=1)
    with pytest.raises(TypeError, match="StyleSettings"):
        style.stylize(*pictures, 64)


@pytest.fixture(scope="module")
def conv21():
    torch.manual_seed(0)
    return models.vgg("vgg16", "random", last_layer="conv2_1", verbose=False)


def test_visualize_settings_object_and_names_give_the_same_run(conv21):
    options = dict(size=32, steps=3, seed=1, progress=False)
    by_name = filters.visualize(conv21, "conv2_1", [0, 1], **options)
    by_object = filters.visualize(conv21, "conv2_1", [0, 1], filters.VisualizeSettings(**options))
    assert torch.equal(by_object.images, by_name.images) and by_object.history == by_name.history


def test_visualize_checks_its_settings(conv21):
    with pytest.raises(ValueError, match="check_every must be at least 1"):
        filters.VisualizeSettings(check_every=0).validated()
    with pytest.raises(TypeError, match="VisualizeSettings"):
        filters.visualize(conv21, "conv2_1", [0], 32)


def test_visualize_ctrl_c_returns_the_images_so_far(conv21):
    def interrupt(step, _images):
        if step == 1:
            raise KeyboardInterrupt

    result = filters.visualize(conv21, "conv2_1", [0], size=32, steps=10, callback=interrupt, progress=False)
    assert result.images.shape == (1, 3, 32, 32) and len(result.rows) == 2
    two_steps = filters.visualize(conv21, "conv2_1", [0], size=32, steps=2, progress=False)
    assert torch.equal(result.images, two_steps.images), "not the images of the two steps taken before Ctrl-C"
    assert result.history == two_steps.history
