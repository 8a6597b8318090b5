"""The widgets driven from code, as a person would use them: set values, click, look at the result."""

import pytest
import torch

from nstlib import fast, widgets


@pytest.fixture
def studio(tmp_path, monkeypatch):
    monkeypatch.setenv("NSTLIB_SMOKE", "1")
    return widgets.StyleStudio(size=64, steps=3, weights="random", device="cpu", preview_every=1,
                               out_dir=tmp_path / "out")


def test_explorer_renders_the_first_values_headless(monkeypatch):
    monkeypatch.setenv("NSTLIB_STATIC", "1")
    seen = []
    widgets.explorer(lambda layer, channel: seen.append((layer, channel)), layer=["conv1_1", "conv2_1"],
                     channel=(3, 63))
    assert seen == [("conv1_1", 3)]


def test_smoke_mode_is_static_unless_interactive_is_forced(monkeypatch):
    monkeypatch.setenv("NSTLIB_SMOKE", "1")
    assert not widgets.interactive_available()
    monkeypatch.setenv("NSTLIB_INTERACTIVE", "1")
    assert not widgets.interactive_available()  # still no notebook front end in pytest


def test_clicking_run_optimises_and_updates_the_preview(studio):
    before = studio.preview.value
    studio.run_button.click()
    studio._thread.join(timeout=120)
    assert studio.result is not None and studio.result.shape[-1] == 64
    assert studio.preview.value != before
    assert studio.record.steps == 3 and "Done" in studio.status.value
    assert not studio.run_button.disabled and studio.stop_button.disabled and not studio.save_button.disabled


def test_sliders_change_the_result(studio):
    studio.style_weight.value = 0.1
    studio.run(wait=True)
    low = studio.result.clone()
    studio.style_weight.value = 100.0
    studio.run(wait=True)
    assert studio.runs == 2 and not torch.allclose(low, studio.result)


def test_stop_returns_the_best_image_so_far(studio):
    studio.steps.value = 200
    studio.preview_every = 1
    original = studio._show

    def show_then_stop(image):
        original(image)
        studio.stop()

    studio._show = show_then_stop
    studio.run(wait=True)
    assert studio.record.stopped == "callback" and studio.record.steps < 200
    assert studio.result is not None


def test_fast_mode_uses_a_shipped_model(studio):
    studio.mode.value = "fast model"
    assert studio.steps.disabled and not studio.model.disabled
    studio.model.value = fast.available()[0]
    studio.run(wait=True)
    assert studio.record is None and studio.result.shape[-1] == 64
    assert widgets.check_fast_run(studio)


def test_save_writes_a_png(studio):
    with pytest.raises(RuntimeError, match="press Run first"):
        studio.save()
    studio.run(wait=True)
    path = studio.save()
    assert path.suffix == ".png" and path.is_file() and path.parent.name == "out"


def test_errors_show_in_the_studio_not_in_a_lost_thread(studio):
    studio.content.value = widgets.UPLOAD  # nothing uploaded
    studio.run(wait=True)
    assert "choose a file with the upload button" in studio.status.value
    assert not studio.run_button.disabled
