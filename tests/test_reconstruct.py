import pytest
import torch

from nstlib import models, reconstruct
from nstlib.core.errors import UsageError


@pytest.fixture(scope="module")
def random_net():
    torch.manual_seed(0)
    return models.vgg("vgg16", "random", last_layer="relu5_2", verbose=False)


def test_relu1_2_rebuilds_the_photo_where_noise_does_not(offline_vgg16):
    r = reconstruct.reconstruct(offline_vgg16, "cat", "relu1_2", steps=40, size=64, progress=False)
    noise = torch.rand(r.photo.shape, generator=torch.Generator().manual_seed(1))
    noise_error = reconstruct.pixel_error(noise, r.photo)
    assert r.image.shape == r.photo.shape
    assert r.pixel_error < 0.03 < noise_error
    assert r.feature_error < 0.05


def test_deeper_layers_rebuild_worse_on_the_same_budget(offline_vgg16):
    results = reconstruct.reconstruct_layers(offline_vgg16, "cat", ["relu1_2", "relu4_2"], steps=20, size=64,
                                             progress=False)
    assert results["relu4_2"].pixel_error > 2 * results["relu1_2"].pixel_error


def test_unknown_layer_lists_the_valid_names(random_net):
    with pytest.raises(UsageError, match="relu4_2.*relu5_2|relu1_1, conv1_2"):
        reconstruct.reconstruct(random_net, "cat", "relu4_4", steps=1, size=32, progress=False)
    with pytest.raises(UsageError, match="conv1_1"):  # deeper than the model was built
        reconstruct.reconstruct_layers(random_net, "cat", ["relu1_2", "pool5"], steps=1, size=32, progress=False)


@pytest.mark.parametrize("bad", [dict(steps=0), dict(steps=2.5), dict(size=8), dict(layers=[])])
def test_bad_settings_are_usage_errors(random_net, bad):
    with pytest.raises(UsageError):
        reconstruct.reconstruct_layers(random_net, "cat", **{"layers": ["relu1_2"], "steps": 1, "size": 32, **bad},
                                       progress=False)


def test_smoke_run_is_seeded_and_records_every_step(random_net):
    kwargs = dict(steps=3, size=64, seed=5, progress=False)
    a = reconstruct.reconstruct_layers(random_net, "cat", ["relu1_2", "relu3_2"], **kwargs)
    b = reconstruct.reconstruct_layers(random_net, "cat", ["relu1_2", "relu3_2"], **kwargs)
    assert list(a) == ["relu1_2", "relu3_2"]
    for layer in a:
        assert torch.equal(a[layer].image, b[layer].image)
        assert a[layer].steps == 3 and len(a[layer].rows) >= 3
        assert a[layer].image.shape == a[layer].photo.shape == (1, 3, 43, 64)
        assert 0 <= float(a[layer].image.min()) and float(a[layer].image.max()) <= 1
    c = reconstruct.reconstruct(random_net, "cat", "relu1_2", **{**kwargs, "seed": 6})
    assert not torch.equal(c.image, a["relu1_2"].image)


def test_ctrl_c_keeps_the_best_so_far_and_skips_later_layers(random_net, monkeypatch):
    calls = {"n": 0}
    step = reconstruct._Stage.step

    def interrupt_on_third(self):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        step(self)

    monkeypatch.setattr(reconstruct._Stage, "step", interrupt_on_third)
    results = reconstruct.reconstruct_layers(random_net, "cat", ["relu1_2", "relu2_2"], steps=10, size=64,
                                             progress=False)
    assert list(results) == ["relu1_2"]
    r = results["relu1_2"]
    assert r.stopped == "interrupted" and r.steps == 2
    assert r.image.shape == r.photo.shape  # interrupted at half size, returned at full size


def test_figure_names_the_weights_and_the_measured_errors(random_net):
    results = reconstruct.reconstruct_layers(random_net, "cat", ["relu1_2", "relu2_2"], steps=1, size=64,
                                             progress=False)
    fig = reconstruct.show_reconstructions(results)
    assert "random-vgg16" in fig._suptitle.get_text()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "the photo"
    assert f"{results['relu2_2'].pixel_error:.2f}" in titles[2]
    assert "relu2_2" in reconstruct.errors_table(results)


def _fake(errors):
    photo = torch.zeros(1, 3, 4, 4)
    return {name: reconstruct.Result(name, photo, photo, e, 0.01, "test") for name, e in errors.items()}


def test_summary_says_what_the_errors_say():
    growing = reconstruct.summary(_fake({"relu1_2": 0.001, "relu3_2": 0.1, "relu5_2": 0.2}))
    bumpy = reconstruct.summary(_fake({"relu1_2": 0.001, "relu3_2": 0.2, "relu5_2": 0.15}))
    flat = reconstruct.summary(_fake({"relu1_2": 0.1, "relu3_2": 0.1, "relu5_2": 0.1}))
    assert "grows at every layer" in growing and "0.200 at relu5_2" in growing
    assert "not at relu5_2" in bumpy
    assert "does not grow" in flat
