"""The ImageNet stand-in is written once per offline pack and reused (``testing.standin_home``).

The 1.1 GB state is replaced by a tiny dict: what is tested is when the cache writes, not what it writes."""

import json

import pytest
import torch

from nstlib import testing
from nstlib import weights as W


@pytest.fixture
def builds(tmp_home, monkeypatch):
    """A fake offline pack in an empty NSTLIB_HOME, and a stand-in builder that counts its calls."""
    pack = W.offline_source().path
    pack.parent.mkdir(parents=True)
    pack.write_bytes(b"pack one")
    calls = []

    def tiny_state(arch="vgg16", seed=0):
        calls.append((arch, seed))
        return {"features.0.weight": torch.full((1,), float(seed))}

    monkeypatch.setattr(testing, "imagenet_standin_state", tiny_state)
    return calls


def test_the_standin_is_written_once_and_reused(builds, tmp_home):
    home = testing.standin_home()
    assert sorted(builds) == [("vgg16", 0), ("vgg19", 0)]
    for arch in ("vgg16", "vgg19"):
        path = home / "hub" / "checkpoints" / W.imagenet_source(arch).path.name
        assert torch.load(path, weights_only=True)["features.0.weight"].item() == 0.0
    stamps = {p: p.stat().st_mtime_ns for p in home.rglob("*.pth")}
    assert testing.standin_home() == home
    assert len(builds) == 2, "the second call rewrote a stand-in that was already there"
    assert {p: p.stat().st_mtime_ns for p in home.rglob("*.pth")} == stamps
    assert home == tmp_home / "nstlib" / "standin" / "torch"  # kept in NSTLIB_HOME, not in the real torch cache


def test_another_offline_pack_or_seed_makes_a_new_standin(builds):
    testing.standin_home()
    W.offline_source().path.write_bytes(b"pack two")
    testing.standin_home()
    assert len(builds) == 4, "a stand-in made from another offline pack was reused"
    home = testing.standin_home(seed=3, archs=("vgg16",))
    assert builds[4:] == [("vgg16", 3)]
    record = json.loads((home.parent / "vgg16-397923af.json").read_text())
    assert record["seed"] == 3 and record["offline_sha256"] == W.sha256(W.offline_source().path)


def test_a_standin_changed_on_disk_or_without_its_record_is_written_again(builds):
    home = testing.standin_home(archs=("vgg16",))
    path = home / "hub" / "checkpoints" / W.imagenet_source("vgg16").path.name
    path.write_bytes(b"something else")
    testing.standin_home(archs=("vgg16",))
    assert len(builds) == 2
    assert torch.load(path, weights_only=True)["features.0.weight"].item() == 0.0
    (home.parent / "vgg16-397923af.json").unlink()
    testing.standin_home(archs=("vgg16",))
    assert len(builds) == 3


def test_without_the_offline_pack_the_cache_says_how_to_fetch_it(tmp_home):
    with pytest.raises(W.WeightsUnavailable, match="weights fetch offline"):
        testing.standin_home()


def test_the_command_line_prints_the_cached_torch_home(builds, capsys):
    assert testing._main([]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == str(testing.standin_home()) and "not ImageNet" in out.err
    assert len(builds) == 2
