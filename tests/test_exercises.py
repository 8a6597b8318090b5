"""Every exercise grader: the right answer passes, the typical wrong answers fail with their hint."""

import pytest
import torch

from nstlib import activations, exercises, filters, style
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


def test_feedback_has_one_wording(capsys):
    assert exercises.feedback(True, "yes.") is True
    assert said(capsys) == "Right: yes.\n"
    assert exercises.feedback(False, "no.") is False
    assert said(capsys) == "Not quite: no.\n"


def test_grade_downsampling(random_vgg16, capsys):
    assert exercises.grade_downsampling(8, random_vgg16, "relu4_1", 224)
    assert "2 x 2 x 2 = 8" in said(capsys)
    assert not exercises.grade_downsampling(4, random_vgg16, "relu4_1", 224)
    out = said(capsys)
    assert out.startswith("Not quite: relu4_1 is 28x28") and "Count the poolings" in out
    assert exercises.grade_downsampling(1, random_vgg16, "relu1_1", 224)


def test_grade_blank_fraction(capsys):
    assert exercises.grade_blank_fraction(activations.blank_fraction)
    assert said(capsys).startswith("Right: ")
    assert not exercises.grade_blank_fraction(lambda a: (a[0].flatten(1).amax(1) < 0).float().mean())
    assert "exactly zero" in said(capsys)
    assert not exercises.grade_blank_fraction(lambda a: (a.mean(dim=(2, 3)) <= 0).float().mean())
    assert "test the maximum, not the mean" in said(capsys)
    assert not exercises.grade_blank_fraction(lambda a: 1 / 0)
    assert said(capsys).startswith("Not quite: your function raised ZeroDivisionError")


def test_grade_sparsest_layer(capsys):
    fractions = {"a": {"conv1_1": 0.0, "conv5_1": 0.5}, "b": {"conv1_1": 0.1, "conv5_1": 0.3}}
    assert exercises.grade_sparsest_layer("conv5_1", fractions)
    assert not exercises.grade_sparsest_layer("conv1_1", fractions)
    assert "but conv5_1 has 40%" in said(capsys)
    assert not exercises.grade_sparsest_layer("conv9_1", fractions)
    assert "not one of the measured layers: conv1_1, conv5_1" in said(capsys)


def test_grade_objective(capsys):
    assert exercises.grade_objective(lambda acts, c: acts[:, c].mean())
    assert exercises.grade_objective(lambda acts, c: filters.filter_means(acts, [c]))
    said(capsys)
    assert not exercises.grade_objective(lambda acts, c: acts.mean())
    assert "select the channel first" in said(capsys)
    assert not exercises.grade_objective(lambda acts, c: acts[:, c].max())
    assert "That is the maximum" in said(capsys)


def test_grade_why_noise(capsys):
    assert exercises.grade_why_noise("c") and exercises.grade_why_noise(" C) nothing prefers natural images")
    said(capsys)
    assert not exercises.grade_why_noise("b")
    assert "VGG was trained on photos" in said(capsys)
    assert not exercises.grade_why_noise("z")
    assert "answer with one letter" in said(capsys)


def test_grade_channel_weights(capsys):
    torch.manual_seed(0)
    model = sc.ShapesNet().eval()
    x = torch.rand(1, 3, 64, 64)
    logits, acts = exercises.cam._forward(model, x, "relu4_2")
    (grads,) = torch.autograd.grad(logits[0, 1], acts)
    assert exercises.grade_channel_weights(model, x, 1, "relu4_2", grads[0].mean((1, 2)))
    said(capsys)
    assert not exercises.grade_channel_weights(model, x, 1, "relu4_2", None)
    assert "fill in `weights`" in said(capsys)
    assert not exercises.grade_channel_weights(model, x, 1, "relu4_2", grads[0].sum((1, 2)))
    assert "you summed the gradient" in said(capsys)
    assert not exercises.grade_channel_weights(model, x, 1, "relu4_2", acts[0].detach().mean((1, 2)))
    assert "those are the mean activations" in said(capsys)
    assert not exercises.grade_channel_weights(model, x, 1, "relu4_2", grads[0].mean((0, 1)))
    assert "one weight per channel" in said(capsys)


