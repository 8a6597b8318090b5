"""Lesson 2: what pattern does each filter look for? Gradient ascent in input space.

The objective throughout is a filter's *mean activation*: the mean over all positions of one channel of a
convolution's output (before its ReLU, so a filter that is silent on the start image still gets a
gradient). ``conv1_1`` is the exception worth knowing: it is linear, so its mean depends only on the image's
mean colour and its best image is one flat colour; ask for ``relu1_1`` to see its edges. ``robust_objective``
averages the objective over small seeded shifts, scales and rotations: the score that tells a pattern from
pixel-exact noise. ``naive_ascent`` is the plain loop the lesson starts from (Adam on raw pixels); ``visualize``
is the robust version after Olah et al. (2017) and lucid/lucent: the image lives in a decorrelated-colour,
1/f-scaled Fourier space, each step sees a randomly jittered, scaled and rotated copy, and many filters are
optimised at once as one batch. Each step zooms by a random factor from 0.5 to 2, so a pattern holds at
other sizes rather than only on the one pixel grid it was made on (``across_sizes`` shows the difference).
``dream`` is the DeepDream-style variant on a photo. Both loops keep the caller's device and dtype and leave
no hook behind (``model.extract`` is used, no hooks at all).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import images as image_io  # ``images`` is the name of the image batches throughout this module
from .core.layers import CHANNELS, check_layers
from .core.precision import amp_dtype, runnable
from .core.records import Rows
from .i18n import _
from .settings import Settings, check_at_least, refuse, settings_with

# ------------------------------------------------------------------------------------------- the objective


def check_channels(model, layer: str, channels) -> list[int]:
    """Validate channel indices for ``layer``; the error says the valid range."""
    check_layers([layer], model.arch)
    n = CHANNELS[int(layer[4]) - 1]  # conv3_1, relu3_1 and pool3 all have block 3's channels
    if isinstance(channels, int):
        channels = [channels]
    channels = [int(c) for c in channels]
    if not channels:
        raise ValueError("give at least one channel index")
    bad = [c for c in channels if not 0 <= c < n]
    if bad:
        raise IndexError(f"channel(s) {bad} do not exist in {layer}, which has {n} channels: use 0 to {n - 1}")
    return channels


def filter_means(acts: torch.Tensor, channels) -> torch.Tensor:
    """Mean activation of channel ``channels[i]`` in image ``i`` of a (N, C, H, W) batch -> (N,)."""
    index = torch.as_tensor(channels, device=acts.device).view(-1, 1, 1, 1)
    index = index.expand(acts.shape[0], 1, *acts.shape[2:])
    return acts.gather(1, index).mean(dim=(1, 2, 3))


def objective(model, images: torch.Tensor, layer: str, channels) -> torch.Tensor:
    """The score both loops are judged by: each filter's mean activation on ``images`` (N, 3, H, W) in [0, 1],
    measured on the image itself (no transformation). Returns (N,) with no graph.

    One channel per image; pass a single channel to score every image for that filter.
    """
    channels = check_channels(model, layer, channels)
    if len(channels) == 1 and images.shape[0] > 1:
        channels = channels * images.shape[0]
    if len(channels) != images.shape[0]:
        raise ValueError(f"{len(channels)} channels for {images.shape[0]} images: give one channel per image")
    with torch.no_grad():
        return filter_means(model.extract(images, [layer])[layer], channels).float()


def rail_share(images: torch.Tensor, margin: float = 2 / 255) -> float:
    """Share of pixel values within ``margin`` of 0 or 1: pinned at the colour rails, where the optimiser has
    pushed as far as the range allows and the picture turns to flat neon."""
    x = images.detach().float()
    return ((x < margin) | (x > 1 - margin)).float().mean().item()


# ------------------------------------------------------------------------------------------- the naive loop


@dataclass
class Result(Rows):
    """Images (N, 3, H, W) in [0, 1], one row per step (``step``, ``seconds`` since the start, and
    ``objective``: the batch's mean objective under the step's transform), and the run's seconds."""

    images: torch.Tensor
    rows: list = field(default_factory=list)
    seconds: float = 0.0

    def add(self, step: int, seconds: float, objective: float) -> None:
        self.rows.append({"step": step, "seconds": seconds, "objective": objective})

    history = property(lambda self: self.column("objective"), doc="the mean objective after each step")
    times = property(lambda self: self.column("seconds"), doc="seconds since the start, after each step")


