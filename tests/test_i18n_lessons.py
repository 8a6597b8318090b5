"""What a Korean student sees of nstlib inside a lesson: figure titles and labels, the lines that measuring cells
and the setup cell print, the studio's and the explorer's labels, and the warnings and errors a lesson can meet.
With the language Korean each comes out in Hangul, carrying the numbers the code formatted; in English it is the
text it always was. The catalogue itself (every message translated, with the same fields) is test_i18n's."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from test_widgets import _browser_uploads  # noqa: E402 - what the browser does, in either ipywidgets version

from nstlib import (  # noqa: E402
    activations,
    cam,
    cam_metrics,
    env,
    fast,
    i18n,
    images,
    loss_conventions,
    models,
    probe,
    reconstruct,
    style,
    weights,
    widgets,
)
from nstlib.core import urls  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HANGUL = re.compile("[\uac00-\ud7a3]")


def _numbers(text):
    return sorted(re.findall(r"\d+(?:\.\d+)?", text))


def _both(make):
    """``make()`` in English, then in Korean (matplotlib's settings put back), then in English again."""
    english = make()
    with matplotlib.rc_context():
        i18n.set_language("ko")
        try:
            korean = make()
        finally:
            i18n.set_language(None)
    assert make() == english
    return english, korean


# --- figures: the texts nstlib draws itself (the lesson's own titles are the lesson's)


def _acts():
    t = torch.rand(1, 8, 5, 6)
    t[0, 1] = -1.0  # a blank channel
    return {"conv2_1": t}


def _channels():
    fig = activations.show_channels(_acts(), "conv2_1", per_page=4, ncols=4)
    texts = [fig._suptitle.get_text(), fig.axes[1].get_title()]
    plt.close(fig)
    return texts


def _layers():
    fig = activations.show_layers(_acts(), channels=2)
    texts = [fig.axes[0].get_ylabel()]
    plt.close(fig)
    return texts


def _first_filters():
    stub = SimpleNamespace(features=SimpleNamespace(conv1_1=SimpleNamespace(weight=torch.rand(64, 3, 3, 3))),
                           preprocess=object())
    fig = activations.show_first_filters(stub)
    texts = [fig._suptitle.get_text()]
    plt.close(fig)
    return texts


def _blank_fractions():
    layers = ["conv1_1", "conv1_2", "conv2_1"]
    fig = activations.plot_blank_fractions({"cat": dict(zip(layers, [0.1, 0.2, 0.3]))})
    ax = fig.axes[0]
    texts = [ax.get_ylabel(), ax.get_legend().get_texts()[-1].get_text()]
    plt.close(fig)
    return texts


def _probe_figure():
    result = probe.ProbeResult({"relu1_2": 0.4, "relu5_2": 0.9}, 1 / 6, 40, 20, "random VGG16 (untrained)", {})
    photo = torch.rand(1, 3, 8, 8)
    rebuilt = {"relu1_2": reconstruct.Result("relu1_2", photo, photo, 0.01, 0.2, "w")}
    fig = probe.show_probe(result, rebuilt)
    a, b = fig.axes
    texts = [a.get_ylabel(), a.get_title(), a.get_legend().get_texts()[0].get_text(), b.get_ylabel(), b.get_title(),
             fig._suptitle.get_text()]
    plt.close(fig)
    return texts


def _reconstructions():
    photo = torch.rand(1, 3, 8, 12)
    results = {"relu3_2": reconstruct.Result("relu3_2", photo, photo, 0.25, 0.125, "w", steps=30)}
    fig = reconstruct.show_reconstructions(results)
    texts = [fig.axes[0].get_title(), fig.axes[1].get_title(), fig._suptitle.get_text()]
    plt.close(fig)
    return texts


def _cam_show():
    fig = cam.show(torch.rand(1, 3, 8, 8), torch.rand(1, 8, 8), titles=["gradcam"])
    texts = [fig.axes[0].get_title()]
    plt.close(fig)
    return texts


FIGURES = {
    "show_channels": (_channels, ["conv2_1: channels 0-3 of 8, 5x6 px (page 1/2)", "1 blank"]),
    "show_layers": (_layers, ["conv2_1\n8ch 5x6"]),
    "show_first_filters": (_first_filters, ["conv1_1: 64 filters of 3x3 pixels, RGB, each normalised"]),
    "plot_blank_fractions": (_blank_fractions, ["blank channels (%)", "mean"]),
    "show_probe": (_probe_figure, ["held-out accuracy (%)", "class kept: linear probe on the layer", "chance (17%)",
                                   "pixel error of the reconstruction", "picture lost: rebuilt from the layer",
                                   "What each layer keeps (random VGG16 (untrained); probe trained on 40 scenes, "
                                   "tested on 20)"]),
    "show_reconstructions": (_reconstructions, ["the photo", "relu3_2\npixels 0.25, features 0.12",
                                                "Rebuilt from one layer's activations (w, 12x8 px, 30 L-BFGS steps "
                                                "each; relative squared errors)"]),
    "cam.show": (_cam_show, ["image"]),
}


def _assert_korean_twin(make, expected):
    """``make``'s texts: English exactly ``expected``; Korean each with Hangul and the same numbers."""
    english, korean = _both(make)
    assert english == expected
    for en, ko in zip(english, korean):
        assert HANGUL.search(ko), ko
        assert _numbers(ko) == _numbers(en), (en, ko)


@pytest.mark.parametrize("name", list(FIGURES))
def test_figure_texts_speak_korean_and_english_is_unchanged(name):
    make, expected = FIGURES[name]
    _assert_korean_twin(make, expected)


def test_a_korean_figure_names_its_weights_in_korean(korean):
    assert weights.random_source("vgg16").label == "무작위 VGG16 (훈련되지 않음)"
    assert HANGUL.search(weights.offline_source().label)
    i18n.set_language("en")
    assert weights.random_source("vgg16").label == "random VGG16 (untrained)"


# --- lines printed by measuring cells, progress and the setup cell


def _conversion_table():
    torch.manual_seed(0)
    feats = {"relu1_1": torch.rand(1, 4, 8, 8), "relu2_1": torch.rand(1, 8, 4, 4)}
    return loss_conventions.conversion_table(feats, torch.rand(1, 8, 4, 4), (16, 16))


def _table_lines(text):
    lines = text.splitlines()
    assert len({i18n.text_width(line) for line in lines}) == 1, text  # the columns line up
    return lines


def _announce(capsys):
    models._announce(weights.random_source("vgg16"), "vgg19", verbose=True)
    return capsys.readouterr().out


def _stop_messages():
    return [style.stop_reason(reason) for reason in ("finished", "interrupted", "nan", "exploded", "callback")]


LINES = {
    "describe": (lambda: activations.describe({"conv1_1": torch.zeros(1, 64, 224, 224)}),
                 ["conv1_1    64 channels  224 x 224"]),
    "errors_table": (lambda: _table_lines(reconstruct.errors_table(
        {"relu1_2": reconstruct.Result("relu1_2", None, None, 0.01, 0.5, "w", seconds=2.0)}))[:1],
        ["layer      pixel error  feature error  seconds"]),
    "format_table": (lambda: _table_lines(cam_metrics.format_table(
        {"gradcam": {"pointing_game": 80.0, "average_drop": 5.0, "increase": 30.0, "deletion_auc": 0.25,
                     "insertion_auc": 0.75}}))[:1],
        ["method              pointing_game ^   average_drop v       increase ^   deletion_auc v  insertion_auc ^"]),
    "speed_table": (lambda: [fast.speed_table(0.02, 12.0)],
                    ["feed-forward 20 ms vs optimisation 12.0 s: 600x faster"]),
    "stop reasons": (_stop_messages, ["finished", "interrupted", "nan", "exploded", "callback"]),
}


@pytest.mark.parametrize("name", list(LINES))
def test_printed_lines_speak_korean_with_the_same_numbers(name):
    make, expected = LINES[name]
    _assert_korean_twin(make, expected)


def test_the_conversion_table_lines_up_in_both_languages():
    english, korean = _both(lambda: _table_lines(_conversion_table()))
    assert english[0].startswith("in nstlib units (content 1) ") and english[0].endswith("     total")
    assert english[-1].startswith("nstlib default ")
    assert HANGUL.search(korean[0]) and HANGUL.search(korean[-1])
    assert [_numbers(line) for line in english] == [_numbers(line) for line in korean]


def test_the_setup_cell_speaks_korean(capsys, monkeypatch):
    monkeypatch.delenv("NSTLIB_SMOKE", raising=False)
    english, korean = _both(lambda: env.report(torch.device("cpu"), weights="offline-vgg16: a pack"))
    assert english.splitlines()[1].startswith("device:  cpu, ") and "weights: offline-vgg16: a pack" in english
    assert "smoke mode: off" in english and english.splitlines()[-1].startswith("tip: on a CPU")
    assert [bool(HANGUL.search(line)) for line in korean.splitlines()] == [False, True, True, True, True]
    assert _numbers(korean) == _numbers(english) and "offline-vgg16: a pack" in korean
    english, korean = _both(lambda: _announce(capsys))
    assert english == ("nstlib weights: random-vgg16: untrained, for unit tests only (VGG19 was asked for; its "
                       "ImageNet weights are not here, so using VGG16)\n")
    assert korean.startswith("nstlib 가중치: random-vgg16: ") and "VGG19" in korean and "VGG16" in korean


def test_progress_bars_and_stops_speak_korean(korean, capsys):
    torch.manual_seed(0)
    small = models.vgg("vgg16", "random", last_layer="relu2_1", verbose=False)
    out = style.stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), size=32, steps=2, model=small,
                        content_layers=["relu2_1"], style_layers=["relu1_1", "relu2_1"], device="cpu",
                        progress=True, callback=lambda state: True)
    assert out.record.stopped == "callback" and HANGUL.search(out.record.message)
    assert "스케일 1/1 32x32" in capsys.readouterr().err


