"""Lesson 1: how does each layer transform an image? Capture, draw and measure intermediate activations.

``capture_all`` records every convolution and pooling output of a VGG for one image; ``show_channels``
draws one layer's channels as a grid with per-channel contrast (pages of channels so all of a 512-channel
layer can be browsed); ``show_first_filters`` draws conv1_1's weights as RGB patches; ``blank_fraction``
measures what the lesson claims, that deeper layers have more channels that stay silent for an image.
"""

from __future__ import annotations

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch

from . import plotting  # noqa: F401 - registers the Hangul font of Korean figures
from .core.layers import CHANNELS, check_layers, layer_names
from .explorer import explorer, interactive_available
from .i18n import _, ngettext
from .images import sample, to_tensor  # the functions: ``images`` is a parameter name here

# ------------------------------------------------------------------------------------------- capturing


def conv_and_pool_layers(arch: str = "vgg16") -> list[str]:
    """conv1_1, conv1_2, pool1, conv2_1, ... pool5: the layers lesson 1 looks at."""
    return [n for n in layer_names(arch) if n.startswith(("conv", "pool"))]


def capture_all(model, image: torch.Tensor, layers=None) -> dict[str, torch.Tensor]:
    """Every conv and pool output of ``model`` for ``image`` (1, 3, H, W) in [0, 1], detached, as a dict.

    Conv outputs are taken before their ReLU (the network's ReLUs are not in place), so negative values,
    which the ReLU will silence, are visible too.
    """
    if layers is None:
        layers = [n for n in conv_and_pool_layers(model.arch) if n in model.layer_names]
    layers = check_layers(layers, model.arch)
    available = [n for n in layers if n in model.layer_names]
    if len(available) < len(layers):
        missing = [n for n in layers if n not in available]
        raise KeyError(f"layer(s) {missing} come after this model's last layer {model.layer_names[-1]}: "
                       f"build it with models.vgg(last_layer={missing[-1]!r}) or deeper")
    with torch.no_grad():
        return {name: t.detach() for name, t in model.extract(image, layers).items()}


def describe(acts: dict[str, torch.Tensor]) -> list[str]:
    """One line per layer: name, channels and spatial size."""
    line = _("{name} {channels} channels  {height} x {width}")
    return [line.format(name=f"{name:<8}", channels=f"{t.shape[1]:>4}", height=f"{t.shape[2]:>3}",
                        width=f"{t.shape[3]:<3}") for name, t in acts.items()]


def check_channel(acts: torch.Tensor, channel: int, layer: str = "this layer") -> int:
    n = acts.shape[1]
    if not isinstance(channel, (int, np.integer)) or not 0 <= channel < n:
        raise IndexError(f"channel {channel!r} does not exist in {layer}, which has {n} channels: use 0 to {n - 1}")
    return int(channel)


# ------------------------------------------------------------------------------------------- measuring


def blank_fraction(acts: torch.Tensor, threshold: float = 0.0) -> float:
    """Share of channels that are blank for this image: no position above ``threshold``.

    For a conv output (before the ReLU) that means the ReLU turns the whole channel to zero; for a pool
    output (after a ReLU) that it is zero everywhere. ``acts``: (1, C, H, W) or (C, H, W).
    """
    t = acts.detach()
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ValueError(f"one image at a time, please: got a batch of {t.shape[0]}")
        t = t[0]
    if t.ndim != 3:
        raise ValueError(f"expected activations of shape (1, C, H, W) or (C, H, W), got {tuple(acts.shape)}")
    peak = t.flatten(1).amax(dim=1)
    return (peak <= threshold).float().mean().item()


def zero_fraction(acts: torch.Tensor) -> float:
    """Share of all values (channels x positions) that the ReLU sets to zero: how sparse the layer's map is."""
    return (acts.detach() <= 0).float().mean().item()


def blank_fractions(model, images: dict, layers=None, size: int = 224, threshold: float = 0.0) -> dict:
    """{image name: {layer: blank fraction}} for several images (name -> PIL image, tensor or sample name)."""
    param = next(model.parameters())
    out = {}
    for name, src in images.items():
        src = sample(src) if isinstance(src, str) else src
        x = src if isinstance(src, torch.Tensor) else to_tensor(src, size, param.device, param.dtype)
        acts = capture_all(model, x.to(param.device, param.dtype), layers)
        out[name] = {layer: blank_fraction(t, threshold) for layer, t in acts.items()}
    return out


