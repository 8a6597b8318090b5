"""The exercise graders of every lesson, in one place, with one way of giving feedback.

A grader takes the student's answer (a value, or a function to call on a test input), prints one line that
starts with "Right: " or "Not quite: " (``feedback``), and returns True or False. Graders are named
``grade_...``; the ``check_...`` functions elsewhere in nstlib validate a caller's arguments instead.

Lesson by lesson (the notebook's exercise, then the grader):

* 0: how many times smaller is a layer's output: ``grade_downsampling``
* 1: the share of blank channels; the sparsest layer; blank channels with trained and random weights:
  ``grade_blank_fraction``, ``grade_sparsest_layer``, ``grade_blank_by_weights``
* 2: a filter's mean activation; why the naive loop gives noise; the pixel gradient of conv1_1 and relu1_1:
  ``grade_objective``, ``grade_why_noise``, ``grade_pixel_gradient``
* 3: Grad-CAM's channel weights; the pointing game; a map against a class; Score-CAM's weights by hand:
  ``grade_channel_weights``, ``grade_pointing_game``, ``grade_counterfactual``, ``grade_score_cam_weights``
* 4: the normalised Gram matrix; a tutorial's style weight; which layer a colour swap changes least:
  ``grade_gram``, ``grade_weight_mapping``, ``grade_colour_swap``
* 5: which upsamplings leave a periodic pattern; the speed-up; the transformer net's receptive field:
  ``grade_checkerboard``, ``grade_speedup``, ``grade_receptive_field``
* 6: the studio ran a trained fast model: ``grade_fast_run``

A wrong answer gets a hint towards the idea, never the expected value: the student finds it.
"""

from __future__ import annotations

import copy
import math
import numbers

import numpy as np
import torch
from torch import nn

from . import activations, cam, cam_metrics, filters, models, style
from .i18n import _


def feedback(ok: bool, message: str) -> bool:
    """Print ``Right: message`` or ``Not quite: message`` and return ``ok``: every grader's one wording. The
    two openings come out in the current language (``i18n``); the message is the grader's own."""
    print((_("Right: ") if ok else _("Not quite: ")) + message)
    return ok


def _raised(error: Exception) -> bool:
    return feedback(False, _("your function raised {error_type}: {error}").format(
        error_type=type(error).__name__, error=error))


def _number(answer) -> float | None:
    """``answer`` as a float, or None when it is not one number (a string, a list, a bool ...)."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        answer = answer.item()
    if isinstance(answer, numbers.Real) and math.isfinite(float(answer)):
        return float(answer)
    return None


def _kind(answer) -> str:
    """How a wrong-typed answer is described: its type, never its value (which may hold the right digits)."""
    return "None" if answer is None else _("a {type}").format(type=type(answer).__name__)


def _close(a, b, rtol=1e-4, atol=1e-6) -> bool:
    return abs(a - b) <= atol + rtol * abs(b)


# ------------------------------------------------------------------------------------------------ lesson 0


def grade_downsampling(answer, model, layer: str = "relu4_1", size: int = 224) -> bool:
    """How many times smaller (in height and in width) than a ``size`` x ``size`` input is ``layer``'s output?"""
    shape = dict(models.describe_layers(model, size=(size, size)))[layer]
    factor = size // shape[2]
    value = _number(answer)
    if value is None:
        return feedback(False, _("answer with one number: how many times smaller {layer}'s output is (got "
                                 "{kind}).").format(layer=layer, kind=_kind(answer)))
    if value == factor:
        halvings = " x ".join(["2"] * round(math.log2(factor))) if factor > 1 else _("none")
        return feedback(True, _("{layer} is {height}x{width} for a {size}x{size} input. Every pooling before it "
                                "halves the size: {halvings} = {factor}.").format(
            layer=layer, height=shape[2], width=shape[3], size=size, halvings=halvings, factor=factor))
    return feedback(False, _("go through the layers before {layer} in order: which ones change the height and the "
                             "width, and by how much each time? The convolutions keep the size (they are "
                             "padded).").format(layer=layer))


# ------------------------------------------------------------------------------------------------ lesson 1


