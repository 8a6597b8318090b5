"""Every exercise grader: the right answer passes, the typical wrong answers fail with a hint, and no wrong
answer is told the right one."""

import re

import pytest
import torch

from nstlib import activations, exercises, fast, filters, models, style
from nstlib import shapes_classifier as sc


class Studio:
    """What ``grade_fast_run`` reads of a ``widgets.StyleStudio`` (the real one is tested in test_widgets)."""

    class _Value:
        def __init__(self, value):
            self.value = value

    def __init__(self, mode, record, runs=1, result="a picture"):
        self.mode, self.model = self._Value(mode), self._Value("mosaic")
        self.record, self.runs, self.result = record, runs, result


def said(capsys) -> str:
    return capsys.readouterr().out


def told_nothing(out: str, *forms) -> None:
    """A wrong answer's feedback: one "Not quite: " line with a hint, and none of the right answer's forms
    (a number is matched as a whole number, so 8 is not found in 28 or 0.8)."""
    assert out.startswith("Not quite: ") and out.count("\n") == 1, out
    assert len(out) > len("Not quite: ") + 30, f"no hint: {out!r}"
    for form in forms:
        if re.fullmatch(r"[\d.]+%?", form):
            assert not re.search(rf"(?<![\d.]){re.escape(form)}(?![\d])", out), (form, out)
        else:
            assert form not in out, (form, out)


def forms_of(value: float) -> tuple:
    """The usual printed forms of a number: 0.25, 0.250, 25%, 16, 16.0 ..."""
    out = {f"{value:g}", f"{value:.2f}", f"{value:.3f}", f"{value:.3g}", f"{value:.1f}"}
    if 0 < abs(value) <= 1:
        out |= {f"{100 * value:.0f}%", f"{100 * value:g}%"}
    if float(value).is_integer():
        out.add(str(int(value)))
    return tuple(out)


def test_feedback_has_one_wording(capsys):
    assert exercises.feedback(True, "yes.") is True
    assert said(capsys) == "Right: yes.\n"
    assert exercises.feedback(False, "no.") is False
    assert said(capsys) == "Not quite: no.\n"


# ------------------------------------------------------------------------------------------------ lesson 0


def test_grade_downsampling(random_vgg16, capsys):
    assert exercises.grade_downsampling(8, random_vgg16, "relu4_1", 224)
    assert "2 x 2 x 2 = 8" in said(capsys)
    assert exercises.grade_downsampling(8.0, random_vgg16, "relu4_1", 224)
    assert exercises.grade_downsampling(1, random_vgg16, "relu1_1", 224)
    said(capsys)
    for wrong in (1, 4, 16, 3, 8 * 8, 0.125, "8", [8], None):  # placeholder, off by 2, poolings, size, inverse, types
        assert not exercises.grade_downsampling(wrong, random_vgg16, "relu4_1", 64)
        told_nothing(said(capsys), "8", "8.0", "8x8", "2 x 2 x 2")


# ------------------------------------------------------------------------------------------------ lesson 1


def test_grade_blank_fraction(capsys):
    assert exercises.grade_blank_fraction(activations.blank_fraction)
    assert said(capsys).startswith("Right: ")
    assert not exercises.grade_blank_fraction(lambda a: (a[0].flatten(1).amax(1) < 0).float().mean())
    assert "exactly zero" in said(capsys)
    assert not exercises.grade_blank_fraction(lambda a: (a.mean(dim=(2, 3)) <= 0).float().mean())
    assert "test the maximum, not the mean" in said(capsys)
    assert not exercises.grade_blank_fraction(lambda a: 1 / 0)
    assert said(capsys).startswith("Not quite: your function raised ZeroDivisionError")


@pytest.mark.parametrize("wrong", [
    lambda a: 0.0,  # the placeholder
    lambda a: (a[0].flatten(1).amax(1) < 0).float().mean(),  # the channel of zeros missed
    lambda a: (a.mean(dim=(2, 3)) <= 0).float().mean(),  # the mean instead of the maximum
    lambda a: 100 * activations.blank_fraction(a),  # a percentage
    lambda a: (a[0].flatten(1).amax(1) <= 0).sum(),  # a count
    lambda a: "0.4",  # a string
], ids=["placeholder", "zero channel", "mean", "percent", "count", "string"])
def test_grade_blank_fraction_never_tells_the_share(wrong, capsys):
    assert not exercises.grade_blank_fraction(wrong)
    told_nothing(said(capsys), *forms_of(0.4), "4 of 10")


