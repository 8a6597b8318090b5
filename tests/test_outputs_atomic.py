"""Every file nstlib writes goes through ``outputs.replacing``: a write that fails half way leaves the old file
as it was and nothing else behind, whether it is an image in the download cache, weights or a stand-in."""

import errno
import io
from pathlib import Path

import pytest
import torch

from nstlib import images, testing, weights
from nstlib.core import outputs, urls
from nstlib.core.errors import ImageError, UsageError


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _half_then_full_disk(data: bytes, target) -> None:
    """Put the first half of ``data`` in ``target``, then fail as a full disk does."""
    with open(target, "wb") as handle:
        handle.write(data[: max(1, len(data) // 2)])
    raise OSError(errno.ENOSPC, "No space left on device")


def _save_fails_half_way(real_save):
    """``torch.save`` as it behaves on a full disk: half the file written, then an OSError."""
    def broken_save(obj, f, *args, **kwargs):
        buffer = io.BytesIO()
        real_save(obj, buffer)
        _half_then_full_disk(buffer.getvalue(), f)
    return broken_save


def test_replacing_keeps_the_old_file_when_the_write_fails(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(UsageError, match="No space left.*nothing was written"):
        with outputs.replacing(target) as partial:
            _half_then_full_disk(b"new bytes", partial)
    assert target.read_bytes() == b"old" and _files(tmp_path) == ["out.bin"]
    with pytest.raises(KeyError):  # any other failure: the same clean-up, the error itself unchanged
        with outputs.replacing(target) as partial:
            partial.write_bytes(b"new")
            raise KeyError("stop")
    assert target.read_bytes() == b"old" and _files(tmp_path) == ["out.bin"]


def test_a_failed_write_to_the_image_cache_leaves_nothing(tmp_home, image_server, monkeypatch):
    url = image_server.base + "/red.png"
    real = Path.write_bytes
    monkeypatch.setattr(Path, "write_bytes", lambda self, data: _half_then_full_disk(data, self))
    with pytest.raises(ImageError, match="No space left.*NSTLIB_HOME must be a folder you can write to"):
        images.load(url)
    assert _files(tmp_home / "nstlib") == [] and urls.cached(url) is None
    monkeypatch.setattr(Path, "write_bytes", real)
    assert images.load(url).size == (80, 60) and urls.cached(url) is not None


def test_a_failed_write_of_the_standin_leaves_the_old_one_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.setattr(testing, "imagenet_standin_state", lambda arch, seed=0: {"x": torch.zeros(4)})
    target = testing.imagenet_standin("vgg16", tmp_path)
    old = target.read_bytes()
    monkeypatch.setattr(torch, "save", _save_fails_half_way(torch.save))
    with pytest.raises(UsageError, match="No space left.*nothing was written"):
        testing.imagenet_standin("vgg16", tmp_path, seed=1)
    assert target.read_bytes() == old and _files(tmp_path) == [target.relative_to(tmp_path).as_posix()]


def test_a_failed_write_of_imported_weights_leaves_nothing(tmp_path, monkeypatch):
    real_save = torch.save
    monkeypatch.setattr(torch, "save", _save_fails_half_way(real_save))
    target = tmp_path / "imported" / "mine.pth"
    with pytest.raises(UsageError, match="No space left"):
        weights._save_with_meta({"conv1_1.weight": torch.zeros(1)}, target, {"arch": "vgg16"})
    assert _files(tmp_path) == []
    monkeypatch.setattr(torch, "save", real_save)
    weights._save_with_meta({"conv1_1.weight": torch.zeros(1)}, target, {"arch": "vgg16"})
    assert _files(tmp_path) == ["imported/mine.json", "imported/mine.pth"]