def grade_sparsest_layer(answer: str, fractions: dict) -> bool:
    """Which layer has the largest blank-channel share, averaged over the images?"""
    layers = list(next(iter(fractions.values())))
    mean = {n: float(np.mean([f[n] for f in fractions.values()])) for n in layers}
    best = max(mean, key=mean.get)
    if not isinstance(answer, str) or answer not in mean:
        return feedback(False, _("that is not one of the measured layers: use a name from the keys of a photo's "
                                 "entry in `fractions`."))
    if mean[answer] >= mean[best] - 1e-9:
        return feedback(True, _("{layer} leaves {share}% of its channels blank on average. A blank channel is a "
                                "filter that found nothing in the photo, and in this layer that happens most "
                                "often.").format(layer=answer, share=f"{100 * mean[answer]:.0f}"))
    return feedback(False, _("another layer leaves more channels blank than {layer}, averaged over the photos. "
                             "Find the highest point of the black line (the mean), not of one photo's line, or "
                             "compute the mean of each layer over the photos.").format(layer=answer))


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
        got = _number(fn(acts))
    except Exception as error:  # noqa: BLE001 - the student's code, reported not raised
        return _raised(error)
    if got is None:
        return feedback(False, _("your function must return one number: the share of blank channels."))
    if abs(got - expected) < 1e-6:
        return feedback(True, _("{value}. A channel is blank when its largest value is <= 0: the ReLU silences "
                                "all of it.").format(value=f"{got:.2f}"))
    hint = _(" Per channel, look at its largest value.")
    if abs(got - 0.3) < 1e-6:
        hint = _(" Did you miss a channel that is exactly zero?")
    elif abs(got - (acts.mean(dim=(2, 3)) <= 0).float().mean().item()) < 1e-6:
        hint = _(" A channel with one positive value is not blank: test the maximum, not the mean.")
    elif got > 1:
        hint = _(" A share is a fraction between 0 and 1, not a count or a percentage.")
    return feedback(False, _("on a test tensor of 10 channels your function's value is not its share of blank "
                             "channels.{hint}").format(hint=hint))


def grade_blank_by_weights(prediction: dict, shares: dict, model, random_model, x,
                           layers=("conv2_2", "conv4_1")) -> bool:
    """Blank-channel shares of ``layers`` for image ``x`` with the lesson's weights and with random weights.

    ``shares``: {layer: (share with ``model``, share with ``random_model``)}, measured by the student;
    ``prediction``: {layer: 'trained', 'random' or 'same'}, which weights leave more channels blank, written
    down before measuring. Shares within 3 points of each other count as 'same'.
    """
    measured = {}
    for name, net in (("trained", model), ("random", random_model)):
        acts = activations.capture_all(net, x, list(layers))
        measured[name] = {layer: activations.blank_fraction(acts[layer]) for layer in layers}
    if not isinstance(shares, dict) or set(shares) != set(layers):
        return feedback(False, _("fill in `shares` with one entry per layer ({layers}): a pair (share with the "
                                 "lesson's weights, share with random weights).").format(layers=", ".join(layers)))
    for layer in layers:
        pair = shares[layer]
        values = [_number(v) for v in pair] if isinstance(pair, (tuple, list)) and len(pair) == 2 else [None]
        if None in values:
            return feedback(False, _("shares[{layer}] must be a pair of numbers: (trained, random).").format(
                layer=repr(layer)))
        if any(v > 1 for v in values):
            return feedback(False, _("a share is a fraction between 0 and 1, not a percentage or a count."))
        for value, name in zip(values, ("trained", "random")):
            if abs(value - measured[name][layer]) > 1e-6:
                swapped = abs(value - measured["random" if name == "trained" else "trained"][layer]) < 1e-6
                message = (_("your trained share of {layer} is not what that network gives for x.")
                           if name == "trained" else
                           _("your random share of {layer} is not what that network gives for x."))
                return feedback(False, message.format(layer=layer)
                                + (_(" Check the order of the pair: (trained, random).") if swapped else
                                   _(" Measure the convolution's output (before its ReLU) for the same image x, and "
                                     "count a channel as blank when its largest value is <= 0.")))
    wanted = {}
    for layer in layers:
        t, r = measured["trained"][layer], measured["random"][layer]
        wanted[layer] = "same" if abs(t - r) < 0.03 else ("trained" if t > r else "random")
    said = {layer: str(prediction.get(layer, "")).strip().lower() for layer in layers} \
        if isinstance(prediction, dict) else {}
    if not said or any(v not in ("trained", "random", "same") for v in said.values()):
        return feedback(False, _("your numbers are right. Now fill in `prediction` for every layer with "
                                 "'trained', 'random' or 'same' (what you expected before measuring)."))
    wrong = [layer for layer in layers if said[layer] != wanted[layer]]
    if wrong:
        return feedback(False, _("your numbers are right, and they disagree with your prediction for {layers}. "
                                 "That is what measuring is for: compare the two numbers, then think about why a "
                                 "layer of random filters leaves that many channels blank.").format(
            layers=", ".join(wrong)))
    return feedback(True, _("a random filter sees inputs that are all >= 0 after a ReLU; when its weights add up "
                            "to a negative number on a typical patch it stays negative everywhere, so a random "
                            "network leaves a steady share of its channels blank from block 3 on, whatever the "
                            "photo. The trained network's saw-tooth (some layers much sparser, others much denser) "
                            "is what training made of the layers: sparsity is a property of the trained layer."))