def test_grade_sparsest_layer(capsys):
    fractions = {"a": {"conv1_1": 0.0, "conv5_1": 0.5, "conv5_2": 0.45},
                 "b": {"conv1_1": 0.1, "conv5_1": 0.3, "conv5_2": 0.25}}
    assert exercises.grade_sparsest_layer("conv5_1", fractions)
    assert "40%" in said(capsys)
    for wrong in ("conv1_1", "conv5_2", "conv9_1", 5, ["conv5_1"], None):  # placeholder, neighbour, typo, types
        assert not exercises.grade_sparsest_layer(wrong, fractions)
        told_nothing(said(capsys), "conv5_1", *forms_of(0.4))


def test_grade_blank_by_weights(random_vgg16, capsys):
    torch.manual_seed(1)
    other = models.vgg("vgg16", "random", verbose=False)
    x = torch.rand(1, 3, 32, 32)
    layers = ("conv2_2", "conv4_1")
    measured = {}
    for layer in layers:
        pair = []
        for net in (random_vgg16, other):
            pair.append(activations.blank_fraction(net.extract(x, [layer])[layer]))
        measured[layer] = tuple(pair)
    truth = {layer: "same" if abs(t - r) < 0.03 else ("trained" if t > r else "random")
             for layer, (t, r) in measured.items()}
    assert exercises.grade_blank_by_weights(truth, measured, random_vgg16, other, x, layers)
    assert said(capsys).startswith("Right: ")

    flipped = {layer: {"trained": "random", "random": "same", "same": "trained"}[v] for layer, v in truth.items()}
    percent = {layer: (100 * t, 100 * r) for layer, (t, r) in measured.items()}
    swapped = {layer: (r, t) for layer, (t, r) in measured.items()}
    shifted = {layer: (t + 0.1, r) for layer, (t, r) in measured.items()}
    secret = [f for v in measured.values() for share in v for f in forms_of(share) if share > 0]
    for prediction, shares in [({}, {}), (truth, percent), (truth, shifted), (truth, {"conv2_2": 0.1}),
                               (flipped, measured), ({"conv2_2": "yes"}, measured)]:
        assert not exercises.grade_blank_by_weights(prediction, shares, random_vgg16, other, x, layers)
        told_nothing(said(capsys), *secret)
    if any(t != r for t, r in measured.values()):
        assert not exercises.grade_blank_by_weights(truth, swapped, random_vgg16, other, x, layers)
        assert "order of the pair" in said(capsys)
    assert not exercises.grade_blank_by_weights(flipped, measured, random_vgg16, other, x, layers)
    assert "your numbers are right, and they disagree with your prediction" in said(capsys)


# ------------------------------------------------------------------------------------------------ lesson 2


def test_grade_objective(capsys):
    assert exercises.grade_objective(lambda acts, c: acts[:, c].mean())
    assert exercises.grade_objective(lambda acts, c: filters.filter_means(acts, [c]))
    said(capsys)
    assert not exercises.grade_objective(lambda acts, c: acts.mean())
    assert "select the channel first" in said(capsys)
    assert not exercises.grade_objective(lambda acts, c: acts[:, c].max())
    assert "That is the maximum" in said(capsys)
    g = torch.Generator().manual_seed(2)
    acts = torch.randn(1, 8, 5, 7, generator=g) + torch.arange(8.0).view(1, 8, 1, 1)
    secret = [f for c in (2, 5) for f in forms_of(acts[:, c].mean().item())]
    for wrong in (lambda a, c: a.max(), lambda a, c: a.mean(), lambda a, c: a[:, c].sum(),
                  lambda a, c: a[:, c + 1].mean(), lambda a, c: a[:, c]):
        assert not exercises.grade_objective(wrong)
        told_nothing(said(capsys), *secret)


