"""The lessons' ImageNet branches, run on the ImageNet stand-in (NOT ImageNet) in smoke mode.

With no ImageNet weights these cells print "Skipping" and nbval passes them without running them; here the
stand-in sits where torchvision's file would be, so they run through the real weights' code, and each test
checks that they did (and that the output says the weights are not ImageNet). ``make notebooks`` runs this
after the nbval pass; ``make unit`` leaves it out (it executes whole notebooks, about a minute on two cores).
"""

from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow  # each test runs a whole notebook

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(scope="module")
def standin_env(standin_home):
    """The stand-ins the unit tests and the Colab check use too (conftest's ``standin_home``)."""
    return {"TORCH_HOME": str(standin_home), "NSTLIB_SMOKE": "1"}


def run(name, env, monkeypatch):
    """Execute a notebook in a fresh kernel with ``env``; returns {cell index: (source, text, n_images)}."""
    from nbclient import NotebookClient

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("NSTLIB_WEIGHTS", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend: figures become outputs to count
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    cells = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs)
        images = sum("image/png" in o.get("data", {}) for o in cell.outputs)
        cells[i] = ("".join(cell.source), text, images)
    return cells


def find(cells, snippet):
    matches = [value for value in cells.values() if snippet in value[0]]
    assert len(matches) == 1, f"expected one cell containing {snippet!r}, found {len(matches)}"
    return matches[0]


def test_lesson0_top5_classes(standin_env, monkeypatch):
    cells = run("00_setup_and_tour.ipynb", standin_env, monkeypatch)
    assert "NOT ImageNet" in find(cells, "print(env.report(device))")[1]
    _, text, _ = find(cells, "models.imagenet_classifier")
    assert "Skipping" not in text
    assert "nstlib weights: imagenet-vgg16" in text and "NOT ImageNet" in text
    assert len([line for line in text.splitlines() if line.endswith("%")]) == 5


def test_lesson3_imagenet_gradcam(standin_env, monkeypatch):
    cells = run("03_class_activation_maps.ipynb", standin_env, monkeypatch)
    assert "ImageNet weights found" in find(cells, "imagenet_ready = ")[1]
    _, text, figures = find(cells, "cam.grad_cam(vgg, batch, cam.TopK(3))")
    assert "nstlib weights: imagenet-vgg16" in text and "NOT ImageNet" in text
    assert figures == 6  # one figure per photo: three guesses and their maps
    _, text, figures = find(cells, "least sure")
    assert "least sure:" in text and figures == 1  # the cat, explained for four classes asked by name


def test_lesson4_vgg19_for_style(standin_env, monkeypatch):
    cells = run("04_neural_style_transfer.ipynb", standin_env, monkeypatch)
    _, text, _ = find(cells, 'style.load_model("vgg19"')
    assert "nstlib weights: imagenet-vgg19" in text and "NOT ImageNet" in text
    assert text.splitlines()[-1].startswith("vgg19 with ")  # VGG19, not a VGG16 fallback
