"""Downloads that cannot hang or crash, against a local server on 127.0.0.1 that misbehaves on purpose.

A server that trickles bytes meets the whole-download deadline; a body shorter than its Content-Length is
a download cut short; whatever Pillow says about a downloaded file is said as for the same file on disk.
"""

import io
import threading
import warnings
from http.server import BaseHTTPRequestHandler

import pytest
from PIL import Image

from nstlib import images
from nstlib.core import urls
from nstlib.core.errors import ImageError


def _png(size=(80, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()
#: A PNG whose last third is missing, served whole (its Content-Length is its own length).
DAMAGED = _png((300, 200))[: 2 * len(_png((300, 200))) // 3]


@pytest.fixture
def server(local_server):
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _head(self, length, kind="image/png"):
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(length))
            self.end_headers()

        def do_GET(self):
            try:
                if self.path == "/trickle.png":  # a whole image, one byte at a time: done only after seconds
                    self._head(len(PNG))
                    for byte in PNG:
                        if stop.wait(0.02):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                elif self.path == "/short.png":  # promises the whole image, sends half of it, then hangs up
                    self._head(len(PNG))
                    self.wfile.write(PNG[: len(PNG) // 2])
                elif self.path == "/damaged.png":
                    self._head(len(DAMAGED))
                    self.wfile.write(DAMAGED)
                elif self.path == "/page.html":
                    self._head(len(b"<html></html>"), "text/html")
                    self.wfile.write(b"<html></html>")
                else:
                    self._head(len(PNG))
                    self.wfile.write(PNG)
            except OSError:  # the client gave up: what the tests ask of it
                pass

    httpd = local_server(Handler)
    yield httpd
    stop.set()


def _cache_files(home):
    folder = home / "nstlib" / "images"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _same_words(error_a, name_a, error_b, name_b):
    assert str(error_a).replace(str(name_a), "FILE") == str(error_b).replace(str(name_b), "FILE")


def test_a_server_that_trickles_meets_the_deadline(tmp_home, server, monkeypatch):
    monkeypatch.setenv("NSTLIB_DOWNLOAD_TIMEOUT", "5")  # every byte comes well within the per-read timeout
    monkeypatch.setenv("NSTLIB_DOWNLOAD_DEADLINE", "0.3")
    with pytest.raises(ImageError, match="took more than 0.3 s .*NSTLIB_DOWNLOAD_DEADLINE"):
        images.load(server.base + "/trickle.png")
    assert _cache_files(tmp_home) == []


def test_a_body_shorter_than_its_length_is_a_download_cut_short(tmp_home, server):
    with pytest.raises(ImageError, match=f"cut short: {len(PNG) // 2} of {len(PNG)} bytes arrived") as caught:
        images.load(server.base + "/short.png")
    assert "not an image" not in str(caught.value)
    assert _cache_files(tmp_home) == []


def test_a_web_page_is_not_an_image(tmp_home, server):
    with pytest.raises(ImageError, match="is not an image: the server sent text/html .*Copy image address"):
        images.resolve(server.base + "/page.html")
    assert _cache_files(tmp_home) == []


@pytest.mark.parametrize("name, data, max_pixels, words", [
    ("damaged.png", DAMAGED, None, "damaged or cut short"),
    ("red.png", PNG, 2000, "more pixels than nstlib will open"),  # the 80 x 60 image is then more than twice too big
], ids=["damaged", "oversized"])
def test_a_bad_download_is_worded_as_the_same_file_on_disk(tmp_home, server, tmp_path, monkeypatch, name, data,
                                                           max_pixels, words):
    if max_pixels:
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", max_pixels)
    url, path = f"{server.base}/{name}", tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ImageError, match=words) as on_disk:
        images.load(path)
    with pytest.raises(ImageError) as downloaded:
        images.load(url)
    _same_words(downloaded.value, url, on_disk.value, path)
    assert _cache_files(tmp_home) == []


def test_pillows_bomb_warning_is_always_reworded(tmp_home, server, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3000)  # 4800 pixels: large enough for the warning only
    url = server.base + "/red.png"
    for source in (url, url, images.resolve(url)):  # downloaded, from the cache, by its cached path
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert images.load(source).size == (80, 60)
        assert [w.category for w in caught] == [UserWarning]
        assert "is a very large image (80x60 px" in str(caught[0].message)


def test_the_cache_keeps_only_whole_images(tmp_home, server):
    path = images.resolve(server.base + "/red.png")
    assert path.read_bytes() == PNG and _cache_files(tmp_home) == [path.name]
    assert urls.cached(server.base + "/red.png") == path
