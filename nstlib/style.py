"""Lesson 4: neural style transfer (Gatys et al.): content loss, Gram-matrix style loss and total variation.

One normalisation, documented once, so weights mean the same thing on every image size, layer and network:

* Gram matrix ``G = F Fᵀ / (C·H·W)`` for a feature map F of C channels and H x W positions: the average
  product of two channels, independent of the image size.
* Style loss of a layer: the relative squared error ``‖G − A‖² / ‖A‖²`` against the style's Gram A.
* Content loss: the relative squared error ``‖F − P‖² / ‖P‖²`` against the content's features P.
* Total variation: the mean squared difference of neighbouring pixels (the image is in [0, 1]).

The two feature losses are dimensionless: a loss of 0.1 means "10 % off", on any layer, at any size, with
the ImageNet VGG19 online or the offline VGG16 pack (whose activations are about a hundred times larger).
So the default weights work for everyone. Lesson 4 maps the tutorials' weights onto these.

Speed on a CPU comes from doing less work per step: the network truncated after the deepest layer used,
its weights cast once to bf16 and stored channels-last where the CPU does bf16 natively (losses still
accumulated in fp32), Gram matrices computed in the features' own layout with a one-product backward, and
targets computed once per scale. Coarse-to-fine scales are used only at the largest size (``auto_scales``).
``stylize`` reports progress, can preview in a notebook, and returns the best image so far on Ctrl-C or
when the loss turns NaN or explodes.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

import torch
import torch.nn.functional as F
from PIL import Image

from . import config, env, images, models, textures
from .core.layers import check_layers, layer_names
from .core.precision import amp_dtype, runnable
from .core.records import Rows
from .i18n import _
from .settings import Settings, check_at_least, check_weights, refuse, settings_with

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYERS = ("relu4_2",)

#: Defaults, tuned on the offline VGG16 pack with the sample photos and the project's textures.
CONTENT_WEIGHT = 1.0
STYLE_WEIGHT = 3.0
TV_WEIGHT = 2.0

#: Weight of ``out_of_range`` in the loss ``stylize`` optimises (it is not part of the reported loss).
#: Measured at 384 px, 200 L-BFGS steps: any weight from 10 to 1000 ends about 2 % lower than none.
RANGE_WEIGHT = 100.0

_EPS = 1e-12


# ------------------------------------------------------------------------------------------- the losses


def gram(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) features -> (B, C, C) Gram matrices ``F Fᵀ / (C·H·W)``, returned in fp32.

    The products run in the features' own dtype and memory layout (bf16, channels-last in ``stylize``):
    a cast to fp32 or a transposed copy of a relu1_1 map costs more than the product itself. fp16 features
    (lesson 5's ``--precision fp16``) are the exception: they go to fp32 first, because a Gram product sums
    over every position and overflows fp16's range.
    """
    if features.ndim != 4:
        raise ValueError(f"gram expects (batch, channels, height, width) features, got shape {tuple(features.shape)}")
    if features.dtype == torch.float16:
        features = features.float()  # keeps the memory format
    b, c, h, w = features.shape
    channels_last = not features.is_contiguous() and features.is_contiguous(memory_format=torch.channels_last)
    if channels_last:  # (B, H·W, C) is a view of a channels-last map
        flat = features.permute(0, 2, 3, 1).reshape(b, h * w, c)
    else:
        flat = features.reshape(b, c, h * w)
    return _Gram.apply(flat, channels_last).float() / (c * h * w)


class _Gram(torch.autograd.Function):
    """``M Mᵀ`` per batch item (or ``Mᵀ M`` for positions-by-channels M), with a one-product backward.

    Autograd's own backward of ``M @ M.T`` makes two products and adds them in different layouts, with bmm's
    copies of transposed maps; one product is cheaper (``benchmarks/bench_style.py`` times whole steps).
    """

    @staticmethod
    def forward(ctx, flat, positions_first):
        ctx.save_for_backward(flat)
        ctx.positions_first = positions_first
        return _each(flat, (lambda m: m.t() @ m) if positions_first else (lambda m: m @ m.t()))

    @staticmethod
    def backward(ctx, grad):
        (flat,) = ctx.saved_tensors
        sym = (grad + grad.transpose(1, 2)).to(flat.dtype)
        if ctx.positions_first:
            return _each(flat, lambda m, s: m @ s, sym), None
        return _each(flat, lambda m, s: s @ m, sym), None