# ------------------------------------------------------------------------------------------------ lesson 2


def grade_objective(fn) -> bool:
    """``fn(acts, channel)`` should return the filter's mean activation for (1, C, H, W) ``acts``."""
    g = torch.Generator().manual_seed(2)
    acts = torch.randn(1, 8, 5, 7, generator=g) + torch.arange(8.0).view(1, 8, 1, 1)
    try:
        got = [_number(fn(acts, c)) for c in (2, 5)]
    except Exception as error:  # noqa: BLE001 - the student's code, reported not raised
        return _raised(error)
    if None in got:
        return feedback(False, _("your function must return one number for one channel."))
    want = [filters.filter_means(acts, [c]).item() for c in (2, 5)]
    if all(abs(a - b) < 1e-5 for a, b in zip(got, want)):
        return feedback(True, _("the mean over all positions of one channel. Maximising it asks for the filter's "
                                "pattern everywhere in the image."))
    hint = _(" Which numbers of the (1, C, H, W) tensor belong to the filter, and how are they summarised?")
    if abs(got[0] - acts.mean().item()) < 1e-5:
        hint = _(" You averaged over all channels: select the channel first.")
    elif abs(got[0] - acts[:, 2].max().item()) < 1e-5:
        hint = _(" That is the maximum (one position); the lesson's objective summarises every position.")
    return feedback(False, _("on a test tensor your function's values for channels 2 and 5 are not the filters' "
                             "mean activations.{hint}").format(hint=hint))


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
        return feedback(False, _("answer with one letter: {options}").format(
            options="; ".join(f"{k}) {_(v)}" for k, v in WHY_NOISE.items())))
    if key == "c":
        return feedback(True, _("gradient ascent on raw pixels takes the steepest way up, and that way is made of "
                                "high frequencies. The Fourier parametrisation makes low frequencies as easy to move "
                                "as high ones, and random jitter, scaling and rotation punish patterns that only "
                                "work pixel-exactly."))
    reasons = {"a": _("a larger rate makes the noise stronger, not smoother. Try again."),
               "b": _("VGG was trained on photos. Try again."),
               "d": _("even at 512 px the naive result is noise. Try again.")}
    return feedback(False, reasons[key])


def _pixel_gradient(model, image, layer, channel):
    x = image.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model.extract(x, [layer])[layer][0, channel].mean(), x)
    return grad


def _uniform_inside(grad, margin: int = 2) -> bool:
    """Is the gradient the same at every pixel away from the border (per colour)?"""
    inside = grad[0, :, margin:-margin, margin:-margin].flatten(1)
    spread = (inside.amax(1) - inside.amin(1)).max()
    return bool(spread <= 1e-3 * grad.abs().max().clamp_min(1e-30))


def grade_pixel_gradient(fn, uniform: dict, model, image, channel: int = 3) -> bool:
    """``fn(model, image, layer, channel)`` returns the gradient (1, 3, H, W) of the channel's mean activation
    with respect to the pixels; ``uniform`` = {'conv1_1': bool, 'relu1_1': bool}: is that gradient the same at
    every pixel away from the border, for ``image`` and ``channel``? The grader measures it."""
    want = {layer: _pixel_gradient(model, image, layer, channel) for layer in ("conv1_1", "relu1_1")}
    for layer, grad in want.items():
        try:
            got = fn(model, image, layer, channel)
        except Exception as error:  # noqa: BLE001 - the student's code, reported not raised
            return _raised(error)
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(grad.shape):
            return feedback(False, _("for {layer} your function must return a tensor shaped like the image, "
                                     "{shape}: one gradient value per pixel and colour.").format(
                layer=layer, shape=tuple(grad.shape)))
        if not torch.allclose(got.detach().to(grad), grad, rtol=1e-3, atol=1e-3 * float(grad.abs().max())):
            return feedback(False, _("for {layer} your gradient is not the gradient of channel {channel}'s mean "
                                     "activation with respect to the pixels. Let the image require gradients, score "
                                     "it with model.extract, and take torch.autograd.grad of that one "
                                     "number.").format(layer=layer, channel=channel))
    truth = {layer: _uniform_inside(grad) for layer, grad in want.items()}
    if not isinstance(uniform, dict) or any(not isinstance(uniform.get(layer), bool) for layer in truth):
        return feedback(False, _("your gradients are right. Now set `uniform` to True or False for each of "
                                 "conv1_1 and relu1_1."))
    if any(uniform[layer] != truth[layer] for layer in truth):
        return feedback(False, _("your gradients are right, but at least one of your two answers does not match "
                                 "them. Look at grad[0, :, 2:-2, 2:-2] for each layer: per colour, are its smallest "
                                 "and largest values the same?"))
    return feedback(True, _("before its ReLU conv1_1 is linear, so the gradient of its mean is the kernel's sum, "
                            "the same at every pixel but the border ones: ascent can only move every pixel the same "
                            "way, towards one flat colour. After the ReLU only the positions where the filter fires "
                            "count, so the gradient follows the edges it finds.") if not truth["relu1_1"] else
                    _("before its ReLU conv1_1 is linear, so the gradient of its mean is the kernel's sum, the same "
                      "at every pixel but the border ones: ascent can only move every pixel the same way, towards "
                      "one flat colour. After the ReLU only the positions where the filter fires count; for this "
                      "channel and image that is every position or none, so it stays uniform: try another "
                      "channel."))


