"""Fast feed-forward style transfer (Johnson et al. 2016; Ulyanov et al. 2016).

Optimising an image (lesson 4) takes hundreds of passes through VGG for every picture. Here a small
image-to-image network learns, once per style, to do that transformation in a single pass: it is trained
with the same perceptual losses (``nstlib.style``'s Gram-matrix style loss, content loss and total
variation) on random crops of photos, then stylizes any image in milliseconds.

The network: three downsampling convolutions, residual blocks, and two resize-convolutions to go back up
(nearest-neighbour upsampling then a convolution, instead of transposed convolutions, which leave
checkerboard artefacts), with instance normalisation throughout.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import config, images, style

DATA = Path(__file__).parent / "data"
#: Photos the network trains on; "coffee" and "hopper" are held out to measure it on unseen images.
TRAIN_PHOTOS = ("cat", "astronaut", "rocket", "motorcycle", "hubble", "cells")
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


# ------------------------------------------------------------------------------------------- training data


class PhotoCrops:
    """Endless random crops of a few photos: random scale, position, flips and a little colour jitter.

    The bundled photos (no network needed) and, optionally, every image in ``folder``.
    """

    def __init__(self, names=TRAIN_PHOTOS, folder=None, crop: int = 128, seed: int = 0, max_side: int = 512):
        sources = [images.sample(n, size=max_side) for n in names]
        if folder is not None:
            paths = sorted(p for p in Path(folder).expanduser().iterdir()
                           if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp", ".webp"))
            if not paths:
                raise ValueError(f"no .jpg/.png images in {folder}: point folder= at a folder of photos")
            sources += [images.load(p, size=max_side) for p in paths]
        self.photos = [images.to_tensor(s) for s in sources]
        self.crop = crop
        self.generator = torch.Generator().manual_seed(seed)

    def _rand(self, low=0.0, high=1.0):
        return low + (high - low) * torch.rand((), generator=self.generator).item()

    def sample(self, batch: int) -> torch.Tensor:
        out = []
        for _ in range(batch):
            photo = self.photos[int(torch.randint(len(self.photos), (), generator=self.generator))]
            h, w = photo.shape[-2:]
            side = int(min(h, w) * self._rand(0.35, 1.0))
            side = max(side, min(self.crop, min(h, w)))
            top = int(self._rand() * (h - side + 1))
            left = int(self._rand() * (w - side + 1))
            crop = photo[..., top:top + side, left:left + side]
            crop = F.interpolate(crop, size=(self.crop, self.crop), mode="bilinear", antialias=True,
                                 align_corners=False)
            if self._rand() < 0.5:
                crop = crop.flip(-1)
            gain = torch.tensor([self._rand(0.85, 1.15) for _ in range(3)]).view(1, 3, 1, 1)
            out.append((crop * gain).clamp(0, 1))
        return torch.cat(out)


# ------------------------------------------------------------------------------------------- losses


@dataclass
class TrainSettings:
    """Everything that defines a trained model; saved inside every checkpoint and shipped model."""

    style: str = "strokes"  # a texture name from nstlib.textures, a sample name, or an image path
    style_size: int = 256
    crop: int = 96
    batch: int = 2
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
    folder: str | None = None


class PerceptualLoss:
    """Johnson et al.'s losses with nstlib.style's normalisation: relative squared errors of features and
    of Gram matrices (so the weights mean what they mean in lesson 4), plus total variation."""

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
        c = sum(style.relative_error(feats[n], targets[n]) for n in self.s.content_layers) / len(targets)
        per_layer = {}
        for n, target in self.style_grams.items():
            g = style.gram(feats[n])
            per_layer[n] = style.relative_error(g, target.expand_as(g))
        s = sum(per_layer.values()) / len(per_layer)
        tv = style.tv_loss(output)
        total = self.s.content_weight * c + self.s.style_weight * s + self.s.tv_weight * tv
        return {"total": total, "content": c, "style": s, "tv": tv, **{f"style/{k}": v for k, v in per_layer.items()}}


def style_image(spec, size: int) -> torch.Tensor:
    """A texture name, a sample name, a path or an image address -> (1, 3, H, W) style tensor."""
    from . import textures

    if isinstance(spec, str) and spec in textures.names():
        return images.to_tensor(textures.draw(spec, size=size))
    return images.to_tensor(images.resolve(spec, kind="style"), size=size)


# ------------------------------------------------------------------------------------------- training


@dataclass
class TrainRecord:
    settings: dict
    step: int = 0
    seconds: float = 0.0
    losses: dict = field(default_factory=dict)  # name -> list, one value per step
    stopped: str = "finished"
    loss_network: str = ""  # the weights the VGG loss network actually used

    def add(self, terms):
        for k, v in terms.items():
            self.losses.setdefault(k, []).append(float(v.detach()))


def train(settings: TrainSettings | None = None, *, device=None, checkpoint: str | Path | None = None,
          checkpoint_every: int = 200, resume: str | Path | None = None, preview_every: int = 0,
          preview_image=None, progress: bool = True, **overrides):
    """Train a TransformerNet for one style; returns (model, record).

    checkpoint: a path written every ``checkpoint_every`` steps and at the end (model, optimiser, settings,
        record), so a long run can be stopped and continued with ``resume=`` the same path.
    preview_every: every that many steps, show the network's current result on ``preview_image`` (the
        held-out coffee photo by default), updated in place in a notebook.
    Ctrl-C (the notebook's stop button) ends training early and returns the model as it is.
    """
    from tqdm.auto import tqdm

    from . import models
    from .env import device as best_device

    settings = settings or TrainSettings()
    for key, value in overrides.items():
        if not hasattr(settings, key):
            raise TypeError(f"unknown setting {key!r}; settings are: {', '.join(asdict(settings))}")
        setattr(settings, key, value)
    dev = best_device(device)
    torch.manual_seed(settings.seed)
    net = TransformerNet(settings.width, settings.n_residual).to(dev)
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)
    record = TrainRecord(settings=asdict(settings))
    if resume is not None:
        state = torch.load(resume, map_location=dev, weights_only=True)
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        record.step, record.seconds, record.losses = state["step"], state["seconds"], state["losses"]
    deepest = style.deepest(list(settings.content_layers) + list(settings.style_layers))
    vgg = models.vgg("vgg16", settings.weights, last_layer=deepest, device=dev, verbose=progress)
    record.loss_network = vgg.source.name if vgg.source else ""
    loss_fn = PerceptualLoss(vgg, style_image(settings.style, settings.style_size).to(dev), settings)
    data = PhotoCrops(folder=settings.folder, crop=settings.crop, seed=settings.seed + record.step)
    if preview_every:
        from .plotting import LivePicture

        live = LivePicture()
        photo = preview_image if preview_image is not None else images.sample(HELD_OUT_PHOTOS[0])
        preview = images.to_tensor(photo, size=config.pick(256, 64), device=dev)
    bar = tqdm(total=settings.steps, initial=record.step, disable=not progress, desc=f"training {settings.style}")
    start = time.perf_counter() - record.seconds
    net.train()
    try:
        while record.step < settings.steps:
            batch = data.sample(settings.batch).to(dev)
            terms = loss_fn(net(batch), batch)
            if not torch.isfinite(terms["total"]):
                record.stopped = "nan"
                print(f"training stopped at step {record.step}: the loss became {terms['total'].item()}; "
                      f"lower lr (now {settings.lr}) or the style weight")
                break
            optimizer.zero_grad(set_to_none=True)
            terms["total"].backward()
            optimizer.step()
            record.step += 1
            record.add(terms)
            bar.update(1)
            bar.set_postfix(loss=f"{record.losses['total'][-1]:.3f}", style=f"{record.losses['style'][-1]:.3f}",
                            content=f"{record.losses['content'][-1]:.3f}")
            if checkpoint and record.step % checkpoint_every == 0:
                record.seconds = time.perf_counter() - start
                save_checkpoint(checkpoint, net, optimizer, record)
            if preview_every and record.step % preview_every == 0:
                net.eval()
                live.update(images.to_pil(stylize(net, preview)))
                net.train()
    except KeyboardInterrupt:
        record.stopped = "interrupted"
        print(f"training interrupted at step {record.step}: returning the network as it is")
    finally:
        bar.close()
        net.eval()
    record.seconds = time.perf_counter() - start
    if checkpoint:
        save_checkpoint(checkpoint, net, optimizer, record)
    return net, record


def save_checkpoint(path, net, optimizer, record: TrainRecord) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    torch.save({"model": net.state_dict(), "optimizer": optimizer.state_dict(), "step": record.step,
                "seconds": record.seconds, "losses": record.losses, "settings": record.settings}, partial)
    partial.replace(path)
    return path


# ------------------------------------------------------------------------------------------- using a model


def export(net: TransformerNet, path, settings: dict, extra: dict | None = None) -> Path:
    """Save a trained network small: fp16 weights (.pth) and its settings beside it (.json), each written
    whole or not at all."""
    from . import outputs

    path = Path(path)
    meta = {"width": net.width, "n_residual": net.n_residual, "settings": settings, **(extra or {})}
    with outputs.replacing(path.with_suffix(".json")) as partial:
        partial.write_text(json.dumps(meta, indent=2, default=list))
    with outputs.replacing(path) as partial:
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
    from .env import device as choose

    return net.eval().requires_grad_(False).to(choose(device))


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
    from PIL import Image, ImageSequence

    from . import outputs

    src = Path(src)
    if src.is_dir():
        out = outputs.check_folder(out, inputs=[src], overwrite=overwrite)
        paths = sorted(p for p in src.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp"))
        if not paths:
            raise images.ImageError(f"no .png/.jpg frames in {src}")
        for p in paths:
            images.save(stylize(net, p, size=size), out / f"{p.stem}.png")
        return out
    out = outputs.check_image(out, inputs=[src], overwrite=overwrite, animated=True)
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
    with outputs.replacing(out) as partial:
        styled[0].save(partial, format=outputs.image_format(out), save_all=True, append_images=styled[1:],
                       duration=durations, loop=0)
    return out


def sample_gif() -> Path:
    """The small animated GIF that scikit-image bundles."""
    import skimage

    return Path(skimage.__file__).parent / "data" / "no_time_for_that_tiny.gif"


def speed_table(seconds_fast: float, seconds_optimised: float) -> str:
    ratio = seconds_optimised / seconds_fast if seconds_fast > 0 else math.inf
    return f"feed-forward {seconds_fast * 1e3:.0f} ms vs optimisation {seconds_optimised:.1f} s: {ratio:.0f}x faster"


# ------------------------------------------------------------------------------------------- exercises


def check_checkerboard(answer: str) -> bool:
    """Lesson 5 exercise: which upsampling leaves checkerboard artefacts?"""
    normal = str(answer).strip().lower()
    if normal.startswith("transpos"):
        print("Right: with stride 2, a 3x3 transposed convolution gives some output pixels more kernel taps "
              "than their neighbours, and the unevenness repeats every 2 pixels.")
        return True
    if normal.startswith("resize"):
        print("Not quite: copying each pixel and then convolving treats every output pixel alike. "
              "Look at the two pictures again.")
        return False
    print(f"Answer 'transposed' or 'resize' (got {answer!r}).")
    return False


def check_speedup(answer: float, fast_seconds: float, optimise_seconds: float) -> bool:
    """Lesson 5 exercise: the speed-up of the feed-forward network over optimisation."""
    truth = optimise_seconds / fast_seconds
    if abs(answer - truth) <= 0.05 * truth:
        print(f"Right: {truth:.0f}x. One forward pass of a small network against {optimise_seconds:.1f} s of "
              f"forward and backward passes through VGG.")
        return True
    print(f"Not quite: {answer:.3g}. Divide the optimisation time by the feed-forward time "
          f"({optimise_seconds:.2f} s / {fast_seconds:.4f} s).")
    return False
