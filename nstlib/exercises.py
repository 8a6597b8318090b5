"""The exercise graders of every lesson, in one place, with one way of giving feedback.

A grader takes the student's answer (a value, or a function to call on a test input), prints one line that
starts with "Right: " or "Not quite: " (``feedback``), and returns True or False. Graders are named
``grade_...``; the ``check_...`` functions elsewhere in nstlib validate a caller's arguments instead.

Lesson by lesson (the notebook's exercise, then the grader):

* 0: how many times smaller is a layer's output: ``grade_downsampling``
* 1: the share of blank channels; the sparsest layer: ``grade_blank_fraction``, ``grade_sparsest_layer``
* 2: a filter's mean activation; why the naive loop gives noise: ``grade_objective``, ``grade_why_noise``
* 3: Grad-CAM's channel weights; the pointing game; a map against a class: ``grade_channel_weights``,
  ``grade_pointing_game``, ``grade_counterfactual``
* 4: the normalised Gram matrix; a tutorial's style weight: ``grade_gram``, ``grade_weight_mapping``
* 5: which upsampling leaves a checkerboard; the speed-up: ``grade_checkerboard``, ``grade_speedup``
* 6: the studio ran a trained fast model: ``grade_fast_run``
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import activations, cam, cam_metrics, filters, models, style


def feedback(ok: bool, message: str) -> bool:
    """Print ``Right: message`` or ``Not quite: message`` and return ``ok``: every grader's one wording."""
    print(("Right: " if ok else "Not quite: ") + message)
    return ok


def _raised(error: Exception) -> bool:
    return feedback(False, f"your function raised {type(error).__name__}: {error}")


# ------------------------------------------------------------------------------------------------ lesson 0


def grade_downsampling(answer, model, layer: str = "relu4_1", size: int = 224) -> bool:
    """How many times smaller (in height and in width) than a ``size`` x ``size`` input is ``layer``'s output?"""
    shape = dict(models.describe_layers(model, size=(size, size)))[layer]
    factor = size // shape[2]
    if answer == factor:
        halvings = " x ".join(["2"] * round(math.log2(factor))) if factor > 1 else "none"
        return feedback(True, f"{layer} is {shape[2]}x{shape[3]} for a {size}x{size} input. Every pooling before "
                        f"it halves the size: {halvings} = {factor}.")
    return feedback(False, f"{layer} is {shape[2]}x{shape[3]} for a {size}x{size} input. Count the poolings "
                    "before it: each halves the height and the width.")


# ------------------------------------------------------------------------------------------------ lesson 1


def grade_sparsest_layer(answer: str, fractions: dict) -> bool:
    """Which layer has the largest blank-channel share, averaged over the images?"""
    layers = list(next(iter(fractions.values())))
    mean = {n: float(np.mean([f[n] for f in fractions.values()])) for n in layers}
    best = max(mean, key=mean.get)
    if answer not in mean:
        return feedback(False, f"'{answer}' is not one of the measured layers: {', '.join(layers)}")
    if mean[answer] >= mean[best] - 1e-9:
        return feedback(True, f"{answer} leaves {100 * mean[answer]:.0f}% of its channels blank on average. "
                        "Deep filters look for specific things, and most of them are simply absent from any "
                        "one photo.")
    return feedback(False, f"{answer} has {100 * mean[answer]:.0f}% blank channels on average, but {best} has "
                    f"{100 * mean[best]:.0f}%. Look at the black line of the plot.")


