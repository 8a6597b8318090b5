"""The language nstlib speaks inside a lesson: English, or Korean for the Korean edition.

The language is ``set_language(code)`` if it was called, else the NSTLIB_LANG environment variable, else
English. ``_(text)`` and ``ngettext(singular, plural, n)`` are the standard library's gettext on nstlib's own
catalogue: the English text is the message id, and a string the catalogue lacks comes out in English.

The catalogue's source is ``nstlib/locale/<code>/LC_MESSAGES/nstlib.po``; gettext reads the compiled ``.mo``
beside it, which ``python tools/msgfmt.py`` writes (``tests/test_i18n.py`` fails when it is out of date).
A message with fields is written with ``str.format`` names, so a translation may put them in its own order:
``_("weights: {label}").format(label=label)``.

A text table lines its columns up with ``pad``, which counts a Hangul syllable as two columns, as a
monospaced font draws it.

Modules that depend on the language beyond text (``plotting``'s Hangul font) register a function with
``on_change``; it runs whenever ``set_language`` is called.
"""

from __future__ import annotations

import gettext
import os
import unicodedata
from contextlib import contextmanager
from pathlib import Path

from .core.errors import UsageError

#: The languages nstlib has a catalogue for (English needs none).
LANGUAGES = ("en", "ko")
DOMAIN = "nstlib"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_chosen: str | None = None
_catalogues: dict[str, gettext.NullTranslations] = {}
_listeners: list = []


def _choices() -> str:
    return " or ".join(repr(code) for code in LANGUAGES)


def language() -> str:
    """The current language's code: ``set_language``'s, else NSTLIB_LANG's, else "en"."""
    if _chosen is not None:
        return _chosen
    value = os.environ.get("NSTLIB_LANG", "").strip().lower()
    if not value:
        return "en"
    if value not in LANGUAGES:
        raise UsageError(f"NSTLIB_LANG={value}: use {' or '.join(LANGUAGES)} (or unset it)")
    return value


def set_language(code: str | None) -> str:
    """Speak ``code`` ("en" or "ko") from now on, whatever NSTLIB_LANG says; ``None`` goes back to NSTLIB_LANG.
    Returns the language now in use."""
    global _chosen
    if code is not None:
        if not isinstance(code, str) or code.strip().lower() not in LANGUAGES:
            raise UsageError(f"set_language: the language must be {_choices()}, got {code!r}")
        code = code.strip().lower()
    _chosen = code
    current = language()
    for listener in list(_listeners):
        listener(current)
    return current


@contextmanager
def speaking(code: str | None):
    """Speak ``code`` inside a ``with`` block, then go back to the choice made before it (the command line
    speaks English this way whatever NSTLIB_LANG says)."""
    before = _chosen
    set_language(code)
    try:
        yield language()
    finally:
        set_language(before)


def on_change(listener) -> None:
    """Call ``listener(code)`` after every ``set_language`` (``plotting`` registers its font this way)."""
    if listener not in _listeners:
        _listeners.append(listener)


def catalogue(code: str | None = None) -> gettext.NullTranslations:
    """The gettext translations of ``code`` (the current language by default); English has none to look up."""
    code = code or language()
    if code not in _catalogues:
        if code == "en":
            _catalogues[code] = gettext.NullTranslations()
        else:
            _catalogues[code] = gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[code])
    return _catalogues[code]


def _(text: str) -> str:
    """``text`` in the current language (``text`` itself where the catalogue has no translation)."""
    return catalogue().gettext(text)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for ``n`` things, in the current language."""
    return catalogue().ngettext(singular, plural, n)


def text_width(text: str) -> int:
    """How many columns ``text`` takes in a monospaced font: two for a wide character (Hangul, CJK), else one."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, columns: int, align: str = "<") -> str:
    """``text`` padded with spaces to ``columns`` columns (``text_width``), on the right (``"<"``) or the left
    (``">"``): ``f"{text:<10}"`` for a table whose headers may be Korean."""
    fill = " " * max(0, columns - text_width(text))
    return text + fill if align == "<" else fill + text
