"""What a user can type into ``python -m nstlib``: each awkward input gets exit status 2 and one or two lines
that say what was wrong and how to fix it, before any work starts, and no file is lost or left half-written.

Every file is made here, small; runs that get past the checks are tiny (random weights, one step)."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from nstlib import cli, images, style

TINY = ["--size", "48", "--steps", "1", "--scales", "1", "--weights", "random", "--no-progress"]


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def photo(path, size=(64, 48), color=(30, 120, 200)):
    Image.new("RGB", size, color).save(path)
    return path


def snapshot(folder):
    """Every file under ``folder`` with its bytes: what a run must leave as it was."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_user_error(code, err, *fragments, command="nstlib stylize"):
    assert code == 2, err
    assert err.startswith(f"{command}: error: "), err
    assert len(err.strip().splitlines()) <= 2 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if any computation starts: checks must come first."""
    from nstlib import fast

    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the inputs were checked")

    monkeypatch.setattr(style, "stylize", forbidden)
    monkeypatch.setattr(fast, "load", forbidden)


# ------------------------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("model", [[], ["--model", "mosaic"]], ids=["optimise", "model"])
@pytest.mark.parametrize("output, fragments", [
    ("out.xyz", ["-o ", "out.xyz", "extension Pillow does not write (.xyz)", ".png"]),
    ("existing_folder", ["is a folder; give a file name inside it"]),
    ("notes.txt/out.png", ["notes.txt is a file"]),
    ("/sys/nstlib/out.png", ["cannot write in /sys"]),
])
def test_bad_outputs_are_refused_before_any_work(tmp_path, capsys, no_work, model, output, fragments):
    content = photo(tmp_path / "photo.png")
    (tmp_path / "existing_folder").mkdir()
    (tmp_path / "notes.txt").write_text("notes")
    before = snapshot(tmp_path)
    target = output if output.startswith("/") else tmp_path / output
    code, out, err = run(capsys, "stylize", *model, content, "-o", target, *([] if model else TINY))
    assert_user_error(code, err, *fragments)
    assert snapshot(tmp_path) == before


def test_a_gif_animation_cannot_become_a_jpeg(tmp_path, capsys, no_work):
    frames = [Image.new("RGB", (40, 40), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    gif = tmp_path / "clip.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=50, loop=0)
    before = snapshot(tmp_path)
    code, out, err = run(capsys, "stylize", "--model", "mosaic", gif, "-o", tmp_path / "clip.jpg")
    assert_user_error(code, err, "the input is an animation, which JPEG cannot hold", ".gif")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("model", [[], ["--model", "mosaic"]], ids=["optimise", "model"])
def test_the_input_is_not_overwritten_unless_asked(tmp_path, capsys, model):
    content = photo(tmp_path / "photo.png")
    original = content.read_bytes()
    extra = [] if model else TINY
    code, out, err = run(capsys, "stylize", *model, content, "-o", tmp_path / "." / "photo.png", *extra)
    assert_user_error(code, err, "is also an input", "--overwrite")
    assert content.read_bytes() == original
    code, out, err = run(capsys, "stylize", *model, content, "-o", content, "--overwrite", *extra)
    assert code == 0 and "wrote" in out
    assert content.read_bytes() != original and Image.open(content).size == ((64, 48) if model else (48, 36))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]  # no temporary file left


# ------------------------------------------------------------------------------------------- values


@pytest.mark.parametrize("args, fragments", [
    (["--steps", "0"], ["--steps must be at least 1, got 0"]),
    (["--steps", "-3"], ["--steps must be at least 1"]),
    (["--size", "0"], ["--size 0 is too small", "32 px"]),
    (["--size", "-5"], ["--size -5 is too small"]),
    (["--scales", "0"], ["--scales must be at least 1"]),
    (["--style-weight", "-1"], ["--style-weight must be a number of 0 or more"]),
    (["--tv-weight", "nan"], ["--tv-weight must be a number of 0 or more"]),
    (["--blend", "1", "2"], ["--blend needs 1 weight(s)"]),
    (["--device", "banana"], ["--device banana: not a device name", "cpu"]),
    (["--size", "abc"], ["argument --size: invalid int value: 'abc'"]),
])
def test_typed_values_are_used_or_refused(tmp_path, capsys, no_work, args, fragments):
    code, out, err = run(capsys, "stylize", "cat", "strokes", "-o", tmp_path / "out.png", *args)
    if "invalid int" in fragments[0]:  # argparse's own message: usage line, then the error
        assert code == 2 and "nstlib stylize: error: argument --size" in err and "Traceback" not in err
    else:
        assert_user_error(code, err, *fragments)
    assert not (tmp_path / "out.png").exists()


def test_typed_steps_and_size_are_the_ones_used(tmp_path, capsys):
    out = tmp_path / "out.png"
    code, stdout, err = run(capsys, "stylize", "-o", out, "--size", "64", "--steps", "2", "--scales", "1",
                            "--weights", "random", "--no-progress")
    assert code == 0 and "2 steps" in stdout
    assert Image.open(out).size == (64, 43)


def test_optimisation_options_are_refused_with_model(tmp_path, capsys, no_work):
    code, out, err = run(capsys, "stylize", "--model", "mosaic", "cat", "-o", tmp_path / "o.png", "--steps", "5",
                         "--preset", "fast")
    assert_user_error(code, err, "--preset, --steps", "leave them out with --model")
    code, out, err = run(capsys, "stylize", "--model", "picasso", "cat", "-o", tmp_path / "o.png")
    assert_user_error(code, err, "--model picasso: no shipped model", "mosaic")
    code, out, err = run(capsys, "stylize", "--model", "mosaic", "cat", "strokes", "-o", tmp_path / "o.png")
    assert_user_error(code, err, "--model already holds its style")


# ------------------------------------------------------------------------------------------- sizes


def test_huge_sizes_are_capped_with_a_warning_on_the_model_path(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NSTLIB_MAX_SIZE", "64")
    out = tmp_path / "out.png"
    code, stdout, err = run(capsys, "stylize", "--model", "mosaic", "cat", "-o", out, "--size", "100000")
    assert code == 0, err
    assert "nstlib stylize: warning: a size of 100000 px is above the maximum of 64 px (NSTLIB_MAX_SIZE)" in err
    assert max(Image.open(out).size) == 64


@pytest.mark.slow
def test_a_panorama_keeps_a_usable_short_side(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NSTLIB_MAX_SIZE", "512")
    pano = tmp_path / "pano.png"
    Image.fromarray((np.random.default_rng(0).random((50, 2000, 3)) * 255).astype(np.uint8)).save(pano)
    out = tmp_path / "out.png"
    code, stdout, err = run(capsys, "stylize", "--model", "mosaic", pano, "-o", out)
    assert code == 0, err
    assert Image.open(out).size == (1280, 32) and "short side is kept at 32 px" in err
    tall = tmp_path / "screenshot.png"
    photo(tall, size=(50, 2000))
    code, stdout, err = run(capsys, "stylize", tall, "strokes", "-o", out, *TINY)
    assert code == 0, err
    assert Image.open(out).size == (32, 1280)


def test_a_shape_too_elongated_to_keep_says_to_crop(tmp_path, capsys, no_work):
    thin = photo(tmp_path / "thin.png", size=(60000, 40))
    code, out, err = run(capsys, "stylize", "--model", "mosaic", thin, "-o", tmp_path / "o.png", "--size", "256")
    assert_user_error(code, err, "too elongated", "Crop it")


def test_too_small_names_the_option_not_the_function(tmp_path, capsys, no_work, monkeypatch):
    small = photo(tmp_path / "small.png", size=(300, 20))
    code, out, err = run(capsys, "stylize", "--model", "mosaic", small, "-o", tmp_path / "o.png")
    assert_user_error(code, err, "too small for the network", "--size 480")
    assert "load(" not in err


# ------------------------------------------------------------------------------------------- devices


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("model", [[], ["--model", "mosaic"]], ids=["optimise", "model"])
def test_devices_are_checked_the_same_on_every_path(tmp_path, capsys, monkeypatch, no_work, model):
    argv = ["stylize", *model, "cat", "-o", tmp_path / "o.png"]
    code, out, err = run(capsys, *argv, "--device", "cuda")
    assert_user_error(code, err, "--device cuda: CUDA is not available on this machine; use one of cpu")
    code, out, err = run(capsys, *argv, "--device", "banana")
    assert_user_error(code, err, "--device banana: not a device name")
    monkeypatch.setenv("NSTLIB_DEVICE", "banana")
    code, out, err = run(capsys, *argv)
    assert_user_error(code, err, "NSTLIB_DEVICE=banana: not a device name")


# ------------------------------------------------------------------------------------------- inputs


def test_input_problems_are_one_line_each(tmp_path, capsys, no_work):
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    cut = tmp_path / "cut.jpg"
    images.sample("cat").save(cut)
    cut.write_bytes(cut.read_bytes()[:1500])
    cases = [
        ([text], ["notes.jpg is not an image file"]),
        ([cut], ["cut.jpg could not be read as an image", "damaged"]),
        (["cat", tmp_path], ["style", "is a folder; give one image file"]),
        (["no_such.jpg"], ["CONTENT no_such.jpg: no such file, and not a bundled name", "astronaut"]),
    ]
    for inputs, fragments in cases:
        code, out, err = run(capsys, "stylize", *inputs, "-o", tmp_path / "o.png", *TINY)
        assert_user_error(code, err, *fragments)
    assert not (tmp_path / "o.png").exists()


def test_environment_variables_are_named(tmp_path, capsys, monkeypatch, no_work):
    monkeypatch.setenv("NSTLIB_MAX_SIZE", "big")
    code, out, err = run(capsys, "stylize", "--model", "mosaic", "cat", "-o", tmp_path / "o.png", "--size", "64")
    assert_user_error(code, err, "NSTLIB_MAX_SIZE must be a whole number of pixels, got 'big'")


def test_unknown_weights_from_the_environment_name_the_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NSTLIB_WEIGHTS", "bogus")
    code, out, err = run(capsys, "stylize", "cat", "strokes", "-o", tmp_path / "o.png", "--size", "48",
                         "--steps", "1", "--no-progress")
    assert_user_error(code, err, "NSTLIB_WEIGHTS=bogus")
    assert not (tmp_path / "o.png").exists()


# ------------------------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_before_the_first_step_writes_nothing_and_says_so(tmp_path, capsys, monkeypatch):
    def interrupted(self, image):
        raise KeyboardInterrupt

    monkeypatch.setattr(style.Objective, "__call__", interrupted)
    content = photo(tmp_path / "photo.png")
    code, out, err = run(capsys, "stylize", content, "strokes", "-o", tmp_path / "o.png", *TINY)
    assert code == 130 and "interrupted before the first step: nothing was computed and nothing written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def test_ctrl_c_while_starting_up_is_one_line(tmp_path, capsys, monkeypatch):
    from nstlib import env

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(env, "device", interrupted)
    code, out, err = run(capsys, "stylize", "cat", "-o", tmp_path / "o.png", *TINY)
    assert code == 130 and err.strip() == "nstlib stylize: interrupted; nothing was written"
    assert not (tmp_path / "o.png").exists()


# ------------------------------------------------------------------------------------------- weights


def test_weights_import_of_what_is_not_a_vgg(tmp_home, tmp_path, capsys):
    from torchvision.models import resnet18

    resnet = tmp_path / "resnet18.pth"
    torch.save(resnet18().state_dict(), resnet)
    code, out, err = run(capsys, "weights", "import", resnet)
    assert_user_error(code, err, "is not VGG16 or VGG19 weights (it looks like a ResNet)",
                      command="nstlib weights import")
    assert "conv1_1 of vgg19" not in err
    pickled = tmp_path / "whole_model.pth"
    torch.save(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)), pickled)
    code, out, err = run(capsys, "weights", "import", pickled)
    assert_user_error(code, err, "holds Python objects besides weights", "torch.save(model.state_dict(), PATH)",
                      command="nstlib weights import")
    assert "weights_only=False" not in err
    code, out, err = run(capsys, "weights", "import", tmp_path)
    assert_user_error(code, err, "is a folder", command="nstlib weights import")
    assert not (tmp_home / "nstlib" / "imported").exists() or not list((tmp_home / "nstlib" / "imported").iterdir())


# ------------------------------------------------------------------------------------------- a real process


@pytest.mark.slow
def test_a_real_process_gets_status_2_and_no_traceback(tmp_path):
    content = photo(tmp_path / "photo.png")
    before = snapshot(tmp_path)
    for argv in (["stylize", content, "-o", tmp_path / "out.xyz"],
                 ["stylize", "--model", "mosaic", content, "-o", tmp_path / "o.png", "--device", "banana"]):
        result = subprocess.run([sys.executable, "-m", "nstlib", *map(str, argv)], capture_output=True, text=True,
                                env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith("nstlib stylize: error: ")
    assert snapshot(tmp_path) == before
