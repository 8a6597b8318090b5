"""Lesson 3: which part of the image made the network decide? Class activation maps.

Grad-CAM (Selvaraju et al. 2017), Grad-CAM++ (Chattopadhyay et al. 2018) and the gradient-free Score-CAM
(Wang et al. 2020) share one mechanism: ``nstlib.hooks.capture`` records a layer's output during one
forward pass, ``torch.autograd.grad`` takes the class score's gradient with respect to it (never backward
hooks, so in-place ReLUs are fine), and the map is a weighted sum of the layer's channels, ReLU'd,
upsampled to the input size and scaled to [0, 1] per image.

Score-CAM's channel weights: by default (``weighting="gain"``) each channel's raw gain in the class
probability over a black image, so a channel that lowers the confidence counts against the class. The paper
instead takes a softmax of the gains over the channels (``weighting="softmax"``), which makes every weight
positive (and the map close to the average channel when the gains are small). When every gain of an image
is negative or zero the "gain" map would be empty; that image falls back to the softmax weighting, with a
warning, so a map is never silently blank.

Works for callers inside ``torch.no_grad()`` or ``torch.inference_mode()`` (the map is computed on a normal
copy of the input), leaves no hook and no ``.grad`` on any parameter, restores
every train/eval flag, and returns maps on the input's device. ``overlay``, ``show`` and ``grid`` draw
them; ``nstlib.cam_metrics`` measures a method against known object boxes (pointing game, average drop /
increase in confidence, deletion / insertion) and sanity-checks it.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import hooks
from .i18n import _

# ------------------------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class TopK:
    """Target the ``k`` highest-scoring classes of each image: maps come back as (N, k, H, W)."""

    k: int = 3


def top_classes(model: nn.Module, x: torch.Tensor, k: int = 5):
    """(probabilities (N, k), class indices (N, k), names) of the k most likely classes per image."""
    x = _check_input(x)
    with torch.no_grad(), hooks.eval_mode(model):
        probs = model(x).softmax(1)
    p, idx = probs.topk(min(k, probs.shape[1]), dim=1)
    cats = getattr(model, "categories", None)
    names = [[cats[i] if cats else str(i) for i in row] for row in idx.tolist()]
    return p, idx, names


def class_index(model: nn.Module, name: str) -> int:
    """A class name -> its index, through ``model.categories`` (case and spaces do not matter)."""
    cats = getattr(model, "categories", None)
    if not cats:
        raise ValueError(f"{type(model).__name__} has no `categories` list, so classes must be given by index")
    wanted = name.strip().lower().replace("_", " ")
    for i, cat in enumerate(cats):
        if cat.lower().replace("_", " ") == wanted:
            return i
    close = difflib.get_close_matches(wanted, [c.lower() for c in cats], n=5, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise KeyError(f"no class called {name!r} among the model's {len(cats)} categories.{hint}")


def _target_scores(model, logits: torch.Tensor, target) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(scores (N, K) to explain, the classes they belong to (N, K) or None for a callable)."""
    n, n_classes = logits.shape[0], logits.shape[1]
    if target is None:
        target = TopK(1)
    if isinstance(target, torch.Tensor) and target.ndim == 0:
        target = int(target)
    if isinstance(target, TopK):
        if not 1 <= target.k <= n_classes:
            raise ValueError(f"TopK(k) needs 1 <= k <= {n_classes}, got k={target.k}")
        classes = logits.topk(target.k, dim=1).indices
    elif callable(target) and not isinstance(target, (str, int)):
        scores = target(logits)
        if not isinstance(scores, torch.Tensor) or scores.shape not in ((n,), (n, 1)) or not scores.requires_grad:
            raise ValueError(
                "a callable target must map the logits (N, classes) to one differentiable score per image, "
                f"shape ({n},), e.g. lambda z: z[:, 3] - z[:, 5]; got "
                f"{tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__}"
            )
        return scores.reshape(n, 1), None
    else:
        items = list(target) if isinstance(target, (list, tuple, torch.Tensor)) else [target] * n
        if len(items) != n:
            raise ValueError(f"got {len(items)} targets for a batch of {n} images; give one per image or one for all")
        indices = []
        for item in items:
            if isinstance(item, str):
                item = class_index(model, item)
            item = int(item)
            if not 0 <= item < n_classes:
                raise ValueError(
                    f"class index {item} is out of range: the model has {n_classes} classes (0..{n_classes - 1})"
                )
            indices.append(item)
        classes = torch.tensor(indices, device=logits.device).view(n, 1)
    return logits.gather(1, classes), classes