def grade_blank_fraction(fn) -> bool:
    """``fn(acts)`` should return the share of channels of (1, C, H, W) that are <= 0 everywhere."""
    g = torch.Generator().manual_seed(1)
    acts = torch.randn(1, 10, 6, 6, generator=g)
    acts[0, [1, 4, 7]] = -acts[0, [1, 4, 7]].abs()  # three channels negative everywhere
    acts[0, 5] = 0.0  # one channel exactly zero
    acts[0, 2] = -1.0
    acts[0, 2, 3, 3] = 0.5  # negative except one position: not blank
    expected = activations.blank_fraction(acts)
    try:
        got = float(fn(acts))
    except Exception as error:  # noqa: BLE001 - the student's code, reported not raised
        return _raised(error)
    if abs(got - expected) < 1e-6:
        return feedback(True, f"{got:.2f}. A channel is blank when its largest value is <= 0: the ReLU silences "
                        "all of it.")
    hint = ""
    if abs(got - 0.3) < 1e-6:
        hint = " Did you miss the channel that is exactly zero?"
    elif abs(got - (acts.mean(dim=(2, 3)) <= 0).float().mean().item()) < 1e-6:
        hint = " A channel with one positive value is not blank: test the maximum, not the mean."
    return feedback(False, f"expected {expected:.2f}, got {got:.2f} on a test tensor with 10 channels.{hint}")


# ------------------------------------------------------------------------------------------------ lesson 2


def grade_objective(fn) -> bool:
    """``fn(acts, channel)`` should return the filter's mean activation for (1, C, H, W) ``acts``."""
    g = torch.Generator().manual_seed(2)
    acts = torch.randn(1, 8, 5, 7, generator=g) + torch.arange(8.0).view(1, 8, 1, 1)
    try:
        got = [float(fn(acts, c)) for c in (2, 5)]
    except Exception as error:  # noqa: BLE001 - the student's code, reported not raised
        return _raised(error)
    want = [filters.filter_means(acts, [c]).item() for c in (2, 5)]
    if all(abs(a - b) < 1e-5 for a, b in zip(got, want)):
        return feedback(True, "the mean over all positions of one channel. Maximising it asks for the filter's "
                        "pattern everywhere in the image.")
    hint = ""
    if abs(got[0] - acts.mean().item()) < 1e-5:
        hint = " You averaged over all channels: select the channel first (acts[:, channel])."
    elif abs(got[0] - acts[:, 2].max().item()) < 1e-5:
        hint = " That is the maximum (one position); the lesson's objective is the mean."
    return feedback(False, f"for channels 2 and 5 expected {want[0]:.3f} and {want[1]:.3f}, got {got[0]:.3f} "
                    f"and {got[1]:.3f}.{hint}")


WHY_NOISE = {
    "a": "The learning rate is too small.",
    "b": "The network was trained on noisy images, so it likes noise.",
    "c": "Nothing in the loop prefers natural images: each pixel is free, and tiny pixel-sized patterns that "
         "no photo contains raise the activation fastest.",
    "d": "The image is too small for the filter to see a pattern.",
}


def grade_why_noise(answer: str) -> bool:
    """Why is the naive loop's result mostly high-frequency noise? Answer 'a', 'b', 'c' or 'd'."""
    key = str(answer).strip().lower()[:1]
    if key not in WHY_NOISE:
        return feedback(False, "answer with one letter: " + "; ".join(f"{k}) {v}" for k, v in WHY_NOISE.items()))
    if key == "c":
        return feedback(True, "gradient ascent on raw pixels takes the steepest way up, and that way is made of "
                        "high frequencies. The Fourier parametrisation makes low frequencies as easy to move as "
                        "high ones, and random jitter, scaling and rotation punish patterns that only work "
                        "pixel-exactly.")
    reasons = {"a": "a larger rate makes the noise stronger, not smoother",
               "b": "VGG was trained on photos",
               "d": "even at 512 px the naive result is noise"}
    return feedback(False, f"{reasons[key]}. Try again.")


# ------------------------------------------------------------------------------------------------ lesson 3


