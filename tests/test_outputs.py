"""Output paths are checked before any work, and files are written whole or not at all."""

import os

import pytest
import torch
from PIL import Image

from nstlib import images
from nstlib.core import outputs
from nstlib.core.errors import UsageError


def _files(folder):
    return sorted(p.name for p in folder.rglob("*"))


@pytest.mark.parametrize("name, message", [
    ("out.xyz", r"has an extension Pillow does not write \(.xyz\); end it with one of .png"),
    ("out", "has no extension"),
    ("folder", "is a folder; give a file name inside it"),
    ("afile.txt/out.png", "afile.txt is a file, so no folder can be made there"),
])
def test_bad_output_paths_are_refused_before_anything_is_written(tmp_path, name, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile.txt").write_text("keep me")
    before = _files(tmp_path)
    with pytest.raises(UsageError, match=message):
        images.save(torch.rand(1, 3, 40, 40), tmp_path / name)
    assert _files(tmp_path) == before and (tmp_path / "afile.txt").read_text() == "keep me"


def test_a_folder_that_cannot_be_written_is_found_first():
    with pytest.raises(UsageError, match="cannot write in /sys"):  # read-only even for root
        outputs.check_image("/sys/nstlib-test/out.png", name="-o")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere the file system allows")
def test_a_folder_without_write_permission_is_found_first(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(UsageError, match="cannot write in .*locked.*Permission denied"):
            outputs.check_image(locked / "out.png")
    finally:
        locked.chmod(0o700)


def test_a_failed_write_leaves_the_old_file_and_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    images.save(torch.zeros(1, 3, 40, 40), target)
    old = target.read_bytes()

    def broken_save(self, fp, format=None, **params):
        with open(fp, "wb") as handle:
            handle.write(b"half a PNG")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(UsageError, match="could not write .*out.png .*No space left.*nothing was written"):
        images.save(torch.ones(1, 3, 40, 40), target)
    assert target.read_bytes() == old and _files(tmp_path) == ["out.png"]


def test_saved_files_are_ordinary_files(tmp_path):
    path = images.save(torch.rand(1, 3, 40, 40), tmp_path / "new" / "x.jpg")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    with Image.open(path) as image:
        assert image.format == "JPEG" and image.size == (40, 40)


def test_an_input_is_never_the_output_unless_asked(tmp_path):
    photo = tmp_path / "photo.png"
    images.sample("cat", size=64).save(photo)
    with pytest.raises(UsageError, match="is also an input.*overwrite=True"):
        outputs.check_image(tmp_path / "." / "photo.png", inputs=[photo])
    with pytest.raises(UsageError, match="-o .* is also an input.*add --overwrite"):
        outputs.check_image(photo, inputs=[str(photo)], name="-o")
    assert outputs.check_image(photo, inputs=[photo], overwrite=True) == photo


def test_animations_need_a_format_that_holds_one(tmp_path):
    with pytest.raises(UsageError, match="an animation, which JPEG cannot hold.*gif"):
        outputs.check_image(tmp_path / "clip.jpg", animated=True, name="-o")
    assert outputs.check_image(tmp_path / "clip.gif", animated=True).name == "clip.gif"
    with pytest.raises(UsageError, match="a folder of frames gives a folder"):
        outputs.check_folder(tmp_path / "frames.png")
    with pytest.raises(UsageError, match="is the input folder"):
        outputs.check_folder(tmp_path, inputs=[tmp_path])
