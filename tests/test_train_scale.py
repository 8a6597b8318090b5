"""Training at scale on the CPU: any folder, torchrun with the gloo backend, resume, Ctrl-C, bad input.

Tolerance for one process against two with the same global batch (``tolerance``): the crops are identical
(seeded by sample), so only float rounding differs (a batch of 4 against two of 2 whose gradients an
all-reduce averages). The loss terms agree to a relative 3e-5 for the first 3 steps (measured: 1.2e-6),
after which Adam amplifies the rounding about tenfold a step (measured: 1.1e-4 at step 4, 4.4e-3 at
step 6). Two processes that did not average their gradients differ by 5e-4 to 9e-3 already at step 2.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from nstlib import fast, images
from nstlib.__main__ import main
from nstlib.train import content, loop
from nstlib.train import log as train_log

TINY = dict(style="mosaic", crop=32, batch=4, width=4, n_residual=1, style_size=64, weights="random", seed=0)
CLI = ("--style mosaic --crop 32 --batch-size 4 --width 4 --n-residual 1 --style-size 64 --weights random "
       "--device cpu --no-progress").split()
LOSSES = ("total", "content", "style", "tv")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Six small photos as PNG, JPEG and WebP, some in a subfolder, and one file that is not an image."""
    folder = tmp_path_factory.mktemp("photos")
    (folder / "more").mkdir()
    for i, (name, suffix) in enumerate((("cat", "png"), ("rocket", "jpg"), ("astronaut", "webp"),
                                        ("hubble", "png"), ("coffee", "jpg"), ("cells", "webp"))):
        images.sample(name, size=80).save((folder / "more" if i % 2 else folder) / f"{name}.{suffix}")
    (folder / "broken.jpg").write_bytes(b"this is not a JPEG")
    return folder


def torchrun(*args, nproc=2):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--standalone",
            "-m", "nstlib", "train-fast", *CLI, *map(str, args)], env


def tolerance(step: int) -> float:
    """Relative tolerance of a loss term at ``step`` (see the module's docstring)."""
    return 3e-5 * 10 ** max(0, step - 3)


def assert_same_losses(rows, reference):
    assert [(r["step"], r["epoch"], r["samples"]) for r in rows] == [
        (r["step"], r["epoch"], r["samples"]) for r in reference]
    for row, ref in zip(rows, reference):
        for key in LOSSES:
            assert row[key] == pytest.approx(ref[key], rel=tolerance(row["step"])), (row["step"], key)


# --- the content folder --------------------------------------------------------------------------------


def test_scan_finds_images_in_subfolders_and_nothing_else(photos, tmp_path):
    found = content.scan(photos)
    assert len(found) == 7 and {p.suffix for p in found} == {".png", ".jpg", ".webp"}
    assert any(p.parent.name == "more" for p in found)
    with pytest.raises(ValueError, match="no JPEG, PNG or WebP images"):
        content.scan(tmp_path)
    with pytest.raises(ValueError, match="no such folder"):
        content.scan(tmp_path / "missing")


def test_an_unreadable_file_is_replaced_by_the_next_photo_and_reported(photos):
    data = content.ContentCrops(content.scan(photos), crop=32)
    broken = [i for i, p in enumerate(data.sources) if p.name == "broken.jpg"][0]
    crop, skipped = data[(0, broken)]
    assert crop.shape == (3, 32, 32) and [Path(p).name for p, _ in skipped] == ["broken.jpg"]
    assert data[(0, (broken + 1) % len(data.sources))][1] == []


def test_a_crop_depends_only_on_seed_epoch_and_index(photos):
    a = content.ContentCrops(content.scan(photos), crop=32, seed=3)
    b = content.ContentCrops(content.scan(photos), crop=32, seed=3)
    assert torch.equal(a[(1, 2)][0], b[(1, 2)][0])  # another instance (another process, another worker)
    assert not torch.equal(a[(1, 2)][0], a[(2, 2)][0])  # a new epoch, a new crop of the same photo