def grade_channel_weights(model, x, target: int, layer: str, weights) -> bool:
    """Grad-CAM's channel weights for one image, shape (C,): the mean gradient over the map."""
    logits, acts = cam._forward(model, x[:1], layer)
    (grads,) = torch.autograd.grad(logits[0, target], acts)
    expected = grads[0].mean((1, 2)).detach()
    if weights is None:
        return feedback(False, "fill in `weights` (one number per channel) and run the cell again.")
    w = torch.as_tensor(weights).detach().reshape(-1).to(expected)
    if w.numel() != expected.numel():
        return feedback(False, f"expected one weight per channel ({expected.numel()}), got {w.numel()} numbers. "
                        "Average the gradient over the height and width, not over the channels.")
    if torch.allclose(w, expected, rtol=1e-3, atol=1e-6):
        return feedback(True, "each channel's weight is its gradient averaged over the feature map's "
                        f"{acts.shape[2]}x{acts.shape[3]} positions (global average pooling of the gradient).")
    if torch.allclose(w, expected * acts.shape[2] * acts.shape[3], rtol=1e-3, atol=1e-6):
        return feedback(False, "you summed the gradient; Grad-CAM takes its mean (divide by height x width). "
                        "The map after normalising would look the same, but the weights are not.")
    if torch.allclose(w, acts[0].detach().mean((1, 2)), rtol=1e-3, atol=1e-6):
        return feedback(False, "those are the mean activations; the weights come from the gradient.")
    return feedback(False, "the numbers differ from the mean of d(score)/d(activation) over each channel. "
                    "Did you use the class score (a logit, before softmax) and the right layer?")


def grade_pointing_game(fn) -> bool:
    """``fn(heatmap (H, W), box (x0, y0, x1, y1))`` -> True when the map's peak is in the box."""
    heat = torch.zeros(10, 12)
    # (row, column) of the peak and a box; the second catches rows and columns swapped, the last an x1 taken
    # as inclusive. The answer is nstlib's own pointing game.
    cases = [((2, 3), (1, 1, 5, 5)), ((2, 3), (3, 1, 6, 5)), ((9, 11), (10, 8, 12, 10)), ((4, 5), (0, 0, 5, 4))]
    for (row, col), box in cases:
        h = heat.clone()
        h[row, col] = 1.0
        answer = bool(cam_metrics.pointing_game(h[None], torch.tensor([box]))[0])
        try:
            got = bool(fn(h, torch.tensor(box)))
        except Exception as error:  # noqa: BLE001 - the student's code, reported not raised
            return _raised(error)
        if got != answer:
            return feedback(False, f"a peak at row {row}, column {col} with box x0, y0, x1, y1 = {box} should "
                            f"give {answer}, got {got}. Remember: x is the column, y the row, and x1, y1 are "
                            "exclusive.")
    return feedback(True, "the peak's row is compared with y0..y1 and its column with x0..x1.")


def grade_counterfactual(fn, target: int = 0) -> bool:
    """A target callable whose map shows what speaks *against* class ``target``."""
    logits = torch.randn(4, 6, requires_grad=True)
    try:
        got = fn(logits)
    except Exception as error:  # noqa: BLE001 - the student's code, reported not raised
        return _raised(error)
    if not isinstance(got, torch.Tensor) or got.shape != (4,):
        return feedback(False, "the function must return one score per image, shape (N,)")
    if torch.allclose(got, -logits[:, target]):
        return feedback(True, "negating the score flips the gradient, so the positive part of the map is where "
                        "evidence against the class lies (the counterfactual map of the Grad-CAM paper).")
    if torch.allclose(got, logits[:, target]):
        return feedback(False, "that is the ordinary Grad-CAM target; what must change so that evidence "
                        "*against* the class counts as positive?")
    return feedback(False, f"expected the negated logit of class {target}.")


# ------------------------------------------------------------------------------------------------ lesson 4


