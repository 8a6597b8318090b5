"""Images from web addresses: what students paste on Colab.

``download(url)`` fetches an http(s) address with a timeout for each read (NSTLIB_DOWNLOAD_TIMEOUT), a
deadline for the whole download (NSTLIB_DOWNLOAD_DEADLINE: a server that trickles bytes cannot hold a run)
and a size limit (NSTLIB_MAX_DOWNLOAD_MB). ``keep`` stores the bytes under NSTLIB_HOME/images named by the
address's sha256, and ``cached`` finds them again, so the next run (or a class with no network) reads the
copy. Every failure is an ImageError that says what happened: no network, no answer in time, a 404, a file
too large, a download cut short, in the current language (``i18n``). Whether the bytes are an image is for
``images.fetch`` to say, with the same reader and messages as for a file on disk.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .. import config
from ..i18n import _
from . import outputs
from .errors import ImageError, UsageError

_HEADERS = {"User-Agent": "nstlib (course image download)", "Accept": "image/*"}
_CHUNK = 1 << 16
_SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tif"}


@dataclass(frozen=True)
class Download:
    data: bytes
    content_type: str


def page_hint() -> str:
    """What to do when an address leads to a web page rather than to the picture on it."""
    return _("If it is a web page, open it, right-click the picture, choose 'Copy image address' and use that "
             "address.")


def cache_dir() -> Path:
    return config.home() / "images"


def _key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def cached(url: str) -> Path | None:
    """The copy of ``url`` downloaded before, if there is one."""
    folder = cache_dir()
    return next(iter(sorted(folder.glob(f"{_key(url)}.*"))), None) if folder.is_dir() else None


def download(url: str, timeout: float | None = None, deadline: float | None = None,
             max_bytes: int | None = None) -> Download:
    """The bytes at ``url``, whole, within ``deadline`` seconds in all and ``timeout`` seconds per read."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ImageError(_("{url} is not a web address; an image address starts with https:// or http://").format(
            url=repr(url)))
    host = parsed.hostname
    timeout = config.download_timeout() if timeout is None else timeout
    deadline = config.download_deadline() if deadline is None else deadline
    max_bytes = int(config.max_download_mb() * 1e6) if max_bytes is None else max_bytes
    until = time.monotonic() + deadline
    no_answer = _("{host} did not answer within {seconds} s for {url}. Try again, set NSTLIB_DOWNLOAD_TIMEOUT to "
                  "wait longer, or download the image and give its path.").format(
                      host=host, seconds=f"{min(timeout, deadline):g}", url=url)
    try:
        request = urllib.request.Request(url, headers=_HEADERS)
        with urllib.request.urlopen(request, timeout=min(timeout, deadline)) as response:
            length = response.headers.get("Content-Length")
            length = int(length) if length and length.isdigit() else None
            if length is not None and length > max_bytes:
                raise ImageError(_too_large(url, max_bytes, length))
            data = _read(response, url, max_bytes, until, deadline)
            if length is not None and len(data) < length:
                raise http.client.IncompleteRead(data, length - len(data))
            return Download(data, response.headers.get("Content-Type", ""))
    except http.client.IncompleteRead as error:
        received = f"{len(error.partial):,}"
        if error.expected is None:
            message = _("the download of {url} was cut short: {received} of more bytes arrived. Try again, or download "
                        "the image in a browser and give its path.").format(url=url, received=received)
        else:
            message = _("the download of {url} was cut short: {received} of {expected} bytes arrived. Try again, or "
                        "download the image in a browser and give its path.").format(
                            url=url, received=received, expected=f"{len(error.partial) + error.expected:,}")
        raise ImageError(message) from None
    except urllib.error.HTTPError as error:
        hint = _(" Check the address (copy it again from the browser).") if error.code in (403, 404, 410) else ""
        raise ImageError(_("the server answered {code} {reason} for {url}.{hint}").format(
            code=error.code, reason=error.reason, url=url, hint=hint)) from None
    except (TimeoutError, socket.timeout):
        raise ImageError(no_answer) from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise ImageError(no_answer) from None
        raise ImageError(_("cannot reach {host} to download {url} ({reason}): is this machine offline? Without a "
                           "network, download the image elsewhere and give its path, or use a bundled photo (cat, "
                           "astronaut ...).").format(host=host, url=url,
                                                     reason=getattr(reason, "strerror", None) or reason)) from None
    except (OSError, http.client.HTTPException) as error:  # a connection reset, a broken answer
        raise ImageError(_("the download of {url} failed ({error}). Try again, or download the image and give its "
                           "path.").format(url=url, error=error)) from None


def _read(response, url: str, max_bytes: int, until: float, deadline: float) -> bytes:
    """The body, read a piece at a time so that neither its size nor the time it takes can run away."""
    chunks, received = [], 0
    while chunk := response.read1(_CHUNK):
        received += len(chunk)
        if received > max_bytes:
            raise ImageError(_too_large(url, max_bytes))
        if time.monotonic() > until:
            raise ImageError(_("the download of {url} took more than {seconds} s ({received} bytes had arrived): the "
                               "server is too slow. Try again later, set NSTLIB_DOWNLOAD_DEADLINE to allow longer, or "
                               "download the image in a browser and give its path.").format(
                                   url=url, seconds=f"{deadline:g}", received=f"{received:,}"))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(url: str, max_bytes: int, length: int | None = None) -> str:
    limit = f"{max_bytes / 1e6:g}"
    if length is None:
        return _("{url} is more than the {limit} MB nstlib downloads. Download a smaller version, or set "
                 "NSTLIB_MAX_DOWNLOAD_MB higher.").format(url=url, limit=limit)
    return _("{url} is {size} MB, more than the {limit} MB nstlib downloads. Download a smaller version, or set "
             "NSTLIB_MAX_DOWNLOAD_MB higher.").format(url=url, size=f"{length / 1e6:.1f}", limit=limit)


def keep(url: str, data: bytes, fmt: str) -> Path:
    """Store a downloaded image (Pillow's format name ``fmt``) in the cache; the file appears whole or not at all."""
    target = cache_dir() / f"{_key(url)}{_SUFFIXES.get(fmt, '.' + fmt.lower())}"
    try:
        with outputs.replacing(target) as partial:
            partial.write_bytes(data)
    except UsageError as error:
        raise ImageError(_("the downloaded image could not be kept: {error}. NSTLIB_HOME must be a folder you can "
                           "write to (now {home})").format(error=error, home=config.home())) from None
    return target