# ------------------------------------------------------------------------------------------- layers


_ELEMENTWISE = (nn.BatchNorm2d, nn.ReLU, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.Identity)


def _activation_outputs(model: nn.Module) -> list[str]:
    """Each convolution's output after the BatchNorm / ReLU that directly follow it, in forward order."""
    leaves = [(name, m) for name, m in model.named_modules() if name and not list(m.children())]
    out = []
    for i, (name, module) in enumerate(leaves):
        if isinstance(module, nn.Conv2d):
            chosen = name
            for later, m in leaves[i + 1:]:
                if not isinstance(m, _ELEMENTWISE):
                    break
                if not isinstance(m, nn.BatchNorm2d):
                    chosen = later
            out.append(_short(model, chosen))
    return out


def _short(model: nn.Module, full: str) -> str:
    """``features.relu5_3`` -> ``relu5_3`` when that last part names the layer unambiguously."""
    short = full.rsplit(".", 1)[-1]
    if short.isdigit():  # torchvision's features.29: the number alone says nothing
        return full
    try:
        return short if hooks.find_module(model, short)[0] == full else full
    except KeyError:
        return full


def default_layer(model: nn.Module) -> str:
    """The last convolution's output after its activation (``relu5_3`` in VGG16): the usual Grad-CAM layer."""
    layers = _activation_outputs(model)
    if not layers:
        raise ValueError(f"{type(model).__name__} has no Conv2d layer; pass layer= explicitly")
    return layers[-1]


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the layers a CAM can be taken at: every convolution's activation (ReLU) output."""
    return _activation_outputs(model)


# ------------------------------------------------------------------------------------------- the methods


