"""What the browser tests share: Debian's Chromium driven by Playwright, and a JupyterLab server."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / "out" / "e2e"
#: As root, with no network: without the background-networking flags Chromium keeps trying to reach out.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def launch(playwright):
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed: run `make e2e` (it installs Debian's chromium) or "
                    "`apt-get install chromium`")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(workdir: Path, env: dict):
    """A JupyterLab server on 127.0.0.1 over ``workdir``; yields (base URL, token)."""
    port, token = _free_port(), "nstlib-e2e"
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={workdir}", "--LabApp.expose_app_in_browser=True", "--allow-root",
         "--ServerApp.disable_check_xsrf=True"],
        env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1", **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited: {server.stdout.read()[-2000:]}")
            time.sleep(1)
    else:
        server.kill()
        pytest.fail("JupyterLab did not start within 120 s")
    try:
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@contextlib.contextmanager
def lesson_in_lab(workdir: Path, notebook: str, env: dict):
    """JupyterLab over a copy of one lesson; yields the address that opens it."""
    shutil.copy(ROOT / "notebooks" / notebook, workdir / notebook)
    with jupyterlab(workdir, env) as (url, token):
        yield f"{url}/lab/tree/{notebook}?token={token}"


def open_in_lab(page, address: str) -> None:
    """Open a notebook in JupyterLab and wait until it and its kernel are ready."""
    page.goto(address, timeout=120_000)
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=120_000)
    page.evaluate("async () => { const nb = window.jupyterapp.shell.currentWidget;"
                  " await nb.context.ready; await nb.sessionContext.ready; }")


@contextlib.contextmanager
def lab_page(address: str, shot: str, width: int = 1400):
    """Chromium with the lesson at ``address`` open and its kernel ready; yields the page. If the test fails,
    a screenshot ``SHOTS/<shot>-failure.png`` shows where."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": width, "height": 1000})
        try:
            open_in_lab(page, address)
            yield page
        except Exception:
            page.screenshot(path=str(SHOTS / f"{shot}-failure.png"))
            raise
        finally:
            browser.close()