def test_two_processes_split_each_global_batch_of_one_process(photos):
    """Rank 0 and rank 1's batches of a step are, together, the one-process batch of that step."""
    data = content.ContentCrops(content.scan(photos), crop=32)

    def batches(world, rank, per_process):
        sampler = content.EpochSampler(data, world, rank, seed=0)
        sampler.set_epoch(1)
        items = list(sampler)
        return [items[i:i + per_process] for i in range(0, len(items) - per_process + 1, per_process)]

    one = batches(1, 0, 4)
    two = [sorted(a + b) for a, b in zip(batches(2, 0, 2), batches(2, 1, 2))]
    assert len(one) == len(two) == 1 and sorted(one[0]) == two[0]


def test_a_batch_loss_is_the_mean_of_its_images_losses():
    """What lets DDP's averaged gradients equal one process's: every loss term is a per-image mean."""
    from nstlib import models

    torch.manual_seed(0)
    vgg = models.vgg("vgg16", "random", last_layer="relu4_1", verbose=False)
    loss = fast.PerceptualLoss(vgg, torch.rand(1, 3, 48, 48), fast.TrainSettings())
    out, photo = torch.rand(4, 3, 32, 32), torch.rand(4, 3, 32, 32)
    whole = loss(out, photo)
    halves = [loss(out[:2], photo[:2]), loss(out[2:], photo[2:])]
    for key in whole:
        assert float(whole[key]) == pytest.approx((float(halves[0][key]) + float(halves[1][key])) / 2, rel=1e-5)


# --- one process against two ----------------------------------------------------------------------------


@pytest.mark.slow
def test_torchrun_two_processes_give_one_process_losses_and_only_rank_0_writes(photos, tmp_path):
    command, env = torchrun("--content", photos, "--steps", 4, "--workers", 1, "--preview-every", 2,
                            "--run-dir", tmp_path / "two", "-o", tmp_path / "two.pth")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]

    _, record = fast.train(steps=4, content=str(photos), device="cpu", run_dir=tmp_path / "one", progress=False,
                           **TINY)
    two = train_log.read_csv(tmp_path / "two" / "losses.csv")
    assert_same_losses(two, record.rows)
    assert train_log.read_csv(tmp_path / "one" / "losses.csv") == record.rows  # what the lesson plots
    # only rank 0 wrote: each step once in the CSV, one set of previews, one model, one report
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == ["checkpoint.pth", "losses.csv", "previews"]
    assert sorted(p.name for p in (tmp_path / "two" / "previews").iterdir()) == ["step_000002.png", "step_000004.png"]
    assert done.stdout.count("wrote ") == 1
    # the broken file was skipped and counted once, in both runs
    assert "skipped 1 unreadable file(s): broken.jpg" in done.stdout
    assert [Path(p).name for p, _ in record.skipped] == ["broken.jpg"]
    state = torch.load(tmp_path / "two" / "checkpoint.pth", weights_only=True)
    assert state["world_size"] == 2 and state["step"] == 4 and len(state["skipped"]) == 1


# --- resume and Ctrl-C ----------------------------------------------------------------------------------


@pytest.mark.parametrize("epoch_batches", [content.MIN_EPOCH_BATCHES, 1], ids=["within-an-epoch", "across-epochs"])
@pytest.mark.slow
def test_resume_continues_the_loss_curve(tmp_path, monkeypatch, epoch_batches):
    monkeypatch.setattr(content, "MIN_EPOCH_BATCHES", epoch_batches)  # 1: the bundled photos make 3-step epochs
    _, whole = fast.train(steps=5, device="cpu", progress=False, **TINY)
    _, first = fast.train(steps=3, device="cpu", progress=False, run_dir=tmp_path, **TINY)
    ckpt = tmp_path / "checkpoint.pth"
    _, resumed = fast.train(steps=5, device="cpu", progress=False, run_dir=tmp_path, resume=ckpt, **TINY)
    assert first.rows == resumed.rows[:3] and resumed.step == 5
    assert [r["total"] for r in resumed.rows] == pytest.approx([r["total"] for r in whole.rows], rel=1e-6)
    assert_same_losses(resumed.rows, whole.rows)
    assert train_log.read_csv(tmp_path / "losses.csv") == resumed.rows
    assert (whole.epoch > 0) == (epoch_batches == 1)


