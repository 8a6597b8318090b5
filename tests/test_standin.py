"""The ImageNet stand-in: torchvision's format, nstlib's ImageNet code path, and always announced as not ImageNet."""

import pytest
import torch

from nstlib import cam, cli, env, images, models, testing
from nstlib import weights as W


@pytest.fixture
def standin(standin_home, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(standin_home))
    monkeypatch.delenv("NSTLIB_WEIGHTS", raising=False)
    return standin_home


@pytest.mark.slow
def test_torchvision_loads_the_standin_as_its_own_checkpoint(standin):
    import torchvision.models as tvm

    for arch in ("vgg16", "vgg19"):
        path = W.imagenet_source(arch).path
        assert path.is_file() and path.name in W.PUBLISHED_SHA256_PREFIX
        net = getattr(tvm, arch)(weights=None)
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))  # strict: same keys, shapes


@pytest.mark.slow
def test_the_standin_is_announced_as_not_imagenet_everywhere(standin, capsys):
    model = models.vgg("vgg16", last_layer="relu1_1")  # 'auto' takes it, as it would take the real file
    assert model.source.kind == "imagenet"
    line = capsys.readouterr().out
    assert line.startswith("nstlib weights: imagenet-vgg16") and "NOT ImageNet" in line and line.count("\n") == 1
    assert "NOT ImageNet" in env.report(torch.device("cpu"))
    assert cli.main(["weights", "fetch", "auto"]) == 1
    assert "FAILED verification" in capsys.readouterr().out
    assert not W.verify(W.imagenet_source("vgg16"))


def test_a_published_file_gets_no_warning(tmp_home, monkeypatch):
    import hashlib

    path = W.imagenet_source("vgg16").path
    path.parent.mkdir(parents=True)
    path.write_bytes(b"pretend")
    assert "NOT ImageNet" in W.imagenet_source("vgg16").summary()
    monkeypatch.setitem(W.PUBLISHED_SHA256_PREFIX, path.name, hashlib.sha256(b"pretend").hexdigest()[:8])
    assert W.imagenet_source("vgg16").summary().endswith(f"({path})")


@pytest.mark.slow
def test_the_standin_sees_what_the_offline_pack_sees(standin, offline_vgg16):
    """Caffe's preprocessing folded into conv1_1 is exact away from the border (only the padding colour differs),
    and VGG19's extra convolutions pass their input through."""
    x = images.to_tensor(images.sample("cat"), size=64)
    layers = ["relu1_1", "relu3_3", "relu4_2"]
    with torch.no_grad():
        ref = offline_vgg16.extract(x, layers)
        v16 = models.vgg("vgg16", "imagenet", verbose=False).extract(x, layers)
        v19 = models.vgg("vgg19", "imagenet", verbose=False).extract(x, layers)
    inner = (slice(None), slice(None), slice(2, -2), slice(2, -2))
    assert torch.allclose(v16["relu1_1"][inner], ref["relu1_1"][inner], rtol=1e-4, atol=1e-3)
    for name in layers:
        assert (v16[name] - ref[name]).abs().max() < 0.01 * ref[name].abs().max()
        assert torch.allclose(v19[name], v16[name], rtol=1e-5, atol=1e-4)


@pytest.mark.slow
def test_the_imagenet_classifier_path_runs_on_the_standin(standin):
    """What lesson 3 does with ImageNet weights: top classes by name, Grad-CAM for classes asked by name."""
    clf = models.imagenet_classifier("vgg16", verbose=False)
    assert len(clf.categories) == 1000
    x = images.to_tensor(images.sample("cat"), size=(96, 96))
    probs, idx, names = cam.top_classes(clf, x, k=5)
    assert probs.shape == (1, 5) and all(n in clf.categories for n in names[0])
    assert torch.all(probs[0, :-1] >= probs[0, 1:]), "most likely first"
    with torch.no_grad():
        assert idx[0, 0].item() == clf(x).argmax(1).item()
    everything, _, _ = cam.top_classes(clf, x, k=1000)
    assert float(everything.sum()) == pytest.approx(1.0, abs=1e-4)  # probabilities over every class
    assert names[0] == [clf.categories[i] for i in idx[0].tolist()]
    maps = cam.grad_cam(clf, x.expand(2, -1, -1, -1), ["tabby", "space shuttle"])
    assert maps.shape == (2, 96, 96) and torch.isfinite(maps).all()
    assert torch.allclose(maps[0], cam.grad_cam(clf, x, "tabby")[0], atol=1e-5)  # each map is its class's
    assert not torch.allclose(maps[0], maps[1], atol=1e-3)


def test_rescaled_multiplies_every_activation():
    torch.manual_seed(0)
    model = models.vgg("vgg16", "random", verbose=False)
    big = testing.rescaled(model, 100.0)
    x = torch.rand(1, 3, 40, 40)
    names = ["conv1_1", "relu2_1", "relu3_1", "pool4", "relu5_1"]
    with torch.no_grad():
        a, b = model.extract(x, names), big.extract(x, names)
    for name in names:
        assert torch.allclose(b[name], 100.0 * a[name], rtol=1e-4, atol=1e-4 * float(b[name].abs().max()))
    assert torch.equal(model.features.conv2_1.weight, big.features.conv2_1.weight)  # the original is untouched
    with pytest.raises(ValueError, match="positive"):
        testing.rescaled(model, -1.0)
