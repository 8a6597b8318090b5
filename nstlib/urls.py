"""Images from web addresses: what students paste on Colab.

``fetch(url)`` downloads an http(s) image once, with a timeout (NSTLIB_DOWNLOAD_TIMEOUT) and a size limit
(NSTLIB_MAX_DOWNLOAD_MB), checks with Pillow that the bytes are an image, and keeps it under
NSTLIB_HOME/images named by the address's sha256, so the next run (or a class with no network) reads the
copy. Every failure is an ImageError that says what happened: no network, no answer in time, a 404, a web
page instead of an image, a file too large.
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from PIL import Image, UnidentifiedImageError

from . import config
from .images import ImageError

_HEADERS = {"User-Agent": "nstlib (course image download)", "Accept": "image/*"}
_PAGE_HINT = ("If it is a web page, open it, right-click the picture, choose 'Copy image address' and use "
              "that address.")


def cache_dir() -> Path:
    return config.home() / "images"


def cached(url: str) -> Path | None:
    """The copy of ``url`` downloaded before, if there is one."""
    key = hashlib.sha256(url.encode()).hexdigest()
    folder = cache_dir()
    if folder.is_dir():
        for path in folder.glob(f"{key}.*"):
            if not path.name.endswith(".partial"):
                return path
    return None


def fetch(url: str, timeout: float | None = None, max_bytes: int | None = None) -> Path:
    """The local copy of the image at ``url`` (downloaded now, or found in the cache)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ImageError(f"{url!r} is not a web address; an image address starts with https:// or http://")
    hit = cached(url)
    if hit is not None:
        return hit
    timeout = config.download_timeout() if timeout is None else timeout
    max_bytes = int(config.max_download_mb() * 1e6) if max_bytes is None else max_bytes
    data, content_type = _download(url, parsed.hostname, timeout, max_bytes)
    fmt = _image_format(url, data, content_type)
    return _keep(url, data, fmt)


def _download(url, host, timeout, max_bytes) -> tuple[bytes, str]:
    limit = f"{max_bytes / 1e6:g} MB"
    try:
        request = urllib.request.Request(url, headers=_HEADERS)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise ImageError(f"{url} is {int(length) / 1e6:.1f} MB, more than the {limit} nstlib downloads. "
                                 f"Download a smaller version, or set NSTLIB_MAX_DOWNLOAD_MB higher.")
            data = response.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise ImageError(f"{url} is more than the {limit} nstlib downloads. Download a smaller version, or "
                                 f"set NSTLIB_MAX_DOWNLOAD_MB higher.")
            return data, response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        hint = " Check the address (copy it again from the browser)." if error.code in (403, 404, 410) else ""
        raise ImageError(f"the server answered {error.code} {error.reason} for {url}.{hint}") from None
    except (TimeoutError, socket.timeout):
        raise ImageError(f"{host} did not answer within {timeout:g} s for {url}. Try again, set "
                         f"NSTLIB_DOWNLOAD_TIMEOUT to wait longer, or download the image and give its path.") from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise ImageError(f"{host} did not answer within {timeout:g} s for {url}. Try again, set "
                             f"NSTLIB_DOWNLOAD_TIMEOUT to wait longer, or download the image and give its "
                             f"path.") from None
        raise ImageError(f"cannot reach {host} to download {url} ({getattr(reason, 'strerror', None) or reason}): "
                         f"is this machine offline? Without a network, download the image elsewhere and give "
                         f"its path, or use a bundled photo (cat, astronaut ...).") from None
    except OSError as error:  # a connection reset or cut short in the middle of the download
        raise ImageError(f"the download of {url} failed ({error}). Try again, or download the image and give its "
                         f"path.") from None


def _image_format(url, data: bytes, content_type: str) -> str:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.format or "PNG"
    except (UnidentifiedImageError, OSError):
        sent = content_type.split(";")[0].strip() or "something"
        raise ImageError(f"{url} is not an image: the server sent {sent} ({len(data):,} bytes) that Pillow cannot "
                         f"read. {_PAGE_HINT}") from None


def _keep(url: str, data: bytes, fmt: str) -> Path:
    key = hashlib.sha256(url.encode()).hexdigest()
    suffix = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp",
              "TIFF": ".tif"}.get(fmt, "." + fmt.lower())
    folder = cache_dir()
    target = folder / f"{key}{suffix}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=folder, prefix=f"{key}-", suffix=".partial")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, target)
    except OSError as error:
        raise ImageError(f"cannot keep the downloaded image in {folder} ({error.strerror or error}): NSTLIB_HOME "
                         f"must be a folder you can write to (now {config.home()})") from None
    return target
