"""Settings read from environment variables, in one place, so notebooks, the CLI and tests agree.

| variable          | meaning                                                     | default            |
|-------------------|-------------------------------------------------------------|--------------------|
| NSTLIB_SMOKE      | 1: tiny images and few steps, every notebook runs in seconds | 0                  |
| NSTLIB_HOME       | where the offline pack, imported weights, downloaded images | ~/.cache/nstlib    |
|                   | and the tests' ImageNet stand-ins (``standin/``) are kept   |                    |
| NSTLIB_WEIGHTS    | default weights source (auto, imagenet, offline, a path...) | auto               |
| NSTLIB_DEVICE     | force a device (cpu, cuda, cuda:1, mps)                     | best available     |
| NSTLIB_MAX_SIZE   | longest image side before images are downscaled (pixels)    | 1024               |
| NSTLIB_DOWNLOAD_URL | where ``weights fetch imagenet`` downloads torchvision's    | torchvision's own  |
|                   | files from: a mirror folder holding vgg16-397923af.pth ...  | address            |
|                   | (a local server in the tests); the sha256 check is the same |                    |
| NSTLIB_DOWNLOAD_TIMEOUT | seconds to wait for each answer of a server before  | 30                 |
|                   | giving up (weights and image addresses)                     |                    |
| NSTLIB_DOWNLOAD_DEADLINE | seconds an image download may take in all, however  | 300                |
|                   | steadily the server sends                                   |                    |
| NSTLIB_MAX_DOWNLOAD_MB | largest image nstlib downloads from an address (MB)    | 50                 |
| NSTLIB_STATIC     | 1: widgets draw one static picture instead of controls      | 0                  |
|                   | (the website build sets it; read in ``explorer``)           |                    |
| NSTLIB_INTERACTIVE | 1: widgets keep their controls in smoke mode (the browser  | 0                  |
|                   | test of the studio; NSTLIB_STATIC=1 still wins)             |                    |
| NSTLIB_LANG       | the language of nstlib's text inside a lesson: en or ko     | en                 |
|                   | (read in ``i18n``; ``i18n.set_language`` wins)              |                    |
"""

from __future__ import annotations

import os
from pathlib import Path

from .core.errors import UsageError

#: The GitHub repository that hosts the course; the Colab badges and the Colab install are built from it.
REPOSITORY = "nstlib-course/seeing-convnets"
BRANCH = "main"

_TRUE = {"1", "true", "yes", "on"}


def smoke() -> bool:
    """True when NSTLIB_SMOKE asks for the seconds-long smoke run (CI, a quick check before class)."""
    return os.environ.get("NSTLIB_SMOKE", "").strip().lower() in _TRUE


def pick(full, smoke_value):
    """``full`` normally, ``smoke_value`` in smoke mode: ``steps = pick(300, 5)``."""
    return smoke_value if smoke() else full


def home() -> Path:
    """The folder for the offline pack and imported weights (NSTLIB_HOME, else ~/.cache/nstlib)."""
    env = os.environ.get("NSTLIB_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "nstlib"


def default_weights() -> str:
    value = os.environ.get("NSTLIB_WEIGHTS", "auto").strip() or "auto"
    if value.lower() not in ("auto", "imagenet", "offline", "random") and not value.startswith("imported:") \
            and not value.endswith((".pth", ".pt")):
        raise UsageError(f"NSTLIB_WEIGHTS={value}: use auto, imagenet, offline, random, imported:NAME or the path "
                         f"of a .pth file (or unset it)")
    return value


def default_device() -> str | None:
    value = os.environ.get("NSTLIB_DEVICE", "").strip()
    return value or None


def max_size() -> int:
    value = os.environ.get("NSTLIB_MAX_SIZE", "").strip()
    if not value:
        return 1024
    try:
        size = int(value)
    except ValueError:
        raise UsageError(f"NSTLIB_MAX_SIZE must be a whole number of pixels, got {value!r}") from None
    if size < 32:
        raise UsageError(f"NSTLIB_MAX_SIZE must be at least 32 pixels, got {size}")
    return size


def download_url() -> str | None:
    """A mirror of torchvision's weights folder (NSTLIB_DOWNLOAD_URL), or None for torchvision's own address.

    The file names and the pinned sha256 stay torchvision's, so a mirror can only serve the real files."""
    value = os.environ.get("NSTLIB_DOWNLOAD_URL", "").strip()
    if value and not value.startswith(("http://", "https://")):
        raise ValueError(f"NSTLIB_DOWNLOAD_URL must start with http:// or https://, got {value!r}")
    return value or None


def download_timeout() -> float:
    """Seconds to wait for a server before giving up (NSTLIB_DOWNLOAD_TIMEOUT)."""
    return _positive_number("NSTLIB_DOWNLOAD_TIMEOUT", 30.0, "seconds")


def download_deadline() -> float:
    """Seconds an image download may take from start to end (NSTLIB_DOWNLOAD_DEADLINE)."""
    return _positive_number("NSTLIB_DOWNLOAD_DEADLINE", 300.0, "seconds")


def max_download_mb() -> float:
    """The largest image download accepted from an address (NSTLIB_MAX_DOWNLOAD_MB), in megabytes."""
    return _positive_number("NSTLIB_MAX_DOWNLOAD_MB", 50.0, "megabytes")


def _positive_number(variable: str, default: float, unit: str) -> float:
    """An environment variable that holds a number above 0, or ``default`` when it is unset or empty."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"{variable} must be a number of {unit}, got {value!r}") from None
    if not number > 0:
        raise UsageError(f"{variable} must be more than 0 {unit}, got {value!r}")
    return number


#: The languages the lessons are published in: English at the top, each other under its code
#: (notebooks/ko/, the website's ko/).
LESSON_LANGUAGES = ("en", "ko")


def _language_folder(language: str) -> str:
    if language not in LESSON_LANGUAGES:
        raise UsageError(f"the lessons are published in {' and '.join(LESSON_LANGUAGES)}, not {language!r}")
    return "" if language == "en" else f"{language}/"


def colab_url(notebook: str, language: str = "en") -> str:
    """The 'Open in Colab' address of a notebook of this repository (``language`` "ko": the Korean lesson)."""
    return (f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/notebooks/"
            f"{_language_folder(language)}{notebook}")


def site_url(notebook: str | None = None, language: str = "en") -> str:
    """The course website (GitHub Pages of REPOSITORY), or one lesson's page on it, with every figure; the
    Korean site is the same under ko/."""
    owner, name = REPOSITORY.split("/")
    base = f"https://{owner}.github.io/{name}/{_language_folder(language)}"
    return f"{base}lessons/{Path(notebook).stem}.html" if notebook else base


#: The words of the link beside the badge, per language.
SITE_LINK_TEXT = {"en": "Read this lesson online, with every figure",
                  "ko": "이 강의를 모든 그림과 함께 온라인으로 읽기"}


def site_link(notebook: str, language: str = "en") -> str:
    """Markdown beside the Colab badge: the lesson already run, for reading before (or instead of) running."""
    return f"[{SITE_LINK_TEXT[language]}]({site_url(notebook, language)})"


def colab_badge(notebook: str, language: str = "en") -> str:
    """Markdown for the badge at the top of each notebook."""
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(notebook, language)})")