def _worker_with_rank(parent: int, rank: int) -> int:
    for proc in Path("/proc").iterdir():
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environ = dict(kv.split("=", 1) for kv in (proc / "environ").read_text().split("\0") if "=" in kv)
        except (OSError, ValueError):
            continue
        if ppid == parent and environ.get("RANK") == str(rank):
            return int(proc.name)
    raise AssertionError(f"no worker with RANK={rank} under {parent}")


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds torchrun's workers through /proc")
@pytest.mark.slow
def test_ctrl_c_on_one_rank_stops_both_with_a_checkpoint_that_resumes_in_one_process(photos, tmp_path):
    run = tmp_path / "run"
    command, env = torchrun("--content", photos, "--steps", 1000, "--preview-every", 0, "--run-dir", run,
                            "-o", tmp_path / "model.pth")
    job = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while not ((run / "losses.csv").exists() and len((run / "losses.csv").read_text().splitlines()) >= 2):
            assert job.poll() is None and time.monotonic() < deadline, "the run ended or never started"
            time.sleep(0.02)
        os.kill(_worker_with_rank(job.pid, 1), signal.SIGINT)  # Ctrl-C on rank 1 alone
        out, _ = job.communicate(timeout=90)
    finally:
        job.kill()
    assert job.returncode == 0, out[-2000:]
    state = torch.load(run / "checkpoint.pth", weights_only=True)
    stop = state["step"]
    assert 1 <= stop < 1000 and f"interrupted at step {stop}" in out and str(run / "checkpoint.pth") in out
    assert [r["step"] for r in train_log.read_csv(run / "losses.csv")] == list(range(1, stop + 1))

    # one process goes on from the two processes' checkpoint, with the crops the run would have had next
    _, resumed = fast.train(steps=stop + 2, content=str(photos), device="cpu", progress=False,
                            resume=run / "checkpoint.pth", **TINY)
    _, whole = fast.train(steps=stop + 2, content=str(photos), device="cpu", progress=False, **TINY)
    assert resumed.rows[:stop] == state["rows"]
    assert_same_losses(resumed.rows, whole.rows)