def grey_start(n: int, size, device=None, dtype=torch.float32, noise: float = 0.1, generator=None) -> torch.Tensor:
    """A grey image with a little uniform noise (the starting point the classic tutorials use)."""
    h, w = (size, size) if isinstance(size, int) else size
    x = torch.rand(n, 3, h, w, generator=generator, device=device, dtype=dtype)
    return 0.5 + noise * (x - 0.5)


def naive_ascent(model, layer: str, channels, size=128, steps: int = 200, lr: float = 0.05, start=None,
                 callback=None, progress: bool = True) -> Result:
    """The plain loop: Adam on the raw pixels of a grey, slightly noisy image, clamped to [0, 1].

    Each image in the batch maximises its own filter (``channels[i]``). The result is mostly
    high-frequency noise: nothing stops the pixels from exploiting every tiny, pixel-sized pattern.
    """
    channels = check_channels(model, layer, channels)
    param = next(model.parameters())
    x = grey_start(len(channels), size, param.device, param.dtype) if start is None else start.clone()
    x.requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    result = Result(x.detach())
    t0 = time.perf_counter()
    for step in tqdm(range(steps), desc=_("naive {layer}").format(layer=layer), disable=not progress, leave=False):
        score = filter_means(model.extract(x, [layer])[layer], channels)
        (grad,) = torch.autograd.grad(-score.sum(), x)
        x.grad = grad
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        result.add(step + 1, time.perf_counter() - t0, score.detach().mean().item())
        if callback is not None:
            callback(step, x.detach())
    result.images = x.detach()
    result.seconds = time.perf_counter() - t0
    return result


# ------------------------------------------------------------------------------------------- parametrisation

#: Square root of the colour correlation of ImageNet photos (lucid), columns normalised to at most 1.
_COLOR_SQRT = ((0.26, 0.09, 0.02), (0.27, 0.00, -0.05), (0.27, -0.09, 0.03))


def color_matrix(device=None, dtype=torch.float32) -> torch.Tensor:
    """The 3x3 matrix that maps decorrelated colour channels to RGB (largest column norm 1)."""
    m = torch.tensor(_COLOR_SQRT, dtype=torch.float64)
    m = m / m.norm(dim=0).max()
    return m.to(device=device, dtype=dtype)


def frequency_scale(h: int, w: int, decay: float = 1.0, device=None, dtype=torch.float32) -> torch.Tensor:
    """1 / f ** decay for each frequency of ``rfft2`` of an h x w image (the 1/f spectrum of photos), (h, w//2+1)."""
    fy = torch.fft.fftfreq(h, dtype=torch.float64)[:, None]
    fx = torch.fft.rfftfreq(w, dtype=torch.float64)[None, :]
    f = torch.sqrt(fx**2 + fy**2).clamp(min=1.0 / max(h, w))
    return (1.0 / f**decay).to(device=device, dtype=dtype)


