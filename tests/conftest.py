import pytest
import torch

from nstlib import models


@pytest.fixture
def tmp_home(tmp_path, monkeypatch):
    """An empty NSTLIB_HOME and torch hub cache, so weights tests never see the real ones."""
    monkeypatch.setenv("NSTLIB_HOME", str(tmp_path / "nstlib"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("NSTLIB_WEIGHTS", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def offline_vgg16():
    """The real offline pack (CI fetches it before the tests: `python -m nstlib weights fetch offline`)."""
    return models.vgg("vgg16", "offline", verbose=False)


@pytest.fixture
def random_vgg16():
    torch.manual_seed(0)
    return models.vgg("vgg16", "random", verbose=False)
