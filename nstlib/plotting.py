"""Figures that read on a projector: large titles, no axes clutter, one call for a grid of images."""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import font_manager
from PIL import Image

from . import i18n
from .i18n import _

PRESENTER_RC = {
    "figure.dpi": 110,
    "font.size": 14,
    "axes.titlesize": 16,
    "axes.labelsize": 14,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 13,
    "figure.titlesize": 18,
}


# Widget text (ipywidgets controls, the studio) as large as the figures' text.
PRESENTER_CSS = """
<style>
.jp-OutputArea-output, .widget-label, .widget-readout, .widget-dropdown select, .widget-button,
.widget-toggle-button, .widget-html-content, .widget-upload { font-size: 17px !important; }
.widget-button, .widget-toggle-button, .widget-upload { height: 38px !important; }
.widget-label { min-width: 130px !important; }
</style>
"""


def presenter_mode(on: bool = True, widgets: bool = False) -> None:
    """One call before class: figure fonts large enough for a projector; ``widgets=True`` also enlarges the
    text of ipywidgets controls (the studio) in a notebook. ``presenter_mode(False)`` puts matplotlib's
    default fonts back."""
    if on:
        matplotlib.rcParams.update(PRESENTER_RC)
    else:
        matplotlib.rcParams.update({k: matplotlib.rcParamsDefault[k] for k in PRESENTER_RC})
        return
    if widgets:
        try:
            from IPython.display import HTML, display  # optional: only a notebook has widgets to enlarge
        except ImportError:
            return
        display(HTML(PRESENTER_CSS))


# Hangul in figures (the Korean edition): NanumGothic (SIL Open Font License), the font file bundled with the
# koreanize-matplotlib package. Only its file is used: importing that package would restyle matplotlib.
HANGUL_FONT_PACKAGE = "koreanize_matplotlib"
HANGUL_FONT_FILE = "fonts/NanumGothic.ttf"


def hangul_font_path():
    """The bundled Hangul font file (a ``Path``), found without importing the package that ships it; None when
    that package is not installed."""
    spec = importlib.util.find_spec(HANGUL_FONT_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / HANGUL_FONT_FILE
        if path.is_file():
            return path
    return None


def use_language_font(code: str | None = None) -> str | None:
    """Make matplotlib able to draw the language's text (the current language by default): for Korean, register
    the bundled Hangul font and put it first in ``font.family``, so figure titles in Hangul draw letters rather
    than empty boxes; for English, take it out again. The minus sign, which the Hangul font lacks, is drawn
    from the family after it (matplotlib falls back glyph by glyph along ``font.family``; a generic family
    such as "sans-serif" counts as its first installed font, which is why the Hangul font goes before it and
    not into the sans-serif list), so ``axes.unicode_minus`` keeps whatever value it has. Runs when plotting
    is imported and at every ``i18n.set_language``. Returns the name of the font put first, or None."""
    code = code or i18n.language()
    path = hangul_font_path()
    name = font_manager.get_font(str(path)).family_name if path is not None else None
    family = matplotlib.rcParams["font.family"]
    families = [entry for entry in ([family] if isinstance(family, str) else family) if entry != name]
    if code != "ko" or path is None:
        if name is not None:
            matplotlib.rcParams["font.family"] = families or ["sans-serif"]
        if code == "ko":
            warnings.warn(_("Korean figures need the koreanize-matplotlib package for their Hangul font: "
                            "pip install koreanize-matplotlib"), stacklevel=2)
        return None
    if name not in {font.name for font in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(path))
    matplotlib.rcParams["font.family"] = [name, *(families or ["sans-serif"])]
    return name


i18n.on_change(use_language_font)
use_language_font()


def as_display_array(image) -> np.ndarray:
    """PIL image, (1|3, H, W) or (1, 3, H, W) tensor, or numpy array -> something imshow understands."""
    if isinstance(image, Image.Image):
        return np.asarray(image)
    if isinstance(image, torch.Tensor):
        t = image.detach().float().cpu()
        if t.ndim == 4:
            t = t[0]
        if t.ndim == 3:
            t = t[0] if t.shape[0] == 1 else t.permute(1, 2, 0).clamp(0, 1)
        return t.numpy()
    return np.asarray(image)


def robust_limits(array: np.ndarray, quantile: float = 0.995) -> tuple[float, float]:
    """Colour limits for a feature map: a few very bright pixels would otherwise make the rest black."""
    low = float(array.min())
    high = float(np.quantile(array, quantile))
    return low, high if high > low else low + 1e-8


def show_images(images, titles=None, ncols: int | None = None, size: float = 3.5, cmap=None, suptitle=None,
                limits=None):
    """A row (or grid) of images with titles; returns the figure.

    2D maps (feature maps, heatmaps) get their own contrast each, clipped at the 99.5th percentile, unless
    ``limits=(low, high)`` puts them all on one scale, so that their values can be compared.
    """
    arrays = [as_display_array(image) for image in images]
    ncols = ncols or min(len(arrays), 4)
    nrows = math.ceil(len(arrays) / ncols)
    # Each cell as tall as the tallest picture needs (plus a title line): landscape photos leave no blank band.
    aspect = min(max(a.shape[0] / a.shape[1] for a in arrays), 2.0)
    title_room = 0.45 * (1 + max(str(t).count("\n") for t in titles)) if titles else 0.0
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size * aspect + title_room) * nrows),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= len(arrays):
            continue
        array = arrays[i]
        if array.ndim == 2:
            vmin, vmax = limits if limits is not None else robust_limits(array)
            ax.imshow(array, cmap=cmap or "gray", vmin=vmin, vmax=vmax)
        else:
            ax.imshow(array)
        if titles is not None:
            ax.set_title(titles[i])
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def weights_label(model) -> str:
    """The few words that name a model's weights (``weights.Source.label``), or '' for a model without them."""
    source = getattr(model, "source", None)
    return source.label if source is not None else ""


