import numpy as np
import pytest
import torch
from PIL import Image

from nstlib import images
from nstlib.images import ImageError


def save(image, path, **kwargs):
    image.save(path, **kwargs)
    return path


def test_every_sample_loads_as_rgb():
    for name in images.sample_names():
        image = images.sample(name)
        assert image.mode == "RGB" and min(image.size) >= 100, name
    assert images.sample("cat", size=200).size == (200, 133)


def test_unknown_sample_lists_the_names():
    with pytest.raises(KeyError, match="cat, astronaut"):
        images.sample("dog")


def test_exif_rotation_is_applied(tmp_path):
    array = np.zeros((40, 80, 3), np.uint8)
    array[:, :40] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = save(Image.fromarray(array), tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    image = images.load(path)
    assert image.size == (40, 80)  # portrait now
    top = np.asarray(image)[:10].mean()
    bottom = np.asarray(image)[-10:].mean()
    assert top > 200 and bottom < 50  # white half ends up on top after a clockwise turn


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "CMYK", "I;16", "1", "F"])
def test_other_modes_become_rgb(tmp_path, mode):
    base = Image.fromarray((np.arange(64 * 64 * 3).reshape(64, 64, 3) % 256).astype(np.uint8))
    if mode == "I;16":
        image = Image.fromarray((np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16))
        path = save(image, tmp_path / "deep.png")
        loaded = images.load(path)
        assert np.asarray(loaded)[-1, -1, 0] == 255 and np.asarray(loaded)[0, 0, 0] == 0
    elif mode == "F":
        loaded = images.load(Image.fromarray(np.full((64, 64), 0.5, np.float32)))
        assert abs(int(np.asarray(loaded)[0, 0, 0]) - 128) <= 1
    else:
        image = base.convert(mode)
        suffix = {"CMYK": ".jpg", "F": ".tiff"}.get(mode, ".png")
        loaded = images.load(save(image, tmp_path / f"img{suffix}"))
    assert loaded.mode == "RGB" and loaded.size == (64, 64)


def test_transparent_pixels_become_white_not_black():
    rgba = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    assert np.asarray(images.load(rgba))[0, 0].tolist() == [255, 255, 255]


def test_arrays_and_tensors_of_every_usual_shape():
    gray = np.random.default_rng(0).random((40, 50))
    assert images.load(gray).size == (50, 40)
    assert images.load((gray * 255).astype(np.uint8)[..., None]).mode == "RGB"
    assert images.load(np.zeros((40, 50, 4), np.uint8)).mode == "RGB"
    assert images.load(np.full((40, 50, 3), 65535, np.uint16)).getpixel((0, 0)) == (255, 255, 255)
    assert images.load(torch.rand(3, 40, 50)).size == (50, 40)
    assert images.load(torch.rand(1, 3, 40, 50)).size == (50, 40)
    assert images.load(torch.rand(40, 50)).size == (50, 40)


def test_round_trip_tensor_image_tensor():
    x = images.to_tensor(images.sample("coffee"), size=64)
    assert x.shape == (1, 3, 43, 64) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    again = images.to_tensor(images.to_pil(x))
    assert torch.allclose(x, again, atol=1 / 255)
    assert images.to_numpy(x).shape == (43, 64, 3)
    assert images.to_tensor(images.sample("cat"), size=(50, 70)).shape == (1, 3, 50, 70)


@pytest.mark.parametrize("bad, message", [
    (np.random.default_rng(0).random((3, 40, 50)), "channels-first"),
    (np.full((40, 50, 3), 200.0), "divide by 255"),
    (np.full((40, 50, 3), np.nan), "NaN"),
    (np.zeros((40, 50, 5)), "height x width"),
    (torch.rand(2, 3, 40, 40), "batch of 2"),
    (torch.rand(5, 40, 40), "C = 1, 3 or 4"),
    ([1, 2, 3], "cannot make an image from a list"),
])
def test_bad_inputs_say_what_is_wrong(bad, message):
    with pytest.raises(ImageError, match=message):
        images.load(bad)


def test_bad_files_say_what_is_wrong(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        images.load(tmp_path / "missing.jpg")
    with pytest.raises(ImageError, match="is a folder"):
        images.load(tmp_path)
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a picture")
    with pytest.raises(ImageError, match="not an image file"):
        images.load(text)
    truncated = tmp_path / "cut.jpg"
    images.sample("cat").save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:2000])
    with pytest.raises(ImageError, match="could not be read"):
        images.load(truncated)