# ------------------------------------------------------------------------------------------------ lesson 3


def grade_channel_weights(model, x, target: int, layer: str, weights) -> bool:
    """Grad-CAM's channel weights for one image, shape (C,): the mean gradient over the map."""
    logits, acts = cam._forward(model, x[:1], layer)
    (grads,) = torch.autograd.grad(logits[0, target], acts)
    expected = grads[0].mean((1, 2)).detach()
    if weights is None:
        return feedback(False, _("fill in `weights` (one number per channel) and run the cell again."))
    w = torch.as_tensor(weights).detach().reshape(-1).to(expected)
    if w.numel() != expected.numel():
        return feedback(False, _("expected one weight per channel ({expected}), got {got} numbers. Summarise the "
                                 "gradient over the height and width, not over the channels.").format(
            expected=expected.numel(), got=w.numel()))
    if torch.allclose(w, expected, rtol=1e-3, atol=1e-6):
        return feedback(True, _("each channel's weight is its gradient averaged over the feature map's "
                                "{height}x{width} positions (global average pooling of the gradient).").format(
            height=acts.shape[2], width=acts.shape[3]))
    if torch.allclose(w, expected * acts.shape[2] * acts.shape[3], rtol=1e-3, atol=1e-6):
        return feedback(False, _("every weight is the same number of times too large. Read the formula for "
                                 "alpha again: how does it summarise the positions?"))
    if torch.allclose(w, acts[0].detach().mean((1, 2)), rtol=1e-3, atol=1e-6):
        return feedback(False, _("those are the mean activations; the weights come from the gradient."))
    return feedback(False, _("the numbers differ from the mean of d(score)/d(activation) over each channel. "
                             "Did you use the class score (a logit, before softmax) and the right layer?"))


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
            return feedback(False, _("your function is wrong for a 10x12 map peaking at row {row}, column {col} "
                                     "with the box x0, y0, x1, y1 = {box}: work that case out on paper. Remember: x "
                                     "is the column, y the row, and x1, y1 are exclusive.").format(
                row=row, col=col, box=box))
    return feedback(True, _("the peak's row is compared with y0..y1 and its column with x0..x1."))


def grade_counterfactual(fn, target: int = 0) -> bool:
    """A target callable whose map shows what speaks *against* class ``target``."""
    logits = torch.randn(4, 6, requires_grad=True)
    try:
        got = fn(logits)
    except Exception as error:  # noqa: BLE001 - the student's code, reported not raised
        return _raised(error)
    if not isinstance(got, torch.Tensor) or got.shape != (4,):
        return feedback(False, _("the function must return one score per image, shape (N,)"))
    if torch.allclose(got, -logits[:, target]):
        return feedback(True, _("negating the score flips the gradient, so the positive part of the map is where "
                                "evidence against the class lies (the counterfactual map of the Grad-CAM paper)."))
    if torch.allclose(got, logits[:, target]):
        return feedback(False, _("that is the ordinary Grad-CAM target; what must change so that evidence "
                                 "*against* the class counts as positive?"))
    if any(torch.allclose(got.abs(), logits[:, k].abs()) for k in range(logits.shape[1]) if k != target):
        return feedback(False, _("your score follows another class's logit, not class {target}'s.").format(
            target=target))
    return feedback(False, _("Grad-CAM keeps the positions where the score's gradient is positive. Which score "
                             "rises exactly where class {target}'s logit falls?").format(target=target))


