"""nstlib: the helper package of the course on seeing what convolutional networks see.

Each lesson has its own module (activations, filters, cam, style, fast, studio; ``widgets`` is the name the
lessons import the explorer and the studio by); the lessons also use models, weights, hooks, images, plotting,
env and config. Internal plumbing lives in ``core/`` and the training engine in ``train/`` (docs/design.md
maps every module). ``import nstlib`` stays light: submodules load when first used (``nstlib.images.sample("cat")``).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from .config import smoke  # noqa: E402

# Every public module (``tests/test_layout.py`` compares this with the files), so ``nstlib.<name>`` always works.
_SUBMODULES = {"activations", "cam", "cam_metrics", "cli", "config", "core", "env", "exercises", "explorer", "fast",
               "filters", "hooks", "i18n", "images", "loss_conventions", "models", "palette", "plotting", "probe",
               "reconstruct", "scenes", "settings", "shapes_classifier", "studio", "style", "testing", "textures",
               "train", "weights", "widgets"}


def __getattr__(name):
    if name in ("device", "seed"):  # torch loads only when first needed (the command line starts fast)
        return getattr(importlib.import_module(".env", __name__), name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'nstlib' has no attribute {name!r}")


__all__ = ["__version__", "device", "seed", "smoke", *sorted(_SUBMODULES)]