def test_grade_why_noise(capsys):
    assert exercises.grade_why_noise("c") and exercises.grade_why_noise(" C) nothing prefers natural images")
    said(capsys)
    assert not exercises.grade_why_noise("b")
    assert "VGG was trained on photos" in said(capsys)
    assert not exercises.grade_why_noise("z")
    assert "answer with one letter" in said(capsys)  # lists the four choices: the question itself
    for wrong in ("a", "b", "d"):
        assert not exercises.grade_why_noise(wrong)
        told_nothing(said(capsys), "c)", "'c'", '"c"', "answer is")


def _pixel_gradient(model, image, layer, channel):
    x = image.clone().requires_grad_(True)
    return torch.autograd.grad(model.extract(x, [layer])[layer][0, channel].mean(), x)[0]


def test_grade_pixel_gradient(random_vgg16, capsys):
    image = torch.rand(1, 3, 24, 24, generator=torch.Generator().manual_seed(0))
    grads = {layer: _pixel_gradient(random_vgg16, image, layer, 3) for layer in ("conv1_1", "relu1_1")}
    inside = {layer: g[0, :, 2:-2, 2:-2].flatten(1) for layer, g in grads.items()}
    truth = {layer: bool((t.amax(1) - t.amin(1)).max() <= 1e-3 * grads[layer].abs().max())
             for layer, t in inside.items()}
    assert truth["conv1_1"], "conv1_1 is linear: its mean's gradient is the same at every inner pixel"
    assert exercises.grade_pixel_gradient(_pixel_gradient, truth, random_vgg16, image, 3)
    assert said(capsys).startswith("Right: ")

    def summed(model, image, layer, channel):
        x = image.clone().requires_grad_(True)
        return torch.autograd.grad(model.extract(x, [layer])[layer][0, channel].sum(), x)[0]

    flipped = {layer: not v for layer, v in truth.items()}
    for fn, uniform in [(lambda m, i, layer, c: torch.zeros_like(i), truth), (summed, truth),
                        (lambda m, i, layer, c: _pixel_gradient(m, i, layer, c)[0], truth),
                        (_pixel_gradient, flipped), (_pixel_gradient, {"conv1_1": True}),
                        (_pixel_gradient, {"conv1_1": "yes", "relu1_1": "no"})]:
        assert not exercises.grade_pixel_gradient(fn, uniform, random_vgg16, image, 3)
        told_nothing(said(capsys), "is uniform", "not uniform", "conv1_1: True", "relu1_1: False",
                     "relu1_1: True")


# ------------------------------------------------------------------------------------------------ lesson 3


def test_grade_channel_weights(capsys):
    torch.manual_seed(0)
    model = sc.ShapesNet().eval()
    x = torch.rand(1, 3, 64, 64)
    logits, acts = exercises.cam._forward(model, x, "relu4_2")
    (grads,) = torch.autograd.grad(logits[0, 1], acts)
    right = grads[0].mean((1, 2))
    assert exercises.grade_channel_weights(model, x, 1, "relu4_2", right)
    said(capsys)
    assert not exercises.grade_channel_weights(model, x, 1, "relu4_2", None)
    assert "fill in `weights`" in said(capsys)
    assert not exercises.grade_channel_weights(model, x, 1, "relu4_2", grads[0].sum((1, 2)))
    assert "the same number of times too large" in said(capsys)
    assert not exercises.grade_channel_weights(model, x, 1, "relu4_2", acts[0].detach().mean((1, 2)))
    assert "those are the mean activations" in said(capsys)
    assert not exercises.grade_channel_weights(model, x, 1, "relu4_2", grads[0].mean((0, 1)))
    assert "one weight per channel" in said(capsys)
    said(capsys)
    for wrong in (None, grads[0].sum((1, 2)), acts[0].detach().mean((1, 2)), -right, 2 * right):
        assert not exercises.grade_channel_weights(model, x, 1, "relu4_2", wrong)
        told_nothing(said(capsys), f"{right[0].item():.3g}", f"{right[0].item():.4f}", "mean((1, 2))")