def _score_cam_gains(model, x, target: int, layer: str) -> torch.Tensor:
    """nstlib's Score-CAM channel weights (``weighting='gain'``, every channel) for one image, (C,)."""
    acts = cam._forward(model, x[:1], layer, grad=False)[1]
    masks = cam._normalise(cam._upsample(acts, x.shape[-2:]))[0]
    with torch.no_grad(), cam.hooks.eval_mode(model):
        base = model(torch.zeros_like(x[:1])).softmax(1)[0, target]
        return torch.cat([model(x[:1] * masks[j:j + 64, None]).softmax(1)[:, target] - base
                          for j in range(0, len(masks), 64)])


def grade_score_cam_weights(weights, model, x, target: int, layer: str) -> bool:
    """Score-CAM's channel weights for image ``x[:1]`` and class ``target`` at ``layer``, computed by hand: each
    channel upsampled (bilinear) to the image size and scaled to [0, 1] masks the image, and its weight is the
    class probability of the masked image minus that of a black image (nstlib's default, ``weighting='gain'``)."""
    want = _score_cam_gains(model, x, target, layer)
    if weights is None:
        return feedback(False, _("fill in `weights` (one number per channel) and run the cell again."))
    w = torch.as_tensor(weights).detach().reshape(-1).float().to(want.device)
    tol = 1e-3 * float(want.abs().max()) + 1e-7
    if w.numel() != want.numel():
        return feedback(False, _("expected one weight per channel of {layer} ({expected}), got {got} "
                                 "numbers.").format(layer=layer, expected=want.numel(), got=w.numel()))
    if w.numel() == want.numel() and torch.allclose(w, want, rtol=1e-3, atol=tol):
        return feedback(True, _("{raising} of {channels} channels raise the class's probability on their own; the "
                                "others count against it. No gradient was needed: one forward pass per channel, "
                                "which is why Score-CAM is slower.").format(
            raising=int((want > 0).sum()), channels=want.numel()))
    with torch.no_grad(), cam.hooks.eval_mode(model):
        base = model(torch.zeros_like(x[:1])).softmax(1)[0, target]
    if torch.allclose(w, want + base, rtol=1e-3, atol=tol):
        return feedback(False, _("your weights have the right shape of things, but every one is the same amount "
                                 "too high: what is a masked image's probability compared with?"))
    if torch.allclose(w, want.softmax(0), rtol=1e-3, atol=1e-3 / want.numel()):
        return feedback(False, _("that is the paper's softmax over the channels; this exercise asks for the raw "
                                 "gains, nstlib's default."))
    if (w - want).abs().max() > 0.5 or w.min() < -1 or w.max() > 1:
        return feedback(False, _("a gain is a difference of two probabilities, so it lies between -1 and 1. Did "
                                 "you use the logits instead of the softmax?"))
    return feedback(False, _("the numbers differ from nstlib's. Check each step: every channel upsampled to the "
                             "image size (bilinear), scaled to [0, 1] on its own (minimum to 0, maximum to 1), "
                             "multiplied with the image, and the class's probability read after a softmax."))


# ------------------------------------------------------------------------------------------------ lesson 4


def grade_gram(fn) -> bool:
    """``fn(features)`` should return nstlib's normalised Gram matrix."""
    g = torch.Generator().manual_seed(0)
    feats = {shape: torch.rand(1, *shape, generator=g) for shape in ((4, 5, 6), (4, 10, 12), (8, 5, 6))}
    outs = {}
    try:
        for shape, f in feats.items():
            outs[shape] = fn(f)
    except Exception as error:  # noqa: BLE001 - the student's code, reported not raised
        return _raised(error)
    f0 = feats[(4, 5, 6)]
    want = style.gram(f0)
    got = outs[(4, 5, 6)]
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(want.shape):
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return feedback(False, _("the shape is {shape}, expected {expected} (batch, C, C).").format(
            shape=shape, expected=tuple(want.shape)))
    if torch.allclose(got.float(), want, rtol=1e-4, atol=1e-6):
        return feedback(True, _("G = F Fᵀ / (C·H·W), the same for any image size."))
    ratio = {s: float(outs[s].float().sum() / style.gram(feats[s]).sum()) for s in feats}
    if not all(math.isfinite(r) and r > 0 for r in ratio.values()) or not torch.allclose(
            got.float(), want * ratio[(4, 5, 6)], rtol=1e-3, atol=1e-6):
        return feedback(False, _("your values are not a multiple of F Fᵀ: check the reshape (channels x "
                                 "positions) and which side is transposed."))
    positions = abs(ratio[(4, 10, 12)] / ratio[(4, 5, 6)] - 1) > 1e-3
    channels = abs(ratio[(8, 5, 6)] / ratio[(4, 5, 6)] - 1) > 1e-3
    changes = (_("your Gram changes with the number of positions (try a larger feature map) and with the number "
                 "of channels.") if positions and channels else
               _("your Gram changes with the number of positions (try a larger feature map).") if positions else
               _("your Gram changes with the number of channels.") if channels else None)
    if changes:
        return feedback(False, changes + _(" The lesson's Gram is an average product, comparable between layers "
                                           "and image sizes: see its formula in section 3."))
    return feedback(False, _("your Gram is a constant factor off the lesson's, the same for every size: "
                             "compare your formula with section 3's."))