def test_too_small_for_the_network_and_the_suggested_fix_works():
    small = np.zeros((20, 300, 3), np.uint8)
    with pytest.raises(ImageError, match="at least 32 px.*size=480") as caught:
        images.load(small)
    assert "--size 480" in caught.value.for_cli() and "load(" not in caught.value.for_cli()
    assert images.load(small, size=480).size == (480, 32)  # the fix the message gives
    assert images.load(small, size=(64, 64)).size == (64, 64)


def test_huge_images_are_downscaled_with_a_warning(tmp_path):
    big = Image.new("RGB", (3000, 1500), (10, 200, 30))
    path = save(big, tmp_path / "big.jpg")
    with pytest.warns(UserWarning, match="downscaling it so its longest side is 512"):
        image = images.load(path, max_size=512)
    assert image.size == (512, 256)
    with pytest.warns(UserWarning):
        assert images.load(big, max_size=600).size == (600, 300)


def test_max_size_follows_the_environment(monkeypatch):
    monkeypatch.setenv("NSTLIB_MAX_SIZE", "100")
    with pytest.warns(UserWarning):
        assert max(images.load(images.sample("cat")).size) == 100
    monkeypatch.setenv("NSTLIB_MAX_SIZE", "big")
    with pytest.raises(ValueError, match="NSTLIB_MAX_SIZE must be a whole number"):
        images.load(images.sample("cat"))


def test_save_creates_the_folder(tmp_path):
    path = images.save(torch.rand(1, 3, 40, 40), tmp_path / "out" / "x.png")
    assert Image.open(path).size == (40, 40)


def test_open_files_and_bytes_in_memory(tmp_path):
    import io

    buffer = io.BytesIO()
    images.sample("cat", size=64).save(buffer, format="PNG")
    buffer.seek(0)
    assert images.load(buffer).size == (64, 43)
    with pytest.raises(ImageError, match="BytesIO given is not an image file"):
        images.load(io.BytesIO(b"not a picture"))
    path = tmp_path / "c.jpg"
    images.sample("coffee", size=64).save(path)
    with open(path, "rb") as handle:
        assert images.load(handle).size == (64, 43)


def test_exif_rotation_only_for_files_not_for_images_already_turned(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = save(Image.new("RGB", (80, 40), (255, 255, 255)), tmp_path / "phone.jpg", exif=exif.tobytes())
    assert images.load(path).size == (40, 80)  # a file is turned once
    with Image.open(path) as opened:
        turned = opened.rotate(-90, expand=True)  # the caller turned it already, and the tag came along
    turned.info["exif"] = exif.tobytes()
    assert turned.size == (40, 80)
    assert images.load(turned).size == (40, 80)  # not turned a second time


def test_size_is_capped_for_every_caller(monkeypatch):
    monkeypatch.setenv("NSTLIB_MAX_SIZE", "96")
    with pytest.warns(UserWarning, match="a size of 100000 px is above the maximum of 96 px"):
        assert max(images.load(images.sample("cat"), size=100000).size) == 96
    with pytest.raises(ImageError, match="size must be at least 32"):
        images.load(images.sample("cat"), size=0)


def test_a_panorama_keeps_its_short_side(monkeypatch):
    pano = Image.new("RGB", (4000, 100), (10, 20, 30))
    with pytest.warns(UserWarning, match="short side is kept at 32 px"):
        assert images.load(pano).size == (1280, 32)  # not 1024 x 26, which the network cannot take
    with pytest.warns(UserWarning):
        assert images.load(pano, size=224).size == (1280, 32)
    with pytest.raises(ImageError, match="too elongated.*Crop it"):
        images.load(Image.new("RGB", (60000, 40)), size=256)


def test_large_photos_get_a_plain_words_warning(tmp_path, monkeypatch):
    path = save(Image.new("RGB", (60, 60)), tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)  # 3600 pixels: a "bomb" warning, not an error
    with pytest.warns(UserWarning, match="big.png is a very large image \\(60x60 px.*That is fine") as caught:
        images.load(path)
    assert not any(issubclass(w.category, Image.DecompressionBombWarning) for w in caught)


def test_an_unreadable_file_is_a_permission_problem_not_a_format_one(tmp_path, monkeypatch):
    path = save(Image.new("RGB", (60, 60)), tmp_path / "locked.png")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Image, "open", denied)
    with pytest.raises(ImageError, match="cannot read .*locked.png: permission denied") as caught:
        images.load(path)
    assert "PNG or JPEG" not in str(caught.value)
