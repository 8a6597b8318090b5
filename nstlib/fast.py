"""Lesson 5: fast feed-forward style transfer (Johnson et al. 2016; Ulyanov et al. 2016).

Optimising an image (lesson 4) takes hundreds of passes through VGG for every picture. Here a small
image-to-image network learns, once per style, to do that transformation in a single pass: it is trained
with the same perceptual losses (``nstlib.style``'s Gram-matrix style loss, content loss and total
variation) on random crops of photos, then stylizes any image in milliseconds.

The network: three downsampling convolutions, residual blocks, and two resize-convolutions to go back up
(nearest-neighbour upsampling then a convolution, instead of transposed convolutions, which leave
checkerboard artefacts), with instance normalisation throughout.

Training (``train``) reads content photos through ``nstlib.content`` (the bundled photos, or any folder),
runs in one process or in each process of a ``torchrun`` job (``nstlib.distributed``), with mixed precision
on CUDA, and leaves a CSV of its losses, previews and checkpoints (``nstlib.train_log``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pickle
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageSequence
from torch import nn
from tqdm.auto import tqdm

from . import config, content, distributed, env, images, models, precision, stopping, style, textures, train_log
from .errors import UsageError
from .outputs import check_folder, check_image, image_format, replacing  # ``outputs`` names a run's reporter here
from .records import Rows

DATA = Path(__file__).parent / "data"
#: Photos the network trains on by default; "coffee" and "hopper" are held out to measure it on unseen images.
TRAIN_PHOTOS = content.BUNDLED
HELD_OUT_PHOTOS = ("coffee", "hopper")


# ------------------------------------------------------------------------------------------- the network


class ConvLayer(nn.Sequential):
    def __init__(self, c_in, c_out, kernel, stride=1, norm=True, relu=True):
        layers = [nn.ReflectionPad2d(kernel // 2), nn.Conv2d(c_in, c_out, kernel, stride)]
        if norm:
            layers.append(nn.InstanceNorm2d(c_out, affine=True))
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(ConvLayer(channels, channels, 3), ConvLayer(channels, channels, 3, relu=False))

    def forward(self, x):
        return x + self.body(x)


class UpsampleConv(nn.Sequential):
    """Nearest-neighbour x2, then a convolution: no checkerboard artefacts (Odena et al. 2016)."""

    def __init__(self, c_in, c_out, kernel=3):
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"), ConvLayer(c_in, c_out, kernel))


class TransformerNet(nn.Module):
    """[0, 1] RGB in, [0, 1] RGB out, same size (any size that is a multiple of 4; ``stylize`` pads)."""

    def __init__(self, width: int = 16, n_residual: int = 5):
        super().__init__()
        self.width, self.n_residual = width, n_residual
        w = width
        self.down = nn.Sequential(ConvLayer(3, w, 9), ConvLayer(w, 2 * w, 3, 2), ConvLayer(2 * w, 4 * w, 3, 2))
        self.residual = nn.Sequential(*[ResidualBlock(4 * w) for _ in range(n_residual)])
        self.up = nn.Sequential(UpsampleConv(4 * w, 2 * w), UpsampleConv(2 * w, w),
                                ConvLayer(w, 3, 9, norm=False, relu=False))

    def forward(self, x):
        return torch.sigmoid(self.up(self.residual(self.down(x - 0.5))))


# ------------------------------------------------------------------------------------------- settings


@dataclass
class TrainSettings:
    """Everything that defines a training run; saved inside every checkpoint and shipped model."""

    style: str = "strokes"  # a texture name from nstlib.textures, a sample name, or an image path
    style_size: int = 256
    crop: int = 96
    batch: int = 2  # the global batch: torchrun's processes take batch / world size crops each
    steps: int = 1000
    lr: float = 2e-3
    content_weight: float = 1.0
    style_weight: float = 8.0
    tv_weight: float = 2.0
    content_layers: tuple = ("relu2_2",)
    style_layers: tuple = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
    width: int = 16
    n_residual: int = 5
    weights: str = "auto"
    seed: int = 0
    content: str | None = None  # a folder of photos, searched recursively; None: the bundled photos
    workers: int | None = None  # DataLoader processes per training process; None: 0 on a CPU, else up to 8
    precision: str = "auto"  # auto (bf16, else fp16, on CUDA; fp32 elsewhere), fp32, bf16 or fp16


def with_overrides(settings: TrainSettings, overrides: dict) -> TrainSettings:
    """``settings`` with keyword overrides applied; an unknown name is an error that lists the real ones."""
    for key, value in overrides.items():
        if not hasattr(settings, key):
            raise TypeError(f"unknown setting {key!r}; settings are: {', '.join(asdict(settings))}")
        setattr(settings, key, value)
    return settings


def check_batch(settings: TrainSettings, world_size: int) -> int:
    """The crops each process takes per step; the global batch must split evenly over the processes."""
    if settings.batch < 1 or settings.batch % world_size:
        problem = (f"{settings.batch} does not split over {world_size} processes: use a multiple of {world_size} "
                   f"(for example {world_size * max(1, settings.batch // world_size)})")
        raise UsageError(f"batch={problem}", cli=f"--batch-size {problem}")
    return settings.batch // world_size


# ------------------------------------------------------------------------------------------- losses


def per_image_relative_error(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``style.relative_error`` of each image of a batch, averaged over the batch. A batch's loss is then the
    mean of its images' losses, so a batch split over processes (DDP averages their gradients) trains
    exactly as the whole batch in one process."""
    value, target = value.float(), target.float()
    dims = tuple(range(1, value.ndim))
    return ((value - target).pow(2).sum(dims) / target.pow(2).sum(dims).clamp_min(style._EPS)).mean()


