"""Errors worded for their surface, one wording each, and reported from whichever process met them."""

import subprocess
import sys
import warnings

import pytest

from nstlib import env, images
from nstlib.core import errors, outputs
from nstlib.core.errors import UsageError, option


@pytest.mark.parametrize("args, kwargs, said", [
    (("--size",), {}, "--size"),
    (("--size", 5), {}, "--size 5"),
    (("size",), {}, "size="),
    (("size", 5), {}, "size=5"),
    (("NSTLIB_DEVICE", "cuda"), {}, "NSTLIB_DEVICE=cuda"),
    (("overwrite", True), {"like": "-o"}, "--overwrite"),
    (("overwrite", True), {"like": "path"}, "overwrite=True"),
    (("run_dir", "x"), {"like": "--size"}, "--run-dir x"),
    (("--run-dir", "x"), {"like": "size"}, "run_dir=x"),
])
def test_an_option_is_worded_for_its_surface(args, kwargs, said):
    assert option(*args, **kwargs) == said


def test_each_surface_gets_its_own_words_end_to_end(tmp_path, monkeypatch):
    monkeypatch.delenv("NSTLIB_DEVICE", raising=False)
    for name, words in (("--size", "--size 8 is too small"), ("size", "size=8 is too small")):
        with pytest.raises(UsageError, match=words):
            images.check_size(8, option=name)
    with pytest.raises(UsageError, match="^--device banana: not a device name"):
        env.device("banana", option="--device")
    with pytest.raises(UsageError, match="^device=banana: not a device name"):
        env.device("banana")
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"")
    with pytest.raises(UsageError, match=f"^path='{photo}' is also an input.*pass overwrite=True"):
        outputs.check_image(photo, inputs=[photo])
    with pytest.raises(UsageError, match=f"^-o {photo} is also an input.*add --overwrite"):
        outputs.check_image(photo, inputs=[photo], name="-o")


def test_the_size_warning_is_the_same_from_fit_and_check_size(monkeypatch):
    monkeypatch.setenv("NSTLIB_MAX_SIZE", "64")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert images.check_size(100) == 64
        assert images.fit((200, 100), 100) == (64, 32)
    assert len(caught) == 2 and str(caught[0].message) == str(caught[1].message)
    assert "a size of 100 px is above the maximum of 64 px (NSTLIB_MAX_SIZE)" in str(caught[0].message)


def test_image_error_lives_in_errors_and_images_and_urls_do_not_import_each_other():
    assert images.ImageError is errors.ImageError and issubclass(errors.ImageError, UsageError)
    code = ("import sys, nstlib.core.urls; assert 'nstlib.images' not in sys.modules, 'urls loads images'; "
            "import nstlib.images")
    subprocess.run([sys.executable, "-c", code], check=True)