def test_grade_pointing_game(capsys):
    def right(heatmap, box):
        row, col = divmod(int(heatmap.argmax()), heatmap.shape[1])
        x0, y0, x1, y1 = box.tolist()
        return x0 <= col < x1 and y0 <= row < y1

    def rows_and_columns_swapped(heatmap, box):
        row, col = divmod(int(heatmap.argmax()), heatmap.shape[1])
        x0, y0, x1, y1 = box.tolist()
        return x0 <= row < x1 and y0 <= col < y1

    assert exercises.grade_pointing_game(right)
    said(capsys)
    assert not exercises.grade_pointing_game(lambda heatmap, box: False)
    assert "x is the column, y the row" in said(capsys)
    assert not exercises.grade_pointing_game(rows_and_columns_swapped)
    assert not exercises.grade_pointing_game(lambda heatmap, box: heatmap[5])
    assert "raised" in said(capsys)


def test_grade_counterfactual(capsys):
    assert exercises.grade_counterfactual(lambda logits: -logits[:, 0], target=0)
    said(capsys)
    assert not exercises.grade_counterfactual(lambda logits: logits[:, 0], target=0)
    assert "ordinary Grad-CAM target" in said(capsys)
    assert not exercises.grade_counterfactual(lambda logits: -logits[:, 1], target=0)
    assert "negated logit of class 0" in said(capsys)
    assert not exercises.grade_counterfactual(lambda logits: -logits, target=0)
    assert "shape (N,)" in said(capsys)


def test_grade_gram(capsys):
    assert exercises.grade_gram(style.gram)
    said(capsys)
    assert not exercises.grade_gram(lambda f: style.gram(f) * f.shape[-1] * f.shape[-2])
    assert "you divided by C instead of C·H·W" in said(capsys)
    assert not exercises.grade_gram(lambda f: style.gram(f) * f.shape[1])
    assert "you divided by H·W instead of C·H·W" in said(capsys)
    assert not exercises.grade_gram(lambda f: style.gram(f)[0])
    assert "the shape is" in said(capsys)


def test_grade_weight_mapping(capsys):
    assert exercises.grade_weight_mapping(1e6 / 64**2, tutorial_weight=1e6, channels=64)
    said(capsys)
    assert not exercises.grade_weight_mapping(1e6 / 64, tutorial_weight=1e6, channels=64)
    assert "C² entries, not C" in said(capsys)
    assert not exercises.grade_weight_mapping(1e6, tutorial_weight=1e6, channels=64)


def test_grade_checkerboard(capsys):
    assert exercises.grade_checkerboard("transposed") and exercises.grade_checkerboard(" Transposed conv")
    said(capsys)
    assert not exercises.grade_checkerboard("resize")
    assert "treats every output pixel alike" in said(capsys)
    assert not exercises.grade_checkerboard("bilinear")
    assert "answer 'transposed' or 'resize'" in said(capsys)


def test_grade_speedup(capsys):
    assert exercises.grade_speedup(200.0, fast_seconds=0.01, optimise_seconds=2.0)
    assert exercises.grade_speedup(205.0, fast_seconds=0.01, optimise_seconds=2.0)  # read off a rounded print
    said(capsys)
    assert not exercises.grade_speedup(0.005, fast_seconds=0.01, optimise_seconds=2.0)  # divided the wrong way
    assert "Divide the optimisation time by the feed-forward time" in said(capsys)


@pytest.mark.parametrize("studio, right, hint", [
    (Studio("fast model", None), True, "in one pass"),
    (Studio("optimise", object()), False, "Set studio.mode.value = 'fast model'"),
    (Studio("fast model", None, runs=0, result=None), False, "run the studio first"),
])
def test_grade_fast_run(studio, right, hint, capsys):
    assert exercises.grade_fast_run(studio) is right
    assert hint in said(capsys)


def test_graders_are_apart_from_the_validators():
    import nstlib

    for name in ("activations", "cam", "fast", "filters", "style", "widgets"):
        module = getattr(nstlib, name)
        graders = [n for n in dir(module) if n.startswith("grade_") or n in (
            "check_sparsest_layer", "check_blank_fraction", "check_objective", "check_why_noise",
            "check_channel_weights", "check_pointing_game", "check_counterfactual", "check_gram",
            "check_weight_mapping", "check_checkerboard", "check_speedup", "check_fast_run")]
        assert not graders, (name, graders)
