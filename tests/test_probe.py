import pytest
import torch

from nstlib import models, probe
from nstlib.core.errors import UsageError


def synthetic(n=600, d=32, classes=6, seed=0, spread=0.3):
    """Class-mean vectors plus noise: linearly separable when the spread is small."""
    gen = torch.Generator().manual_seed(seed)
    means = torch.randn(classes, d, generator=gen) * 2
    labels = torch.arange(n) % classes
    x = means[labels] + spread * torch.randn(n, d, generator=gen)
    return x, labels


def test_probe_reads_separable_classes():
    x, y = synthetic()
    acc, _ = probe.fit_probe(x[:400], y[:400], x[400:], y[400:])
    assert acc > 0.97


def test_probe_is_near_chance_on_shuffled_labels():
    x, y = synthetic()
    y = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(1))]
    acc, _ = probe.fit_probe(x[:400], y[:400], x[400:], y[400:])
    assert acc < 0.35  # chance is 1/6


def test_mismatched_rows_are_a_usage_error():
    x, y = synthetic(60)
    with pytest.raises(UsageError, match="same length"):
        probe.fit_probe(x[:40], y[:30], x[40:], y[40:])


def test_sentence_says_what_the_numbers_say():
    rising = probe.finding({"relu1_2": 0.3, "relu3_2": 0.5, "relu5_2": 0.8}, 1 / 6)
    falling = probe.finding({"relu1_2": 0.7, "relu3_2": 0.6, "relu5_2": 0.4}, 1 / 6)
    bumpy = probe.finding({"relu1_2": 0.3, "relu3_2": 0.9, "relu5_2": 0.6}, 1 / 6)
    assert "rises with depth" in rising and "relu5_2 (80%" in rising
    assert "does not rise" in falling and "relu1_2 (70%" in falling
    assert "not rise at every layer" in bumpy and "relu3_2 (90%" in bumpy
    assert len({rising, falling, bumpy}) == 3


def test_probe_layers_smoke_on_random_weights():
    torch.manual_seed(0)
    model = models.vgg("vgg16", "random", last_layer="relu5_2", verbose=False)
    result = probe.probe_layers(model, ["relu1_2", "relu5_2"], n=48, size=32, progress=False)
    assert list(result.accuracy) == ["relu1_2", "relu5_2"]
    assert all(0 <= a <= 1 for a in result.accuracy.values())
    assert result.n_train + result.n_test == 48
    assert result.sentence().startswith("A linear probe reads the class best from")
    fig = probe.show_probe(result)
    assert "random-vgg16" in fig._suptitle.get_text()
    with pytest.raises(UsageError, match="n="):
        probe.probe_layers(model, n=5, progress=False)
