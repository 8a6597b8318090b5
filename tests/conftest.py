import matplotlib
import pytest
import torch

from nstlib import i18n, models, style, weights


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """Every test starts in English whatever the shell's NSTLIB_LANG, and a test that switches is put back."""
    monkeypatch.delenv("NSTLIB_LANG", raising=False)
    yield
    monkeypatch.delenv("NSTLIB_LANG", raising=False)  # a test's own setting goes first, then the choice
    i18n.set_language(None)


@pytest.fixture
def korean():
    """Korean for one test, matplotlib's settings put back afterwards."""
    with matplotlib.rc_context():
        i18n.set_language("ko")
        yield
        i18n.set_language(None)


class ZMQInteractiveShell:
    """What ``IPython.get_ipython()`` returns in a notebook front end (only the class name is looked at)."""


@pytest.fixture
def front_end(monkeypatch):
    """A notebook front end, as far as ``widgets.interactive_available`` can tell."""
    import IPython

    for name in ("NSTLIB_SMOKE", "NSTLIB_STATIC", "NSTLIB_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(IPython, "get_ipython", lambda: ZMQInteractiveShell())


@pytest.fixture
def tmp_home(tmp_path, monkeypatch):
    """An empty NSTLIB_HOME and torch hub cache, so weights tests never see the real ones."""
    monkeypatch.setenv("NSTLIB_HOME", str(tmp_path / "nstlib"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("NSTLIB_WEIGHTS", raising=False)
    return tmp_path


@pytest.fixture
def no_network(monkeypatch):
    """Every check for a network answers "none": the paths students take in a class with no network."""
    monkeypatch.setattr(weights, "network_available", lambda *a, **k: False)


@pytest.fixture(scope="session")
def offline_vgg16():
    """The real offline pack (CI fetches it before the tests: `python -m nstlib weights fetch offline`)."""
    return models.vgg("vgg16", "offline", verbose=False)


@pytest.fixture(scope="session")
def standin_home():
    """A TORCH_HOME holding the ImageNet stand-ins (NOT ImageNet): written once per offline pack and shared with
    the ImageNet-branch notebooks and the Colab check (``nstlib.testing.standin_home``)."""
    from nstlib import testing

    return testing.standin_home()


@pytest.fixture
def random_vgg16():
    torch.manual_seed(0)
    return models.vgg("vgg16", "random", verbose=False)


@pytest.fixture(scope="module")
def style_vgg16():
    """Lesson 4's loss network up to relu5_1 with random weights (frozen, so tests in a module can share it)."""
    torch.manual_seed(0)
    return style.load_model("vgg16", "random", "relu5_1", "max", "cpu")


@pytest.fixture
def local_server():
    """Start a local HTTP server on 127.0.0.1 for a request handler class: ``local_server(Handler)`` returns the
    server, with ``.base`` its address; every server started is shut down after the test (after the fixtures
    that use it have released their waiting handlers)."""
    import threading
    from http.server import ThreadingHTTPServer

    started = []

    def start(handler):
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        server.base = f"http://127.0.0.1:{server.server_address[1]}"
        started.append((server, thread))
        return server

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def image_server(local_server):
    """A local HTTP server on 127.0.0.1 serving an image, a web page, a 404, a body too large and a slow answer.

    Yields the base address; ``server.hits`` counts requests per path (to see the cache at work)."""
    import io
    import threading
    from http.server import BaseHTTPRequestHandler

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (200, 30, 30)).save(buffer, format="PNG")
    png = buffer.getvalue()
    release = threading.Event()
    hits = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, code, body, kind):
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            hits[self.path] = hits.get(self.path, 0) + 1
            if self.path.startswith("/red.png"):
                self._send(200, png, "image/png")
            elif self.path == "/page.html":
                self._send(200, b"<html><body><img src='red.png'></body></html>", "text/html; charset=utf-8")
            elif self.path == "/big.png":
                self._send(200, png + b"\0" * 3_000_000, "image/png")
            elif self.path == "/slow.png":
                release.wait(30)
            else:
                self._send(404, b"not here", "text/plain")

    server = local_server(Handler)
    server.hits = hits
    yield server
    release.set()
