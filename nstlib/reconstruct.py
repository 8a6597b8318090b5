"""What does a layer still know about the picture? Rebuild the photo from one layer's activations alone.

Mahendran & Vedaldi (2015), and Gatys et al. (2016, Fig. 1): start from seeded noise and change the pixels
by gradient descent until the network's activations at ONE layer match the photo's. What comes back is
what that layer kept. From relu1_2 the photo returns almost exactly; deeper layers return the objects'
parts and edges with the colours and fine texture lost, because many images give the same deep activations.

The objective is lesson 4's content loss and nothing else, plus a small total-variation prior:

    ‖Φ(x) − Φ(photo)‖² / ‖Φ(photo)‖²  +  TV_WEIGHT · tv(x)

``tv`` is ``style.tv_loss`` (mean squared difference of neighbouring pixels). With a weaker prior, and
from full-range noise, the deep layers return the photo's shapes under high-frequency noise that the network
barely sees, so nothing removes it; relu1_2 returns the photo with or without the prior. The start is
seeded noise around mid-grey, optimised at half size first (``COARSE_SHARE`` of the steps). Each result
reports two relative errors, computed, never typed: in pixels ``‖x − photo‖² / ‖photo‖²`` and in features
(the first term above).

Efficient on a laptop CPU: one forward pass per evaluation, stopped at the layer (``model.extract``), the
network cast once to bf16 where the CPU does bf16 natively (``core.precision``), and L-BFGS as in lesson 4.
Ctrl-C returns the best image so far.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from . import images, plotting, style  # noqa: F401 - plotting registers the Hangul font of Korean figures
from .core.errors import UsageError
from .core.layers import layer_names
from .core.precision import amp_dtype, runnable
from .core.records import Rows
from .i18n import _, pad

#: One layer per block, each the second ReLU of its block: they exist in VGG16 and VGG19 alike, and relu4_2
#: is lesson 4's content layer (Gatys et al. 2016 reconstruct from conv1_2 ... conv5_2 in their Fig. 1).
LAYERS = ("relu1_2", "relu2_2", "relu3_2", "relu4_2", "relu5_2")

#: Full settings, sized to keep lesson 1 within its runtime budget on a two-core CPU
#: (``benchmarks/bench_reconstruct.py`` measures the cost of bf16 against fp32).
SIZE = 160
STEPS = 100

#: The starting image: uniform noise of this spread around mid-grey (full-range noise stays visible in the
#: deep layers' results: they cannot see it, so nothing removes it).
INIT_SPREAD = 0.2

#: Share of the steps taken at half size before the full-size ones (0: none).
COARSE_SHARE = 0.3

#: Weight of the total-variation prior: relu1_2 still rebuilds the photo (its feature loss outweighs the
#: prior), while the deep layers' results lose most of the pixel noise they cannot see.
TV_WEIGHT = 3.0


@dataclass
class Result(Rows):
    """One layer's reconstruction: the image and how close it came, in pixels and in that layer's features.

    ``rows`` has one row per loss evaluation (``step``, ``seconds``, ``loss``, ``features``, ``tv``).
    """

    layer: str
    image: torch.Tensor  # (1, 3, H, W) in [0, 1]
    photo: torch.Tensor  # what it was rebuilt from, at the same size
    pixel_error: float  # ‖x − photo‖² / ‖photo‖²
    feature_error: float  # ‖Φ(x) − Φ(photo)‖² / ‖Φ(photo)‖² at ``layer``
    weights: str  # the weights' source, for titles
    steps: int = 0
    seconds: float = 0.0
    stopped: str = "finished"  # or 'interrupted'
    rows: list = field(default_factory=list, repr=False)


def pixel_error(image: torch.Tensor, photo: torch.Tensor) -> float:
    """``‖image − photo‖² / ‖photo‖²``: 0 for the photo itself; about 0.4 for uniform noise on a photo."""
    return float(style.relative_error(image.detach(), photo.detach()))


def check_layer(model, layer) -> str:
    """The layer name, or a UsageError that lists the names this model has."""
    valid = [n for n in layer_names(model.arch) if n in model.layer_names]
    if not isinstance(layer, str) or layer not in valid:
        raise UsageError(f"layer={layer!r} is not a layer of this {model.arch} (built up to {valid[-1]}); "
                         f"use one of: {', '.join(valid)}")
    return layer


def _check_counts(steps, size):
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise UsageError(f"steps={steps!r}: give a whole number of optimiser steps, at least 1 (e.g. steps={STEPS})")
    return images.check_size(size)  # capped at NSTLIB_MAX_SIZE like every size in nstlib


def _photo(image, size, device) -> torch.Tensor:
    """The photo at ``size`` (longest side) as a (1, 3, H, W) fp32 tensor on ``device``."""
    return images.to_tensor(images.resolve(image), size=size, device=device)


def weights_name(model) -> str:
    source = getattr(model, "source", None)
    return source.name if source is not None else "unknown weights"


def reconstruct(model, image, layer: str, *, steps: int = STEPS, size: int = SIZE, tv_weight: float = TV_WEIGHT,
                seed: int = 0, amp="auto", progress: bool = True) -> Result:
    """The photo rebuilt from ``layer``'s activations alone, starting from noise seeded by ``seed``.

    model: a ``models.vgg`` feature extractor (its device is used). image: anything ``images.load`` reads,
    or a bundled name such as ``"cat"``. size: longest side in pixels. amp: 'auto' (bf16 where the CPU or GPU
    does it natively), 'bf16' or 'off'.
    """
    check_layer(model, layer)
    size = _check_counts(steps, size)
    device = next(model.parameters()).device
    photo = _photo(image, size, device)
    with _progress(steps, progress, layer) as bar:
        return _run(model, photo, layer, steps, tv_weight, seed, amp, bar)


def reconstruct_layers(model, image, layers=LAYERS, *, steps: int = STEPS, size: int = SIZE,
                       tv_weight: float = TV_WEIGHT, seed: int = 0, amp="auto", progress: bool = True
                       ) -> dict[str, Result]:
    """``reconstruct`` for each layer, from the same noise and with the same budget, so the layers compare.

    Ctrl-C ends the run: the layer being optimised keeps its best image so far, and later layers are skipped.
    """
    layers = [layers] if isinstance(layers, str) else list(layers)
    if not layers:
        raise UsageError(f"layers is empty: give at least one layer name, e.g. layers={list(LAYERS)}")
    for layer in layers:
        check_layer(model, layer)
    size = _check_counts(steps, size)
    device = next(model.parameters()).device
    photo = _photo(image, size, device)
    results = {}
    with _progress(steps * len(layers), progress, _("reconstructing")) as bar:
        for layer in layers:
            bar.set_description(layer)
            results[layer] = _run(model, photo, layer, steps, tv_weight, seed, amp, bar)
            if results[layer].stopped == "interrupted":
                break
    return results


def _run(model, photo, layer, steps, tv_weight, seed, amp, bar, coarse=None) -> Result:
    """Noise -> L-BFGS on the pixels against one layer's activations; the best full-size image is returned.

    The first ``coarse`` share of the steps runs at half size (a quarter of the cost each), and its result,
    upsampled, starts the full-size steps: the start then holds no pixel noise that a deep layer cannot see
    and so never removes.
    """
    coarse = COARSE_SHARE if coarse is None else coarse
    dtype = amp_dtype(photo.device, amp)
    net = runnable(model, dtype, channels_last=dtype is not None)
    record = Result(layer, photo, photo, math.inf, math.inf, weights_name(model))
    n_coarse = int(round(steps * coarse)) if min(photo.shape[-2:]) >= 2 * images.MIN_SIZE else 0
    gen = torch.Generator().manual_seed(seed)
    small = F.interpolate(photo, scale_factor=0.5, mode="area") if n_coarse else photo
    noise = torch.rand(small.shape, generator=gen).to(photo.device)
    x = 0.5 + INIT_SPREAD * (noise - 0.5)
    start = time.perf_counter()
    stages = ([(small, n_coarse)] if n_coarse else []) + [(photo, steps - n_coarse)]
    best = None
    try:
        for target_image, n in stages:
            if x.shape[-2:] != target_image.shape[-2:]:
                x = F.interpolate(x, size=target_image.shape[-2:], mode="bilinear", align_corners=False)
            best = _Stage(net, layer, target_image, x, tv_weight, record, start)
            for _step in range(n):
                best.step()
                record.steps += 1
                bar.update(1)
                bar.set_postfix(features=f"{best.features_error:.3g}", refresh=False)
            best.finish()
            x = best.image
    except KeyboardInterrupt:  # Ctrl-C or the notebook's stop button: keep what we have
        record.stopped = "interrupted"
        print(_("{layer}: interrupted after {steps} steps; keeping the best image so far").format(
            layer=layer, steps=record.steps))
    image = best.image if best is not None else x
    if image.shape[-2:] != photo.shape[-2:]:  # stopped during the coarse steps
        image = F.interpolate(image, size=photo.shape[-2:], mode="bilinear", align_corners=False).clamp(0, 1)
    record.image = image
    with torch.no_grad():
        target = net.extract(photo, [layer])[layer].float()
        record.feature_error = float(style.relative_error(net.extract(image, [layer])[layer], target))
    record.pixel_error = pixel_error(image, photo)
    record.seconds = time.perf_counter() - start
    return record


class _Stage:
    """L-BFGS at one size: the optimiser's closure, and the image with the lowest loss seen (``image``)."""

    def __init__(self, net, layer, photo, x, tv_weight, record, start):
        self.net, self.layer, self.tv_weight, self.record, self.start = net, layer, tv_weight, record, start
        with torch.no_grad():
            self.target = self.features(photo).float()
        self.x = x.detach().clone().requires_grad_(True)
        self.opt = torch.optim.LBFGS([self.x], lr=1.0, max_iter=1, history_size=20)
        self.loss, self.features_error, self.image = math.inf, math.inf, self.x.detach().clamp(0, 1)

    def features(self, x):
        return self.net.extract(x, [self.layer])[self.layer]

    def terms(self, image):
        feat_err = style.relative_error(self.features(image), self.target)
        tv = style.tv_loss(image)
        return feat_err, tv, feat_err + self.tv_weight * tv

    def offer(self, image, loss, feat_err):
        if loss < self.loss:
            self.loss, self.features_error, self.image = loss, feat_err, image.detach().clone()

    def closure(self):
        image = self.x.clamp(0, 1)
        feat_err, tv, loss = self.terms(image)
        value = float(loss.detach())
        self.record.rows.append({"step": self.record.steps, "seconds": time.perf_counter() - self.start,
                                 "loss": value, "features": float(feat_err.detach()), "tv": float(tv.detach())})
        self.offer(image, value, float(feat_err.detach()))
        (grad,) = torch.autograd.grad(loss + style.RANGE_WEIGHT * style.out_of_range(self.x), self.x)
        self.x.grad = grad
        return loss

    def step(self):
        self.opt.step(self.closure)

    def finish(self):
        """The point after the last step has not been scored yet."""
        with torch.no_grad():
            image = self.x.clamp(0, 1)
            feat_err, _tv, loss = self.terms(image)
            self.offer(image, float(loss), float(feat_err))