def test_grade_pointing_game(capsys):
    def right(heatmap, box):
        row, col = divmod(int(heatmap.argmax()), heatmap.shape[1])
        x0, y0, x1, y1 = box.tolist()
        return x0 <= col < x1 and y0 <= row < y1

    def rows_and_columns_swapped(heatmap, box):
        row, col = divmod(int(heatmap.argmax()), heatmap.shape[1])
        x0, y0, x1, y1 = box.tolist()
        return x0 <= row < x1 and y0 <= col < y1

    def inclusive(heatmap, box):
        row, col = divmod(int(heatmap.argmax()), heatmap.shape[1])
        x0, y0, x1, y1 = box.tolist()
        return x0 <= col <= x1 and y0 <= row <= y1

    assert exercises.grade_pointing_game(right)
    said(capsys)
    assert not exercises.grade_pointing_game(lambda heatmap, box: False)
    assert "x is the column, y the row" in said(capsys)
    assert not exercises.grade_pointing_game(lambda heatmap, box: heatmap[5])
    assert "raised" in said(capsys)
    for wrong in (lambda heatmap, box: False, lambda heatmap, box: True, rows_and_columns_swapped, inclusive):
        assert not exercises.grade_pointing_game(wrong)
        told_nothing(said(capsys), "should give", "expected True", "expected False", "col < x1")


def test_grade_counterfactual(capsys):
    assert exercises.grade_counterfactual(lambda logits: -logits[:, 0], target=0)
    said(capsys)
    assert not exercises.grade_counterfactual(lambda logits: logits[:, 0], target=0)
    assert "ordinary Grad-CAM target" in said(capsys)
    assert not exercises.grade_counterfactual(lambda logits: -logits[:, 1], target=0)
    assert "another class's logit" in said(capsys)
    assert not exercises.grade_counterfactual(lambda logits: -logits, target=0)
    assert "shape (N,)" in said(capsys)
    for wrong in (lambda logits: logits[:, 0], lambda logits: -logits[:, 1], lambda logits: -logits,
                  lambda logits: 1 / logits[:, 0], lambda logits: logits[:, 0].softmax(0),
                  lambda logits: logits.sum(1) - logits[:, 0]):
        assert not exercises.grade_counterfactual(wrong, target=0)
        told_nothing(said(capsys), "-logits", "negat", "minus", "-1 *", "* -1", "the negated")


def test_grade_score_cam_weights(capsys):
    model = sc.load(verbose=False)
    scenes = sc.heldout(2)
    x, target = scenes.images[:1], int(scenes.labels[1])  # the map for another scene's class: gains of both signs
    layer = "relu2_2"  # 32 channels: 32 forward passes per check
    with torch.no_grad(), exercises.cam.hooks.capture(model, layer) as cap:
        model(x)
    acts = cap[layer][0]
    up = torch.nn.functional.interpolate(acts[None], size=x.shape[-2:], mode="bilinear", align_corners=False)[0]
    lo, hi = up.flatten(1).amin(1)[:, None, None], up.flatten(1).amax(1)[:, None, None]
    masks = torch.where(hi > lo, (up - lo) / (hi - lo).clamp_min(1e-30), torch.zeros_like(up))
    with torch.no_grad():
        base = model(torch.zeros_like(x)).softmax(1)[0, target]
        masked = model(x * masks[:, None]).softmax(1)[:, target]
        logits = model(x * masks[:, None])[:, target]
    gains = masked - base
    assert exercises.grade_score_cam_weights(gains, model, x, target, layer)
    assert said(capsys).startswith("Right: ")
    # the map from these weights is nstlib's Score-CAM map
    heat = torch.relu((gains[:, None, None] * acts).sum(0))
    heat = exercises.cam._normalise(exercises.cam._upsample(heat[None, None], x.shape[-2:]))[0, 0]
    assert torch.allclose(heat, exercises.cam.score_cam(model, x, target, layer)[0], atol=1e-5)
    for wrong, hint in [(None, "fill in"), (masked, "compared with"), (gains.softmax(0), "paper's softmax"),
                        (gains[:10], "one weight per channel"), (logits, None), (-gains, None)]:
        assert not exercises.grade_score_cam_weights(wrong, model, x, target, layer)
        out = said(capsys)
        told_nothing(out, f"{gains[0].item():.3g}", f"{gains[0].item():.4f}", f"{base.item():.3f}")
        assert hint is None or hint in out, out


# ------------------------------------------------------------------------------------------------ lesson 4