# --- the studio and the explorer


@pytest.fixture
def studio(tmp_path, monkeypatch):
    monkeypatch.setenv("NSTLIB_SMOKE", "1")

    def make():
        return widgets.StyleStudio(size=64, steps=2, weights="random", device="cpu", out_dir=tmp_path / "out")

    return make


def _labels(studio):
    return [w.description for w in (studio.content, studio.content_upload, studio.content_address, studio.style,
                                    studio.style_upload, studio.style_address, studio.mode, studio.model,
                                    studio.style_weight, studio.content_weight, studio.tv_weight, studio.size,
                                    studio.steps, studio.run_button, studio.stop_button, studio.save_button)]


ENGLISH_LABELS = ["Content", "Upload content", "Address", "Style", "Upload style", "Address", "Method", "Fast model",
                  "Style weight", "Content weight", "TV weight", "Size", "Steps", "Run", "Stop", "Save"]


def test_the_studio_in_english_is_unchanged(studio):
    s = studio()
    assert _labels(s) == ENGLISH_LABELS
    assert s.mode.options == ("optimise", "fast model") and s.mode.value == "optimise"
    assert s.content.options[-2:] == (widgets.UPLOAD, widgets.ADDRESS) and s.content.value == "cat"
    assert s.content_address.placeholder == "or paste an image address: https://..."
    assert s.status.value == "Choose a content and a style, then press Run."


