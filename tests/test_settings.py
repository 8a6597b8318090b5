"""stylize and visualize take their options as a settings object or by name, checked in one place."""

from __future__ import annotations

import pytest
import torch

from nstlib import fast, filters, images, models, style, textures
from nstlib.core.errors import UsageError
from nstlib.settings import SettingsError


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


# --- the one pattern, in all three classes ------------------------------------------------------------------


@pytest.mark.parametrize("settings", [style.StyleSettings(steps=7), filters.VisualizeSettings(steps=7),
                                      fast.TrainSettings(steps=7)], ids=["style", "visualize", "train"])
def test_with_overrides_copies_and_leaves_the_callers_settings_unchanged(settings):
    changed = settings.with_overrides(steps=9)
    assert (changed.steps, settings.steps) == (9, 7) and type(changed) is type(settings)
    with pytest.raises(SettingsError, match="unknown setting 'stpes'.*the settings are: .*steps") as error:
        settings.with_overrides(stpes=3)
    assert isinstance(error.value, TypeError) and isinstance(error.value, UsageError)
    assert settings.validated().steps == 7


def test_train_overrides_leave_the_callers_settings_alone():
    settings = fast.TrainSettings(steps=5, crop=32, batch=1, width=4, n_residual=1, style_size=32, weights="random")
    _, record = fast.train(settings, steps=1, device="cpu", progress=False)
    assert record.step == 1 and settings.steps == 5
    with pytest.raises(SettingsError, match="TrainSettings"):
        fast.train(style.StyleSettings())


@pytest.mark.parametrize(("option", "python", "cli"), [
    ({"steps": 0}, "steps must be at least 1, got 0", "--steps must be at least 1, got 0"),
    ({"batch": 0}, "batch must be at least 1", "--batch-size must be at least 1"),
    ({"lr": float("nan")}, "lr must be a number above 0", "--lr must be a number above 0"),
    ({"style_weight": -1}, "style_weight must be a number of 0 or more", "--style-weight must be a number"),
    ({"workers": -1}, "workers must be at least 0", "--workers must be at least 0"),
    ({"precision": "fp8"}, "precision must be auto, fp32, bf16 or fp16", "precision must be auto"),
    ({"style_layers": ()}, "style_layers is empty", "--style-layers is empty"),
])
def test_train_settings_are_checked_in_one_place_and_worded_for_both_surfaces(option, python, cli):
    with pytest.raises(UsageError) as error:
        fast.TrainSettings(**option).validated()
    assert python in str(error.value) and cli in error.value.for_cli()


def test_train_settings_check_the_batch_against_the_processes_and_the_precision_against_the_device():
    with pytest.raises(UsageError, match="batch=3 does not split over 2 processes") as error:
        fast.TrainSettings(batch=3).validated(world_size=2)
    assert "--batch-size 3 does not split" in error.value.for_cli()
    assert fast.TrainSettings(batch=4).validated(world_size=2).batch == 4
    with pytest.raises(UsageError, match="fp16'? needs a CUDA GPU"):
        fast.TrainSettings(precision="fp16").validated(device="cpu")
    assert fast.TrainSettings(precision="fp16").validated().precision == "fp16"  # no device: not checked


def test_train_weights_follow_nstlib_weights_like_stylize(monkeypatch):
    monkeypatch.setenv("NSTLIB_WEIGHTS", "random")
    assert fast.TrainSettings().validated().weights == "random"
    assert fast.TrainSettings(weights="offline").validated().weights == "offline"  # typed wins
    monkeypatch.delenv("NSTLIB_WEIGHTS")
    assert fast.TrainSettings().validated().weights == "auto"
    monkeypatch.setenv("NSTLIB_WEIGHTS", "random")
    _, record = fast.train(steps=1, crop=32, batch=1, width=4, n_residual=1, style_size=32, device="cpu",
                           progress=False)
    assert record.settings["weights"] == "random"
