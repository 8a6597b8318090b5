"""One way to build an interactive view that falls back to a static figure with no front end.

``explorer(render, layer=[...], channel=(0, 63))`` shows ipywidgets controls that call ``render`` with
their values; under nbval, in smoke mode, or with NSTLIB_STATIC=1 it calls ``render`` once with the first
value of each control, so the notebook still shows a picture and runs headless. Lessons 1 and 3 use it; it
loads no lesson, so a lesson's explorer costs only ipywidgets.
"""

from __future__ import annotations

import os

from . import config


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def interactive_available() -> bool:
    """True in a notebook front end; False in smoke mode, with NSTLIB_STATIC=1, or outside IPython.

    NSTLIB_INTERACTIVE=1 keeps the widgets in smoke mode (the browser test runs the studio that way)."""
    if _flag("NSTLIB_STATIC") or (config.smoke() and not _flag("NSTLIB_INTERACTIVE")):
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _first(control):
    """The default value of an ipywidgets-style abbreviation: list -> first, (lo, hi[, step]) -> lo."""
    if hasattr(control, "value"):
        return control.value
    if isinstance(control, tuple):
        return control[0]
    if isinstance(control, (list, dict)):
        return next(iter(control.values())) if isinstance(control, dict) else control[0]
    return control


def explorer(render, **controls):
    """Interactive in a live notebook, static otherwise; ``render(**values)`` draws one view."""
    if interactive_available():
        import ipywidgets

        return ipywidgets.interact(render, **controls)
    return render(**{name: _first(control) for name, control in controls.items()})