class PerceptualLoss:
    """Johnson et al.'s losses with nstlib.style's normalisation: relative squared errors of features and
    of Gram matrices (so the weights mean what they mean in lesson 4), plus total variation. Every term is a
    mean over the images of the batch."""

    def __init__(self, model, style_image: torch.Tensor, settings: TrainSettings):
        self.model, self.s = model, settings
        self.layers = list(dict.fromkeys(settings.content_layers + settings.style_layers))
        with torch.no_grad():
            feats = model.extract(style_image, list(settings.style_layers))
            self.style_grams = {n: style.gram(_gram_safe(f)) for n, f in feats.items()}

    def __call__(self, output: torch.Tensor, content: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            targets = self.model.extract(content, list(self.s.content_layers))
        feats = self.model.extract(output, self.layers)
        c = sum(per_image_relative_error(feats[n], targets[n]) for n in self.s.content_layers) / len(targets)
        per_layer = {}
        for n, target in self.style_grams.items():
            g = style.gram(_gram_safe(feats[n]))
            per_layer[n] = per_image_relative_error(g, target.expand_as(g))
        s = sum(per_layer.values()) / len(per_layer)
        tv = style.tv_loss(output)
        total = self.s.content_weight * c + self.s.style_weight * s + self.s.tv_weight * tv
        return {"total": total, "content": c, "style": s, "tv": tv, **{f"style/{k}": v for k, v in per_layer.items()}}


def _gram_safe(features: torch.Tensor) -> torch.Tensor:
    """fp16 features go to fp32 before a Gram product, whose sums over every position overflow fp16's range."""
    return features.float() if features.dtype == torch.float16 else features


def style_image(spec, size: int) -> torch.Tensor:
    """A texture name, a sample name, a path or an image address -> (1, 3, H, W) style tensor."""
    if isinstance(spec, str) and spec in textures.names():
        return images.to_tensor(textures.draw(spec, size=size))
    return images.to_tensor(images.resolve(spec, kind="style"), size=size)


# ------------------------------------------------------------------------------------------- the run record

@dataclass
class TrainRecord(Rows):
    """A run as it went: one row per step (the step, the epoch, global samples seen, seconds since the start,
    seconds spent waiting for the batch, and every loss term, averaged over all processes). The CSV log
    (``losses.csv``) holds the same rows; ``train_log.read_csv`` reads them back."""

    BOOKKEEPING = ("step", "epoch", "samples", "seconds", "data_seconds")  # the columns that are not loss terms

    settings: dict
    step: int = 0
    epoch: int = 0
    epoch_samples: int = 0  # global samples of the current epoch already used: where a resumed run goes on
    samples: int = 0
    seconds: float = 0.0
    rows: list = field(default_factory=list)
    stopped: str = "finished"  # or "interrupted" (Ctrl-C, SIGTERM) or "nan"
    loss_network: str = ""  # the weights the VGG loss network actually used
    skipped: list = field(default_factory=list)  # [path, reason] of each file that could not be read
    checkpoint: str | None = None  # where the last checkpoint was written
    world_size: int = 1


def save_checkpoint(path, net, optimizer, record: TrainRecord, scaler=None) -> Path:
    """Model, optimiser, gradient scaler, position (global step, epoch, samples) and settings, written to a
    temporary file and renamed, so a stop while writing never leaves half a checkpoint."""
    path = Path(path)
    with replacing(path) as partial:
        torch.save({"model": net.state_dict(), "optimizer": optimizer.state_dict(),
                    "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
                    "step": record.step, "epoch": record.epoch, "epoch_samples": record.epoch_samples,
                    "samples": record.samples, "seconds": record.seconds, "rows": record.rows,
                    "settings": record.settings, "skipped": record.skipped, "world_size": record.world_size},
                   partial)
    return path


def read_checkpoint(path, device="cpu") -> dict:
    """A checkpoint written by ``save_checkpoint``; anything else is a UsageError that says what to give."""
    path = Path(path).expanduser()

    def refuse(problem: str):
        fix = "give the RUN_DIR/checkpoint.pth that train-fast writes (a model saved with -o cannot be resumed)"
        raise UsageError(f"resume={str(path)!r}: {problem}; {fix}", cli=f"--resume {path}: {problem}; {fix}")

    if not path.is_file():
        refuse("no such checkpoint")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except torch.cuda.OutOfMemoryError:
        raise
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError, RuntimeError) as error:
        refuse(f"not a file torch can read ({type(error).__name__})")
    if not isinstance(state, dict) or not {"model", "optimizer", "settings", "step"} <= state.keys():
        refuse("not a training checkpoint")
    if "rows" not in state:  # a checkpoint from before the per-step rows: rebuild them from its loss lists
        losses = state.get("losses", {})
        n = len(next(iter(losses.values()), []))
        state["rows"] = [{"step": i + 1, **{k: v[i] for k, v in losses.items()}} for i in range(n)]
    return state