def test_grade_gram(capsys):
    assert exercises.grade_gram(style.gram)
    said(capsys)
    placeholder = lambda f: style.gram(f) * f.shape[-1] * f.shape[-2]  # noqa: E731 - divided by C only
    assert not exercises.grade_gram(placeholder)
    assert "changes with the number of positions" in said(capsys)
    assert not exercises.grade_gram(lambda f: style.gram(f) * f.shape[1])
    assert "changes with the number of channels" in said(capsys)
    assert not exercises.grade_gram(lambda f: style.gram(f)[0])
    assert "the shape is" in said(capsys)
    for wrong in (placeholder, lambda f: style.gram(f) * f.shape[1], lambda f: style.gram(f) * f[0].numel(),
                  lambda f: 2 * style.gram(f), lambda f: style.gram(f)[0],
                  lambda f: f.flatten(2).transpose(1, 2) @ f.flatten(2) / f[0].numel()):
        assert not exercises.grade_gram(wrong)
        told_nothing(said(capsys), "C·H·W", "c * h * w", "C*H*W", "CHW", "/ (c", "H·W instead")


def test_grade_weight_mapping(capsys):
    assert exercises.grade_weight_mapping(1e6 / 64**2, tutorial_weight=1e6, channels=64)
    said(capsys)
    assert not exercises.grade_weight_mapping(1e6 / 64, tutorial_weight=1e6, channels=64)
    assert "how many numbers does a C x C matrix hold" in said(capsys)
    for wrong in (1e6 / 64, 1e6, 1e6 * 64**2, 1e6 / 128, "244", None):
        assert not exercises.grade_weight_mapping(wrong, tutorial_weight=1e6, channels=64)
        told_nothing(said(capsys), *forms_of(1e6 / 64**2), "244", "4096", "64²", "64**2", "C²", "C^2", "4.1e+03")


def _swap_losses(model, image):
    with torch.no_grad():
        feats = model.extract(image, list(style.STYLE_LAYERS))
        swapped = model.extract(image[:, [2, 1, 0]], list(style.STYLE_LAYERS))
    return {n: float(style.relative_error(style.gram(swapped[n]), style.gram(feats[n]))) for n in feats}


def test_grade_colour_swap(style_vgg16, capsys):
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    image[:, 0] *= 0.5  # red and blue differ
    losses = _swap_losses(style_vgg16, image)
    least = min(losses, key=losses.get)
    assert exercises.grade_colour_swap(losses, least, style_vgg16, image)
    assert said(capsys).startswith("Right: ")
    other = next(n for n in losses if n != least)
    backwards = {}
    with torch.no_grad():
        feats = style_vgg16.extract(image, list(style.STYLE_LAYERS))
        swapped = style_vgg16.extract(image[:, [2, 1, 0]], list(style.STYLE_LAYERS))
    for n in feats:  # the target and the value the wrong way round
        backwards[n] = float(style.relative_error(style.gram(feats[n]), style.gram(swapped[n])))
    scaled = {n: 3 * v for n, v in losses.items()}
    secret = [least, *(f for v in losses.values() for f in (f"{v:.3g}", f"{v:.4f}"))]
    for wrong_losses, wrong_least, hint in [({}, "relu1_1", "fill in"), (scaled, least, "same factor"),
                                            (backwards, least, None), (losses, other, "read your own numbers"),
                                            (losses, "conv9_1", "one of the layers"),
                                            ({n: "big" for n in losses}, least, "one number")]:
        assert not exercises.grade_colour_swap(wrong_losses, wrong_least, style_vgg16, image)
        out = said(capsys)
        if wrong_least == other:
            told_nothing(out, *secret[1:])  # names the answer given, not the right one
            assert least not in out
        else:
            told_nothing(out, *secret)
        assert hint is None or hint in out, out


# ------------------------------------------------------------------------------------------------ lesson 5


def test_checkerboard_options_are_measured():
    spread = {k: min(exercises.checkerboard_spread(k, s) for s in range(3)) for k in exercises.CHECKERBOARD_OPTIONS}
    assert spread["d"] < 1e-4 and spread["e"] < 1e-4, spread  # resizing first: even
    assert min(spread["a"], spread["b"], spread["c"]) > 0.3, spread  # every transposed convolution: a pattern