class _progress:
    """A tqdm.auto bar that is always closed (tqdm.auto picks a notebook widget when there is one)."""

    def __init__(self, total, enabled, description):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, disable=not enabled, unit="step", desc=description)

    def __enter__(self):
        return self.bar

    def __exit__(self, *exc):
        self.bar.close()
        return False


# ------------------------------------------------------------------------------------------- the figure


def errors_table(results: dict[str, Result]) -> str:
    """One line per layer: the two relative errors and the time, as the figure's titles give them."""
    lines = [pad(_("layer"), 9) + pad(_("pixel error"), 13, ">") + pad(_("feature error"), 15, ">")
             + pad(_("seconds"), 9, ">")]
    for layer, r in results.items():
        lines.append(f"{layer:<9}{r.pixel_error:>13.3f}{r.feature_error:>15.3g}{r.seconds:>9.1f}")
    return "\n".join(lines)


def summary(results: dict[str, Result], tolerance: float = 0.005) -> str:
    """One sentence built from the results: how the pixel error changes from the first layer to the last.
    Changes smaller than ``tolerance`` count as level."""
    if len(results) < 2:
        raise UsageError("results needs at least two layers to say anything about depth")
    names, errors = list(results), [r.pixel_error for r in results.values()]
    span = {"first": names[0], "last": names[-1], "first_error": f"{errors[0]:.3f}", "last_error": f"{errors[-1]:.3f}"}
    steps = [b - a for a, b in zip(errors, errors[1:])]
    if all(s > tolerance for s in steps):
        return _("The pixel error grows at every layer, from {first_error} at {first} to {last_error} at {last}: each "
                 "block deeper keeps less of the picture.").format(**span)
    if errors[-1] - errors[0] > tolerance:
        level = [names[i + 1] for i, s in enumerate(steps) if s <= tolerance]
        return _("The pixel error grows from {first_error} at {first} to {last_error} at {last}, but not at every "
                 "layer (not at {level}): deeper layers keep less of the picture overall.").format(
                     level=", ".join(level), **span)
    return _("The pixel error does not grow with depth here (from {first_error} at {first} to {last_error} at "
             "{last}).").format(**span)


def show_reconstructions(results: dict[str, Result], size: float = 3.2):
    """The photo, then one panel per layer titled with its measured errors; the title names the weights."""
    if not results:
        raise UsageError("results is empty: pass what reconstruct_layers returned")
    first = next(iter(results.values()))
    panels = [first.photo] + [r.image for r in results.values()]
    titles = [_("the photo")] + [_("{layer}\npixels {pixel_error}, features {feature_error}").format(
        layer=layer, pixel_error=f"{r.pixel_error:.2f}", feature_error=f"{r.feature_error:.2g}")
        for layer, r in results.items()]
    h, w = first.image.shape[-2:]
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size * h / w + 1.3), squeeze=False)
    for ax, panel, title in zip(axes[0], panels, titles):
        ax.imshow(images.to_numpy(panel))
        ax.set_title(title, fontsize=14)
        ax.set_axis_off()
    fig.suptitle(_("Rebuilt from one layer's activations ({weights}, {width}x{height} px, {steps} L-BFGS steps each; "
                   "relative squared errors)").format(weights=first.weights, width=w, height=h, steps=first.steps),
                 fontsize=15)
    fig.tight_layout()
    return fig