# ------------------------------------------------------------------------------------------- training


@dataclass
class _Run:
    """The pieces of one training run, made by ``_prepare`` and used by the named steps below."""

    ctx: distributed.Context
    settings: TrainSettings
    net: TransformerNet  # the network itself (``model`` may be its DDP wrapper)
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scaler: object
    loss_fn: PerceptualLoss
    sampler: content.EpochSampler
    loader: object
    dtype: torch.dtype | None
    channels_last: bool
    record: TrainRecord


def train(settings: TrainSettings | None = None, *, device=None, run_dir: str | Path | None = None,
          checkpoint: str | Path | None = None, checkpoint_every: int = 200, resume: str | Path | None = None,
          preview_every: int = 0, preview_image=None, progress: bool = True, **overrides):
    """Train a TransformerNet for one style; returns (model, record).

    The same call runs in one process or in each process of ``torchrun --nproc_per_node=N`` (then the
    network is wrapped in DistributedDataParallel, each process takes ``batch / N`` crops, and only rank 0
    writes files and shows progress).

    run_dir: a folder for ``checkpoint.pth``, ``losses.csv`` and ``previews/step_NNNNNN.png``.
    checkpoint: the checkpoint's path (default ``run_dir/checkpoint.pth``), written every ``checkpoint_every``
        steps and at the end; ``resume=`` that path continues the run, with any number of processes.
    preview_every: every that many steps, the network's current result on ``preview_image`` (the held-out
        coffee photo by default), updated in place in a notebook and saved in ``run_dir/previews``.
    Ctrl-C (the notebook's stop button) or SIGTERM ends training after the current step and returns the
    model as it is, with a checkpoint when one was asked for.
    """
    settings = with_overrides(settings or TrainSettings(), overrides)
    check_batch(settings, distributed.world_size())
    if checkpoint is None and run_dir is not None:
        checkpoint = Path(run_dir) / "checkpoint.pth"
    with distributed.session(device) as ctx, stopping.StopRequests(force_on_second=not ctx.distributed) as stop:
        run = _prepare(settings, ctx, resume, verbose=progress and ctx.main)
        outputs = _Outputs(run, run_dir, checkpoint, checkpoint_every, preview_every, preview_image, progress)
        try:
            _loop(run, outputs, stop)
        finally:
            outputs.close()
        _finish(run, outputs)
    return run.net, run.record