# --- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case, message", [
    ("empty", "no JPEG, PNG or WebP images"),
    ("unreadable", "could be read as an image"),
    ("batch", "--batch-size 3 does not split over 2 processes"),
    ("fp16", "fp16 needs a CUDA GPU"),
    ("every", "--checkpoint-every must be at least 1, got 0"),
    ("run_dir", "is a file; give a folder for checkpoint.pth"),
    ("resume_missing", "no such checkpoint"),
    ("resume_garbage", "not a file torch can read"),
    ("resume_model", "not a training checkpoint"),
])
def test_bad_input_is_explained_with_exit_status_2(case, message, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    args = [*CLI, "--steps", "1", "-o", str(tmp_path / "m.pth")]
    if case == "unreadable":
        (folder / "a.png").write_bytes(b"not a PNG")
    if case in ("empty", "unreadable"):
        args += ["--content", str(folder)]
    if case == "batch":
        monkeypatch.setenv("WORLD_SIZE", "2")  # as under torchrun --nproc_per_node=2
        args += ["--batch-size", "3"]
    if case == "fp16":
        args += ["--precision", "fp16"]
    if case == "every":
        args += ["--checkpoint-every", "0"]
    if case == "resume_missing":
        args += ["--resume", str(tmp_path / "nothing.pth")]
    if case == "resume_garbage":
        (tmp_path / "garbage.pth").write_text("not a checkpoint")
        args += ["--resume", str(tmp_path / "garbage.pth")]
    if case == "resume_model":
        args += ["--resume", str(Path(fast.DATA) / "fast_mosaic.pth")]
    if case == "run_dir":
        (tmp_path / "run").write_text("")
        args += ["--run-dir", str(tmp_path / "run")]
    assert main(["train-fast", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.pth").exists()


def test_under_torchrun_rank_0_alone_prints_a_user_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "2")
    for rank, says in (("0", True), ("1", False)):
        monkeypatch.setenv("RANK", rank)
        assert main(["train-fast", *CLI, "--batch-size", "3", "-o", str(tmp_path / "m.pth")]) == 2
        assert ("does not split over 2 processes" in capsys.readouterr().err) is says


def test_bf16_on_the_cpu_trains_like_fp32():
    _, fp32 = fast.train(steps=2, device="cpu", progress=False, **TINY)
    _, bf16 = fast.train(steps=2, device="cpu", progress=False, precision="bf16", **TINY)
    assert bf16.losses["total"] == pytest.approx(fp32.losses["total"], rel=0.05)


def test_resume_on_the_command_line_takes_the_checkpoint_settings_and_the_options_given(tmp_path):
    from nstlib.cli import build_parser, settings_from_args

    fast.train(steps=1, device="cpu", progress=False, run_dir=tmp_path, **{**TINY, "crop": 40})
    args = build_parser().parse_args(["train-fast", "--resume", str(tmp_path / "checkpoint.pth"), "--steps", "3",
                                      "-o", str(tmp_path / "m.pth")])
    settings = settings_from_args(args)
    assert (settings.crop, settings.steps, settings.width, settings.style) == (40, 3, 4, "mosaic")
    assert settings.style_layers == fast.TrainSettings().style_layers  # tuples again, as in TrainSettings


def test_resume_on_the_command_line_goes_on_in_the_checkpoints_run_folder(tmp_path, capsys):
    from nstlib import cli

    run = tmp_path / "first_run"
    assert cli.main(["train-fast", *CLI, "--steps", "2", "--checkpoint-every", "1", "--preview-every", "0",
                     "--run-dir", str(run), "-o", str(tmp_path / "first.pth")]) == 0
    assert cli.main(["train-fast", "--resume", str(run / "checkpoint.pth"), "--steps", "3", "--no-progress",
                     "-o", str(tmp_path / "again.pth")]) == 0
    assert [r["step"] for r in train_log.read_csv(run / "losses.csv")] == [1, 2, 3]
    assert not (tmp_path / "again_run").exists()


def test_ctrl_c_before_the_first_step_ends_writes_no_model(tmp_path, monkeypatch, capsys):
    from nstlib import cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # a second Ctrl-C during step 1: the loop stops at once

    monkeypatch.setattr(loop, "step", interrupted)
    status = cli.main(["train-fast", *CLI, "--steps", "3", "--preview-every", "0", "--run-dir", str(tmp_path / "run"),
                       "-o", str(tmp_path / "m.pth")])
    assert status == 130
    assert "interrupted before the first step ended: nothing was trained and nothing written" in capsys.readouterr().err
    assert not (tmp_path / "m.pth").exists()


def test_fp16_features_are_gram_multiplied_in_fp32():
    """Under --precision fp16 the loss network's features are fp16; their Gram sums overflow fp16."""
    from nstlib import style

    features = torch.full((1, 4, 64, 64), 60.0)
    assert not torch.isfinite(features.half().flatten(2) @ features.half().flatten(2).transpose(1, 2)).all()
    gram = style.gram(features.half())
    assert gram.dtype == torch.float32 and torch.equal(gram, style.gram(features))


def test_resume_on_the_command_line_reads_its_checkpoint_once(tmp_path, monkeypatch):
    from nstlib import cli

    fast.train(steps=1, device="cpu", progress=False, run_dir=tmp_path / "run", **TINY)
    checkpoint = tmp_path / "run" / "checkpoint.pth"
    reads, load = [], torch.load

    def counting_load(f, *args, **kwargs):
        reads.append(Path(f) if isinstance(f, (str, Path)) else None)
        return load(f, *args, **kwargs)

    monkeypatch.setattr(torch, "load", counting_load)
    assert cli.main(["train-fast", "--resume", str(checkpoint), "--steps", "2", "--no-progress",
                     "--preview-every", "0", "-o", str(tmp_path / "m.pth")]) == 0
    assert reads.count(checkpoint) == 1


def test_the_training_engine_imports_no_lesson_module():
    code = ("import sys, nstlib.train.loop, nstlib.train.checkpoint, nstlib.train.reporter, nstlib.train.log; "
            "print(sorted(m for m in sys.modules if m in ('nstlib.fast', 'nstlib.style', 'nstlib.filters')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1])))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
