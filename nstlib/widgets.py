"""The name the lessons import (``widgets.explorer``, ``widgets.StyleStudio``); the code lives in ``explorer``
(lessons 1 and 3) and ``studio`` (lesson 6).

Each name loads its module when first used, so a lesson that only explores layers never loads lessons 4 and 5,
which the studio runs.
"""

from __future__ import annotations

_EXPLORER = ("explorer", "interactive_available")
_STUDIO = ("ADDRESS", "UPLOAD", "WEBCAM", "StyleStudio", "upload_contents", "webcam_available", "webcam_snapshot")


def __getattr__(name):
    if name in _EXPLORER:
        from . import explorer as module
    elif name in _STUDIO:
        from . import studio as module
    else:
        raise AttributeError(f"module 'nstlib.widgets' has no attribute {name!r}")
    return getattr(module, name)


def __dir__():
    return sorted([*globals(), *_EXPLORER, *_STUDIO])


__all__ = sorted([*_EXPLORER, *_STUDIO])