def name_weights(model, fig=None):
    """Write "weights: ..." under a figure (the current one by default): a picture made by a network depends
    on its weights, and the same lesson shows different pictures on ImageNet and on the offline pack. The line
    hangs below the figure's bottom edge, so it never covers tick labels; a notebook's inline figures (and any
    ``savefig(..., bbox_inches="tight")``) grow to include it."""
    fig = fig if fig is not None else plt.gcf()
    label = model if isinstance(model, str) else weights_label(model)
    if label:
        text = _("weights: {label}").format(label=label)
        fig.text(0.995, -0.005, text, ha="right", va="top", fontsize=11, color="0.35")
    return fig


def stretch_contrast(images: torch.Tensor, quantile: float = 0.01) -> torch.Tensor:
    """Each image of an (N, 3, H, W) batch stretched so its ``quantile`` and ``1 - quantile`` values (over all
    three colours, so hues keep) become 0 and 1. For display only: a faint, fine grating becomes visible."""
    flat = images.detach().float().flatten(1)
    low = flat.quantile(quantile, dim=1).view(-1, 1, 1, 1)
    high = flat.quantile(1 - quantile, dim=1).view(-1, 1, 1, 1)
    return ((images.detach().float() - low) / (high - low).clamp(min=1e-3)).clamp(0, 1)


def show_rows(rows: dict, column_titles=None, size: float = 2.1, stretch: bool = False):
    """A grid with one labelled row per entry of ``rows`` (label -> images of one batch), drawn without
    smoothing so that small images keep their pixels. ``stretch`` applies ``stretch_contrast`` to each
    image. Returns the figure."""
    ncols = max(len(imgs) for imgs in rows.values())
    fig, axes = plt.subplots(len(rows), ncols, figsize=(size * ncols + 1.2, size * len(rows)), squeeze=False)
    for row, (label, imgs) in zip(axes, rows.items()):
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
        batch = torch.stack([torch.as_tensor(im) for im in imgs]) if not isinstance(imgs, torch.Tensor) else imgs
        if stretch:
            batch = stretch_contrast(batch)
        for ax, image in zip(row, batch):
            ax.imshow(as_display_array(image), interpolation="nearest")
        row[0].set_ylabel(label, fontsize=15)
    for ax, title in zip(axes[0], column_titles or []):
        ax.set_title(title)
    fig.tight_layout()
    return fig


class LivePicture:
    """A picture shown once in a notebook and then replaced in place (an IPython display handle), for
    previews that update during a long run. Outside a notebook it shows nothing. It carries its own alt text
    in the output's metadata, so a lesson's figure cell describes only the figures it draws itself."""

    DEFAULT_ALT = ("A live preview of the picture being made, replaced in place as the run goes on; "
                   "its last frame is the final result.")

    def __init__(self, alt: str | None = None):
        self.handle = None
        self.alt = alt if alt is not None else _(self.DEFAULT_ALT)

    @staticmethod
    def available() -> bool:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        return get_ipython() is not None

    def update(self, image) -> None:
        if not self.available():
            return
        from IPython.display import display

        if self.handle is None:
            self.handle = display(image, display_id=True, metadata={"alt": self.alt})
        else:
            self.handle.update(image, metadata={"alt": self.alt})