def _prepare(settings: TrainSettings, ctx: distributed.Context, resume, verbose: bool) -> _Run:
    """Data first (a bad folder fails before VGG loads), then the network, optimiser, checkpoint and loss."""
    dev = ctx.device
    dtype = precision.train_dtype(dev, settings.precision)
    channels_last = dev.type == "cuda"  # what tensor cores want; on a CPU it makes reflection padding slower
    sampler, loader = _data(settings, ctx, verbose)
    torch.manual_seed(settings.seed)
    net = TransformerNet(settings.width, settings.n_residual).to(dev)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)
    scaler = _grad_scaler(dev, enabled=dtype == torch.float16)
    record = TrainRecord(settings=asdict(settings), world_size=ctx.world_size)
    if resume is not None:
        _restore(resume, net, optimizer, scaler, record, dev, verbose)
    model = net
    if ctx.distributed:
        model = nn.parallel.DistributedDataParallel(net, device_ids=[dev.index] if dev.type == "cuda" else None)
    deepest = style.deepest(list(settings.content_layers) + list(settings.style_layers))
    vgg = models.vgg("vgg16", settings.weights, last_layer=deepest, device=dev, verbose=verbose)
    record.loss_network = vgg.source.name if vgg.source else ""
    loss_net = precision.runnable(vgg, dtype, channels_last)  # frozen; weights cast once, not every step
    loss_fn = PerceptualLoss(loss_net, style_image(settings.style, settings.style_size).to(dev), settings)
    return _Run(ctx, settings, net, model, optimizer, scaler, loss_fn, sampler, loader, dtype, channels_last,
                record)


