"""Lesson 5: fast feed-forward style transfer (Johnson et al. 2016; Ulyanov et al. 2016).

Optimising an image (lesson 4) takes hundreds of passes through VGG for every picture. Here a small
image-to-image network learns, once per style, to do that transformation in a single pass: it is trained
with the same perceptual losses (``nstlib.style``'s Gram-matrix style loss, content loss and total
variation) on random crops of photos, then stylizes any image in milliseconds.

The network: three downsampling convolutions, residual blocks, and two resize-convolutions to go back up
(nearest-neighbour upsampling then a convolution, instead of transposed convolutions, which leave
checkerboard artefacts), with instance normalisation throughout.

Training (``train``) builds the network, its perceptual loss and its data, and hands them to the engine in
``nstlib.train``: content photos as crops (the bundled photos, or any folder), one process or each process
of a ``torchrun`` job, mixed precision on CUDA, a CSV of the losses, previews and checkpoints.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageSequence
from torch import nn

from . import config, env, images, models, style, textures
from .core import precision
from .core.errors import UsageError
from .core.layers import check_layers
from .core.outputs import check_folder, check_image, image_format, replacing
from .i18n import _
from .settings import Settings, check_at_least, check_weights, refuse, settings_with
from .train import checkpoint as checkpoints
from .train import content, distributed, loop, stopping
from .train.record import TrainRecord
from .train.reporter import Reporter

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
        self.residual = nn.Sequential(*[ResidualBlock(4 * w) for _block in range(n_residual)])
        self.up = nn.Sequential(UpsampleConv(4 * w, 2 * w), UpsampleConv(2 * w, w),
                                ConvLayer(w, 3, 9, norm=False, relu=False))

    def forward(self, x):
        return torch.sigmoid(self.up(self.residual(self.down(x - 0.5))))


# ------------------------------------------------------------------------------------------- settings


@dataclass
class TrainSettings(Settings):
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
    weights: str | None = None  # the loss network's VGG16 weights; None: NSTLIB_WEIGHTS, else 'auto'
    seed: int = 0
    content: str | None = None  # a folder of photos, searched recursively; None: the bundled photos
    workers: int | None = None  # DataLoader processes per training process; None: 0 on a CPU, else up to 8
    precision: str = "auto"  # auto (bf16, else fp16, on CUDA; fp32 elsewhere), fp32, bf16 or fp16

    def validated(self, world_size: int = 1, device=None) -> TrainSettings:
        """A checked copy, the layers as tuples and the weights resolved (``NSTLIB_WEIGHTS``, as ``stylize``
        does). world_size: the processes the global batch must split over. device: where the run trains,
        for the precision (None: not checked). A bad value is a ``UsageError`` worded for both surfaces."""
        check_at_least(self, {"steps": 1, "crop": 1, "batch": 1, "style_size": 1, "width": 1, "n_residual": 0,
                              "seed": 0, "workers": 0}, options={"batch": "--batch-size"})
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            refuse("lr", f"must be a number above 0, got {self.lr}")
        check_weights(self, ("content_weight", "style_weight", "tv_weight"))
        if self.batch % world_size:
            problem = (f"{self.batch} does not split over {world_size} processes: use a multiple of {world_size} "
                       f"(for example {world_size * max(1, self.batch // world_size)})")
            raise UsageError(f"batch={problem}", cli=f"--batch-size {problem}")
        for name in ("content_layers", "style_layers"):
            if not getattr(self, name):
                refuse(name, "is empty: give at least one layer, e.g. relu2_2")
        check_layers(list(self.content_layers) + list(self.style_layers), "vgg16")
        _check_precision(self.precision, None if device is None else env.device(device))
        return replace(self, content_layers=tuple(self.content_layers), style_layers=tuple(self.style_layers),
                       weights=self.weights or config.default_weights())


def _check_precision(precision: str, device) -> None:
    """The precision is one nstlib knows and, given a device, one that device trains in."""
    def refuse_here(problem: str, fix: str):
        raise UsageError(f"precision={precision!r} {problem}; {fix}", cli=f"--precision {precision} {problem}; {fix}")

    if precision not in ("auto", "fp32", "bf16", "fp16"):
        raise UsageError(f"precision must be auto, fp32, bf16 or fp16, got {precision!r}")
    if device is None:
        return
    if precision == "fp16" and device.type != "cuda":
        refuse_here(f"needs a CUDA GPU (the device is {device.type})", "use bf16 or fp32")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        refuse_here("is not available: this GPU has no bf16", "use fp16 (or auto)")
    if precision == "bf16" and device.type not in ("cuda", "cpu"):
        refuse_here(f"is for CUDA or the CPU, not {device.type}", "use fp32")


# ------------------------------------------------------------------------------------------- losses


class PerceptualLoss:
    """Johnson et al.'s losses with nstlib.style's normalisation: relative squared errors of features and
    of Gram matrices (so the weights mean what they mean in lesson 4), plus total variation. Every term is a
    mean over the images of the batch, so a batch split over processes trains as the whole batch."""

    def __init__(self, model, style_image: torch.Tensor, settings: TrainSettings):
        self.model, self.s = model, settings
        self.layers = list(dict.fromkeys(settings.content_layers + settings.style_layers))
        with torch.no_grad():
            feats = model.extract(style_image, list(settings.style_layers))
            self.style_grams = {n: style.gram(f) for n, f in feats.items()}

    def __call__(self, output: torch.Tensor, content: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            targets = self.model.extract(content, list(self.s.content_layers))
        feats = self.model.extract(output, self.layers)
        c = sum(style.relative_error(feats[n], targets[n], per_image=True)
                for n in self.s.content_layers) / len(targets)
        per_layer = {}
        for n, target in self.style_grams.items():
            g = style.gram(feats[n])
            per_layer[n] = style.relative_error(g, target.expand_as(g), per_image=True)
        s = sum(per_layer.values()) / len(per_layer)
        tv = style.tv_loss(output)
        total = self.s.content_weight * c + self.s.style_weight * s + self.s.tv_weight * tv
        return {"total": total, "content": c, "style": s, "tv": tv, **{f"style/{k}": v for k, v in per_layer.items()}}


def style_image(spec, size: int) -> torch.Tensor:
    """A texture name, a sample name, a path or an image address -> (1, 3, H, W) style tensor."""
    if isinstance(spec, str) and spec in textures.names():
        return images.to_tensor(textures.draw(spec, size=size))
    return images.to_tensor(images.resolve(spec, kind="style"), size=size)


# ------------------------------------------------------------------------------------------- training


def train(settings: TrainSettings | None = None, *, device=None, run_dir: str | Path | None = None,
          checkpoint: str | Path | None = None, checkpoint_every: int = 200, resume: str | Path | dict | None = None,
          preview_every: int = 0, preview_image=None, progress: bool = True, **overrides):
    """Train a TransformerNet for one style; returns (model, record).

    The same call runs in one process or in each process of ``torchrun --nproc_per_node=N`` (then the
    network is wrapped in DistributedDataParallel, each process takes ``batch / N`` crops, and only rank 0
    writes files and shows progress). The engine is ``nstlib.train``; this function builds what it trains.

    run_dir: a folder for ``checkpoint.pth``, ``losses.csv`` and ``previews/step_NNNNNN.png``.
    checkpoint: the checkpoint's path (default ``run_dir/checkpoint.pth``), written every ``checkpoint_every``
        steps and at the end; ``resume=`` that path (or the dict ``train.checkpoint.read`` returned for it)
        continues the run, with any number of processes.
    preview_every: every that many steps, the network's current result on ``preview_image`` (the held-out
        coffee photo by default), updated in place in a notebook and saved in ``run_dir/previews``.
    Ctrl-C (the notebook's stop button) or SIGTERM ends training after the current step and returns the
    model as it is, with a checkpoint when one was asked for.
    """
    settings = settings_with(TrainSettings, settings, overrides)
    settings = settings.validated(world_size=distributed.world_size(), device=env.device(device))
    if checkpoint is None and run_dir is not None:
        checkpoint = Path(run_dir) / "checkpoint.pth"
    with distributed.session(device) as ctx, stopping.StopRequests(force_on_second=not ctx.distributed) as stop:
        job = _prepare(settings, ctx, resume, verbose=progress and ctx.main)
        preview = _previewer(preview_image, ctx.device) if preview_every and ctx.main else None
        desc = (_("training {style} on {n} processes").format(style=settings.style, n=ctx.world_size)
                if ctx.distributed else _("training {style}").format(style=settings.style))
        reporter = Reporter(job, run_dir, checkpoint, checkpoint_every, preview_every, preview, progress, desc)
        loop.run(job, reporter, stop)
    return job.net, job.record


def _prepare(settings: TrainSettings, ctx: distributed.Context, resume, verbose: bool) -> loop.Run:
    """Data first (a bad folder fails before VGG loads), then the network, optimiser, checkpoint and loss."""
    dev = ctx.device
    dtype = precision.train_dtype(dev, settings.precision)
    channels_last = dev.type == "cuda"  # what tensor cores want; on a CPU it makes reflection padding slower
    sampler, loader = content.for_process(settings, ctx, verbose)
    torch.manual_seed(settings.seed)
    net = TransformerNet(settings.width, settings.n_residual).to(dev)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)
    scaler = loop.grad_scaler(dev, enabled=dtype == torch.float16)
    record = TrainRecord(settings=asdict(settings), world_size=ctx.world_size)
    if resume is not None:
        state = resume if isinstance(resume, dict) else checkpoints.read(resume, dev)
        checkpoints.restore(state, net, optimizer, scaler, record, verbose)
    model = net
    if ctx.distributed:
        model = nn.parallel.DistributedDataParallel(net, device_ids=[dev.index] if dev.type == "cuda" else None)
    deepest = style.deepest(list(settings.content_layers) + list(settings.style_layers))
    vgg = models.vgg("vgg16", settings.weights, last_layer=deepest, device=dev, verbose=verbose)
    record.loss_network = vgg.source.name if vgg.source else ""
    loss_net = precision.runnable(vgg, dtype, channels_last)  # frozen; weights cast once, not every step
    loss_fn = PerceptualLoss(loss_net, style_image(settings.style, settings.style_size).to(dev), settings)
    return loop.Run(ctx, settings, net, model, optimizer, scaler, loss_fn, sampler, loader, dtype, channels_last,
                    record)


def _previewer(preview_image, device):
    """``preview(net)``: the network's result on the preview photo (the held-out coffee by default)."""
    photo = preview_image if preview_image is not None else images.sample(HELD_OUT_PHOTOS[0])
    tensor = images.to_tensor(photo, size=config.pick(256, 64), device=device)
    return lambda net: images.to_pil(stylize(net, tensor))


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

    ``out`` is checked before any frame is computed (``core.outputs``), and every file is written whole or not
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
    except (OSError, Image.DecompressionBombError) as error:  # a bomb is not an OSError: say it, no traceback
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
    return _("feed-forward {fast} ms vs optimisation {optimised} s: {ratio}x faster").format(
        fast=f"{seconds_fast * 1e3:.0f}", optimised=f"{seconds_optimised:.1f}", ratio=f"{ratio:.0f}")

