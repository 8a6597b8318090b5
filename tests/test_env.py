import pytest
import torch

import nstlib
from nstlib import config, env


def test_device_can_be_forced(monkeypatch):
    assert env.device("cpu").type == "cpu"
    monkeypatch.setenv("NSTLIB_DEVICE", "cpu")
    assert env.device().type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="only meaningful where CUDA is absent")
@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_a_missing_gpu_says_so(monkeypatch):
    from nstlib.core.errors import UsageError

    with pytest.raises(UsageError, match="device=cuda: CUDA is not available on this machine; use one of cpu"):
        env.device("cuda")
    monkeypatch.setenv("NSTLIB_DEVICE", "banana")
    with pytest.raises(UsageError, match="NSTLIB_DEVICE=banana: not a device name"):
        env.device()
    with pytest.raises(UsageError, match="--device cuda:1: CUDA is not available"):
        env.device("cuda:1", option="--device")
    monkeypatch.setenv("NSTLIB_DEVICE", "cpu")
    assert env.device() == torch.device("cpu") and env.device("cpu", option="--device").type == "cpu"


def test_seed_makes_runs_repeat():
    env.seed(3)
    a = (torch.rand(3), __import__("numpy").random.rand(), __import__("random").random())
    env.seed(3)
    b = (torch.rand(3), __import__("numpy").random.rand(), __import__("random").random())
    assert torch.equal(a[0], b[0]) and a[1:] == b[1:]


def test_report_is_short_and_helpful_on_a_cpu(monkeypatch):
    monkeypatch.setenv("NSTLIB_SMOKE", "1")
    text = env.report(torch.device("cpu"), weights="offline-vgg16: test")
    assert f"torch {torch.__version__}" in text and "device:  cpu" in text
    assert "weights: offline-vgg16" in text and "smoke mode: on" in text
    assert "Colab" in text and "NSTLIB_SMOKE=1" in text
    assert len(text.splitlines()) <= 6


def test_smoke_switch_and_pick(monkeypatch):
    monkeypatch.delenv("NSTLIB_SMOKE", raising=False)
    assert not nstlib.smoke() and config.pick(300, 5) == 300
    monkeypatch.setenv("NSTLIB_SMOKE", "1")
    assert nstlib.smoke() and config.pick(300, 5) == 5


def test_lazy_submodules():
    assert nstlib.images.sample_names()[0] == "cat"
    with pytest.raises(AttributeError):
        nstlib.not_a_module  # noqa: B018


def test_every_course_address_comes_from_the_repository_constant(monkeypatch):
    monkeypatch.setattr(config, "REPOSITORY", "someone/a-fork")
    assert config.site_url() == "https://someone.github.io/a-fork/"
    assert config.site_url("03_class_activation_maps.ipynb") == \
        "https://someone.github.io/a-fork/lessons/03_class_activation_maps.html"
    assert config.colab_url("03_x.ipynb").startswith("https://colab.research.google.com/github/someone/a-fork/")
    assert config.site_url("03_x.ipynb") in config.site_link("03_x.ipynb")
