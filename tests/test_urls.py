"""Images from web addresses, against a local server on 127.0.0.1 (tests/conftest.py)."""

import pytest

from nstlib import images
from nstlib.core import urls
from nstlib.images import ImageError


def test_an_image_address_is_downloaded_once_and_cached(tmp_home, image_server):
    url = image_server.base + "/red.png"
    image = images.load(url)
    assert image.size == (80, 60) and image.getpixel((0, 0)) == (200, 30, 30)
    cached = urls.cached(url)
    assert cached is not None and cached.parent == tmp_home / "nstlib" / "images" and cached.suffix == ".png"
    assert images.load(url).size == (80, 60) and image_server.hits["/red.png"] == 1  # the second read is the copy
    assert not list(cached.parent.glob("*.partial"))


@pytest.mark.parametrize("path, message", [
    ("/missing.png", "answered 404 Not Found .* Check the address"),
    ("/page.html", "is not an image: the server sent text/html .*Copy image address"),
    ("/big.png", "more than the 1 MB nstlib downloads.*NSTLIB_MAX_DOWNLOAD_MB"),
])
def test_what_is_not_an_image_says_so_and_keeps_nothing(tmp_home, image_server, monkeypatch, path, message):
    monkeypatch.setenv("NSTLIB_MAX_DOWNLOAD_MB", "1")
    with pytest.raises(ImageError, match=message):
        images.load(image_server.base + path)
    assert urls.cached(image_server.base + path) is None


def test_a_server_that_does_not_answer_times_out_with_the_variable_named(tmp_home, image_server, monkeypatch):
    monkeypatch.setenv("NSTLIB_DOWNLOAD_TIMEOUT", "0.3")
    with pytest.raises(ImageError, match="did not answer within 0.3 s.*NSTLIB_DOWNLOAD_TIMEOUT"):
        images.load(image_server.base + "/slow.png")


def test_no_network_is_said_plainly(tmp_home):
    import socket

    with socket.socket() as s:  # a port nobody listens on: the connection is refused, as with no network
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ImageError, match="cannot reach 127.0.0.1 .* offline"):
        images.load(f"http://127.0.0.1:{port}/cat.jpg")


def test_an_unwritable_cache_names_nstlib_home(tmp_path, monkeypatch, image_server):
    blocker = tmp_path / "home"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("NSTLIB_HOME", str(blocker))
    with pytest.raises(ImageError, match="NSTLIB_HOME must be a folder you can write to"):
        images.load(image_server.base + "/red.png")


def test_resolve_knows_names_files_addresses_and_refuses_the_rest(tmp_home, tmp_path, image_server):
    assert images.resolve("cat").size == images.sample("cat").size
    assert images.resolve("strokes").mode == "RGB"
    photo = tmp_path / "p.png"
    images.sample("cat", size=64).save(photo)
    assert images.resolve(str(photo)) == photo
    assert images.resolve(image_server.base + "/red.png").suffix == ".png"
    with pytest.raises(ImageError, match="is a folder"):
        images.resolve(str(tmp_path))
    assert images.resolve(str(tmp_path), folders=True) == tmp_path
    with pytest.raises(ImageError, match="--style van_gogh: no such file, and not a bundled name.*strokes"):
        images.resolve("van_gogh", option="--style")