def _check_input(x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected an image tensor (N, 3, H, W), got {type(x).__name__}; use nstlib.images.to_tensor")
    if x.ndim == 3:
        x = x.unsqueeze(0)
    if x.ndim != 4:
        raise ValueError(f"expected an image tensor of shape (N, 3, H, W) or (3, H, W), got {tuple(x.shape)}")
    return x


def _normalise(maps: torch.Tensor) -> torch.Tensor:
    """Scale each map to [0, 1] (min to 0, max to 1); a flat map becomes all zeros."""
    flat = maps.flatten(-2)
    lo, hi = flat.min(-1).values[..., None, None], flat.max(-1).values[..., None, None]
    span = hi - lo
    return torch.where(span > 0, (maps - lo) / span.clamp_min(torch.finfo(maps.dtype).tiny), torch.zeros_like(maps))


def _upsample(maps: torch.Tensor, size) -> torch.Tensor:
    """(N, K, h, w) -> (N, K, H, W), bilinear."""
    return F.interpolate(maps, size=size, mode="bilinear", align_corners=False)


def _grad_weights(acts, grads, method):
    if method == "gradcam":
        return grads.mean((2, 3), keepdim=True)
    # Grad-CAM++: pixel-wise weights alpha from the second and third powers of the gradient (the paper's
    # closed form under an exponential of the score), then a positive-gradient average.
    g2, g3 = grads.pow(2), grads.pow(3)
    denom = 2 * g2 + acts.sum((2, 3), keepdim=True) * g3
    alpha = torch.where(denom != 0, g2 / torch.where(denom != 0, denom, torch.ones_like(denom)), torch.zeros_like(g2))
    return (alpha * grads.clamp_min(0)).sum((2, 3), keepdim=True)


def _forward(model, x, layer, grad=True):
    """One forward pass (with gradients on unless ``grad=False``): (logits, the layer's output in the graph)."""
    with torch.set_grad_enabled(grad), hooks.capture(model, [layer], eval_mode=True) as cap:
        # The input asks for gradients so that the graph reaches the layer even when every parameter is
        # frozen; torch.autograd.grad then stops at the layer, so nothing below it is back-propagated.
        logits = model(x.detach().requires_grad_(grad))
        if layer not in cap.outputs:
            raise RuntimeError(f"layer {layer!r} was not used in the forward pass")
        acts = cap[layer]
    if acts.ndim != 4:
        raise ValueError(f"layer {layer!r} outputs shape {tuple(acts.shape)}; a CAM needs a (N, C, h, w) feature map")
    return logits, acts


def _gradient_cam(model, x, target, layer, method):
    if torch.is_inference_mode_enabled():
        # Inference tensors keep no graph, so there is no gradient to take: leave inference mode for this
        # call and work on a normal copy of the input (the caller's tensors are untouched).
        with torch.inference_mode(False):
            return _gradient_cam(model, x.clone(), target, layer, method)
    logits, acts = _forward(model, x, layer)
    with torch.enable_grad():
        scores, classes = _target_scores(model, logits, target)
        maps = []
        for k in range(scores.shape[1]):
            (grads,) = torch.autograd.grad(scores[:, k].sum(), acts, retain_graph=k + 1 < scores.shape[1])
            weights = _grad_weights(acts.detach(), grads, method)
            maps.append(F.relu((weights * acts.detach()).sum(1)))
    return torch.stack(maps, 1), classes


SCORECAM_WEIGHTINGS = ("gain", "softmax")


@torch.no_grad()
def _score_cam(model, x, target, layer, batch_size=64, channels=None, weighting="gain"):
    """Score-CAM: each channel, upsampled and scaled to [0, 1], masks the input; its weight is how much the
    masked image raises the class probability over a black image (the paper's 'increase of confidence'),
    used as it is (``gain``) or through a softmax over the channels as in the paper (``softmax``)."""
    if callable(target) and not isinstance(target, (str, int, TopK, torch.Tensor)):
        raise ValueError("Score-CAM needs class targets (index, name, list or TopK), not a callable")
    if weighting not in SCORECAM_WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(SCORECAM_WEIGHTINGS)}, got {weighting!r}")
    logits, acts = _forward(model, x, layer, grad=False)
    classes = _target_scores(model, logits, target)[1]
    n, c = acts.shape[:2]
    maps, fell_back = [], []
    for i in range(n):
        a = acts[i:i + 1]
        keep = torch.arange(c, device=a.device)
        if channels is not None and channels < c:  # the most active channels only: faster, nearly the same map
            keep = a.mean((2, 3))[0].topk(channels).indices
        masks = _normalise(_upsample(a[:, keep], x.shape[-2:]))[0]  # (C', H, W)
        with hooks.eval_mode(model):
            base = model(torch.zeros_like(x[i:i + 1])).softmax(1)[0, classes[i]]
            gains = []
            for j in range(0, len(keep), batch_size):
                masked = x[i:i + 1] * masks[j:j + batch_size, None]
                gains.append(model(masked).softmax(1)[:, classes[i]] - base)  # (B, K)
        w = torch.cat(gains)  # (C', K)
        softmax = torch.einsum("ck,chw->khw", w.softmax(0), a[0, keep])
        if weighting == "softmax":
            maps.append(F.relu(softmax))
            continue
        m = F.relu(torch.einsum("ck,chw->khw", w, a[0, keep]))
        empty = m.flatten(1).amax(1) <= 0  # every channel lowered the confidence of that class
        if empty.any() and (softmax > 0).any():
            m = torch.where(empty[:, None, None], F.relu(softmax), m)
            fell_back.append(i)
        maps.append(m)
    if fell_back:
        images = f"{fell_back[:10]}{' ...' if len(fell_back) > 10 else ''}"
        warnings.warn(_("Score-CAM: for image(s) {images} no channel raised the confidence of the target class (every "
                        "weight was negative), so their maps use the paper's softmax weighting instead of an empty "
                        "map; pass weighting='softmax' to use it for every image").format(images=images),
                      RuntimeWarning, stacklevel=4)
    return torch.stack(maps), classes