def test_grade_checkerboard(capsys):
    assert exercises.grade_checkerboard("abc") and exercises.grade_checkerboard(" a, b, C ")
    assert exercises.grade_checkerboard({"a", "b", "c"}) and exercises.grade_checkerboard(["c", "b", "a"])
    said(capsys)
    assert not exercises.grade_checkerboard("resize")
    assert "answer with the letters" in said(capsys)  # lists the choices: the question itself
    for wrong in ("a", "ab", "abcd", "de", "e", ["a"], {"a", "c"}):
        assert not exercises.grade_checkerboard(wrong)
        told_nothing(said(capsys), "abc", "a, b, c", "a, b and c", "'a', 'b', 'c'", "transposed ones")


def test_grade_speedup(capsys):
    assert exercises.grade_speedup(200.0, fast_seconds=0.01, optimise_seconds=2.0)
    assert exercises.grade_speedup(205.0, fast_seconds=0.01, optimise_seconds=2.0)  # read off a rounded print
    said(capsys)
    assert not exercises.grade_speedup(0.005, fast_seconds=0.01, optimise_seconds=2.0)  # divided the wrong way
    assert "slower than optimising" in said(capsys)
    for wrong in (1.0, 0.005, 100.0, 2.0, 400, "200", None):
        assert not exercises.grade_speedup(wrong, fast_seconds=0.01, optimise_seconds=2.0)
        told_nothing(said(capsys), *forms_of(200.0), "200x", "2.00 s / 0.0100 s", "optimise_seconds /",
                     "Divide the")


def test_receptive_field_matches_the_layers():
    # Walked back from the output: 9x9 conv (9), 3x3 after the second upsampling (11), nearest x2 (6), 3x3
    # (8), nearest x2 (4 or 5 by alignment), 2 x n_residual 3x3 convs (+2 each), stride-2 3x3 twice
    # ((r - 1) * 2 + 3, twice), 9x9 (+8).
    def by_hand(n_residual):
        r = max(4, 5) + 2 * 2 * n_residual
        for _ in range(2):
            r = (r - 1) * 2 + 3
        return r + 8

    assert exercises.receptive_field(fast.TransformerNet(width=4, n_residual=1)) == by_hand(1) == 47
    assert exercises.receptive_field(fast.TransformerNet(width=4, n_residual=5)) == by_hand(5) == 111


def test_grade_receptive_field(capsys, monkeypatch):
    torch.manual_seed(0)
    net = fast.TransformerNet(width=4, n_residual=1)
    measured = exercises.receptive_field(net)  # measured once (checked above), for the many answers below
    monkeypatch.setattr(exercises, "receptive_field", lambda n: measured if n is net else pytest.fail("another net"))
    assert exercises.grade_receptive_field(47, net) and exercises.grade_receptive_field(47.0, net)
    said(capsys)
    assert not exercises.grade_receptive_field(43, net)  # the field of the best-aligned output pixels
    assert "take the worse alignment" in said(capsys)
    for wrong in (1, 9, 43, 23, 94, 256, "47", None):
        assert not exercises.grade_receptive_field(wrong, net)
        told_nothing(said(capsys), "47", "47.0")


# ------------------------------------------------------------------------------------------------ lesson 6


@pytest.mark.parametrize("studio, right, hint", [
    (Studio("fast model", None), True, "in one pass"),
    (Studio("optimise", object()), False, "studio.mode.options"),
    (Studio("fast model", None, runs=0, result=None), False, "run the studio first"),
])
def test_grade_fast_run(studio, right, hint, capsys):
    assert exercises.grade_fast_run(studio) is right
    out = said(capsys)
    assert hint in out
    if not right:
        told_nothing(out, "fast model", "'fast model'")


def test_graders_are_apart_from_the_validators():
    import nstlib

    for name in ("activations", "cam", "fast", "filters", "style", "widgets"):
        module = getattr(nstlib, name)
        graders = [n for n in dir(module) if n.startswith("grade_") or n in (
            "check_sparsest_layer", "check_blank_fraction", "check_objective", "check_why_noise",
            "check_channel_weights", "check_pointing_game", "check_counterfactual", "check_gram",
            "check_weight_mapping", "check_checkerboard", "check_speedup", "check_fast_run")]
        assert not graders, (name, graders)