def _each(flat, product, *others):
    """``product`` per batch item: 2-D products keep the layouts BLAS reads in place (bmm copies them)."""
    if len(flat) == 1:  # no stack, so no copy of a large map
        return product(flat[0], *(o[0] for o in others)).unsqueeze(0)
    return torch.stack([product(*items) for items in zip(flat, *others)])


def relative_error(value: torch.Tensor, target: torch.Tensor, *, per_image: bool = False) -> torch.Tensor:
    """``‖value − target‖² / ‖target‖²`` in fp32: 0 at the target, 1 for an all-zero value.

    per_image: the relative error of each item of the batch (the first dimension), averaged over the batch.
    A batch's loss is then the mean of its images' losses, so a batch split over processes (lesson 5's
    torchrun, whose gradients are averaged) trains exactly as the whole batch in one process.
    """
    value, target = value.float(), target.float()
    if not per_image:
        return (value - target).pow(2).sum() / target.pow(2).sum().clamp_min(_EPS)
    dims = tuple(range(1, value.ndim))
    return ((value - target).pow(2).sum(dims) / target.pow(2).sum(dims).clamp_min(_EPS)).mean()


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """How far the features are from the content's, relative to the content's own size."""
    return relative_error(features, target)


def style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """How far the features' Gram matrix is from the style's, relative to the style's."""
    return relative_error(gram(features), target_gram)


def out_of_range(x: torch.Tensor) -> torch.Tensor:
    """Mean squared distance of the pixels from [0, 1]; 0 for an image inside the range.

    ``stylize`` scores ``clamp(x)`` and adds ``RANGE_WEIGHT`` times this to the loss it optimises, so a pixel
    pushed past 0 or 1 is pulled back instead of lying dead: clamped, it has no gradient. (Clamping x in
    place instead breaks L-BFGS's curvature pairs: measured, the loss then jumps by up to 38 %.)
    """
    return ((x - 1).clamp(min=0).pow(2) + (-x).clamp(min=0).pow(2)).mean()


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation: mean squared difference between neighbouring pixels (smooths high-frequency noise)."""
    image = image.float()
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return dx.pow(2).mean() + dy.pow(2).mean()


# ------------------------------------------------------------------------------------------- colour


_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB -> YIQ: Y is the luminance, I and Q the colour."""
    m = _RGB_TO_YIQ.to(image.device, image.dtype)
    return torch.einsum("ij,bjhw->bihw", m, image)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    m = torch.linalg.inv(_RGB_TO_YIQ).to(image.device, image.dtype)
    return torch.einsum("ij,bjhw->bihw", m, image)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """The luminance as a 3-channel gray image, which is what the network sees when colours are kept."""
    return rgb_to_yiq(image)[:, :1].expand(-1, 3, -1, -1).contiguous()