def grade_weight_mapping(answer: float, tutorial_weight: float, channels: int) -> bool:
    """A tutorial divides the Gram by C·H·W (as nstlib does) but averages the squared error over the C²
    entries (``F.mse_loss``) instead of summing. Which nstlib-style weight on ``‖G − A‖²`` equals it?"""
    want = tutorial_weight / channels**2
    value = _number(answer)
    if value is None:
        return feedback(False, _("answer with one number, the weight (got {kind}).").format(kind=_kind(answer)))
    if math.isclose(value, want, rel_tol=1e-3):
        return feedback(True, _("{weight} x mean over {channels}² entries = {want} x the sum.").format(
            weight=f"{tutorial_weight:g}", channels=channels, want=f"{want:.3g}"))
    if math.isclose(value, tutorial_weight / channels, rel_tol=1e-3):
        return feedback(False, _("how many numbers does a C x C matrix hold?"))
    if value > tutorial_weight:
        return feedback(False, _("a mean is never larger than the sum it comes from (for positive terms), so the "
                                 "weight on the sum must be smaller than the tutorial's."))
    return feedback(False, _("write the tutorial's term as a formula with a sum in it, then read off the factor "
                             "in front of the sum."))


def _colour_swap_losses(model, style_image, layers) -> dict:
    with torch.no_grad():
        feats = model.extract(style_image, list(layers))
        swapped = model.extract(style_image[:, [2, 1, 0]], list(layers))
    return {n: float(style.style_loss(swapped[n], style.gram(feats[n]))) for n in layers}


def grade_colour_swap(losses: dict, least: str, model, style_image, layers=style.STYLE_LAYERS) -> bool:
    """``losses``: {layer: the single-layer style loss (nstlib's relative error of Gram matrices) of the style
    image with its red and blue channels swapped, against the style image itself}; ``least``: the layer whose
    loss is smallest, i.e. the layer that cares least about the colours. Checked against the grader's own
    measurement with ``model``."""
    want = _colour_swap_losses(model, style_image, layers)
    if not isinstance(losses, dict) or set(losses) != set(want):
        return feedback(False, _("fill in `losses`: {layer name: loss} for every layer of `layers`."))
    values = {n: _number(losses[n]) for n in want}
    if None in values.values():
        return feedback(False, _("every loss must be one number (call float() on a one-element tensor)."))
    off = [n for n in want if not _close(values[n], want[n], rtol=2e-3)]
    if off:
        ratios = [values[n] / want[n] for n in off if want[n] > 0]
        same = ratios and max(ratios) - min(ratios) < 1e-3 * max(abs(r) for r in ratios)
        hint = (_(" Every one of them is off by the same factor: check the normalisation (the lesson's Gram, and "
                  "a relative error divided by the style's own Gram).") if same and len(off) == len(want) else
                _(" Swap the channels of the style image (red and blue), take each layer's Gram of both, and "
                  "compare them as nstlib's style loss does (which of the two is the target matters)."))
        return feedback(False, _("{off} of your {total} losses differ from the measurement.{hint}").format(
            off=len(off), total=len(want), hint=hint))
    smallest = min(want, key=want.get)
    if least not in want:
        return feedback(False, _("your losses are right. Set `least` to the name of one of the layers of "
                                 "`layers`."))
    if least != smallest:
        return feedback(False, _("your losses are right, but the layer you named is not the one where the swap "
                                 "changes the style least: read your own numbers again."))
    order = sorted(want, key=want.get)
    return feedback(True, _("with these weights the swap matters least at {least} and most at {most}. If deep "
                            "layers no longer encoded colour, the swap would barely change their Gram matrices; "
                            "compare what you measured with the lesson's claim, and with a second style.").format(
        least=smallest, most=order[-1]))