def _mean_per_layer(fractions: dict) -> dict:
    layers = list(next(iter(fractions.values())))
    return {n: float(np.mean([f[n] for f in fractions.values()])) for n in layers}


def blank_trend(fractions: dict) -> str:
    """One sentence, built from ``blank_fractions`` output, on how the blank share moves with depth: the
    lesson prints it instead of stating a trend that other weights may not show."""
    mean = _mean_per_layer(fractions)
    layers = list(mean)
    rank = np.corrcoef(np.arange(len(layers)), np.argsort(np.argsort([mean[n] for n in layers])))[0, 1]
    if rank > 0.8:
        overall = _("the share of blank channels grows steadily with depth")
    elif rank < -0.8:
        overall = _("the share of blank channels shrinks steadily with depth")
    else:
        overall = _("the share of blank channels does not grow steadily with depth")
    moves = {"rises": [], "falls": [], "stays level": []}
    for block in sorted({n[4] for n in layers if n[4].isdigit()}):
        in_block = [mean[n] for n in layers if n.startswith("conv" + block)]
        if len(in_block) < 2:
            continue
        change = in_block[-1] - in_block[0]
        moves["rises" if change > 0.05 else "falls" if change < -0.05 else "stays level"].append(block)
    wording = {"rises": ngettext("rises within block {blocks}", "rises within blocks {blocks}", len(moves["rises"])),
               "falls": ngettext("falls within block {blocks}", "falls within blocks {blocks}", len(moves["falls"])),
               "stays level": ngettext("stays level within block {blocks}", "stays level within blocks {blocks}",
                                       len(moves["stays level"]))}
    parts = [wording[how].format(blocks=", ".join(b)) for how, b in moves.items() if b]
    similar = max(float(np.std([f[n] for f in fractions.values()])) for n in layers) < 0.15
    photos = (_("the curves of the different photos stay close together") if similar else
              _("the curves of the different photos differ"))
    head = ngettext("Measured on {n} photo: {overall}", "Measured on {n} photos: {overall}", len(fractions))
    blocks = _("from the first to the last convolution of a block it {changes}")
    return _("{measured}; {blocks}; {photos}.").format(
        measured=head.format(n=len(fractions), overall=overall),
        blocks=blocks.format(changes=_("; ").join(parts)), photos=photos)


def kernel_kind(kernel: torch.Tensor, edge_share: float = 0.6) -> str:
    """What one conv1_1 kernel (3, kh, kw, RGB) responds to: 'colour' when most of its weight is its spatial
    mean (the same at every tap); an edge when a linear ramp (light on one side, dark on the other) explains
    at least ``edge_share`` of the rest, named by the direction of the edge it finds; else 'other' (spots,
    lines, or noise: an untrained kernel is mostly this)."""
    k = kernel.detach().float()
    flat = k.mean(dim=(1, 2), keepdim=True)
    rest = k - flat
    structure = float(rest.pow(2).sum())
    if float(flat.pow(2).sum()) * k[0].numel() > structure:
        return "colour"
    h, w = k.shape[1:]
    ys = torch.linspace(-1, 1, h).view(h, 1).expand(h, w)
    xs = torch.linspace(-1, 1, w).view(1, w).expand(h, w)
    gx = (rest * xs).sum(dim=(1, 2)) / xs.pow(2).sum()  # per colour, the ramp that fits best
    gy = (rest * ys).sum(dim=(1, 2)) / ys.pow(2).sum()
    ramp = gx.view(-1, 1, 1) * xs + gy.view(-1, 1, 1) * ys
    if float(ramp.pow(2).sum()) < edge_share * structure:
        return "other"
    ax, ay = float(gx.norm()), float(gy.norm())
    if ay > 2 * ax:
        return "horizontal edge"
    if ax > 2 * ay:
        return "vertical edge"
    return "diagonal edge"


def kernel_kinds(model) -> list[str]:
    """``kernel_kind`` of each of conv1_1's filters, in RGB order (as ``first_layer_filters`` draws them)."""
    return [kernel_kind(k) for k in _conv1_1_rgb(model)]


