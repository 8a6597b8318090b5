"""The three run records (style transfer, filter patterns, fast training) keep their history in one shape."""

from __future__ import annotations

import pytest
import torch

from nstlib import fast, filters, images, models, style, textures


@pytest.fixture(scope="module")
def records():
    torch.manual_seed(0)
    vgg = style.load_model("vgg16", "random", "relu5_1", "max", "cpu")
    _, stylized = style.stylize(images.sample("cat", 48), textures.draw("mosaic", 48), size=48, steps=2, scales=1,
                                model=vgg, progress=False, seed=0)
    patterns = filters.visualize(models.vgg("vgg16", "random", last_layer="conv2_1", verbose=False), "conv2_1",
                                 [0, 1], size=32, steps=2, progress=False)
    _, trained = fast.train(steps=2, crop=32, batch=2, width=4, n_residual=1, style_size=64, weights="random",
                            seed=0, progress=False, device="cpu")
    return {"style": stylized, "filters": patterns, "fast": trained}


@pytest.mark.parametrize("kind", ["style", "filters", "fast"])
def test_each_record_has_rows_with_step_seconds_and_terms(records, kind):
    record = records[kind]
    assert record.rows and all({"step", "seconds"} <= set(row) for row in record.rows)
    steps = [row["step"] for row in record.rows]
    assert steps == sorted(steps)
    assert record.losses, "at least one loss term (or objective) per row"
    for name, values in record.losses.items():
        assert values == [row[name] for row in record.rows]
        assert name not in ("step", "seconds")


def test_the_old_names_read_the_rows(records):
    stylized, patterns, trained = records["style"], records["filters"], records["fast"]
    assert stylized.total == stylized.losses["total"] and stylized.time == [r["seconds"] for r in stylized.rows]
    assert stylized.evals == len(stylized.rows) and stylized.final()["total"] == stylized.total[-1]
    assert set(stylized.style_layers) == set(style.STYLE_LAYERS)
    assert patterns.history == patterns.losses["objective"] and len(patterns.times) == len(patterns.history) == 2
    assert trained.losses["total"] == [row["total"] for row in trained.rows]
