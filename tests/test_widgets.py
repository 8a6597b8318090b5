"""The widgets driven from code, as a person would use them: set values, click, look at the result."""

import datetime

import pytest
import torch

from nstlib import exercises, fast, widgets


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


def test_a_notebook_front_end_is_interactive(front_end):
    assert widgets.interactive_available()


def test_smoke_mode_is_static_even_in_a_front_end(front_end, monkeypatch):
    monkeypatch.setenv("NSTLIB_SMOKE", "1")
    assert not widgets.interactive_available()


def test_interactive_forced_keeps_the_widgets_in_smoke_mode(front_end, monkeypatch):
    monkeypatch.setenv("NSTLIB_SMOKE", "1")
    monkeypatch.setenv("NSTLIB_INTERACTIVE", "1")
    assert widgets.interactive_available()


def test_static_wins_over_everything(front_end, monkeypatch):
    monkeypatch.setenv("NSTLIB_STATIC", "1")
    monkeypatch.setenv("NSTLIB_INTERACTIVE", "1")
    assert not widgets.interactive_available()


def test_forcing_interactive_needs_a_front_end(monkeypatch):
    import IPython

    monkeypatch.setenv("NSTLIB_SMOKE", "1")
    monkeypatch.setenv("NSTLIB_INTERACTIVE", "1")
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)  # plain Python: no shell at all
    assert not widgets.interactive_available()


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
    assert exercises.grade_fast_run(studio)


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


def _fake_colab(monkeypatch, answer):
    import base64
    import io
    import sys
    import types

    from nstlib import images

    if answer == "photo":
        buffer = io.BytesIO()
        images.sample("cat", size=80).save(buffer, format="JPEG")
        answer = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
    output = types.ModuleType("google.colab.output")
    output.eval_js = lambda js: answer if "getUserMedia" in js else None
    colab = types.ModuleType("google.colab")
    colab.output = output
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)


def test_webcam_snapshot_in_colab_becomes_the_content(monkeypatch, tmp_path):
    _fake_colab(monkeypatch, "photo")
    assert widgets.webcam_available()
    studio = widgets.StyleStudio(size=64, steps=2, weights="random", device="cpu", out_dir=tmp_path)
    assert widgets.WEBCAM in studio.content.options
    studio.content.value = widgets.WEBCAM
    assert studio.content_image().size == (80, 53)
    studio.run(wait=True)
    assert studio.result is not None and studio.result.shape[-1] == 64


def test_webcam_elsewhere_says_to_upload(monkeypatch):
    assert not widgets.webcam_available()
    with pytest.raises(RuntimeError, match="Upload button"):
        widgets.webcam_snapshot()
    _fake_colab(monkeypatch, None)
    with pytest.raises(RuntimeError, match="camera permission"):
        widgets.webcam_snapshot()


def _browser_uploads(upload, name, data):
    """What the browser does when a file is chosen, in the installed ipywidgets' own protocol."""
    import ipywidgets

    if int(ipywidgets.__version__.split(".")[0]) >= 8:  # a tuple of dicts, content as a memoryview
        upload.value = ({"name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
                         "last_modified": datetime.datetime(2026, 1, 1)},)
    else:  # ipywidgets 7 (Colab): the front end sends metadata and data, then bumps the counter
        upload.metadata = [{"name": name, "type": "image/png", "size": len(data), "lastModified": 0}]
        upload.data = [data]
        upload._counter += 1


def _png(name, size):
    import io

    from nstlib import images

    buffer = io.BytesIO()
    images.sample(name, size=size).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_uploaded_photo_becomes_the_content(studio):
    _browser_uploads(studio.content_upload, "mine.png", _png("rocket", 90))
    assert studio.content_upload.value  # the widget took the upload in its own version's shape
    studio.content.value = widgets.UPLOAD
    assert studio.content_image().size == (90, 60)
    studio.run(wait=True)
    assert studio.result is not None and "Done" in studio.status.value


def test_an_uploaded_style_is_the_last_file_chosen(studio):
    _browser_uploads(studio.style_upload, "first.png", _png("coffee", 70))
    _browser_uploads(studio.style_upload, "second.png", _png("rocket", 90))
    studio.style.value = widgets.UPLOAD
    assert studio.style_image().size == (90, 60)


def test_both_ipywidgets_upload_shapes_are_read():
    data = _png("cat", 40)
    v8 = ({"name": "a.png", "type": "image/png", "size": len(data), "content": memoryview(data),
           "last_modified": datetime.datetime(2026, 1, 1)},)
    v7 = {"a.png": {"metadata": {"name": "a.png", "type": "image/png", "size": len(data)}, "content": data}}
    assert widgets.upload_contents(v8) == [("a.png", data)]
    assert widgets.upload_contents(v7) == [("a.png", data)]
    assert widgets.upload_contents(()) == [] and widgets.upload_contents({}) == []
    with pytest.raises(TypeError, match="ipywidgets"):
        widgets.upload_contents("a.png")


def test_a_bad_upload_is_explained_in_the_studio(studio):
    _browser_uploads(studio.content_upload, "holiday.heic", b"not a picture Pillow reads")
    studio.content.value = widgets.UPLOAD
    studio.run(wait=True)
    status = studio.status.value
    assert status.startswith("<b>Error:</b> the uploaded file &#x27;holiday.heic&#x27; is not an image file")
    assert "BytesIO" not in status and "Traceback" not in status and studio.result is None


def test_an_image_address_becomes_the_content_and_the_style(studio, tmp_home, image_server):
    studio.content.value = widgets.ADDRESS
    studio.run(wait=True)
    assert "type or paste an image address" in studio.status.value and studio.result is None
    studio.content_address.value = image_server.base + "/red.png"
    assert studio.content_image().size == (80, 60)
    studio.style.value = widgets.ADDRESS
    studio.style_address.value = image_server.base + "/page.html"
    studio.run(wait=True)
    assert "is not an image: the server sent text/html" in studio.status.value and studio.result is None
    studio.style_address.value = image_server.base + "/red.png"
    studio.run(wait=True)
    assert studio.result is not None and "Done" in studio.status.value


def test_save_to_a_bad_place_is_explained_and_loses_nothing(studio, tmp_path):
    studio.run(wait=True)
    keep = tmp_path / "keep.png"
    keep.write_bytes(b"an older result")
    studio.out_dir = tmp_path / "keep.png"  # a file where the folder should be
    studio.save_button.click()
    assert "Error:" in studio.status.value and "is a file" in studio.status.value
    assert keep.read_bytes() == b"an older result"
    path = studio.save(tmp_path / "mine.png")
    assert path.is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["keep.png", "mine.png"]