def grade_gram(fn) -> bool:
    """``fn(features)`` should return nstlib's normalised Gram matrix."""
    torch.manual_seed(0)
    feats = torch.rand(1, 4, 5, 6)
    want = style.gram(feats)
    try:
        got = fn(feats)
    except Exception as error:  # noqa: BLE001 - the student's code, reported not raised
        return _raised(error)
    if tuple(got.shape) != tuple(want.shape):
        return feedback(False, f"the shape is {tuple(got.shape)}, expected {tuple(want.shape)} (batch, C, C).")
    ratio = float(got.sum() / want.sum())
    if torch.allclose(got.float(), want, rtol=1e-4, atol=1e-6):
        return feedback(True, "G = F Fᵀ / (C·H·W), the same for any image size.")
    for name, k in (("H·W", 4), ("C", 30), ("nothing", 120)):
        if abs(ratio - k) < 1e-3 * k:
            return feedback(False, f"your Gram is {k}x too large: you divided by {name} instead of C·H·W.")
    return feedback(False, f"your values differ from F Fᵀ / (C·H·W) (ratio of sums {ratio:.3g}).")


def grade_weight_mapping(answer: float, tutorial_weight: float, channels: int) -> bool:
    """A tutorial divides the Gram by C·H·W (as nstlib does) but averages the squared error over the C²
    entries (``F.mse_loss``) instead of summing. Which nstlib-style weight on ``‖G − A‖²`` equals it?"""
    want = tutorial_weight / channels**2
    if math.isclose(answer, want, rel_tol=1e-3):
        return feedback(True, f"{tutorial_weight:g} x mean over {channels}² entries = {want:.3g} x the sum.")
    if math.isclose(answer, tutorial_weight / channels, rel_tol=1e-3):
        return feedback(False, "a C x C matrix has C² entries, not C.")
    return feedback(False, f"mean = sum / (number of entries); try again (got {answer:.3g}).")


# ------------------------------------------------------------------------------------------------ lesson 5


def grade_checkerboard(answer: str) -> bool:
    """Which upsampling leaves checkerboard artefacts: 'transposed' or 'resize'?"""
    normal = str(answer).strip().lower()
    if normal.startswith("transpos"):
        return feedback(True, "with stride 2, a 3x3 transposed convolution gives some output pixels more kernel "
                        "taps than their neighbours, and the unevenness repeats every 2 pixels.")
    if normal.startswith("resize"):
        return feedback(False, "copying each pixel and then convolving treats every output pixel alike. "
                        "Look at the two pictures again.")
    return feedback(False, f"answer 'transposed' or 'resize' (got {answer!r}).")


def grade_speedup(answer: float, fast_seconds: float, optimise_seconds: float) -> bool:
    """The speed-up of the feed-forward network over optimisation."""
    truth = optimise_seconds / fast_seconds
    if abs(answer - truth) <= 0.05 * truth:
        return feedback(True, f"{truth:.0f}x. One forward pass of a small network against {optimise_seconds:.1f} s "
                        "of forward and backward passes through VGG.")
    return feedback(False, f"{answer:.3g}. Divide the optimisation time by the feed-forward time "
                    f"({optimise_seconds:.2f} s / {fast_seconds:.4f} s).")


# ------------------------------------------------------------------------------------------------ lesson 6


def grade_fast_run(studio) -> bool:
    """Did the studio's (``widgets.StyleStudio``) last run use a trained fast model?"""
    if studio.runs == 0 or studio.result is None:
        return feedback(False, "run the studio first (studio.run(wait=True)).")
    if studio.mode.value == "fast model" and studio.record is None:
        return feedback(True, f"the '{studio.model.value}' network stylized the photo in one pass, no "
                        "optimisation steps.")
    return feedback(False, "the last run optimised the image. Set studio.mode.value = 'fast model' and run again.")


__all__ = ["feedback", "WHY_NOISE", "grade_downsampling", "grade_sparsest_layer", "grade_blank_fraction",
           "grade_objective", "grade_why_noise", "grade_channel_weights", "grade_pointing_game",
           "grade_counterfactual", "grade_gram", "grade_weight_mapping", "grade_checkerboard", "grade_speedup",
           "grade_fast_run"]