def _data(settings: TrainSettings, ctx: distributed.Context, verbose: bool):
    """The sampler and DataLoader of this process: its share of every global batch."""
    per_process = settings.batch // ctx.world_size  # ``train`` checked that it splits, before joining the group
    photos = content.sources(settings.content, settings.crop)
    data = content.ContentCrops(photos, crop=settings.crop, seed=settings.seed,
                                repeat=content.repeats_for(len(photos), settings.batch))
    if settings.content is not None:
        content.check_readable(data)
    sampler = content.EpochSampler(data, ctx.world_size, ctx.rank, settings.seed)
    workers = settings.workers
    if workers is None:
        workers = 0 if ctx.device.type == "cpu" else min(8, max(1, (os.cpu_count() or 2) // ctx.world_size - 1))
    if verbose:
        where = settings.content or "the bundled photos"
        split = f"{ctx.world_size} processes x {per_process}" if ctx.distributed else f"{per_process}"
        print(f"content: {len(photos)} photos from {where}; {split} crops of {settings.crop} px a step, "
              f"{workers} loader workers per process")
    loader = content.loader(data, sampler, per_process, workers, pin_memory=ctx.device.type == "cuda")
    return sampler, loader


def _grad_scaler(device: torch.device, enabled: bool):
    """fp16 needs its loss scaled so small gradients do not vanish; disabled, it passes everything through."""
    if hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler(device.type, enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)  # torch < 2.3


def _restore(path, net, optimizer, scaler, record: TrainRecord, device, verbose: bool) -> None:
    state = read_checkpoint(path, device)
    net.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scaler.is_enabled() and state.get("scaler"):
        scaler.load_state_dict(state["scaler"])
    record.step, record.seconds, record.rows = state["step"], state["seconds"], list(state["rows"])
    record.epoch, record.epoch_samples = state.get("epoch", 0), state.get("epoch_samples", 0)
    record.samples = state.get("samples", record.step * record.settings["batch"])
    record.skipped = [list(s) for s in state.get("skipped", [])]
    if verbose:
        print(f"resuming from {path} at step {record.step} (epoch {record.epoch}; it was written by "
              f"{state.get('world_size', 1)} process(es), this run has {record.world_size})")


def _batches(run: _Run):
    """Batches forever, epoch after epoch, starting where the record says (part-way into an epoch when
    resuming). The record's epoch moves on when an epoch's batches run out."""
    record, empty = run.record, 0
    while True:
        run.sampler.set_epoch(record.epoch)
        run.sampler.start = record.epoch_samples // run.ctx.world_size
        produced = False
        for batch in run.loader:
            produced = True
            yield batch
        empty = 0 if produced else empty + 1
        if empty > 1:
            raise ValueError("an epoch produced no batch: the global batch is larger than the content")
        record.epoch, record.epoch_samples = record.epoch + 1, 0


def _autocast(device: torch.device, dtype):
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


def _step(run: _Run, crops: torch.Tensor, stop_requested: bool):
    """One optimisation step on this process's crops. Returns the loss terms averaged over all processes,
    whether any process asked to stop, and whether the loss is finite (if not, the weights stay as they were)."""
    dev = run.ctx.device
    crops = crops.to(dev, non_blocking=True)
    if run.channels_last:  # the layout change on the uint8 batch: a quarter of the bytes to copy
        crops = crops.contiguous(memory_format=torch.channels_last)
    crops = content.as_float(crops)  # keeps the memory format
    with _autocast(dev, run.dtype):
        output = run.model(crops)
    # Outside autocast: the loss network is already a low-precision copy, and the Gram products and
    # relative errors stay in fp32 (autocast would put an fp16 Gram product back in fp16, where it overflows).
    terms = run.loss_fn(output, crops)
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(terms["total"]).backward()  # DDP averages the gradients over the processes here
    values, stop = distributed.mean_and_any(run.ctx, torch.stack([t.detach().float() for t in terms.values()]),
                                            stop_requested)
    terms = dict(zip(terms, values))
    finite = math.isfinite(terms["total"])
    if finite:
        run.scaler.step(run.optimizer)
        run.scaler.update()
    return terms, stop, finite


def _loop(run: _Run, outputs: _Outputs, stop: stopping.StopRequests) -> None:
    record, settings = run.record, run.settings
    start = time.perf_counter() - record.seconds
    batches = _batches(run)
    run.net.train()
    try:
        while record.step < settings.steps:
            waited = time.perf_counter()
            crops, skipped = next(batches)
            waited = time.perf_counter() - waited
            outputs.note_skipped(skipped)
            terms, stop_now, finite = _step(run, crops, stop.requested is not None)
            if not finite:
                record.stopped = "nan"
                outputs.say(f"training stopped at step {record.step}: the loss became {terms['total']}; "
                            f"lower lr (now {settings.lr}) or the style weight")
                break
            record.step += 1
            record.samples += settings.batch
            record.epoch_samples += settings.batch
            record.seconds = time.perf_counter() - start
            record.rows.append({"step": record.step, "epoch": record.epoch, "samples": record.samples,
                                "seconds": round(record.seconds, 4), "data_seconds": round(waited, 4), **terms})
            outputs.after_step(run)
            if stop_now:
                record.stopped = "interrupted"
                break
    except KeyboardInterrupt:  # a second Ctrl-C in one process: stop at once
        record.stopped = "interrupted"
    finally:
        batches.close()
        record.seconds = time.perf_counter() - start
        run.net.eval()


def _finish(run: _Run, outputs: _Outputs) -> None:
    """Every process's skipped files in the record, the last checkpoint, and a word on how the run ended."""
    record = run.record
    run.loader = None  # lets persistent DataLoader workers go now, not when the process ends
    record.skipped = [list(s) for s in distributed.union(run.ctx, [tuple(s) for s in record.skipped])]
    if outputs.checkpoint is not None:
        record.checkpoint = str(save_checkpoint(outputs.checkpoint, run.net, run.optimizer, record, run.scaler))
    if record.skipped:
        names = ", ".join(Path(p).name for p, _ in record.skipped[:5])
        more = f" and {len(record.skipped) - 5} more" if len(record.skipped) > 5 else ""
        outputs.say(f"skipped {len(record.skipped)} unreadable file(s): {names}{more}")
    if record.stopped == "interrupted":
        where = f"; checkpoint: {record.checkpoint}" if record.checkpoint else ""
        outputs.say(f"training interrupted at step {record.step}: returning the network as it is{where}")
    distributed.barrier(run.ctx)


class _Outputs:
    """What rank 0 shows and writes during a run: progress bar, CSV rows, previews, checkpoints. Other
    ranks get the same object with everything switched off."""

    def __init__(self, run: _Run, run_dir, checkpoint, checkpoint_every, preview_every, preview_image, progress):
        main, s = run.ctx.main, run.settings
        self.main, self._record = main, run.record
        self.checkpoint = Path(checkpoint) if checkpoint is not None and main else None
        self.checkpoint_every = checkpoint_every
        self.run_dir = Path(run_dir) if run_dir is not None and main else None
        self.csv = train_log.CsvLog(self.run_dir / "losses.csv").start(run.record.rows) if self.run_dir else None
        self.preview_every = preview_every if main else 0
        self.seen_skipped = {p for p, _ in run.record.skipped}
        if self.preview_every:
            from .plotting import LivePicture  # plotting loads matplotlib: only when previews are shown

            self.live = LivePicture()
            photo = preview_image if preview_image is not None else images.sample(HELD_OUT_PHOTOS[0])
            self.preview = images.to_tensor(photo, size=config.pick(256, 64), device=run.ctx.device)
        desc = f"training {s.style}" + (f" on {run.ctx.world_size} processes" if run.ctx.distributed else "")
        self.bar = tqdm(total=s.steps, initial=run.record.step, disable=not (progress and main), desc=desc)

    def say(self, message: str) -> None:
        if self.main:
            self.bar.write(message) if not self.bar.disable else print(message)

    def note_skipped(self, skipped) -> None:
        for path, reason in skipped:
            if path not in self.seen_skipped:
                self.seen_skipped.add(path)
                self._record.skipped.append([path, reason])
                self.say(f"skipping unreadable file {path} ({reason})")

    def after_step(self, run: _Run) -> None:
        row, step = run.record.rows[-1], run.record.step
        self.bar.set_postfix(loss=f"{row['total']:.3f}", content=f"{row['content']:.3f}",
                             style=f"{row['style']:.3f}", tv=f"{row['tv']:.4f}", refresh=False)
        self.bar.update(1)
        if self.csv is not None:
            self.csv.add(row)
        if self.preview_every and step % self.preview_every == 0:
            run.net.eval()
            picture = images.to_pil(stylize(run.net, self.preview))
            run.net.train()
            self.live.update(picture)
            if self.run_dir is not None:
                images.save(picture, train_log.preview_path(self.run_dir, step))
        if self.checkpoint is not None and step % self.checkpoint_every == 0 and step < run.settings.steps:
            # (the last step's checkpoint is ``_finish``'s, which also holds the whole run's skipped files)
            save_checkpoint(self.checkpoint, run.net, run.optimizer, run.record, run.scaler)

    def close(self) -> None:
        self.bar.close()
        if self.csv is not None:
            self.csv.close()


# ------------------------------------------------------------------------------------------- using a model


def export(net: TransformerNet, path, settings: dict, extra: dict | None = None) -> Path:
    """Save a trained network small: fp16 weights (.pth) and its settings beside it (.json), each written
    whole or not at all."""
    path = Path(path)
    meta = {"width": net.width, "n_residual": net.n_residual, "settings": settings, **(extra or {})}
    with replacing(path.with_suffix(".json")) as partial:
        partial.write_text(json.dumps(meta, indent=2, default=list))
    with replacing(path) as partial:
        torch.save({k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}, partial)
    return path


def available() -> list[str]:
    """Names of the style models shipped with nstlib."""
    return sorted(p.stem.removeprefix("fast_") for p in DATA.glob("fast_*.pth"))


def load(name_or_path: str | Path, device=None) -> TransformerNet:
    """A shipped model by name (``available()``), or a file saved by ``export``, ready in eval mode."""
    path = Path(name_or_path)
    if not path.suffix:
        path = DATA / f"fast_{name_or_path}.pth"
        if not path.is_file():
            raise KeyError(f"no shipped style model called {name_or_path!r}; available: {', '.join(available())}")
    if not path.is_file():
        raise FileNotFoundError(f"no such model file: {path}")
    meta_path = path.with_suffix(".json")
    if not meta_path.is_file():
        raise FileNotFoundError(f"{path} has no settings file beside it ({meta_path.name}); save with fast.export")
    meta = json.loads(meta_path.read_text())
    net = TransformerNet(meta["width"], meta["n_residual"])
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict({k: v.float() for k, v in state.items()})
    net.meta = meta
    return net.eval().requires_grad_(False).to(env.device(device))


def pad_to_multiple(x: torch.Tensor, multiple: int = 4):
    """Reflect-pad H and W up to a multiple (the network halves twice); returns (padded, (h, w))."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode), (h, w)


def stylize(net: TransformerNet, content, size=None, batch_size: int = 8) -> torch.Tensor:
    """Stylize one image (anything ``images.load`` takes), a (B, 3, H, W) batch, or a list of images.

    Returns a (B, 3, H, W) tensor in [0, 1] on the network's device; a list of images gives a list.
    """
    param = next(net.parameters())
    if isinstance(content, (list, tuple)):
        return [stylize(net, c, size=size, batch_size=batch_size)[0] for c in content]
    if isinstance(content, torch.Tensor) and content.ndim == 4 and content.shape[1] == 3:
        x = content.to(param.device, param.dtype)
        if size is not None:
            x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    else:
        x = images.to_tensor(content, size=size, device=param.device, dtype=param.dtype)
    outs = []
    with torch.no_grad():
        for chunk in x.split(batch_size):
            padded, (h, w) = pad_to_multiple(chunk)
            outs.append(net(padded)[..., :h, :w])
    return torch.cat(outs)


def stylize_animation(net: TransformerNet, src, out, size=None, overwrite: bool = False) -> Path:
    """Stylize an animated GIF frame by frame (or every image in a folder, written to folder ``out``).

    ``out`` is checked before any frame is computed (``outputs``), and every file is written whole or not
    at all; the input is never written over unless ``overwrite``.
    """
    src = Path(src)
    if src.is_dir():
        out = check_folder(out, inputs=[src], overwrite=overwrite)
        paths = sorted(p for p in src.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp"))
        if not paths:
            raise images.ImageError(f"no .png/.jpg frames in {src}")
        for p in paths:
            images.save(stylize(net, p, size=size), out / f"{p.stem}.png")
        return out
    out = check_image(out, inputs=[src], overwrite=overwrite, animated=True)
    try:
        with Image.open(src) as gif:
            durations = []
            frames = []
            for frame in ImageSequence.Iterator(gif):
                durations.append(frame.info.get("duration", 100))
                frames.append(images.load(frame.convert("RGBA"), size=size, min_size=8))
    except OSError as error:
        raise images.ImageError(f"{src} could not be read as an animation ({error})") from None
    batch = torch.cat([images.to_tensor(f, min_size=8) for f in frames])
    styled = [images.to_pil(t) for t in stylize(net, batch)]
    with replacing(out) as partial:
        styled[0].save(partial, format=image_format(out), save_all=True, append_images=styled[1:],
                       duration=durations, loop=0)
    return out


def sample_gif(frames: int = 8, size: int = 256) -> Path:
    """A short clip to stylize frame by frame: a slow pan across the bundled cat photo, written once to the
    nstlib folder (``config.home()``). scikit-image's only bundled GIF is 14 by 25 pixels, too small to show
    a style on."""
    path = config.home() / "samples" / f"cat_pan_{frames}x{size}.gif"
    if path.exists():
        return path
    photo = images.sample("cat")
    width, height = photo.size
    crop = (round(width * 2 / 3), round(height * 2 / 3))
    clip = []
    for i in range(frames):
        left = round((width - crop[0]) * i / max(1, frames - 1))
        top = round((height - crop[1]) * i / max(1, frames - 1) / 2)
        clip.append(images.resize(photo.crop((left, top, left + crop[0], top + crop[1])), size))
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as partial:
        clip[0].save(partial, format="GIF", save_all=True, append_images=clip[1:], duration=120, loop=0)
    return path


def speed_table(seconds_fast: float, seconds_optimised: float) -> str:
    ratio = seconds_optimised / seconds_fast if seconds_fast > 0 else math.inf
    return f"feed-forward {seconds_fast * 1e3:.0f} ms vs optimisation {seconds_optimised:.1f} s: {ratio:.0f}x faster"

