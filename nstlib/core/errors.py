"""Errors the user caused, worded for the surface they came through.

A ``UsageError`` says what was wrong and how to fix it. The library words it with parameter names
(``size=``); ``cli`` is the same advice with the command line's options (``--size``), which the command
line prints instead, as ``nstlib <command>: error: ...`` with exit status 2. Errors caused by an
environment variable name the variable on both surfaces. ``option`` is the one place that decides how a
name is written on its surface, so no message guesses it again.
"""

from __future__ import annotations

_NO_VALUE = object()


class UsageError(ValueError):
    """Bad input from the user (an argument, a file, an environment variable); never a bug in nstlib."""

    def __init__(self, message: str, cli: str | None = None):
        super().__init__(message)
        self.cli = cli

    def for_cli(self) -> str:
        """The message as the command line shows it."""
        return self.cli or str(self)


class ImageError(UsageError):
    """An input that cannot be turned into an RGB image; the message says how to fix it.

    It lives here rather than in ``images`` so that ``urls`` can raise it without importing ``images``."""


def on_cli(name: str) -> bool:
    """True for a command-line option (``--size``, ``-o``); False for a parameter or an environment variable."""
    return name.startswith("-")


def option(name: str, value=_NO_VALUE, *, like: str | None = None) -> str:
    """How a message names ``name`` (with ``value``) on its surface.

    ``--size 5`` on the command line, ``size=5`` in Python and ``NSTLIB_DEVICE=cuda`` for a variable; without
    a value, ``--size`` and ``size=``. ``like`` is another name of the same call, for a flag named beside it:
    ``option("overwrite", True, like="-o")`` is ``--overwrite``, ``option("overwrite", True, like="path")`` is
    ``overwrite=True``. A value is written as given: pass ``repr(value)`` to quote it.
    """
    if on_cli(like if like is not None else name):
        flag = name if on_cli(name) else "--" + name.replace("_", "-")
        return flag if value is _NO_VALUE or value is True else f"{flag} {value}"
    key = name.lstrip("-").replace("-", "_")
    return f"{key}=" if value is _NO_VALUE else f"{key}={value}"