def test_the_studio_speaks_korean_and_keeps_its_english_values(korean, studio):
    s = studio()
    labels = _labels(s)
    assert all(HANGUL.search(label) for label in labels), labels
    assert labels[-3:] == ["실행", "중지", "저장"] and HANGUL.search(s.status.value)
    # the mode: a Korean label over the English value the code (and exercises.grade_fast_run) reads
    assert s.mode.value == "optimise" and s.mode.label == "최적화"
    assert dict(s.mode.options) == {"최적화": "optimise", "빠른 모델": "fast model"}
    s.mode.value = "fast model"
    assert s.mode.label == "빠른 모델" and s.steps.disabled and not s.model.disabled
    # the sources: photo names are their own labels, the uploaded file and the address are translated
    assert s.content.value == "cat" and s.content.label == "cat"
    s.content.value = widgets.UPLOAD
    assert s.content.label == "(올린 파일)"
    s.run(wait=True)
    assert s.status.value == "<b>오류:</b> 먼저 올리기 버튼으로 파일을 고르세요" and s.result is None
    s.content.value = "cat"
    s.model.value = fast.available()[0]
    s.run(wait=True)
    assert s.result is not None and s.status.value.startswith("완료: 빠른 모델 '")


def test_a_bad_upload_names_the_file_in_korean(korean, studio):
    s = studio()
    _browser_uploads(s.content_upload, "holiday.heic", b"not a picture Pillow reads")
    s.content.value = widgets.UPLOAD
    s.run(wait=True)
    assert s.status.value.startswith("<b>오류:</b> 올린 파일 &#x27;holiday.heic&#x27;은(는) ")
    assert "BytesIO" not in s.status.value


def _explore(capsys):
    seen = []

    def render(scene=0, target="predicted", layer="relu4_2"):
        seen.append((scene, target, layer))

    controls = widgets.explorer(render, scene=(0, 3), target=["predicted", "circle"], layer=["relu4_2", "relu3_2"])
    capsys.readouterr()  # interact displays the widget as text outside a notebook
    return controls.widget.kwargs_widgets, seen