class FourierImage(torch.nn.Module):
    """A batch of RGB images parametrised as decorrelated-colour, 1/f-scaled Fourier coefficients.

    ``image()`` = sigmoid(colour_matrix @ irfft2(scale * spectrum, norm="ortho") / MAGIC), with
    scale = 1 / f**decay (``frequency_scale``): always in (0, 1), and a gradient step
    moves all frequencies about equally far in *perceptual* terms, so low-frequency structure appears in
    a few steps instead of being drowned in pixel noise. ``from_image`` is the exact inverse.
    """

    #: lucid's constant: brings the irfft2 output of a unit spectrum to a sensible range before the sigmoid.
    MAGIC = 4.0

    def __init__(self, n: int, size, sd: float = 0.01, decay: float = 1.0, device=None, dtype=torch.float32,
                 generator=None):
        super().__init__()
        h, w = (size, size) if isinstance(size, int) else size
        self.size = (h, w)
        self.decay = decay
        self.register_buffer("scale", frequency_scale(h, w, decay, device, dtype))
        self.register_buffer("color", color_matrix(device, dtype))
        shape = (n, 3, h, w // 2 + 1, 2)
        spectrum = torch.randn(shape, generator=generator, device=device, dtype=dtype) * sd
        self.spectrum = torch.nn.Parameter(spectrum)

    def image(self) -> torch.Tensor:
        """The images, (N, 3, H, W) in (0, 1)."""
        spec = torch.view_as_complex(self.spectrum.float().contiguous()) * self.scale.float()
        x = torch.fft.irfft2(spec, s=self.size, norm="ortho") / self.MAGIC
        x = torch.einsum("ij,njhw->nihw", self.color.float(), x)
        return torch.sigmoid(x).to(self.spectrum.dtype)

    forward = image

    @torch.no_grad()
    def set_image(self, images: torch.Tensor, eps: float = 1e-4) -> FourierImage:
        """Make ``image()`` return ``images`` (N, 3, H, W in [0, 1], clamped to [eps, 1 - eps])."""
        if tuple(images.shape[-2:]) != self.size or images.shape[0] != self.spectrum.shape[0]:
            raise ValueError(f"images of shape {tuple(images.shape)} do not fit this parametrisation "
                             f"({self.spectrum.shape[0]} images of {self.size[0]}x{self.size[1]})")
        y = torch.logit(images.float().clamp(eps, 1 - eps))
        x = torch.einsum("ij,njhw->nihw", torch.linalg.inv(self.color.float()), y) * self.MAGIC
        spec = torch.fft.rfft2(x, norm="ortho") / self.scale.float()
        self.spectrum.copy_(torch.view_as_real(spec).to(self.spectrum.dtype))
        return self

    @classmethod
    def from_image(cls, images: torch.Tensor, decay: float = 1.0) -> FourierImage:
        param = cls(images.shape[0], tuple(images.shape[-2:]), 0.0, decay, images.device, images.dtype)
        return param.set_image(images)


# ------------------------------------------------------------------------------------------- transformations


def affine(x: torch.Tensor, scale, angle, tx, ty, padding_mode: str = "border") -> torch.Tensor:
    """Scale, rotate (radians) and shift (pixels) each image of a batch about its centre, in one bilinear
    resampling. Each parameter is a number or an (N,) tensor; all zeros and scale 1 give ``x`` back."""
    n, h, w = x.shape[0], x.shape[2], x.shape[3]

    def per_image(v):
        return torch.as_tensor(v, device=x.device, dtype=x.dtype).expand(n)

    s, a = per_image(scale), per_image(angle)
    tx, ty = per_image(tx) * (2 / w), per_image(ty) * (2 / h)
    cos, sin = torch.cos(a) / s, torch.sin(a) / s
    theta = torch.stack([torch.stack([cos, -sin * h / w, tx], 1), torch.stack([sin * w / h, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


def random_affine(x: torch.Tensor, pad: int = 12, jitter: int = 8, scale=(0.9, 1.1), degrees: float = 10.0,
                  generator=None) -> torch.Tensor:
    """Transformation robustness in one resampling: pad with grey, then a random shift, scale and rotation
    per image (each image of the batch gets its own). The pattern must survive all of them, so the
    optimiser cannot rely on pixel-exact noise.

    The scale is drawn log-uniformly from ``scale`` (zooming in by 2 is as likely as zooming out by 2). A
    zoom-in shows only part of the image, so the shift then reaches far enough for any part to be seen.
    """
    n = x.shape[0]
    if pad:
        x = F.pad(x, (pad, pad, pad, pad), mode="constant", value=0.5)
    dev, dt = x.device, x.dtype

    def uniform(lo, hi):
        return lo + (hi - lo) * torch.rand(n, generator=generator, device=dev, dtype=dt)

    s = torch.exp(uniform(math.log(scale[0]), math.log(scale[1])))
    a = uniform(-degrees, degrees) * (math.pi / 180)
    reach = torch.clamp((1 - 1 / s) * (min(x.shape[-2:]) / 2), min=jitter)
    tx, ty = uniform(-1, 1) * reach, uniform(-1, 1) * reach
    return affine(x, s, a, tx, ty)


#: The robust objective's transformations: how many, and how far (pixels, scale range, degrees).
ROBUST = dict(n=8, jitter=8, scale=(0.9, 1.1), degrees=10.0)


def robust_transforms(n: int = ROBUST["n"], seed: int = 0, jitter: float = ROBUST["jitter"],
                      scale=ROBUST["scale"], degrees: float = ROBUST["degrees"]) -> list[tuple[float, ...]]:
    """A fixed, seeded list of ``n`` (scale, angle in radians, shift x, shift y): the same for every image,
    every loop and every run, so robust scores compare."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 4, generator=g, dtype=torch.float64)
    s = scale[0] + (scale[1] - scale[0]) * u[:, 0]
    a = (2 * u[:, 1] - 1) * degrees * math.pi / 180
    t = (2 * u[:, 2:] - 1) * jitter
    return [(float(s[i]), float(a[i]), float(t[i, 0]), float(t[i, 1])) for i in range(n)]


def robust_objective(model, images: torch.Tensor, layer: str, channels, n: int = ROBUST["n"], seed: int = 0,
                     jitter: float = ROBUST["jitter"], scale=ROBUST["scale"],
                     degrees: float = ROBUST["degrees"]) -> torch.Tensor:
    """The objective averaged over ``n`` small seeded shifts, scales and rotations of each image, (N,).

    A pattern the filter really looks for still excites it a few pixels away or a few degrees turned;
    pixel-exact noise does not. This is the score lesson 2, its tests and its benchmark judge by. Edges are
    filled by reflection (grey padding would dilute the mean).
    """
    moved = [affine(images, *t, padding_mode="reflection")
             for t in robust_transforms(n, seed, jitter, scale, degrees)]
    return torch.stack([objective(model, x, layer, channels) for x in moved]).mean(0)


# ------------------------------------------------------------------------------------------- nstlib's loop

#: Steps over which ``visualize`` ramps its learning rate up to ``lr``.
WARM_UP_STEPS = 20


@dataclass
class VisualizeSettings(Settings):
    """Everything ``visualize`` can be told besides the model, layer and channels.

    octaves: with 2 or more, the first steps run at lower resolution (size / 2 ** k), each stage started
        from the previous one upsampled; on a CPU this buys most of the structure for little time.
    target: stop as soon as the batch's mean objective, measured on the untransformed images (every
        ``check_every`` steps), reaches it. ``result.history`` holds the mean objective under the step's
        transform.
    amp: 'auto' runs the network in bf16 where the device does it natively (``precision.runnable``), 'off'
        in the model's own dtype. The image and the objective stay fp32.
    lr: Adam's step in the Fourier space, reached after ``WARM_UP_STEPS`` steps of linear warm-up (the
        first steps' directions are mostly noise).
    weight_decay: AdamW's decay of the Fourier coefficients towards grey, a prior that keeps contrast finite.
        Without it the sigmoid saturates: its flat ends give tiny gradients that Adam scales back up, so
        pixels run to 0 or 1 and stay there. With Adam's normalised steps each coefficient settles where the
        decay balances a full step, near 1 / weight_decay, so this caps the contrast whatever the step count.
    pad: grey border (pixels) added before each step's random shift, scale and rotation.
    scale: the range of each step's random zoom, drawn log-uniformly. A pattern seen only at about its own
        size (the old 0.9 to 1.1) gets tuned to the pixel grid it is made on and loses most of its score when
        shown larger or smaller; seen at every zoom in the range, it has to be what the filter looks for at
        any size. Wider is not better: on the offline pack, 0.4 to 2.5 cost conv4_1 and conv5_1 a sixth to a
        third of their robust score at their own size, and scored lower at 224 px than 0.5 to 2 as well.
        ``PIXEL_GRID`` holds the old settings; ``benchmarks/bench_filters_lucent.py`` measures both.
    steps are optimiser steps; Adam evaluates the network once per step (forward and backward).
    """

    size: int | tuple = 128
    steps: int = 200
    lr: float = 0.3
    transforms: bool = True
    octaves: int = 1
    decay: float = 1.0
    seed: int | None = 0
    callback: Callable | None = None  # callback(step, images) after each step
    progress: bool = True
    target: float | None = None
    check_every: int = 10
    amp: str = "auto"
    weight_decay: float = 0.08
    pad: int = 12
    scale: tuple = (0.5, 2.0)

    def validated(self) -> VisualizeSettings:
        """The settings, checked: a bad value is a ``UsageError`` that names it. The copy's scale is a pair of
        floats."""
        check_at_least(self, {"steps": 0, "check_every": 1, "pad": 0})
        lo, hi = _scale_range(self.scale)
        return replace(self, scale=(lo, hi))


def _scale_range(value) -> tuple[float, float]:
    """``scale`` as (smallest, largest) zoom, 0 < smallest <= largest, else the ``UsageError`` that says so."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        lo = hi = math.nan
    if not 0 < lo <= hi:  # NaN fails too
        refuse("scale", f"must be a (smallest, largest) zoom with 0 < smallest <= largest, got {value!r}; e.g. "
                        f"(0.5, 2.0), or (0.9, 1.1) for the old pixel-grid range")
    return lo, hi


def visualize(model, layer: str, channels, settings: VisualizeSettings | None = None, **overrides) -> Result:
    """Patterns that maximise each filter's mean activation: Fourier + decorrelated colour parametrisation,
    random jitter/scale/rotation every step, all ``channels`` optimised together as one batch.

    The options are ``VisualizeSettings``' fields, given as ``settings`` or by name (``size=64, steps=50``),
    so a lesson changes one knob without building settings first. Interrupting (Ctrl-C) returns the images
    so far.
    """
    channels = check_channels(model, layer, channels)
    run = _ascent(model, layer, channels, settings_with(VisualizeSettings, settings, overrides).validated())
    try:
        for shape, n_steps in _octave_plan(run.settings.steps, run.settings.octaves, *run.size):
            if _run_stage(run, shape, n_steps):
                break
    except KeyboardInterrupt:
        pass
    finally:
        run.bar.close()
    return _visualized(run)


@dataclass
class _Ascent:
    """One ``visualize`` run: made by ``_ascent``, carried through the named steps below."""

    settings: VisualizeSettings
    model: torch.nn.Module  # the caller's model: the target is checked on it
    net: torch.nn.Module  # the model as each step runs it (bf16, channels-last where native)
    layer: str
    channels: list
    device: torch.device
    dtype: torch.dtype
    layout: torch.memory_format
    size: tuple  # (height, width) of the result
    generator: torch.Generator | None
    result: Result
    bar: object
    start: float
    fourier: FourierImage | None = None
    done: int = 0  # steps so far, over all stages


def _ascent(model, layer: str, channels: list, s: VisualizeSettings) -> _Ascent:
    """The network in the precision the device runs fastest, the seeded generator, and the clock."""
    param = next(model.parameters())
    dev, dt = param.device, param.dtype
    low = amp_dtype(dev, s.amp)  # validates ``amp`` whatever the model's dtype
    low = low if dt == torch.float32 else None  # a model already in low precision runs as it is
    net = runnable(model, low, channels_last=low is not None)
    layout = torch.channels_last if low is not None else torch.contiguous_format
    size = (s.size, s.size) if isinstance(s.size, int) else tuple(s.size)
    gen = None
    if s.seed is not None:
        gen = torch.Generator(device=dev)
        gen.manual_seed(s.seed)
    result = Result(torch.empty(0))
    start = time.perf_counter()
    bar = tqdm(total=s.steps, desc=_("visualize {layer}").format(layer=layer), disable=not s.progress, leave=False)
    return _Ascent(s, model, net, layer, channels, dev, dt, layout, size, gen, result, bar, start)


def _stage_image(run: _Ascent, shape: tuple) -> FourierImage:
    """A fresh random image for the first stage; later stages start from the last one, upsampled."""
    s = run.settings
    if run.fourier is None:
        return FourierImage(len(run.channels), shape, 0.01, s.decay, run.device, run.dtype, generator=run.generator)
    up = F.interpolate(run.fourier.image().detach(), size=shape, mode="bicubic", align_corners=False)
    return FourierImage.from_image(up.clamp(0, 1), s.decay)


def _warm_up(step: int) -> float:
    return min(1.0, (step + 1) / WARM_UP_STEPS)


def _run_stage(run: _Ascent, shape: tuple, n_steps: int) -> bool:
    """One resolution's steps; True when the target is reached (the run ends there)."""
    run.fourier = _stage_image(run, shape)
    opt = torch.optim.AdamW(run.fourier.parameters(), lr=run.settings.lr, weight_decay=run.settings.weight_decay)
    warm_up = torch.optim.lr_scheduler.LambdaLR(opt, _warm_up)
    for _step in range(n_steps):
        img = _ascent_step(run, opt, warm_up)
        if run.settings.callback is not None:
            run.settings.callback(run.done - 1, img.detach())
        if _reached(run, shape):
            return True
    return False


def _ascent_step(run: _Ascent, opt, warm_up) -> torch.Tensor:
    """One step up each filter's mean activation on a randomly moved copy of the images; returns the images."""
    s, fourier = run.settings, run.fourier
    img = fourier.image()
    seen = random_affine(img, pad=s.pad, scale=s.scale, generator=run.generator) if s.transforms else img
    acts = run.net.extract(seen.contiguous(memory_format=run.layout), [run.layer])[run.layer]
    score = filter_means(acts.to(run.dtype), run.channels)
    (grad,) = torch.autograd.grad(-score.sum(), fourier.spectrum)
    fourier.spectrum.grad = grad
    opt.step()
    warm_up.step()
    run.done += 1
    run.result.add(run.done, time.perf_counter() - run.start, score.detach().mean().item())
    run.bar.update(1)
    return img


def _reached(run: _Ascent, shape: tuple) -> bool:
    """Whether the target is met: checked at full size only, every ``check_every`` steps and at the end."""
    s = run.settings
    if s.target is None or tuple(shape) != run.size or (run.done % s.check_every and run.done != s.steps):
        return False
    now = objective(run.model, run.fourier.image().detach(), run.layer, run.channels).mean().item()
    return now >= s.target


def _visualized(run: _Ascent) -> Result:
    """The images at the asked size, and the time the whole run took."""
    result, (h, w) = run.result, run.size
    result.images = run.fourier.image().detach()
    if tuple(result.images.shape[-2:]) != (h, w):
        result.images = F.interpolate(result.images, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
    result.seconds = time.perf_counter() - run.start
    return result


def _octave_plan(steps: int, octaves: int, h: int, w: int):
    """Split ``steps`` over ``octaves`` resolutions, coarse first; the coarse stages get half the steps."""
    if octaves <= 1:
        return [((h, w), steps)]
    sizes = [(max(32, h >> k), max(32, w >> k)) for k in range(octaves - 1, -1, -1)]
    coarse = steps // 2
    per = [coarse // (octaves - 1)] * (octaves - 1)
    return list(zip(sizes, per + [steps - sum(per)]))


#: The settings lesson 2 used before its patterns were made to hold across sizes: each step zoomed only 0.9 to
#: 1.1, so every pattern was tuned to the one pixel grid it was made on. ``across_sizes`` compares them with
#: the defaults; pass them as ``visualize(model, layer, channels, PIXEL_GRID, size=...)``.
PIXEL_GRID = VisualizeSettings(scale=(0.9, 1.1), lr=0.3, weight_decay=0.03)


@dataclass
class AcrossSizes:
    """One filter's pattern made at ``size`` px with each of several settings, and how its filter responds to
    it there and resized (bilinear) to ``shown_at`` px. ``scores[label]`` is the robust objective at both."""

    layer: str
    channel: int
    size: int
    shown_at: int
    patterns: dict  # label -> (1, 3, size, size)
    maps: dict  # label -> (response at size, response at shown_at), each (h, w)
    scores: dict  # label -> (robust score at size, at shown_at)

    def kept(self) -> dict:
        """label -> the share of its robust score the pattern keeps at ``shown_at`` px (None where the score
        at its own size is not above 0, so that no share can be taken of it)."""
        return {label: there / here if here > 0 else None for label, (here, there) in self.scores.items()}

    def __str__(self) -> str:
        kept = self.kept()
        lines = [_("{label}: robust score {here} at {size} px, {there} at {shown_at} px ({kept} kept)").format(
            label=label, here=f"{here:.0f}", size=self.size, there=f"{there:.0f}", shown_at=self.shown_at,
            kept=_share(kept[label])) for label, (here, there) in self.scores.items()]
        shares = {label: share for label, share in kept.items() if share is not None}
        if len(shares) > 1 and max(shares.values()) - min(shares.values()) < 0.01:  # equal as printed
            lines.append(_("The patterns keep about the same share of their score at {shown_at} px.").format(
                shown_at=self.shown_at))
        elif len(shares) > 1:
            lines.append(_("The pattern that keeps more of its score at {shown_at} px: {label}.").format(
                shown_at=self.shown_at, label=max(shares, key=shares.get)))
        return "\n".join(lines)

    def show(self, size: float = 3.6):
        """One row per setting: the pattern, then its filter's response (ReLU) at both sizes, on one scale."""
        import matplotlib.pyplot as plt

        from .plotting import as_display_array

        fig, axes = plt.subplots(len(self.patterns), 3, figsize=(3 * size + 1.5, size * len(self.patterns)),
                                 squeeze=False)
        kept = self.kept()
        for row, label in zip(axes, self.patterns):
            maps = [m.clamp(min=0).cpu().float() for m in self.maps[label]]
            top = max(float(m.max()) for m in maps) or 1.0
            row[0].imshow(as_display_array(self.patterns[label][0]))
            row[0].set_ylabel(label, fontsize=15)
            row[0].set_title(_("made at {size} px").format(size=self.size))
            for ax, m, px, score in zip(row[1:], maps, (self.size, self.shown_at), self.scores[label]):
                ax.imshow(m.numpy(), cmap="magma", vmin=0, vmax=top)
                title = _("seen at {size} px: {score}").format(size=px, score=f"{score:.0f}")
                ax.set_title(title + (f" ({_share(kept[label])})" if px == self.shown_at else ""))
            for ax in row:
                ax.set_xticks([])
                ax.set_yticks([])
        fig.suptitle(_("{layer} filter {channel}: its response to its pattern (robust score)").format(
            layer=self.layer, channel=self.channel), fontsize=16)
        fig.tight_layout()
        return fig


def seen_at(images: torch.Tensor, side: int) -> torch.Tensor:
    """Pictures resized (bilinear) to ``side`` x ``side``, as a pattern is judged at another size: by
    ``across_sizes`` and ``benchmarks/bench_filters_lucent.py`` alike."""
    return F.interpolate(images, size=(side, side), mode="bilinear", align_corners=False).clamp(0, 1)


def _share(value) -> str:
    return "-" if value is None else f"{value:.0%}"


def across_sizes(model, layer: str, channel: int, size: int = 128, shown_at: int = 224, settings=None,
                 **overrides) -> AcrossSizes:
    """Make one filter's pattern at ``size`` px with the pixel-grid settings and with the defaults, then show each
    to the filter at ``size`` and resized to ``shown_at``: a feature visualisation should not depend on the
    pixel grid it was made on. ``settings``: {label: VisualizeSettings}; ``overrides`` apply to all of them
    (``steps=100``)."""
    (channel,) = check_channels(model, layer, [channel])
    shown_at = image_io.check_size(shown_at, option="shown_at")  # capped at NSTLIB_MAX_SIZE, like every size
    settings = settings or {_("before: pixel-grid settings"): PIXEL_GRID, _("now: the defaults"): VisualizeSettings()}
    patterns, maps, scores = {}, {}, {}
    for label, chosen in settings.items():
        image = visualize(model, layer, [channel], chosen, **{"size": size, **overrides}).images
        big = seen_at(image, shown_at)
        patterns[label] = image
        with torch.no_grad():
            maps[label] = tuple(model.extract(x, [layer])[layer][0, channel] for x in (image, big))
        scores[label] = tuple(robust_objective(model, x, layer, [channel]).item() for x in (image, big))
    return AcrossSizes(layer, channel, size, shown_at, patterns, maps, scores)


# ------------------------------------------------------------------------------------------- beyond the anchors


def dream(model, image: torch.Tensor, layer: str, steps: int = 10, lr: float = 0.008, octaves: int = 1,
          octave_scale: float = 1.4, jitter: int = 16, progress: bool = True) -> torch.Tensor:
    """DeepDream-style: change a photo so that a whole layer responds more (mean squared ReLU output).

    Gradient ascent on the pixels with a normalised step and a random shift (jitter) each step, from the
    smallest octave to the full size. Returns a new (1, 3, H, W) image in [0, 1]; the input is untouched.
    """
    check_layers([layer], model.arch)
    h, w = image.shape[-2:]
    sizes = [(max(32, round(h / octave_scale**k)), max(32, round(w / octave_scale**k)))
             for k in range(octaves - 1, -1, -1)]
    x = image.detach()
    bar = tqdm(total=steps * len(sizes), desc=_("dream {layer}").format(layer=layer), disable=not progress,
               leave=False)
    try:
        for size in sizes:
            x = F.interpolate(x, size=size, mode="bicubic", align_corners=False).clamp(0, 1)
            for _step in range(steps):
                dy, dx = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,)))
                shifted = torch.roll(x, (dy, dx), (2, 3)).requires_grad_(True)
                score = model.extract(shifted, [layer])[layer].clamp(min=0).pow(2).mean()
                (grad,) = torch.autograd.grad(score, shifted)
                grad = torch.roll(grad, (-dy, -dx), (2, 3))
                x = (x + lr * grad / grad.abs().mean().clamp(min=1e-12)).clamp(0, 1).detach()
                bar.update(1)
    except KeyboardInterrupt:
        pass
    finally:
        bar.close()
    return F.interpolate(x, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)


def top_samples(model, layer: str, channel: int, names=None, size: int = 224) -> list[tuple[str, float]]:
    """The sample photos ranked by how much they activate one filter (its mean activation), best first."""
    check_channels(model, layer, [channel])
    names = image_io.sample_names() if names is None else list(names)
    param = next(model.parameters())
    scores = []
    for name in names:
        x = image_io.to_tensor(image_io.sample(name), size, param.device, param.dtype)
        scores.append((name, objective(model, x, layer, [channel]).item()))
    return sorted(scores, key=lambda item: -item[1])


def show_patterns(images: torch.Tensor, titles=None, ncols: int = 4, size: float = 3.0, suptitle=None):
    """A grid of filter patterns (N, 3, H, W) with titles."""
    from .plotting import show_images  # matplotlib: loaded when a figure is drawn, not with the module

    return show_images(list(images), titles, ncols=min(ncols, len(images)), size=size, suptitle=suptitle)