def first_layer_summary(model) -> str:
    """A sentence counting conv1_1's colour and edge detectors, measured on the weights in use."""
    kinds = kernel_kinds(model)
    edges = {k: kinds.count(k) for k in ("horizontal edge", "vertical edge", "diagonal edge")}
    n_edges = sum(edges.values())
    named = {"horizontal edge": _("{n} horizontal"), "vertical edge": _("{n} vertical"),
             "diagonal edge": _("{n} diagonal")}
    detail = ", ".join(named[k].format(n=n) for k, n in edges.items() if n)
    return _("Of conv1_1's {total} filters, {colour} are mostly one colour at every tap (colour detectors), "
             "{edges} are a ramp from a light to a dark side (edge detectors: {detail}) and {other} are "
             "neither.").format(total=len(kinds), colour=kinds.count("colour"), edges=n_edges,
                                detail=detail or _("none"), other=kinds.count("other"))


# ------------------------------------------------------------------------------------------- drawing


def normalize_channels(acts: torch.Tensor, quantile: float = 0.995) -> torch.Tensor:
    """Per-channel contrast: each channel of (C, H, W) stretched to [0, 1] (a constant channel becomes 0).

    The top is the channel's 99.5th percentile, not its maximum: a few very bright pixels would otherwise
    leave the rest of the map black, which reads as "empty" on a projector.
    """
    t = acts.detach().float()
    flat = t.flatten(1)
    lo = flat.amin(1).view(-1, 1, 1)
    hi = torch.quantile(flat, quantile, dim=1).view(-1, 1, 1)
    hi = torch.where(hi > lo, hi, flat.amax(1).view(-1, 1, 1))
    span = hi - lo
    return torch.where(span > 0, ((t - lo) / span.clamp(min=1e-12)).clamp(0, 1), torch.zeros_like(t))


def show_channels(acts: dict, layer: str, page: int = 0, per_page: int = 32, ncols: int = 8, cmap="viridis",
                  size: float = 1.9, relu: bool = True):
    """One page of ``layer``'s channels as a grid, each with its own contrast; blank channels are marked.

    ``page`` 0 shows channels 0 .. per_page - 1, page 1 the next ones, and so on. ``relu``: show what the
    next layer receives (negative values clipped to 0) rather than the raw conv output. Returns the figure.
    """
    if layer not in acts:
        raise KeyError(f"no activations for layer {layer!r}; captured layers are: {', '.join(acts)}")
    t = acts[layer][0].clamp(min=0) if relu else acts[layer][0]
    n_pages = math.ceil(t.shape[0] / per_page)
    if not 0 <= page < n_pages:
        raise IndexError(f"{layer} has {t.shape[0]} channels, {n_pages} pages of {per_page}: use page 0 to "
                         f"{n_pages - 1}")
    idx = list(range(page * per_page, min(t.shape[0], (page + 1) * per_page)))
    shown = normalize_channels(t[idx]).cpu().numpy()
    peaks = t[idx].flatten(1).amax(1).cpu().numpy()
    nrows = math.ceil(len(idx) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.8), squeeze=False)
    colormap = matplotlib.colormaps[cmap]
    for ax in axes.flat:
        ax.set_axis_off()
    for k, (ax, c) in enumerate(zip(axes.flat, idx)):
        blank = peaks[k] <= 0
        ax.imshow(np.zeros_like(shown[k]) if blank else shown[k], cmap=colormap, vmin=0, vmax=1)
        ax.set_title(_("{channel} blank").format(channel=c) if blank else f"{c}", fontsize=12,
                     color="grey" if blank else "black")
    fig.suptitle(_("{layer}: channels {first}-{last} of {total}, {height}x{width} px (page {page}/{pages})").format(
        layer=layer, first=idx[0], last=idx[-1], total=t.shape[0], height=t.shape[1], width=t.shape[2],
        page=page + 1, pages=n_pages), fontsize=16)
    fig.tight_layout()
    return fig


def show_layers(acts: dict, layers=None, channels: int = 8, size: float = 1.9, cmap="viridis", relu: bool = True):
    """The first ``channels`` channels of several layers, one row per layer, labelled with name and size."""
    layers = list(acts) if layers is None else layers
    fig, axes = plt.subplots(len(layers), channels, figsize=(size * channels + 1.5, size * len(layers)),
                             squeeze=False)
    colormap = matplotlib.colormaps[cmap]
    for row, layer in zip(axes, layers):
        t = acts[layer][0].clamp(min=0) if relu else acts[layer][0]
        shown = normalize_channels(t[:channels]).cpu().numpy()
        for c, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.imshow(shown[c], cmap=colormap, vmin=0, vmax=1)
        row[0].set_ylabel(_("{layer}\n{channels}ch {height}x{width}").format(
            layer=layer, channels=t.shape[0], height=t.shape[1], width=t.shape[2]), fontsize=13, rotation=0,
            ha="right", va="center")
    fig.tight_layout()
    return fig


