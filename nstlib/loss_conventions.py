"""Lesson 4: how the well-known style transfer codes write their losses, and their weights in nstlib's terms.

Each ``Convention`` computes its style loss (per layer) and its content loss from its OWN formula: its raw
or normalised Gram matrix, its own reduction and its own weights, as its code or paper writes them. Every one
of those terms is a constant times nstlib's (``style``: Gram ``F Fᵀ / (C·H·W)``, per-layer style term
``‖G − A‖² / ‖A‖²``, content ``‖F − P‖² / ‖P‖²``), and the constant depends on the targets' size (‖A‖²,
‖P‖²), on the layer's shape and, for the Keras example, on the input image's size. ``to_nstlib`` computes
those constants for given features and returns nstlib weights (content weight 1) that give the same total
loss up to one overall factor, ``scale``. That factor is inherent: nstlib fixes the content weight at 1, and
a loss multiplied by a constant has the same minimum.

Left out: the total-variation terms (Keras sums ``(dx² + dy²)^1.25`` of 0-255 pixels, the TensorFlow
tutorial absolute differences: neither is a constant times nstlib's mean squared difference), and the
networks, layers and preprocessing, which differ too (``Convention.layers`` says which each one uses).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import style
from .core.errors import UsageError
from .i18n import _, pad


def raw_gram(features: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) -> (C, C) ``F Fᵀ`` with no normalisation, in the features' dtype."""
    if features.ndim != 4 or features.shape[0] != 1:
        raise UsageError(f"features must be one image's activations, shape (1, C, H, W); got {tuple(features.shape)}")
    flat = features[0].reshape(features.shape[1], -1)
    return flat @ flat.T


def _size(f: torch.Tensor) -> tuple[int, int]:
    """(channels, positions) of a (1, C, H, W) feature map."""
    return f.shape[1], f.shape[2] * f.shape[3]