# ------------------------------------------------------------------------------------------------ lesson 5


CHECKERBOARD_OPTIONS = {
    "a": "transposed convolution, 3x3 kernel, stride 2 (the lesson's picture)",
    "b": "transposed convolution, 4x4 kernel, stride 2 (the kernel size divisible by the stride: even overlap)",
    "c": "transposed convolution, 2x2 kernel, stride 2 (no overlap at all)",
    "d": "nearest-neighbour x2, then a 3x3 convolution (the lesson's resize-convolution)",
    "e": "bilinear x2, then a 3x3 convolution",
}


def _checkerboard_layers(channels: int = 8) -> dict:
    return {
        "a": nn.ConvTranspose2d(channels, 1, 3, stride=2, padding=1, output_padding=1),
        "b": nn.ConvTranspose2d(channels, 1, 4, stride=2, padding=1),
        "c": nn.ConvTranspose2d(channels, 1, 2, stride=2),
        "d": nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(channels, 1, 3, padding=1)),
        "e": nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(channels, 1, 3, padding=1)),
    }


def checkerboard_spread(key: str, seed: int = 0) -> float:
    """Upsampling ``key`` of ``CHECKERBOARD_OPTIONS`` with seeded random weights on a flat input: the spread of
    its output away from the border, relative to its size (0: even; a periodic pattern: well above 0)."""
    torch.manual_seed(seed)
    layer = _checkerboard_layers()[key]
    with torch.no_grad():
        y = layer(torch.ones(1, 8, 16, 16))[0, 0, 4:-4, 4:-4]
    return float(y.std() / y.abs().mean().clamp_min(1e-12))


def grade_checkerboard(answer) -> bool:
    """Which of ``CHECKERBOARD_OPTIONS`` leave a periodic pattern on a flat input with random weights? Answer the
    letters, e.g. ``"ae"`` or ``{"a", "e"}``; the grader measures every option with three seeds."""
    if isinstance(answer, (set, list, tuple)):
        letters = {str(c).strip().lower() for c in answer}
    else:
        letters = {c for c in str(answer).lower() if c.isalnum()} if answer is not None else set()
    if not letters or not letters <= set(CHECKERBOARD_OPTIONS):
        return feedback(False, _("answer with the letters of the upsamplings that leave a pattern, e.g. 'ae': "
                                 "{options}").format(
            options="; ".join(f"{k}) {_(v)}" for k, v in CHECKERBOARD_OPTIONS.items())))
    patterned = {k for k in CHECKERBOARD_OPTIONS if min(checkerboard_spread(k, s) for s in range(3)) > 0.1}
    if letters == patterned:
        return feedback(True, _("every stride-2 transposed convolution leaves a pattern that repeats every 2 "
                                "pixels, even when each output pixel gets the same number of kernel taps (4x4) or a "
                                "single one (2x2): neighbouring output pixels are made by different weights of the "
                                "kernel. Uneven overlap is one cause, not the only one; training can balance the "
                                "weights, but nothing forces it to. Resizing first computes every output pixel with "
                                "the same weights."))
    return feedback(False, _("not every letter is right. Build each layer (with random weights), run it on "
                             "torch.ones(1, 8, 16, 16) as section 2 does, and look at the spread of the output away "
                             "from the border; decide from the measurement, not from the number of kernel taps "
                             "alone."))


def grade_speedup(answer: float, fast_seconds: float, optimise_seconds: float) -> bool:
    """The speed-up of the feed-forward network over optimisation."""
    truth = optimise_seconds / fast_seconds
    value = _number(answer)
    if value is None:
        return feedback(False, _("answer with one number, how many times faster (got {kind}).").format(
            kind=_kind(answer)))
    if abs(value - truth) <= 0.05 * truth:
        return feedback(True, _("{speedup}x. One forward pass of a small network against {seconds} s of forward "
                                "and backward passes through VGG.").format(
            speedup=f"{truth:.0f}", seconds=f"{optimise_seconds:.1f}"))
    if value < 1:
        return feedback(False, _("a speed-up below 1 would mean the network is slower than optimising. How many "
                                 "feed-forward runs fit into the time of one optimisation?"))
    return feedback(False, _("that does not match the two timings measured in sections 1 and 5. How many "
                             "feed-forward runs fit into the time of one optimisation?"))


