"""Stand-ins that let the tests and CI run the paths students take, with no network.

``imagenet_standin``: a checkpoint in exactly torchvision's format (the keys, shapes and file name of
``vgg16-397923af.pth`` / ``vgg19-dcbb9e9d.pth``, loadable by ``torchvision.models.vgg16().load_state_dict``),
written where torchvision's hub cache expects it, so the ImageNet branches of the lessons run through the same
code as the real weights. It is NOT ImageNet: the convolutions are the offline pack's, its Caffe preprocessing
folded into the first layer so that they see what they were trained on through torchvision's normalisation
(VGG19's three extra convolutions pass their input through unchanged), and the classifier is seeded random.
nstlib recognises it (its sha256 is not the published one) and every weights line says so.
``standin_home`` keeps one copy of both stand-ins under NSTLIB_HOME, rewritten only when the offline pack changes,
so that the unit tests, the ImageNet-branch notebooks and the Colab check share one write of the stand-ins.

``rescaled``: a copy of a VGG whose every activation is ``factor`` times larger, to check that the lessons'
defaults do not depend on the scale of the weights.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path

import torch

from . import config, weights
from .core import outputs
from .core.layers import conv_names, torchvision_index
from .models import IMAGENET_MEAN, IMAGENET_STD


def _fold_caffe_into_first_conv(weight: torch.Tensor, bias: torch.Tensor):
    """conv1_1 of the offline pack, made to take torchvision's normalised RGB instead of Caffe's BGR 0..255.

    Caffe's input is ``flip(x) * 255 - mean_bgr`` and torchvision's ``(x - mean) / std``, so Caffe's channel
    BGR[c] = a[c] * z[c] + b[c] for the normalised RGB channel z[c]: scale the kernel, move the rest into the
    bias. Zero padding then stands for ImageNet's mean colour instead of Caffe's (within 1.1 of 255).
    """
    mean, std = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
    mean_bgr = torch.tensor(weights.CAFFE_BGR_MEAN)
    rgb_kernel = weight.flip(1)  # kernel input channels BGR -> RGB
    a = 255.0 * std  # per RGB channel
    b = 255.0 * mean - mean_bgr.flip(0)
    new_weight = rgb_kernel * a.view(1, 3, 1, 1)
    new_bias = bias + (rgb_kernel * b.view(1, 3, 1, 1)).sum(dim=(1, 2, 3))
    return new_weight, new_bias


def _identity_conv(channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    weight = torch.zeros(channels, channels, 3, 3)
    weight[torch.arange(channels), torch.arange(channels), 1, 1] = 1.0
    return weight, torch.zeros(channels)


def imagenet_standin_state(arch: str = "vgg16", seed: int = 0) -> dict[str, torch.Tensor]:
    """The stand-in's state dict with torchvision's keys (features.0.weight ... classifier.6.bias)."""
    import torchvision.models as tvm  # slow to load: only the stand-in needs it

    offline = weights.load_state(weights.resolve("offline"))
    torch.manual_seed(seed)
    state = getattr(tvm, arch)(weights=None).state_dict()  # torchvision's own keys, shapes and random init
    index = torchvision_index(arch)
    for name in conv_names(arch):
        if f"{name}.weight" in offline:
            weight, bias = offline[f"{name}.weight"], offline[f"{name}.bias"]
            if name == "conv1_1":
                weight, bias = _fold_caffe_into_first_conv(weight, bias)
        else:  # VGG19's conv3_4, conv4_4, conv5_4: after a ReLU, an identity convolution changes nothing
            weight, bias = _identity_conv(state[f"features.{index[name]}.weight"].shape[0])
        state[f"features.{index[name]}.weight"] = weight.clone().contiguous()
        state[f"features.{index[name]}.bias"] = bias.clone().contiguous()
    return state


def imagenet_standin(arch: str = "vgg16", torch_home: str | os.PathLike | None = None, seed: int = 0) -> Path:
    """Write the stand-in where torchvision's hub cache expects the real file (under ``torch_home``, else
    TORCH_HOME / the default), and return its path. Refuses to overwrite a real published file."""
    if torch_home is not None:
        target = Path(torch_home) / "hub" / "checkpoints" / weights.imagenet_source(arch).path.name
    else:
        target = weights.imagenet_source(arch).path
    if target.is_file() and weights.published_file(target):
        raise FileExistsError(f"{target} holds torchvision's real weights; write the stand-in under another "
                              f"TORCH_HOME")
    with outputs.replacing(target) as partial:
        torch.save(imagenet_standin_state(arch, seed), partial)
    return target


def standin_home(seed: int = 0, archs=("vgg16", "vgg19")) -> Path:
    """A TORCH_HOME holding the stand-ins of ``archs``, kept in NSTLIB_HOME/standin and written only when missing
    or made from another offline pack, seed or file: writing them costs more than every test that reads them.

    A sidecar beside each checkpoint records what made it (the offline pack's sha256, arch, seed) and the
    file's size and mtime, so a changed pack or a file touched by anything else gets a fresh stand-in."""
    folder = config.home() / "standin"
    torch_home = folder / "torch"
    pack = weights.sha256(weights.resolve("offline").path)
    for arch in archs:
        name = weights.imagenet_source(arch).path.name
        target = torch_home / "hub" / "checkpoints" / name
        sidecar = folder / f"{Path(name).stem}.json"
        made_from = {"offline_sha256": pack, "arch": arch, "seed": seed}
        if _recorded(sidecar) == {**made_from, **_file_stamp(target)}:
            continue
        sidecar.unlink(missing_ok=True)  # a failed write leaves no record vouching for the old file
        imagenet_standin(arch, torch_home, seed)
        sidecar.write_text(json.dumps({**made_from, **_file_stamp(target)}))
    return torch_home


def _file_stamp(path: Path) -> dict:
    try:
        stat = path.stat()
    except OSError:
        return {"size": None, "mtime_ns": None}
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _recorded(sidecar: Path) -> dict | None:
    try:
        return json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return None


def rescaled(model, factor: float):
    """A copy of a ``models.VGGFeatures`` whose every conv and ReLU output (and so every pool) is exactly
    ``factor`` times the original's: the first convolution's kernel and every bias are multiplied by
    ``factor`` (ReLU and max pooling commute with a positive scale)."""
    if not factor > 0:
        raise ValueError(f"factor must be positive, got {factor}")
    out = copy.deepcopy(model)
    first = True
    with torch.no_grad():
        for module in out.features.children():
            if isinstance(module, torch.nn.Conv2d):
                if first:
                    module.weight.mul_(factor)
                    first = False
                module.bias.mul_(factor)
    return out


def _main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nstlib.testing",
                                     description="Write the ImageNet stand-in (NOT ImageNet) for CI.")
    parser.add_argument("torch_home", nargs="?",
                        help="a TORCH_HOME of its own, never your real one; without it, the stand-ins kept in "
                             "NSTLIB_HOME/standin are reused (or written) and their TORCH_HOME is printed")
    parser.add_argument("--arch", nargs="+", default=["vgg16", "vgg19"], choices=["vgg16", "vgg19"])
    args = parser.parse_args(argv)
    if args.torch_home is None:
        home = standin_home(archs=tuple(args.arch))
        print(f"the stand-ins (not ImageNet) in TORCH_HOME={home}", file=sys.stderr)
        print(home)
        return 0
    for arch in args.arch:
        print(f"wrote the {arch.upper()} stand-in (not ImageNet): {imagenet_standin(arch, args.torch_home)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
