import json
import os
import signal

import numpy as np
import pytest
import torch
from PIL import Image

from nstlib import fast, images, models, style, textures
from nstlib.train import content

TINY = dict(crop=32, batch=2, width=4, n_residual=1, style_size=64, weights="random", seed=0)


def test_output_has_the_input_size_and_range_for_any_size():
    net = fast.TransformerNet(width=4, n_residual=1).eval()
    for h, w in ((64, 64), (37, 53), (33, 90)):
        out = fast.stylize(net, torch.rand(2, 3, h, w))
        assert out.shape == (2, 3, h, w) and 0 <= out.min() and out.max() <= 1


def test_upsampling_is_resize_convolution_not_transposed_convolution():
    net = fast.TransformerNet()
    kinds = {type(m) for m in net.modules()}
    assert torch.nn.ConvTranspose2d not in kinds
    assert torch.nn.Upsample in kinds and torch.nn.InstanceNorm2d in kinds


def test_stylize_takes_images_lists_and_batches():
    torch.manual_seed(0)
    net = fast.TransformerNet(width=4, n_residual=1).eval()
    one = fast.stylize(net, images.sample("cat"), size=64)
    assert one.shape == (1, 3, 43, 64)
    assert torch.allclose(one, fast.stylize(net, images.to_tensor(images.sample("cat"), size=64)), atol=1e-6)
    many = fast.stylize(net, [images.sample("cat", size=64), images.sample("coffee", size=64)])
    assert [t.shape for t in many] == [(3, 43, 64), (3, 43, 64)]
    assert torch.allclose(many[0], fast.stylize(net, images.sample("cat", size=64))[0], atol=1e-6)
    assert not torch.allclose(many[0], many[1], atol=1e-3)  # each photo is stylized, not one of them twice
    x = torch.rand(5, 3, 40, 40)
    batch = fast.stylize(net, x, batch_size=2)
    assert batch.shape == (5, 3, 40, 40)
    # Instance normalisation: chunks of 2, 2 and 1 give what one batch of 5 gives.
    assert torch.allclose(batch, fast.stylize(net, x, batch_size=5), atol=1e-5)


def test_default_content_is_the_bundled_photos_cropped_reproducibly():
    data = content.ContentCrops(content.sources(None, crop=48), crop=48, seed=1)
    assert len(data) == len(fast.TRAIN_PHOTOS)
    crop, skipped = data[(0, 2)]
    assert crop.shape == (3, 48, 48) and crop.dtype == torch.uint8 and skipped == []
    assert 0 <= content.as_float(crop).min() and content.as_float(crop).max() <= 1 and crop.float().std() > 10
    assert torch.equal(crop, content.ContentCrops(content.sources(None, crop=48), crop=48, seed=1)[(0, 2)][0])


@pytest.mark.slow
def test_training_lowers_the_perceptual_loss():
    torch.manual_seed(0)
    net, record = fast.train(steps=40, lr=1e-2, progress=False, device="cpu", **TINY)
    losses = record.losses["total"]
    assert len(losses) == 40 and record.stopped == "finished"
    assert sum(losses[-5:]) / 5 < 0.8 * sum(losses[:5]) / 5
    assert not net.training


def test_checkpoint_and_resume_continue_the_run(tmp_path):
    ckpt = tmp_path / "run.pth"
    fast.train(steps=3, checkpoint=ckpt, checkpoint_every=2, progress=False, device="cpu", **TINY)
    state = torch.load(ckpt, weights_only=True)
    assert state["step"] == 3 and state["settings"]["crop"] == 32
    net, record = fast.train(steps=5, resume=ckpt, checkpoint=ckpt, progress=False, device="cpu", **TINY)
    assert record.step == 5 and len(record.losses["total"]) == 5


def _ctrl_c_while_loading(monkeypatch, on_calls):
    """Send this process a real SIGINT while the given crops are loaded (2 crops a step)."""
    calls = {"n": 0}
    original = content.ContentCrops.__getitem__

    def getitem(self, item):
        calls["n"] += 1
        if calls["n"] in on_calls:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, item)

    monkeypatch.setattr(content.ContentCrops, "__getitem__", getitem)


def test_ctrl_c_finishes_the_step_and_returns_the_network(monkeypatch, capsys, tmp_path):
    _ctrl_c_while_loading(monkeypatch, on_calls={3})  # during step 2
    before = signal.getsignal(signal.SIGINT)
    net, record = fast.train(steps=10, progress=False, device="cpu", run_dir=tmp_path, **TINY)
    assert record.stopped == "interrupted" and record.step == 2 and len(record.rows) == 2
    assert "interrupted at step 2" in capsys.readouterr().out
    assert torch.load(tmp_path / "checkpoint.pth", weights_only=True)["step"] == 2
    assert isinstance(net, fast.TransformerNet) and signal.getsignal(signal.SIGINT) is before


def test_a_second_ctrl_c_stops_at_once(monkeypatch):
    _ctrl_c_while_loading(monkeypatch, on_calls={3, 4})
    net, record = fast.train(steps=10, progress=False, device="cpu", **TINY)
    assert record.stopped == "interrupted" and record.step == 1


def test_unknown_setting_is_named():
    with pytest.raises(TypeError, match="unknown setting 'stile'.*style_weight"):
        fast.train(stile="mosaic", progress=False)