METHODS = ("gradcam", "gradcam++", "scorecam")


def cam(model: nn.Module, x: torch.Tensor, target=None, method: str = "gradcam", layer: str | None = None,
        upsample: bool = True, return_classes: bool = False, **options):
    """Class activation maps for a batch: (N, H, W) in [0, 1] on x's device, or (N, k, H, W) for ``TopK(k)``.

    target: None (each image's top class), a class index, a class name (``model.categories``), one per
        image (list or tensor), ``TopK(k)``, or a callable mapping the logits (N, classes) to a score (N,).
    method: 'gradcam', 'gradcam++' or 'scorecam' (options: batch_size, channels, weighting='gain' or
        'softmax', see the module docstring).
    layer: a layer name (``relu4_3``, ``features.29``); default ``default_layer(model)``.
    upsample: False keeps the layer's resolution (N, h, w), still scaled to [0, 1].
    return_classes: also return the classes explained, (N,) or (N, k) (None for a callable target).
    """
    x = _check_input(x)
    method = method.lower().replace("-", "").replace("_", "").replace(" ", "")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    layer = layer or default_layer(model)
    hooks.find_module(model, layer)  # a clear error listing the valid names
    if method == "scorecam":
        maps, classes = _score_cam(model, x, target, layer, **options)
    else:
        if options:
            raise TypeError(f"{method} takes no options, got {sorted(options)}")
        maps, classes = _gradient_cam(model, x, target, layer, method)
    maps = maps.detach().to(x.dtype)
    if upsample:
        maps = _upsample(maps, x.shape[-2:])
    maps = _normalise(maps)
    single = not isinstance(target, TopK)
    if single:
        maps = maps[:, 0]
        classes = classes[:, 0] if classes is not None else None
    return (maps, classes) if return_classes else maps


def grad_cam(model, x, target=None, layer=None, **kw):
    """Grad-CAM: channel weights are the mean gradient of the class score over the feature map."""
    return cam(model, x, target, "gradcam", layer, **kw)


def grad_cam_pp(model, x, target=None, layer=None, **kw):
    """Grad-CAM++: pixel-wise weighted positive gradients; better with several instances of a class."""
    return cam(model, x, target, "gradcam++", layer, **kw)


def score_cam(model, x, target=None, layer=None, **kw):
    """Score-CAM: no gradients; each channel's weight is the confidence its mask alone gives the class
    (``weighting='gain'``, nstlib's default) or the paper's softmax of those over the channels ('softmax')."""
    return cam(model, x, target, "scorecam", layer, **kw)


# ------------------------------------------------------------------------------------------- pictures


def overlay(image, heatmap, alpha: float = 0.5, colormap: str = "jet") -> np.ndarray:
    """The image with the map on top in a colormap: an (H, W, 3) float array in [0, 1] for imshow.

    image: (3, H, W) or (1, 3, H, W) tensor in [0, 1], PIL image or (H, W, 3) array; heatmap: (H, W) in [0, 1]
    (resized to the image if needed). alpha: how much of the colour map shows.
    """
    import matplotlib  # matplotlib (and plotting, which imports it) load only when a picture is drawn

    from .plotting import as_display_array

    img = as_display_array(image).astype(np.float32)
    if img.max() > 1.0:
        img = img / 255.0
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    h = torch.as_tensor(heatmap).detach().float().cpu()
    while h.ndim > 2:
        h = h[0]
    if tuple(h.shape) != img.shape[:2]:
        h = F.interpolate(h[None, None], size=img.shape[:2], mode="bilinear", align_corners=False)[0, 0]
    colours = matplotlib.colormaps[colormap](h.clamp(0, 1).numpy())[..., :3]
    return ((1 - alpha) * img[..., :3] + alpha * colours).clip(0, 1).astype(np.float32)