def test_the_explorer_labels_its_controls_in_korean_and_passes_english_values(front_end, capsys):
    english, seen = _explore(capsys)
    assert [c.description for c in english] == ["scene", "target", "layer"]
    assert english[1].options == ("predicted", "circle") and seen == [(0, "predicted", "relu4_2")]
    i18n.set_language("ko")
    korean, seen = _explore(capsys)
    assert [c.description for c in korean] == ["장면", "대상 클래스", "층"]
    assert korean[1].options == (("예측한 클래스", "predicted"), ("circle", "circle"))
    assert korean[1].value == "predicted" and korean[1].label == "예측한 클래스"
    korean[1].value = "circle"
    assert seen == [(0, "predicted", "relu4_2"), (0, "circle", "relu4_2")]


# --- warnings and errors a lesson can meet


def test_an_image_too_small_is_explained_in_korean(korean):
    with pytest.raises(images.ImageError) as error:
        images.load(torch.rand(3, 10, 20))
    assert HANGUL.search(str(error.value)) and "20x10 px" in str(error.value) and "size=224" in str(error.value)
    i18n.set_language("en")
    with pytest.raises(images.ImageError, match=r"^the image is 20x10 px, too small for the network"):
        images.load(torch.rand(3, 10, 20))


def test_size_warnings_and_bad_inputs_speak_korean(korean, tmp_path):
    with pytest.warns(UserWarning) as caught:
        images.fit((2000, 1000))
    assert HANGUL.search(str(caught[0].message)) and "2000x1000 px" in str(caught[0].message)
    for make in (lambda: images.load(tmp_path / "missing.png"), lambda: images.resolve("no-such-photo"),
                 lambda: images.load(io.BytesIO(b"not an image")), lambda: images.load(torch.rand(2, 3, 40, 40)),
                 lambda: urls.download("ftp://example.org/a.png")):
        with pytest.raises(images.ImageError) as error:
            make()
        assert HANGUL.search(str(error.value)), str(error.value)
    with pytest.raises(images.ImageError, match="전달한 BytesIO"):
        images.load(io.BytesIO(b"not an image"))


def test_the_weights_errors_a_lesson_meets_speak_korean(korean, tmp_home, no_network):
    with pytest.raises(weights.WeightsUnavailable) as error:
        weights.resolve("auto")
    assert HANGUL.search(str(error.value)) and "python -m nstlib weights fetch offline" in str(error.value)
    assert "none yet" not in env.report(torch.device("cpu")) and "python -m nstlib weights fetch offline" in \
        env.report(torch.device("cpu"))


# --- Hangul in the figures a Korean lesson draws, in a fresh interpreter (nothing imported beforehand)

GLYPHS = """
import warnings
warnings.filterwarnings("error", message=".*missing from font")
import matplotlib
matplotlib.use("Agg")
from nstlib import i18n
i18n.set_language("ko")
import torch
from nstlib import activations, cam, widgets

acts = {"conv3_1": torch.rand(1, 16, 6, 6)}
acts["conv3_1"][0, 2] = -1
fig = widgets.explorer(lambda layer, page: activations.show_channels(acts, layer, page, per_page=8),
                       layer=["conv3_1"], page=(0, 1))
fig.canvas.draw()
fig = cam.grid_rows(torch.rand(2, 3, 16, 16), {"gradcam": torch.rand(2, 16, 16)}, titles=[["고양이", "개"]])
fig.canvas.draw()
fig = cam.show(torch.rand(1, 3, 16, 16), torch.rand(1, 16, 16), titles=["gradcam"])
fig.canvas.draw()
print(fig.axes[0].get_title())
"""


@pytest.mark.slow  # a fresh interpreter loads torch and matplotlib: a few seconds
def test_a_korean_lesson_draws_its_figures_with_no_missing_glyph():
    run = subprocess.run([sys.executable, "-c", GLYPHS], capture_output=True, text=True, cwd=ROOT,
                         env={**_environment(), "NSTLIB_STATIC": "1"})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "이미지"


def _environment():
    environment = {key: value for key, value in os.environ.items() if key != "NSTLIB_LANG"}
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT), environment.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return environment


def test_the_studio_browser_test_runs_the_english_lesson():
    source = (ROOT / "tests" / "e2e" / "test_studio_browser.py").read_text(encoding="utf-8")
    assert '"NSTLIB_LANG": "en"' in source  # it clicks "Run" and "fast model" by their text
