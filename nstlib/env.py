"""The machine: which device, reproducible seeds, and a short report a student can paste into a question."""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

from . import __version__, config
from .core.errors import UsageError
from .core.errors import option as worded
from .i18n import _
from .weights import WeightsUnavailable
from .weights import resolve as resolve_weights  # ``weights`` is a parameter name here


def device(prefer=None, *, option: str = "device") -> torch.device:
    """The one device choice of every path: ``prefer`` if given, else NSTLIB_DEVICE, else CUDA, then Apple's
    MPS, then the CPU. A name torch does not know, or a device this machine lacks, is a UsageError that names
    where the choice came from (``option``: ``device`` in Python, ``--device`` on the command line, or the
    environment variable)."""
    if isinstance(prefer, torch.device):
        prefer = str(prefer)
    where = option
    choice = prefer.strip() if isinstance(prefer, str) and prefer.strip() else None
    if choice is None:
        choice, where = config.default_device(), "NSTLIB_DEVICE"
    if choice:
        return _checked(choice, where)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps():
        return torch.device("mps")
    return torch.device("cpu")


def _mps() -> bool:
    return hasattr(torch.backends, "mps") and torch.backends.mps.is_available()


def _checked(choice: str, where: str) -> torch.device:
    said = worded(where, choice)
    here = ", ".join(["cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (["mps"] if _mps() else []))
    try:
        dev = torch.device(choice)
    except (RuntimeError, ValueError):
        raise UsageError(f"{said}: not a device name; use one of {here} (or cuda:1 for a second GPU)") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"{said}: CUDA is not available on this machine; use one of {here}")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise UsageError(f"{said}: this machine has {torch.cuda.device_count()} CUDA device(s), numbered from 0")
    elif dev.type == "mps":
        if not _mps():
            raise UsageError(f"{said}: Apple's MPS is not available on this machine; use one of {here}")
    elif dev.type != "cpu":
        raise UsageError(f"{said}: nstlib runs on cpu, cuda or mps; use one of {here}")
    return dev


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
    import torchvision  # only the report needs it, and it takes a while to load

    dev = dev or device()
    if weights is None:
        try:
            weights = resolve_weights("auto", download=False).summary()
        except WeightsUnavailable:
            weights = _("none yet: run  python -m nstlib weights fetch offline  (or  fetch imagenet)")
    name = dev.type
    if dev.type == "cuda":
        name = f"cuda ({torch.cuda.get_device_name(dev)})"
    lines = [
        f"nstlib {__version__} | torch {torch.__version__} | torchvision {torchvision.__version__} | "
        f"Python {platform.python_version()}",
        _("device:  {name}, {threads} CPU threads ({cores} cores)").format(
            name=name, threads=torch.get_num_threads(), cores=os.cpu_count()),
        _("weights: {label}").format(label=weights),
        _("smoke mode: on (tiny images, few steps)") if config.smoke() else _("smoke mode: off"),
    ]
    if dev.type == "cpu":
        lines.append(
            _("tip: on a CPU the optimisation lessons take minutes. For a GPU open the notebook in Colab "
              "(Runtime > Change runtime type > GPU); for a seconds-long check set NSTLIB_SMOKE=1.")
        )
    return "\n".join(lines)