def match_luminance(source: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Shift and scale ``source``'s gray levels to the mean and spread of ``reference`` (Gatys et al. 2016b)."""
    return (source - source.mean()) / source.std().clamp_min(1e-6) * reference.std() + reference.mean()


def with_colors_of(image: torch.Tensor, colors: torch.Tensor) -> torch.Tensor:
    """``image``'s luminance with ``colors``' chroma (resized to match): colour preservation."""
    chroma = rgb_to_yiq(F.interpolate(colors, size=image.shape[-2:], mode="bilinear", align_corners=False))
    yiq = torch.cat([rgb_to_yiq(image)[:, :1], chroma[:, 1:]], dim=1)
    return yiq_to_rgb(yiq).clamp(0, 1)


# ------------------------------------------------------------------------------------------- the objective


def deepest(layers) -> str:
    """The layer among ``layers`` that comes last in the network: where it can be truncated."""
    order = layer_names("vgg19")  # VGG16's names are a subset, in the same order
    check_layers(layers, "vgg19")
    return max(layers, key=order.index)


class Objective:
    """The total loss at one resolution, with its targets (content features, style Grams) computed once.

    styles: list of (1, 3, h, w) tensors, blended by the settings' ``style_blend`` into one target Gram per layer.
    settings: a ``StyleSettings`` (or its fields by name, e.g. ``tv_weight=0``), of which the loss reads the
    layers, ``layer_weights``, ``style_blend`` and the three loss weights. amp_dtype: the dtype the network
    runs in under autocast (None: its own).
    Calling it on an image returns a dict of fp32 scalars: total, content, style, tv and ``style/<layer>``.
    """

    gram = staticmethod(gram)  # a subclass may compute it another way (the benchmark's tutorial reference)

    def __init__(self, model, content, styles, settings: StyleSettings | None = None, *, amp_dtype=None,
                 **overrides):
        s = settings_with(StyleSettings, settings, overrides)
        self.model, self.amp_dtype = model, amp_dtype
        self.content_layers, self.style_layers = list(s.content_layers), list(s.style_layers)
        check_layers(self.content_layers + self.style_layers, model.arch)
        layer_weights = s.layer_weights
        if layer_weights is None:
            layer_weights = [1.0 / len(self.style_layers)] * len(self.style_layers)
        if len(layer_weights) != len(self.style_layers):
            raise ValueError(f"{len(layer_weights)} layer weights for {len(self.style_layers)} style layers "
                             f"({self.style_layers}); give one weight per layer")
        self.layer_weights = [float(w) for w in layer_weights]
        self.weights = {"content": float(s.content_weight), "style": float(s.style_weight), "tv": float(s.tv_weight)}
        blend = _blend_weights(s.style_blend, len(styles))
        with torch.no_grad():
            self.content_targets = self.features(content, self.content_layers) if self.content_layers else {}
            self.style_targets = {name: 0.0 for name in self.style_layers}
            for style, w in zip(styles, blend):
                for name, feat in self.features(style, self.style_layers).items():
                    self.style_targets[name] = self.style_targets[name] + w * self.gram(feat)
            self.content_targets = {k: v.float() for k, v in self.content_targets.items()}

    def features(self, image, layers):
        enabled = self.amp_dtype is not None
        with torch.autocast(image.device.type, dtype=self.amp_dtype or torch.bfloat16, enabled=enabled):
            return self.model.extract(image, layers)

    def __call__(self, image) -> dict[str, torch.Tensor]:
        feats = self.features(image, list(dict.fromkeys(self.content_layers + self.style_layers)))
        zero = image.new_zeros((), dtype=torch.float32)
        c = sum((content_loss(feats[n], t) for n, t in self.content_targets.items()), zero)
        c = c / max(1, len(self.content_targets))
        per_layer = {n: relative_error(self.gram(feats[n]), self.style_targets[n]) for n in self.style_layers}
        s = sum((w * per_layer[n] for n, w in zip(self.style_layers, self.layer_weights)), zero)
        tv = tv_loss(image)
        w = self.weights
        out = {"total": w["content"] * c + w["style"] * s + w["tv"] * tv, "content": c, "style": s, "tv": tv}
        out.update({f"style/{n}": v for n, v in per_layer.items()})
        return out


def _blend_weights(blend, n):
    if blend is None:
        return [1.0 / n] * n
    blend = [float(b) for b in blend]
    if len(blend) != n or any(b < 0 for b in blend) or sum(blend) <= 0:
        raise ValueError(f"style_blend needs {n} non-negative weights (one per style image), got {blend}")
    return [b / sum(blend) for b in blend]


@lru_cache(maxsize=4)
def load_model(arch="vgg19", weights=None, last_layer="relu5_1", pool="max", device="cpu"):
    """A (cached) VGG truncated after ``last_layer``; 'auto' weights give ImageNet VGG19 online, else VGG16."""
    return models.vgg(arch, weights or config.default_weights(), last_layer=last_layer, pool=pool, device=device)


# ------------------------------------------------------------------------------------------- settings


@dataclass
class StyleSettings(Settings):
    """Everything ``stylize`` can be told besides the two pictures; ``validated`` checks it in one place."""

    size: int = 384  # longest side of the result
    steps: int = 200  # optimiser steps over all scales (``record.evals`` counts the loss evaluations)
    optimizer: str = "lbfgs"  # or 'adam'
    lr: float | None = None  # None: 1.0 for L-BFGS, 0.02 for Adam
    content_weight: float = CONTENT_WEIGHT
    style_weight: float = STYLE_WEIGHT
    tv_weight: float = TV_WEIGHT
    content_layers: Sequence[str] = CONTENT_LAYERS
    style_layers: Sequence[str] = STYLE_LAYERS
    layer_weights: Sequence[float] | None = None  # one per style layer; None: equal
    style_blend: Sequence[float] | None = None  # one per style image; None: equal
    style_scale: float = 1.0  # the style picture's size relative to the result's
    init: str | torch.Tensor = "content"  # 'content', 'style', 'noise' or a tensor
    scales: int | str = "auto"  # coarse-to-fine levels, each twice the last; 'auto': ``auto_scales``
    scale_shares: Sequence[float] | None = None  # the fraction of the steps each scale gets, coarsest first
    preserve_colors: bool = False  # transfer the luminance only
    arch: str = "vgg19"  # the VGG (``models.vgg``); 'auto' weights give ImageNet VGG19 online, else VGG16
    weights: str | None = None
    pool: str = "max"
    model: torch.nn.Module | None = None  # a loaded VGG instead of arch / weights / pool
    device: str | torch.device | None = None
    amp: str = "auto"  # 'auto' (bf16 where native), 'bf16' or 'off'
    channels_last: bool | str = "auto"
    progress: bool = True
    preview: int = 0  # show the image in place in a notebook every ``preview`` steps (0: never)
    callback: Callable | None = None  # callback(state) after each step; True stops the run
    seed: int | None = None
    explode: float = 1e3  # stop when the loss grows past this many times its first value

    def validated(self) -> StyleSettings:
        """A checked copy: the size capped like every size in nstlib, the layers as lists. A bad value is a
        ``UsageError`` worded for Python and for the command line."""
        if self.optimizer not in ("lbfgs", "adam"):
            refuse("optimizer", f"must be 'lbfgs' or 'adam', got {self.optimizer!r}")
        if isinstance(self.init, str) and self.init not in ("content", "style", "noise"):
            refuse("init", f"must be 'content', 'style', 'noise' or a tensor, got {self.init!r}")
        check_at_least(self, {"steps": 1})
        check_weights(self, ("content_weight", "style_weight", "tv_weight"))
        size = images.check_size(self.size)  # capped at NSTLIB_MAX_SIZE with a warning
        if not self.style_layers:
            refuse("style_layers", "is empty: give at least one layer, e.g. ['relu1_1', 'relu3_1']")
        if self.scales != "auto" and (not isinstance(self.scales, int) or self.scales < 1):
            refuse("scales", f"must be 'auto' or a whole number >= 1, got {self.scales!r}",
                   f"must be at least 1 (1: a single scale), got {self.scales}")
        return replace(self, size=size, content_layers=list(self.content_layers),
                       style_layers=list(self.style_layers))


# ------------------------------------------------------------------------------------------- the run record


@dataclass
class LossRecord(Rows):
    """Every loss evaluation of a ``stylize`` run, one row each: ``step`` (the optimiser step during which it
    happened), ``seconds`` since the start, ``scale`` (index of the scale) and the loss terms. Optimiser steps
    and loss evaluations are both counted: an L-BFGS step may evaluate the loss several times (tutorials'
    "20 iterations" can be 20 evaluations)."""

    BOOKKEEPING = ("step", "seconds", "scale")
    TERMS = ("total", "content", "style", "tv")

    rows: list = field(default_factory=list)
    sizes: list = field(default_factory=list)  # (height, width) of each scale
    steps: int = 0
    stopped: str = "finished"  # or 'interrupted', 'nan', 'exploded', 'callback'
    message: str = ""
    best_loss: float = math.inf

    def add(self, terms, scale, elapsed):
        row = {"step": self.steps, "seconds": elapsed, "scale": scale}
        row.update({key: float(terms[key].detach()) for key in self.TERMS})
        row.update({key: float(value.detach()) for key, value in terms.items() if key.startswith("style/")})
        self.rows.append(row)

    def final(self) -> dict:
        """The last evaluation's terms."""
        return {k: self.rows[-1][k] for k in self.TERMS} if self.rows else {}

    # The columns under the names the lessons and tests have always used.
    evals = property(lambda self: len(self.rows), doc="loss evaluations so far")
    total = property(lambda self: self.column("total"))
    content = property(lambda self: self.column("content"))
    style = property(lambda self: self.column("style"))
    tv = property(lambda self: self.column("tv"))
    time = property(lambda self: self.column("seconds"), doc="seconds since the start, per evaluation")
    scale = property(lambda self: self.column("scale"), doc="index of the scale, per evaluation")
    step = property(lambda self: self.column("step"), doc="optimiser step, per evaluation")

    @property
    def style_layers(self) -> dict[str, list[float]]:
        """Style layer -> its own style loss, per evaluation."""
        return {k[6:]: v for k, v in self.losses.items() if k.startswith("style/")}


class Stylized(NamedTuple):
    image: torch.Tensor
    record: LossRecord


class _Stop(Exception):
    """Raised inside the optimiser's closure (L-BFGS calls it), the one way out of ``opt.step``."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason, self.message = reason, message


# ------------------------------------------------------------------------------------------- scales


def scale_sizes(size: int, scales: int, min_side: int, aspect: float) -> list[int]:
    """Longest sides of the coarse-to-fine scales, halving each time, the coarsest shorter side >= min_side."""
    sizes = [size]
    while len(sizes) < scales and round(sizes[-1] / 2 * aspect) >= min_side:
        sizes.append(round(sizes[-1] / 2))
    return sizes[::-1]


#: From this size up, ``scales='auto'`` adds a half-size scale (``auto_scales`` says why).
COARSE_TO_FINE_FROM = 1024


def auto_scales(size: int) -> int:
    """Scales for ``scales='auto'``: one below ``COARSE_TO_FINE_FROM``, two from there up.

    A half-size start only pays if its result, upsampled, is already a good full-size picture. Measured on the
    offline VGG16 pack with 80 half-size steps: for the cat and the strokes the upsampled start scores worse at
    full size than the photo itself (about 3x the photo's loss at 512 px, 2.3x at 1024 px; the content term and
    relu5_1's style term grow most), and at 512 px one scale reached the two-scale run's final loss in less
    time on all three pairs of the quality section of ``benchmarks/bench_style.py``. For Grace Hopper with the
    waves the start beats the photo from 768 px up, so the half-size start is kept at the largest size, where
    it also saves memory. With other weights this can differ: ``scales=2`` tries it."""
    return 1 if size < COARSE_TO_FINE_FROM else 2


def split_steps(steps: int, n: int, shares=None) -> list[int]:
    """Steps per scale, coarsest first. Coarse steps are cheap, but the features are not scale-invariant,
    so an upsampled result still needs many full-size steps: at 512 px a fifth of the steps at half size
    beat 40 % (measured when 512 px still ran two scales). The three-scale split follows that, unmeasured."""
    shares = shares or {1: [1.0], 2: [0.2, 0.8], 3: [0.1, 0.2, 0.7]}.get(n, [1.0 / n] * n)
    if len(shares) != n:
        raise ValueError(f"scale_shares needs {n} numbers, one per scale, got {list(shares)}")
    counts = [max(1, int(round(steps * s / sum(shares)))) for s in shares]
    counts[-1] = max(1, steps - sum(counts[:-1])) if steps > sum(counts[:-1]) else counts[-1]
    return counts


def _as_list(style):
    return list(style) if isinstance(style, (list, tuple)) else [style]


def _device_of(content, device, model):
    if device is not None:
        return env.device(device)
    if isinstance(content, torch.Tensor):
        return content.device
    if model is not None:
        return next(model.parameters()).device
    return env.device()


def _to_tensor(image, size, device):
    """PIL image -> (1, 3, H, W) on device; ``size`` is a longest side (int) or (height, width)."""
    return images.to_tensor(images.resize(image, size), device=device)


# ------------------------------------------------------------------------------------------- stylize


def stylize(content=None, style=None, settings: StyleSettings | None = None, **overrides) -> Stylized:
    """Paint ``content`` in the style of ``style``; returns ``Stylized(image, record)``.

    content, style: anything ``images.load`` reads; None gives the cat photo and the default texture, and
    ``style`` may be a list (blended). The options are ``StyleSettings``' fields, given as ``settings`` or
    by name (``size=256, steps=100``), so a lesson changes one knob without building settings first.
    Ctrl-C, a NaN or exploding loss, or a callback that returns True ends the run with the best image so far.
    """
    run = _prepare(content, style, settings_with(StyleSettings, settings, overrides).validated())
    try:
        for index, (side, n_steps) in enumerate(zip(run.sizes, run.counts)):
            _run_scale(run, index, side, n_steps)
    except _Stop as stop:
        _stopped(run, stop)
    except KeyboardInterrupt:  # Ctrl-C, the notebook's stop button, or a callback that raises it
        _interrupted(run)
    finally:
        run.bar.close()
    return _finish(run)


@dataclass
class _Run:
    """One ``stylize`` run: made by ``_prepare``, carried through the named steps below."""

    settings: StyleSettings
    device: torch.device
    model: torch.nn.Module
    dtype: torch.dtype | None
    channels_last: bool
    content: Image.Image
    styles: list
    full: tuple  # (height, width) of the result
    sizes: list  # longest side of each scale, coarsest first
    counts: list  # optimiser steps of each scale
    color_source: torch.Tensor
    record: LossRecord
    bar: object
    show: _Preview
    start: float
    x: torch.Tensor | None = None  # the image being optimised (at the end of a scale: its best)
    best: _Best | None = None


def _prepare(content, style, s: StyleSettings) -> _Run:
    """The network, then the pictures, then the scales; the clock starts when all of them are ready."""
    dev, model, dtype, cl = _network(content, s)
    if s.seed is not None:
        env.seed(s.seed)
    content_img, style_imgs = _pictures(content, style, s)
    full = (content_img.height, content_img.width)
    sizes, counts = _plan(s, content_img)
    return _Run(s, dev, model, dtype, cl, content_img, style_imgs, full, sizes, counts,
                color_source=images.to_tensor(content_img, device=dev), record=LossRecord(),
                bar=_progress(sum(counts), s.progress), show=_Preview(s.preview, full), start=time.perf_counter())


def _network(content, s: StyleSettings):
    """The device, the VGG truncated after the deepest layer used, its precision and memory layout."""
    all_layers = s.content_layers + s.style_layers
    dev = _device_of(content, s.device, s.model)
    model = s.model
    if model is None:
        model = load_model(s.arch, s.weights, deepest(all_layers), s.pool, str(dev))
    check_layers(all_layers, model.arch)
    dtype = amp_dtype(dev, s.amp)
    # channels-last helps bf16 convolutions (oneDNN/AMX on CPUs, tensor cores on GPUs); measured no gain in fp32.
    cl = dtype is not None if s.channels_last == "auto" else bool(s.channels_last)
    return dev, runnable(model, dtype, cl), dtype, cl


def _pictures(content, style, s: StyleSettings):
    """The content at the result's size and the style pictures as given (each scale resizes them)."""
    content_img = images.load(images.sample("cat") if content is None else content, size=s.size)
    style_imgs = [images.load(textures.draw(textures.DEFAULT) if p is None else p) for p in _as_list(style)]
    return content_img, style_imgs


def _plan(s: StyleSettings, content_img) -> tuple[list[int], list[int]]:
    """Longest side and steps of each scale, coarsest first."""
    size = max(content_img.size)  # a panorama keeps its short side usable, so its long side may exceed size
    scales = auto_scales(size) if s.scales == "auto" else s.scales
    sizes = scale_sizes(size, scales, 32, min(content_img.size) / size)
    return sizes, split_steps(s.steps, len(sizes), s.scale_shares)


def _targets(run: _Run, side: int):
    """The content and style pictures at one scale, as the network will see them."""
    s = run.settings
    c = _to_tensor(run.content, side, run.device)
    st = [_to_tensor(p, images.fit(p.size, max(32, round(side * s.style_scale)), warn=False)[::-1], run.device)
          for p in run.styles]
    if s.preserve_colors:
        c = luminance(c)
        st = [match_luminance(luminance(p), c) for p in st]
    return c, st


def _objective(run: _Run, c, st) -> Objective:
    return Objective(run.model, c, st, run.settings, amp_dtype=run.dtype)


def _optimizer(s: StyleSettings, x: torch.Tensor) -> torch.optim.Optimizer:
    if s.optimizer == "lbfgs":
        return torch.optim.LBFGS([x], lr=s.lr or 1.0, max_iter=1, history_size=50)
    return torch.optim.Adam([x], lr=s.lr or 0.02)


def _run_scale(run: _Run, index: int, side: int, n_steps: int) -> None:
    """Targets, starting image and optimiser for one scale, its steps, then its best image in ``run.x``."""
    c, st = _targets(run, side)
    hw = tuple(c.shape[-2:])
    run.record.sizes.append(hw)
    objective = _objective(run, c, st)
    run.x = x = _initial(run.settings.init, c, st[0], run.x, hw, run.settings.seed)
    x.requires_grad_(True)
    run.best = _Best(x)
    opt = _optimizer(run.settings, x)
    run.bar.set_description(_("scale {scale}/{scales} {width}x{height}").format(
        scale=index + 1, scales=len(run.sizes), width=hw[1], height=hw[0]))
    evaluate = _Evaluation(run, objective, index, x)
    for _step in range(n_steps):
        opt.step(evaluate)
        _after_step(run, index, hw, x)
    _evaluate_last(run, objective, index, x)
    run.x = run.best.image.detach()


class _Evaluation:
    """The optimiser's closure: scores the clamped image (what will be returned), records the terms, stops on
    a NaN or exploding loss, offers the image as the best so far, and sets ``x.grad``."""

    def __init__(self, run: _Run, objective: Objective, index: int, x: torch.Tensor):
        self.run, self.objective, self.index, self.x = run, objective, index, x

    def __call__(self) -> torch.Tensor:
        run, x = self.run, self.x
        image = x.clamp(0, 1)
        terms = self.objective(image.contiguous(memory_format=torch.channels_last) if run.channels_last else image)
        total = terms["total"]
        value = float(total.detach())
        run.record.add(terms, self.index, time.perf_counter() - run.start)
        _check_loss(run, value, self.index)
        run.best.offer(x, value)
        (grad,) = torch.autograd.grad(total + RANGE_WEIGHT * out_of_range(x), x)
        x.grad = grad.contiguous()
        return total


def _check_loss(run: _Run, value: float, index: int) -> None:
    """Raise ``_Stop`` when the loss is not a number or has grown ``explode`` times past its first value."""
    where = {"scale": index + 1, "step": run.record.steps}
    if not math.isfinite(value):
        raise _Stop("nan", _("the loss became {value} at scale {scale}, step {step}").format(value=value, **where))
    first = run.best.first
    if first is not None and value > run.settings.explode * max(first, _EPS):
        raise _Stop("exploded", _("the loss exploded to {value} (from {first}) at scale {scale}, step {step}; lower "
                                  "the learning rate").format(value=f"{value:.3g}", first=f"{first:.3g}", **where))


def _after_step(run: _Run, index: int, hw: tuple, x: torch.Tensor) -> None:
    """Count the step, show progress and the preview, and ask the callback whether to stop."""
    record = run.record
    record.steps += 1
    run.bar.update(1)
    run.bar.set_postfix(_postfix(record), refresh=False)
    run.show.maybe(record.steps, x)
    callback = run.settings.callback
    if callback is not None and callback(_State(record, index, hw, x)):
        raise _Stop("callback", _("stopped by the callback after {steps} steps").format(steps=record.steps))


def _evaluate_last(run: _Run, objective: Objective, index: int, x: torch.Tensor) -> None:
    """The final point of a scale has not been evaluated yet: record it and offer it as the best."""
    with torch.no_grad():
        last = objective(x.clamp(0, 1))
        run.record.add(last, index, time.perf_counter() - run.start)
        if math.isfinite(float(last["total"])):
            run.best.offer(x, float(last["total"]))


def _stopped(run: _Run, stop: _Stop) -> None:
    record = run.record
    record.stopped = stop.reason
    record.message = _("{reason}; returning the best image so far").format(reason=stop.message)
    if stop.reason != "callback":
        warnings.warn(record.message, RuntimeWarning, stacklevel=3)  # points at stylize's caller
    _keep_best(run)


def _interrupted(run: _Run) -> None:
    record = run.record
    record.stopped = "interrupted"
    record.message = (_("interrupted after {steps} steps; returning the best image so far").format(
        steps=record.steps) if record.steps else _("interrupted before the first step: nothing was computed, the "
                                                   "image returned is the content unchanged"))
    print(record.message)
    _keep_best(run)


def stop_reason(stopped: str) -> str:
    """How a run ended (``LossRecord.stopped``) in words of the current language; the record keeps the code."""
    words = {"finished": _("finished"), "interrupted": _("interrupted"), "nan": _("nan"),
             "exploded": _("exploded"), "callback": _("callback")}
    return words.get(stopped, stopped)


def _keep_best(run: _Run) -> None:
    if run.best is not None:
        run.x = run.best.image


def _finish(run: _Run) -> Stylized:
    """The best image at the result's size (colours restored if asked), shown once more, with the record."""
    run.record.best_loss = run.best.loss if run.best is not None else math.inf
    result = (run.x if run.x is not None else run.color_source).detach()
    if tuple(result.shape[-2:]) != run.full:
        result = F.interpolate(result, size=run.full, mode="bilinear", align_corners=False)
    result = result.clamp(0, 1).contiguous()
    if run.settings.preserve_colors:
        result = with_colors_of(result, run.color_source)
    run.show.final(result)
    return Stylized(result, run.record)


class _Best:
    """The image with the lowest loss seen at the current scale (what an interrupt returns)."""

    def __init__(self, x):
        self.image, self.loss, self.first = x.detach().clone(), math.inf, None

    def offer(self, x, loss):
        if self.first is None:
            self.first = loss
        if loss < self.loss:
            self.image, self.loss = x.detach().clone(), loss


class _State(NamedTuple):
    """What a callback sees after each step."""

    record: LossRecord
    scale: int
    size: tuple
    image: torch.Tensor


def _initial(init, content, style, previous, hw, seed):
    if previous is not None:  # coarse-to-fine: the last scale's result, upsampled
        return F.interpolate(previous, size=hw, mode="bilinear", align_corners=False).detach().clone()
    if isinstance(init, torch.Tensor):
        return F.interpolate(init.to(content.device, torch.float32).reshape(1, 3, *init.shape[-2:]), size=hw,
                             mode="bilinear", align_corners=False).detach().clone()
    if init == "content":
        return content.detach().clone()
    if init == "style":
        return F.interpolate(style, size=hw, mode="bilinear", align_corners=False).detach().clone()
    gen = torch.Generator().manual_seed(0 if seed is None else seed)
    return torch.rand(1, 3, *hw, generator=gen).to(content.device)


def _postfix(record):
    f = record.final()
    return {k: f"{v:.3g}" for k, v in f.items()} if f else {}


def _progress(total, enabled):
    from tqdm.auto import tqdm  # tqdm.auto looks for a notebook front end: paid only when stylize runs

    return tqdm(total=total, disable=not enabled, unit="step", leave=True)


class _Preview:
    """Shows the image in place in a notebook every ``every`` steps (nothing outside a notebook)."""

    def __init__(self, every, full):
        self.live, self.full = None, full
        if every:  # plotting imports matplotlib: not worth a fifth of a second when nothing is shown
            from .plotting import LivePicture

            live = LivePicture()
            self.live = live if live.available() else None
        self.every = every if self.live is not None else 0

    def _show(self, x):
        self.live.update(images.to_pil(x.detach()).resize(self.full[::-1], Image.Resampling.BILINEAR))

    def maybe(self, step, x):
        if self.every and step % self.every == 0:
            self._show(x)

    def final(self, x):
        if self.every and self.live.handle is not None:
            self._show(x)

