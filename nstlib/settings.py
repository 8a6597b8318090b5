"""The one settings pattern of nstlib's long-running functions (``stylize``, ``visualize``, ``fast.train``).

Each takes a settings dataclass or the same options by name. ``Settings.with_overrides`` is the one way to
apply names on top of a settings object: it returns a copy, so the caller's object never changes (a
notebook reuses its settings from cell to cell), and an unknown name is a ``SettingsError`` that lists the
real ones. ``validated()``, defined by each class, checks the values in one place before any work starts.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import TypeVar

from .core.errors import UsageError
from .core.errors import option as worded

S = TypeVar("S", bound="Settings")


class SettingsError(UsageError, TypeError):
    """A settings object of the wrong class, or an option name the settings do not have. A TypeError too,
    as Python's own error for an unknown keyword argument is."""


class Settings:
    """Mixin for a settings dataclass: copying overrides, checked against the real field names."""

    def with_overrides(self: S, **overrides) -> S:
        """A copy with ``overrides`` applied; ``self`` is left as it was."""
        names = [f.name for f in fields(self)]
        unknown = [key for key in overrides if key not in names]
        if unknown:
            raise SettingsError(f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} for "
                                f"{type(self).__name__}; the settings are: {', '.join(names)}")
        return replace(self, **overrides)

    def validated(self: S) -> S:  # pragma: no cover - each settings class defines its own
        raise NotImplementedError


def refuse(name: str, problem: str, cli_problem: str | None = None, option: str | None = None):
    """Raise the ``UsageError`` of a bad setting, worded ``name ...`` in Python and ``--name ...`` on the
    command line (``option``: the flag when it is not the field's name with dashes)."""
    flag = option or worded(name, like="--")  # the one wording of a flag: core.errors.option
    raise UsageError(f"{name} {problem}", cli=f"{flag} {cli_problem or problem}")


def check_at_least(settings, least: dict, options: dict | None = None) -> None:
    """Each named field is a number of at least its value (None passes: it means "the default")."""
    for name, low in least.items():
        value = getattr(settings, name)
        if value is not None and value < low:
            refuse(name, f"must be at least {low}, got {value}", option=(options or {}).get(name))


def check_weights(settings, names) -> None:
    """Each named field is a finite number of 0 or more (the weights of loss terms)."""
    for name in names:
        value = getattr(settings, name)
        try:
            ok = math.isfinite(float(value)) and float(value) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            refuse(name, f"must be a number of 0 or more, got {value}")


def settings_with(cls: type[S], settings: S | None, overrides: dict) -> S:
    """``settings`` (or ``cls``'s defaults) with keyword ``overrides`` applied to a copy."""
    if settings is None:
        settings = cls()
    elif not isinstance(settings, cls):
        raise SettingsError(f"settings must be a {cls.__name__}, got {type(settings).__name__}; give the options "
                            f"by name instead (e.g. steps=50)")
    return settings.with_overrides(**overrides)
