"""One way to build an interactive view that falls back to a static figure with no front end.

``explorer(render, layer=[...], channel=(0, 63))`` shows ipywidgets controls that call ``render`` with
their values; under nbval, in smoke mode, or with NSTLIB_STATIC=1 it calls ``render`` once with the first
value of each control, so the notebook still shows a picture and runs headless. Lessons 1 and 3 use it; it
loads no lesson, so a lesson's explorer costs only ipywidgets.

The controls speak the current language (``i18n``): a control's label and the words among its choices
(``"predicted"``) are display text, while ``render`` always receives the English values.
"""

from __future__ import annotations

import inspect
import os

from . import config
from .i18n import _


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


def _names() -> dict[str, str]:
    """The labels of the lessons' controls, by parameter name, in the current language (built at each call,
    so that ``i18n.set_language`` takes effect)."""
    return {"image": _("image"), "layer": _("layer"), "page": _("page"), "channel": _("channel"),
            "scene": _("scene"), "target": _("target"), "method": _("method")}


def _choices() -> dict[str, str]:
    """The words among the lessons' choices that are not names (lesson 3's target "predicted")."""
    return {"predicted": _("predicted")}


def labelled(values, label) -> list:
    """ipywidgets options for ``values`` shown as ``label(value)``: the values themselves where every label is
    its value (English), else (label, value) pairs, so the widget's ``value`` stays the English value."""
    values = list(values)
    pairs = [(label(value), value) for value in values]
    return values if all(shown == value for shown, value in pairs) else pairs


def _control(render, name: str, control, names: dict, choices: dict):
    """The ipywidgets control ``interact`` would make for ``control``, labelled in the current language."""
    import ipywidgets

    if isinstance(control, list) and all(isinstance(value, str) for value in control):
        control = labelled(control, lambda value: choices.get(value, value))
    parameter = inspect.signature(render).parameters.get(name)
    default = parameter.default if parameter is not None else inspect.Parameter.empty
    widget = ipywidgets.interactive.widget_from_abbrev(control, default)
    if widget is None:
        raise ValueError(f"{control!r} cannot be transformed to a widget")
    if widget is not control:  # a caller's own widget (or ``fixed``) is left as it came
        widget.description = names.get(name, name)
    return widget


def explorer(render, **controls):
    """Interactive in a live notebook, static otherwise; ``render(**values)`` draws one view."""
    if interactive_available():
        import ipywidgets

        names, choices = _names(), _choices()
        return ipywidgets.interact(render, **{name: _control(render, name, control, names, choices)
                                              for name, control in controls.items()})
    return render(**{name: _first(control) for name, control in controls.items()})
