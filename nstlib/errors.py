"""Errors the user caused, worded for the surface they came through.

A ``UsageError`` says what was wrong and how to fix it. The library words it with parameter names
(``size=``); ``cli`` is the same advice with the command line's options (``--size``), which the command
line prints instead, as ``nstlib <command>: error: ...`` with exit status 2. Errors caused by an
environment variable name the variable on both surfaces.
"""

from __future__ import annotations


class UsageError(ValueError):
    """Bad input from the user (an argument, a file, an environment variable); never a bug in nstlib."""

    def __init__(self, message: str, cli: str | None = None):
        super().__init__(message)
        self.cli = cli

    def for_cli(self) -> str:
        """The message as the command line shows it."""
        return self.cli or str(self)