@dataclass(frozen=True)
class Convention:
    """One tutorial's losses. Subclasses write ``gram``, ``style_term`` and ``content_term`` as their source
    does, and ``style_factor`` / ``content_factor``: that term divided by nstlib's, derived by hand (the
    tests check the derivation against the source's formula)."""

    name: str
    style_weight: float
    content_weight: float
    layers: str  # the layers and network the source uses, in its own names
    gram_md: str  # the markdown table's columns
    style_md: str
    content_md: str
    weights_md: str

    def layer_weight(self, n_layers: int) -> float:
        """The factor the source puts in front of each layer's style term."""
        return self.style_weight / n_layers

    def gram(self, f: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def style_term(self, f: torch.Tensor, s: torch.Tensor, image_size) -> torch.Tensor:
        """The unweighted style term of one layer: our image's features ``f``, the style's ``s``."""
        raise NotImplementedError

    def content_term(self, f: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def style_factor(self, a_sq: float, channels: int, positions: int, image_size) -> float:
        """``style_term / nstlib's style term`` for a style Gram (nstlib's) of squared norm ``a_sq``."""
        raise NotImplementedError

    def content_factor(self, p_sq: float, numel: int) -> float:
        """``content_term / nstlib's content term`` for a content target of squared norm ``p_sq``."""
        raise NotImplementedError

    def loss(self, feats: dict, style_feats: dict, content: torch.Tensor, content_target: torch.Tensor,
             image_size) -> dict:
        """The source's own total: ``content_weight · content_term + Σ layer_weight · style_term``.

        feats / style_feats: {layer: (1, C, H, W)} of our image and of the style image, the same size (the
        sources resize the style picture to the result's size); content / content_target: one layer's.
        Returns {'total', 'content', 'style/<layer>'}, each term with its weight applied.
        """
        k = self.layer_weight(len(feats))
        out = {f"style/{n}": k * self.style_term(feats[n], style_feats[n], image_size) for n in feats}
        out["content"] = self.content_weight * self.content_term(content, content_target)
        out["total"] = out["content"] + sum(out[f"style/{n}"] for n in feats)
        return out


class Gatys2015(Convention):
    def gram(self, f):
        return raw_gram(f)

    def style_term(self, f, s, image_size):
        c, m = _size(f)
        return (self.gram(f) - self.gram(s)).pow(2).sum() / (4 * c**2 * m**2)

    def content_term(self, f, p):
        return 0.5 * (f - p).pow(2).sum()

    def style_factor(self, a_sq, channels, positions, image_size):
        return a_sq / 4  # F Fᵀ = C·M·G, so the C²M² cancels

    def content_factor(self, p_sq, numel):
        return p_sq / 2


class KerasExample(Convention):
    def gram(self, f):
        return raw_gram(f)

    def style_term(self, f, s, image_size):
        channels = 3  # as in its code: the image's channels, not the layer's
        size = image_size[0] * image_size[1]  # img_nrows * img_ncols: the INPUT image's pixels
        return (self.gram(s) - self.gram(f)).pow(2).sum() / (4.0 * channels**2 * size**2)

    def content_term(self, f, p):
        return (f - p).pow(2).sum()

    def style_factor(self, a_sq, channels, positions, image_size):
        pixels = image_size[0] * image_size[1]
        return a_sq * channels**2 * positions**2 / (4 * 3**2 * pixels**2)

    def content_factor(self, p_sq, numel):
        return p_sq


class PyTorchTutorial(Convention):
    def layer_weight(self, n_layers):
        return self.style_weight  # style_score sums the layers, then is multiplied by style_weight

    def gram(self, f):
        c, m = _size(f)
        return raw_gram(f) / (c * m)  # G.div(a * b * c * d) with a = 1

    def style_term(self, f, s, image_size):
        return torch.nn.functional.mse_loss(self.gram(f), self.gram(s))

    def content_term(self, f, p):
        return torch.nn.functional.mse_loss(f, p)

    def style_factor(self, a_sq, channels, positions, image_size):
        return a_sq / channels**2

    def content_factor(self, p_sq, numel):
        return p_sq / numel


class TensorFlowTutorial(Convention):
    def gram(self, f):
        m = _size(f)[1]
        return raw_gram(f) / m  # einsum('bijc,bijd->bcd') / num_locations

    def style_term(self, f, s, image_size):
        return (self.gram(f) - self.gram(s)).pow(2).mean()

    def content_term(self, f, p):
        return (f - p).pow(2).mean()  # content_weight / num_content_layers, with one content layer

    def style_factor(self, a_sq, channels, positions, image_size):
        return a_sq  # its Gram is C times nstlib's, and the mean over C² entries takes the C² back

    def content_factor(self, p_sq, numel):
        return p_sq / numel


class JohnsonNeuralStyle(Convention):
    def layer_weight(self, n_layers):
        return self.style_weight  # every StyleLoss module has strength style_weight

    def gram(self, f):
        return raw_gram(f) / f.numel()  # self.G:div(input:nElement())

    def style_term(self, f, s, image_size):
        return (self.gram(f) - self.gram(s)).pow(2).mean()  # nn.MSECriterion averages

    def content_term(self, f, p):
        return (f - p).pow(2).mean()

    def style_factor(self, a_sq, channels, positions, image_size):
        return a_sq / channels**2

    def content_factor(self, p_sq, numel):
        return p_sq / numel


#: The sources lesson 4 compares, in the order of its table.
CONVENTIONS = (
    Gatys2015("Gatys et al. 2015", 1.0, 1e-3,
              "VGG19 (Caffe), style conv1_1 ... conv5_1 (w_l = 1/5), content conv4_2",
              "$FF^\\top$", "$\\frac{1}{4C^2(HW)^2}\\sum(G-A)^2$, times $w_l = 1/5$", "$\\frac12\\sum(F-P)^2$",
              "$\\alpha/\\beta = 10^{-3}$ (also $10^{-4}$)"),
    KerasExample("Keras example (Chollet)", 1e-6, 2.5e-8,
                 "VGG19 (Keras), style block1_conv1 ... block5_conv1, content block5_conv2",
                 "$FF^\\top$", "$\\frac{1}{4\\cdot 3^2\\,(H_\\text{in}W_\\text{in})^2}\\sum(G-A)^2$ with the "
                 "input image's size, every layer", "$\\sum(F-P)^2$",
                 "style $10^{-6}$ split over the 5 layers, content $2.5\\cdot10^{-8}$"),
    PyTorchTutorial("PyTorch tutorial", 1e6, 1.0,
                    "VGG19 (torchvision), style conv_1 ... conv_5 (= conv1_1, conv1_2, conv2_1, conv2_2, conv3_1, "
                    "before their ReLU), content conv_4 (= conv2_2)",
                    "$FF^\\top/(CHW)$", "mean over the $C^2$ entries, summed over layers", "mean",
                    "style $10^6$ per layer, content 1"),
    TensorFlowTutorial("TensorFlow tutorial", 1e-2, 1e4,
                       "VGG19 (Keras), style block1_conv1 ... block5_conv1, content block5_conv2",
                       "$FF^\\top/(HW)$", "mean over $C^2$, averaged over layers", "mean",
                       "style $10^{-2}$, content $10^4$"),
    JohnsonNeuralStyle("Johnson neural-style", 100.0, 5.0,
                       "VGG19 (Caffe), style relu1_1 ... relu5_1, content relu4_2",
                       "$FF^\\top/(CHW)$", "mean over $C^2$, summed over layers", "mean",
                       "style 100 per layer, content 5"),
)


def get(name: str) -> Convention:
    """A convention by (the start of) its name, e.g. ``get("Keras")``."""
    found = [c for c in CONVENTIONS if c.name.lower().startswith(str(name).lower())]
    if len(found) != 1:
        raise UsageError(f"name={name!r} matches {len(found)} conventions; use one of: "
                         f"{', '.join(c.name for c in CONVENTIONS)}")
    return found[0]


# ------------------------------------------------------------------------------------------- in nstlib's terms


@dataclass
class Converted:
    """nstlib weights equivalent to a convention's: ``per_layer`` style weights with content weight 1, so that
    the convention's total = ``scale`` × nstlib's. ``style_weight`` and ``layer_weights`` are the same
    numbers in the form ``style.stylize`` takes (``style_weight · layer_weights[l] = per_layer[l]``)."""

    name: str
    per_layer: dict
    scale: float

    @property
    def style_weight(self) -> float:
        return sum(self.per_layer.values())

    @property
    def layer_weights(self) -> list[float]:
        return [w / self.style_weight for w in self.per_layer.values()]


def to_nstlib(convention: Convention, style_feats: dict, content_target: torch.Tensor, image_size) -> Converted:
    """The convention's weights as nstlib weights (content weight 1), for these targets and this image size.

    style_feats: {layer: (1, C, H, W)} of the style picture at the result's size; content_target: the content
    layer's (1, C, H, W) features of the photo; image_size: (height, width) of the result, in pixels.
    """
    k_content = convention.content_factor(float(content_target.double().pow(2).sum()), content_target.numel())
    k_content *= convention.content_weight
    layer_weight = convention.layer_weight(len(style_feats))
    per_layer = {}
    for name, s in style_feats.items():
        a_sq = float(style.gram(s).double().pow(2).sum())
        channels, positions = _size(s)
        per_layer[name] = layer_weight * convention.style_factor(a_sq, channels, positions, image_size) / k_content
    return Converted(convention.name, per_layer, k_content)


def nstlib_loss(feats: dict, style_feats: dict, content: torch.Tensor, content_target: torch.Tensor,
                converted: Converted) -> torch.Tensor:
    """nstlib's total with the converted weights: ``content_loss + Σ per_layer[l] · style term of l``."""
    total = style.content_loss(content, content_target).double()
    for name, f in feats.items():
        total = total + converted.per_layer[name] * style.relative_error(style.gram(f), style.gram(style_feats[name]))
    return total


# ------------------------------------------------------------------------------------------- lesson 4's table


def conversion_table(style_feats: dict, content_target: torch.Tensor, image_size,
                     conventions=CONVENTIONS) -> str:
    """Each convention's weights as nstlib style weights per layer (content weight 1), and nstlib's default."""
    names = list(style_feats)
    lines = [pad(_("in nstlib units (content 1)"), 28) + "".join(f"{n:>10}" for n in names)
             + pad(_("total"), 10, ">")]
    for convention in conventions:
        per_layer = to_nstlib(convention, style_feats, content_target, image_size).per_layer
        lines.append(f"{convention.name:<28}" + "".join(f"{per_layer[n]:>10.2g}" for n in names)
                     + f"{sum(per_layer.values()):>10.2g}")
    default = style.STYLE_WEIGHT
    lines.append(pad(_("nstlib default"), 28) + "".join(f"{default / len(names):>10.2g}" for _name in names)
                 + f"{default:>10.2g}")
    return "\n".join(lines)


def print_table(style_feats: dict, content_target: torch.Tensor, image_size) -> None:
    print(conversion_table(style_feats, content_target, image_size))


def markdown_table() -> str:
    """Lesson 4's table of the conventions, from the same records the losses are computed from."""
    lines = ["| source | Gram | style term per layer | content term | their weights |", "|---|---|---|---|---|"]
    for c in CONVENTIONS:
        lines.append(f"| {c.name} | {c.gram_md} | {c.style_md} | {c.content_md} | {c.weights_md} |")
    lines.append(f"| **nstlib** | $FF^\\top/(CHW)$ | $\\lVert G-A\\rVert^2/\\lVert A\\rVert^2$ | "
                 f"$\\lVert F-P\\rVert^2/\\lVert P\\rVert^2$ | style {style.STYLE_WEIGHT:g}, "
                 f"content {style.CONTENT_WEIGHT:g} |")
    return "\n".join(lines)