def _conv1_1_rgb(model) -> torch.Tensor:
    """conv1_1's weights (64, 3, 3, 3) on the CPU in RGB order: the offline pack's network reads BGR (Caffe)."""
    w = model.features.conv1_1.weight.detach().float().cpu()
    return w.flip(1) if type(model.preprocess).__name__ == "CaffePreprocess" else w


def first_layer_filters(model) -> torch.Tensor:
    """conv1_1's 64 weights as RGB patches (64, 3, 3, 3) in [0, 1], each filter normalised on its own.

    The offline pack's network reads BGR (Caffe), so its weights are flipped to RGB first: what you see is
    the colour each filter responds to.
    """
    w = _conv1_1_rgb(model)
    lo = w.flatten(1).amin(1).view(-1, 1, 1, 1)
    hi = w.flatten(1).amax(1).view(-1, 1, 1, 1)
    return (w - lo) / (hi - lo).clamp(min=1e-12)


def show_first_filters(model, ncols: int = 16, size: float = 0.9):
    """conv1_1's filters as a grid of 3x3 RGB patches (enlarged without smoothing)."""
    patches = first_layer_filters(model)
    nrows = math.ceil(len(patches) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.7), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, p in zip(axes.flat, patches):
        ax.imshow(p.permute(1, 2, 0).numpy(), interpolation="nearest")
    fig.suptitle(_("conv1_1: 64 filters of 3x3 pixels, RGB, each normalised"), fontsize=16)
    fig.tight_layout()
    return fig


def plot_blank_fractions(fractions: dict, ax=None):
    """Blank-channel share per layer, one line per image (the output of ``blank_fractions``)."""
    if ax is None:
        ax = plt.subplots(figsize=(12, 4.8))[1]
    layers = list(next(iter(fractions.values())))
    for name, per_layer in fractions.items():
        ax.plot(range(len(layers)), [100 * per_layer[n] for n in layers], marker="o", label=name)
    mean = [100 * np.mean([f[n] for f in fractions.values()]) for n in layers]
    ax.plot(range(len(layers)), mean, color="black", linewidth=3, label=_("mean"))
    ax.set_xticks(range(len(layers)))
    ax.set_xticklabels(layers, rotation=60, ha="right")
    ax.set_ylabel(_("blank channels (%)"))
    rising = np.corrcoef(np.arange(len(layers)), mean)[0, 1]
    ax.set_title(_("Blank channels per layer: more with depth") if rising > 0.8 else
                 _("Blank channels per layer: fewer with depth") if rising < -0.8 else
                 _("Blank channels per layer: no steady trend with depth"))
    ax.grid(alpha=0.3)
    ax.legend(ncol=3, fontsize=11)
    ax.figure.tight_layout()
    return ax.figure


def explore(model, images: dict, layers=None, size: int = 224):
    """Browse (image, layer, channel page) with ipywidgets; headless it draws the first view once.

    images: {name: PIL image or sample name}. Activations are computed once per image and cached.
    """
    layers = conv_and_pool_layers(model.arch) if layers is None else check_layers(layers, model.arch)
    param = next(model.parameters())
    cache = {}

    def acts_for(name):
        if name not in cache:
            src = images[name]
            src = sample(src) if isinstance(src, str) else src
            cache[name] = capture_all(model, to_tensor(src, size, param.device, param.dtype), layers)
        return cache[name]

    max_pages = max(CHANNELS) // 16

    def render(image, layer, page):
        acts = acts_for(image)
        n_pages = math.ceil(acts[layer].shape[1] / 16)
        fig = show_channels(acts, layer, page=min(page, n_pages - 1), per_page=16, size=1.6)
        if interactive_available():
            plt.show()  # inside the widget's output area; returning the figure would draw it twice
            return None
        return fig

    return explorer(render, image=list(images), layer=layers, page=(0, max_pages - 1))