def show(image, maps, titles=None, alpha=0.5, size=3.5, suptitle=None):
    """The image, then each map over it: one row, titles on top; returns the figure."""
    from .plotting import show_images  # plotting imports matplotlib: only when a picture is drawn

    maps = list(maps) if isinstance(maps, (list, tuple)) else list(maps.reshape(-1, *maps.shape[-2:]))
    pictures = [image] + [overlay(image, m, alpha) for m in maps]
    titles = [_("image")] + list(titles) if titles is not None else None
    return show_images(pictures, titles, ncols=len(pictures), size=size, suptitle=suptitle)


def grid(images, maps=None, boxes=None, titles=None, ncols: int = 4, size: float = 3.0, alpha: float = 0.5,
         suptitle=None):
    """Images (N, 3, H, W), each with its map over it and its object box(es) drawn; returns the figure.

    boxes: (N, 4) or (N, K, 4) as x0, y0, x1, y1 (x1, y1 exclusive), drawn as white rectangles.
    """
    from .plotting import show_images  # plotting imports matplotlib: only when a picture is drawn

    n = len(images)
    pictures = [overlay(images[i], maps[i], alpha) if maps is not None else images[i] for i in range(n)]
    fig = show_images(pictures, titles=titles, ncols=min(ncols, n), size=size, suptitle=suptitle)
    for i, ax in enumerate(fig.axes[:n]):
        if boxes is not None:
            _draw_boxes(ax, boxes[i])
        if maps is not None:
            m = maps[i].reshape(-1, *maps[i].shape[-2:])[0]
            y, x = divmod(int(m.argmax()), m.shape[-1])
            ax.plot([x], [y], marker="+", color="white", markersize=14, markeredgewidth=3)
    return fig


def _draw_boxes(ax, boxes) -> None:
    """Object boxes, (4,) or (K, 4) as x0, y0, x1, y1 (x1, y1 exclusive), as dashed white rectangles."""
    from matplotlib.patches import Rectangle  # matplotlib loads only when a picture is drawn

    for x0, y0, x1, y1 in torch.as_tensor(boxes).reshape(-1, 4).tolist():
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor="white", linewidth=2,
                               linestyle="--"))


def grid_rows(images, rows: dict, boxes=None, titles=None, xlabels=None, columns: bool = False, size=3.0,
              title_size=None, suptitle=None):
    """Several maps of the same images side by side: one row per entry of ``rows`` (name -> maps (N, H, W)),
    one column per image of ``images`` (N, 3, H, W); ``columns=True`` swaps the two. Returns the figure.

    Each picture is the image with that map over it and the image's ``boxes`` ((N, 4) or (N, K, 4)) drawn.
    titles, xlabels: nested lists, by entry then by image, of text above and below each picture. Without
    ``titles`` each entry's name stands above its row (on the left) or above its column. size: one picture's
    width, or (width, height), in inches.
    """
    import matplotlib.pyplot as plt  # matplotlib loads only when a picture is drawn

    from . import plotting  # noqa: F401 - registers the Hangul font of Korean figures

    width, height = (size, size) if isinstance(size, (int, float)) else size
    names, n = list(rows), len(images)
    nrows, ncols = (n, len(names)) if columns else (len(names), n)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    for e, name in enumerate(names):
        for i in range(n):
            ax = axes[i, e] if columns else axes[e, i]
            ax.imshow(overlay(images[i], rows[name][i]))
            if boxes is not None:
                _draw_boxes(ax, boxes[i])
            if xlabels is not None:  # a label below needs the axes: hide only the ticks
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_xlabel(xlabels[e][i])
            else:
                ax.set_axis_off()
            if titles is not None:
                ax.set_title(titles[e][i], fontsize=title_size)
        if titles is None:
            if columns:
                axes[0, e].set_title(name, fontsize=title_size)
            else:
                axes[e, 0].set_title(name, loc="left", fontsize=title_size)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


__all__ = ["TopK", "cam", "grad_cam", "grad_cam_pp", "score_cam", "METHODS", "default_layer", "conv_layers",
           "top_classes", "class_index", "overlay", "show", "grid", "grid_rows"]
