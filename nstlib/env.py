"""The machine: which device, reproducible seeds, and a short report a student can paste into a question."""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

from . import config


def device(prefer: str | None = None) -> torch.device:
    """CUDA, then Apple's MPS, then the CPU; ``prefer`` or NSTLIB_DEVICE overrides (e.g. 'cpu')."""
    choice = prefer or config.default_device()
    if choice:
        dev = torch.device(choice)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {choice!r} was asked for, but CUDA is not available here; use 'cpu'")
        if dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise RuntimeError(f"device {choice!r} was asked for, but MPS is not available here; use 'cpu'")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed(n: int = 0) -> int:
    """Seed Python, numpy and torch (all devices) so lessons and tests reproduce."""
    random.seed(n)
    np.random.seed(n % 2**32)
    torch.manual_seed(n)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(n)
    return n


def in_colab() -> bool:
    try:
        import google.colab  # noqa: F401
    except ImportError:
        return False
    return True


def report(dev: torch.device | None = None, weights: str | None = None) -> str:
    """One short block: versions, device, threads, weights, smoke mode, and what to do on a CPU."""
    import torchvision

    from . import __version__
    from . import weights as W

    dev = dev or device()
    if weights is None:
        try:
            weights = W.resolve("auto", download=False).summary()
        except W.WeightsUnavailable:
            weights = "none yet: run  python -m nstlib weights fetch offline  (or  fetch imagenet)"
    name = dev.type
    if dev.type == "cuda":
        name = f"cuda ({torch.cuda.get_device_name(dev)})"
    lines = [
        f"nstlib {__version__} | torch {torch.__version__} | torchvision {torchvision.__version__} | "
        f"Python {platform.python_version()}",
        f"device:  {name}, {torch.get_num_threads()} CPU threads ({os.cpu_count()} cores)",
        f"weights: {weights}",
        f"smoke mode: {'on (tiny images, few steps)' if config.smoke() else 'off'}",
    ]
    if dev.type == "cpu":
        lines.append(
            "tip: on a CPU the optimisation lessons take minutes. For a GPU open the notebook in Colab "
            "(Runtime > Change runtime type > GPU); for a seconds-long check set NSTLIB_SMOKE=1."
        )
    return "\n".join(lines)