def test_export_and_load_round_trip(tmp_path):
    net = fast.TransformerNet(width=4, n_residual=1).eval()
    path = fast.export(net, tmp_path / "mine.pth", settings={"style": "mosaic"})
    loaded = fast.load(path)
    assert loaded.meta["settings"]["style"] == "mosaic"
    x = torch.rand(1, 3, 32, 32)
    assert torch.allclose(fast.stylize(net, x), fast.stylize(loaded, x), atol=2e-2)
    with pytest.raises(KeyError, match="available"):
        fast.load("no-such-style")
    path.with_suffix(".json").unlink()
    with pytest.raises(FileNotFoundError, match="settings file"):
        fast.load(path)


def test_animated_gif_is_stylized_frame_by_frame(tmp_path):
    net = fast.TransformerNet(width=4, n_residual=1).eval()
    clip = fast.sample_gif(frames=4, size=48)
    out = fast.stylize_animation(net, clip, tmp_path / "out.gif")
    with Image.open(clip) as src, Image.open(out) as dst:
        assert dst.n_frames == src.n_frames == 4 and dst.size == src.size


def test_an_animation_too_large_to_open_is_a_clear_error(tmp_path, monkeypatch):
    net = fast.TransformerNet(width=4, n_residual=1).eval()
    clip = fast.sample_gif(frames=2, size=48)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow refuses images of more than twice this
    with pytest.raises(images.ImageError, match="could not be read as an animation"):
        fast.stylize_animation(net, clip, tmp_path / "out.gif")
    assert not (tmp_path / "out.gif").exists()


def test_the_sample_clip_pans_across_the_photo_and_is_made_once(tmp_path, monkeypatch):
    monkeypatch.setenv("NSTLIB_HOME", str(tmp_path))
    clip = fast.sample_gif(frames=3, size=64)
    with Image.open(clip) as gif:
        first = np.asarray(gif.convert("RGB"), dtype=float)
        gif.seek(2)
        last = np.asarray(gif.convert("RGB"), dtype=float)
    assert max(first.shape[:2]) == 64
    assert np.abs(first - last).mean() > 5, "the frames move: a clip of one still picture shows no flicker"
    made = clip.stat().st_mtime_ns
    assert fast.sample_gif(frames=3, size=64) == clip and clip.stat().st_mtime_ns == made


def test_folder_of_frames(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        images.sample("cat", size=48).save(frames / f"{i:03d}.png")
    net = fast.TransformerNet(width=4, n_residual=1).eval()
    out = fast.stylize_animation(net, frames, tmp_path / "styled")
    assert sorted(p.name for p in out.iterdir()) == ["000.png", "001.png", "002.png"]


# --- the shipped models ------------------------------------------------------------------------------


def test_at_least_two_models_are_shipped_with_their_settings():
    names = fast.available()
    assert len(names) >= 2
    for name in names:
        meta = json.loads((fast.DATA / f"fast_{name}.json").read_text())
        assert meta["settings"]["steps"] >= 500 and "command" in meta


@pytest.fixture(scope="module")
def vgg():
    return models.vgg("vgg16", "offline", last_layer="relu4_1", verbose=False)


@pytest.mark.parametrize("name", fast.available())
def test_shipped_models_move_a_held_out_photo_towards_their_style(name, vgg):
    net = fast.load(name)
    photo = images.to_tensor(images.sample(fast.HELD_OUT_PHOTOS[0]), size=192)
    out = fast.stylize(net, photo)
    target = images.to_tensor(textures.draw(net.meta["settings"]["style"], size=256))
    layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]
    with torch.no_grad():
        grams = {n: style.gram(f) for n, f in vgg.extract(target, layers).items()}

        def style_distance(x):
            feats = vgg.extract(x, layers)
            return sum(float(style.relative_error(style.gram(feats[n]), grams[n])) for n in layers)

        def content_distance(x):
            feats = vgg.extract(x, ["relu2_2"])["relu2_2"]
            return float(style.relative_error(feats, vgg.extract(photo, ["relu2_2"])["relu2_2"]))

        other_photo = images.to_tensor(images.sample(fast.HELD_OUT_PHOTOS[1]), size=tuple(photo.shape[-2:]))
        assert style_distance(out) < 0.5 * style_distance(photo)  # it took on the style...
        assert content_distance(out) < 0.6 * content_distance(other_photo)  # ...and is still this photo


def test_training_preview_updates_one_picture_in_place(monkeypatch):
    import IPython.display

    from nstlib import plotting

    shown = []

    class Handle:
        def update(self, image, metadata=None):
            assert metadata["alt"], "every frame keeps the preview's alt text"
            shown.append(("update", image.size))

    def display(image, display_id=False, metadata=None):
        assert display_id and len(metadata["alt"].split()) >= 6, "a preview is replaced in place and describes itself"
        shown.append(("display", image.size))
        return Handle()

    monkeypatch.setattr(plotting.LivePicture, "available", staticmethod(lambda: True))
    monkeypatch.setattr(IPython.display, "display", display)
    net, _ = fast.train(steps=3, preview_every=1, preview_image=images.sample("cat", size=48),
                        progress=False, device="cpu", **TINY)
    assert [kind for kind, _ in shown] == ["display", "update", "update"]
    assert shown[0][1] == (256, 171)  # the photo at preview size; the padding to 172 rows is cropped off
    assert net.training is False


def test_outside_a_notebook_the_preview_shows_nothing(capsys):
    from nstlib import plotting

    assert not plotting.LivePicture.available()
    plotting.LivePicture().update(images.sample("cat", size=48))
    assert capsys.readouterr().out == ""