class _FrozenStats(nn.Module):
    """Instance normalisation with its mean and variance treated as constants (no gradient through them)."""

    def __init__(self, norm: nn.InstanceNorm2d):
        super().__init__()
        self.norm = norm

    def forward(self, x):
        mean = x.mean((2, 3), keepdim=True).detach()
        var = x.var((2, 3), keepdim=True, unbiased=False).detach()
        y = (x - mean) / torch.sqrt(var + self.norm.eps)
        if self.norm.affine:
            y = y * self.norm.weight.view(1, -1, 1, 1) + self.norm.bias.view(1, -1, 1, 1)
        return y


def receptive_field(net, size: int = 128) -> int:
    """The largest receptive field (in input pixels, height = width) of an output pixel of a fast-style
    ``TransformerNet``, measured: the rows of input pixels whose gradient of one output pixel is non-zero, for
    the four output pixels at the centre (every alignment of the two upsamplings), on a ``size`` x ``size``
    input (doubled until the field stays clear of the border). Instance normalisation's statistics, which mix
    every pixel of the image, are held fixed, so only the convolutions count."""
    frozen = copy.deepcopy(net).float().cpu().eval()
    for module in list(frozen.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, nn.InstanceNorm2d):
                setattr(module, name, _FrozenStats(child))
            elif isinstance(child, nn.ReLU):
                setattr(module, name, nn.ReLU())
    for p in frozen.parameters():
        p.requires_grad_(False)
    g = torch.Generator().manual_seed(0)
    while True:
        # one image per output pixel: the four centre pixels' gradients in one backward pass
        x = torch.rand(1, 3, size, size, generator=g).expand(4, -1, -1, -1).clone().requires_grad_(True)
        y = frozen(x)
        c = size // 2
        score = sum(y[i, :, c + i // 2, c + i % 2].sum() for i in range(4))
        (grad,) = torch.autograd.grad(score, x)
        seen = grad.abs().sum(1) > 0  # (4, H, W)
        rows = [s.any(1).nonzero().flatten() for s in seen]
        if all(r.numel() and r.min() > 0 and r.max() < size - 1 for r in rows):
            return max(int(r.max() - r.min() + 1) for r in rows)
        size *= 2


def grade_receptive_field(answer, net) -> bool:
    """The largest receptive field of one output pixel of ``net`` (a ``fast.TransformerNet``), in pixels."""
    want = receptive_field(net)
    value = _number(answer)
    if value is None:
        return feedback(False, _("answer with one number of pixels (got {kind}).").format(kind=_kind(answer)))
    if value == want:
        return feedback(True, _("{pixels} pixels. Every 3x3 convolution at a quarter of the size widens the field "
                                "by 8 input pixels instead of 2, which is why the residual blocks work there: each "
                                "output pixel sees enough of the photo for a brush stroke. (Instance normalisation "
                                "also lets every pixel depend a little on the whole image, through its mean and "
                                "variance; the measurement held those fixed.)").format(pixels=want))
    hint = _("walk from the output back to the input, one layer at a time, keeping track of how many pixels of "
             "each layer's input a span of its output depends on. A k x k convolution with stride s turns a span of "
             "n output pixels into (n - 1) x s + k input pixels; a nearest-neighbour x2 makes two output pixels "
             "from one.")
    if value < want and value >= want - 8:
        hint = _("close: this is the field of some output pixels, and others see more. The two nearest-neighbour "
                 "upsamplings can cut a span between two input pixels or on one: take the worse alignment.")
    return feedback(False, hint)


# ------------------------------------------------------------------------------------------------ lesson 6


def grade_fast_run(studio) -> bool:
    """Did the studio's (``widgets.StyleStudio``) last run use a trained fast model?"""
    if studio.runs == 0 or studio.result is None:
        return feedback(False, _("run the studio first (studio.run(wait=True))."))
    if studio.mode.value == "fast model" and studio.record is None:
        return feedback(True, _("the '{model}' network stylized the photo in one pass, no optimisation "
                                "steps.").format(model=studio.model.value))
    return feedback(False, _("the last run optimised the pixels (it kept a record of its loss). Which of the "
                             "studio's modes uses the network that lesson 5 trained? `studio.mode.options` lists "
                             "them; set the mode and run again."))


__all__ = ["feedback", "WHY_NOISE", "CHECKERBOARD_OPTIONS", "grade_downsampling", "grade_sparsest_layer",
           "grade_blank_fraction", "grade_blank_by_weights", "grade_objective", "grade_why_noise",
           "grade_pixel_gradient", "grade_channel_weights", "grade_pointing_game", "grade_counterfactual",
           "grade_score_cam_weights", "grade_gram", "grade_weight_mapping", "grade_colour_swap",
           "grade_checkerboard", "checkerboard_spread", "grade_speedup", "receptive_field",
           "grade_receptive_field", "grade_fast_run"]
