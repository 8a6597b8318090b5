"""The language switch, the Korean catalogue and its compiled file, Hangul in figures, and the first strings."""

import ast
import gettext
import importlib.util
import re
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from nstlib import activations, cam_metrics, exercises, filters, i18n, plotting, probe, reconstruct  # noqa: E402
from nstlib.core.errors import UsageError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HANGUL = "[\uac00-\ud7a3]"
PO = ROOT / "nstlib" / "locale" / "ko" / "LC_MESSAGES" / "nstlib.po"
sys.path.insert(0, str(ROOT / "tools"))
import msgfmt  # noqa: E402


def glyph_warnings(fig) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


# --- the language switch


def test_english_unless_told_otherwise():
    assert i18n.language() == "en"
    assert i18n._("Right: ") == "Right: "


def test_the_environment_variable_chooses_and_set_language_wins(monkeypatch):
    monkeypatch.setenv("NSTLIB_LANG", "ko")
    assert i18n.language() == "ko"
    assert i18n.set_language("en") == "en"
    assert i18n.language() == "en"
    assert i18n.set_language(None) == "ko"


@pytest.mark.parametrize("code", ["fr", "korean", "", 3])
def test_set_language_names_the_choices(code):
    with pytest.raises(UsageError, match=r"set_language: the language must be 'en' or 'ko', got"):
        i18n.set_language(code)
    assert i18n.language() == "en"


def test_a_bad_environment_variable_is_named(monkeypatch):
    monkeypatch.setenv("NSTLIB_LANG", "de")
    with pytest.raises(UsageError, match=r"NSTLIB_LANG=de: use en or ko \(or unset it\)"):
        i18n.language()


def test_korean_translates_and_falls_back_to_english(korean):
    assert i18n._("Right: ") == "정답: "
    assert i18n._("weights: {label}").format(label="offline") == "가중치: offline"
    assert i18n._("a sentence nobody translated") == "a sentence nobody translated"
    assert i18n.ngettext("one layer", "{n} layers", 2) == "{n} layers"


def test_speaking_a_language_for_a_while_puts_the_choice_back(monkeypatch):
    monkeypatch.setenv("NSTLIB_LANG", "ko")
    with i18n.speaking("en") as code:
        assert code == "en" and i18n._("Right: ") == "Right: "
    assert i18n.language() == "ko" and i18n._("Right: ") == "정답: "
    i18n.set_language("en")
    with pytest.raises(RuntimeError), i18n.speaking("ko"):
        raise RuntimeError
    assert i18n.language() == "en"


def test_the_command_line_speaks_english_whatever_nstlib_lang_says(monkeypatch, capsys, tmp_path):
    from nstlib import cli

    monkeypatch.setenv("NSTLIB_LANG", "ko")
    assert cli.main(["weights", "list"]) == 0
    assert cli.main(["stylize", "no-such-photo", "-o", str(tmp_path / "x.png")]) == 2
    out, err = capsys.readouterr()
    assert "offline VGG16 pack" in out and "no such file, and not a bundled name" in err
    assert not re.search(HANGUL, out + err)
    assert i18n.language() == "ko"


def test_pad_counts_a_hangul_syllable_as_two_columns():
    assert i18n.text_width("layer") == 5 and i18n.text_width("층") == 2 and i18n.text_width("픽셀 오차") == 9
    assert i18n.pad("layer", 9) == f"{'layer':<9}" and i18n.pad("seconds", 9, ">") == f"{'seconds':>9}"
    assert i18n.pad("층", 9) == "층       " and i18n.pad("초", 4, ">") == "  초"
    assert i18n.pad("too long for it", 3) == "too long for it"


# --- the catalogue: the .po is the source, the committed .mo is compiled from it


def test_the_committed_mo_is_compiled_from_the_po():
    assert msgfmt.main(["--check"]) == 0, "run python tools/msgfmt.py"
    assert PO.with_suffix(".mo").read_bytes() == msgfmt.compile_po(PO)


def test_the_mo_holds_what_an_independent_po_reader_reads():
    pofile = pytest.importorskip("babel.messages.pofile")
    with PO.open("rb") as f:
        expected = {m.id: m.string for m in pofile.read_po(f) if m.id and m.string}
    with PO.with_suffix(".mo").open("rb") as f:
        catalogue = gettext.GNUTranslations(f)

    def read(key):  # a plural entry: its forms, read for n = 0, 1, ... (Korean has one form)
        if isinstance(key, tuple):
            return tuple(catalogue.ngettext(*key, n) for n in range(len(expected[key])))
        return catalogue.gettext(key)

    assert expected and {key: read(key) for key in expected} == expected
    assert catalogue.info()["language"] == "ko"


def test_the_compiler_reads_plurals_contexts_continuations_and_skips_fuzzy_and_untranslated(tmp_path):
    po = tmp_path / "x.po"
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
                  '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
                  '# a comment\nmsgid "one"\nmsgstr "하나 "\n"둘"\n\n'
                  'msgctxt "menu"\nmsgid "open"\nmsgstr "열기"\n\n'
                  'msgid "{n} map"\nmsgid_plural "{n} maps"\nmsgstr[0] "맵 {n}개"\nmsgstr[1] "맵들 {n}개"\n\n'
                  '#, fuzzy\nmsgid "guess"\nmsgstr "추측"\n\nmsgid "later"\nmsgstr ""\n', encoding="utf-8")
    mo = tmp_path / "x.mo"
    mo.write_bytes(msgfmt.compile_po(po))
    with mo.open("rb") as f:
        catalogue = gettext.GNUTranslations(f)
    assert catalogue.gettext("one") == "하나 둘"
    assert catalogue.pgettext("menu", "open") == "열기" and catalogue.gettext("open") == "open"
    assert [catalogue.ngettext("{n} map", "{n} maps", n) for n in (1, 2)] == ["맵 {n}개", "맵들 {n}개"]
    assert catalogue.gettext("guess") == "guess" and catalogue.gettext("later") == "later"


def test_the_compiler_names_the_line_it_cannot_read(tmp_path):
    po = tmp_path / "bad.po"
    po.write_text('msgid "a"\nmsgstr "b"\nnonsense\n', encoding="utf-8")
    with pytest.raises(msgfmt.PoError, match=r"bad.po:3"):
        msgfmt.compile_po(po)


def test_the_catalogue_ships_with_the_package():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"locale/*/LC_MESSAGES/*.mo"' in pyproject


# --- Hangul in figures


def test_the_hangul_font_is_found_without_importing_its_package():
    path = plotting.hangul_font_path()
    assert path is not None and path.suffix == ".ttf", "pip install koreanize-matplotlib"
    assert "koreanize_matplotlib" not in sys.modules  # importing it would restyle matplotlib
    assert importlib.util.find_spec("koreanize_matplotlib") is not None


@pytest.mark.parametrize("unicode_minus", [True, False])
def test_a_korean_figure_draws_hangul_and_minus_signs(korean, unicode_minus):
    matplotlib.rcParams["axes.unicode_minus"] = unicode_minus
    assert matplotlib.rcParams["font.family"][0] == "NanumGothic"
    fig, ax = plt.subplots()
    ax.plot([-3, -1, 2], [-2, 0, 1])
    ax.set_title("특성 맵과 그람 행렬")
    ax.set_xlabel("경사 상승법 단계")
    assert glyph_warnings(fig) == []
    minus = "\u2212" if unicode_minus else "-"
    assert any(label.get_text().startswith(minus) for label in ax.get_xticklabels())
    assert matplotlib.rcParams["axes.unicode_minus"] is unicode_minus
    plt.close(fig)


def test_english_takes_the_hangul_font_out_again(korean):
    i18n.set_language("en")
    assert "NanumGothic" not in matplotlib.rcParams["font.family"]
    fig, ax = plt.subplots()
    ax.set_title("-1 and \u22121")
    assert glyph_warnings(fig) == []
    plt.close(fig)


# --- the first strings


def test_name_weights_speaks_the_language(korean):
    fig = plt.figure()
    plotting.name_weights("HED VGG16 (offline)", fig)
    assert [t.get_text() for t in fig.texts] == ["가중치: HED VGG16 (offline)"]
    assert glyph_warnings(fig) == []
    plt.close(fig)


def test_name_weights_in_english_is_unchanged():
    fig = plt.figure()
    plotting.name_weights("HED VGG16 (offline)", fig)
    assert [t.get_text() for t in fig.texts] == ["weights: HED VGG16 (offline)"]
    plt.close(fig)


def test_across_sizes_figure_speaks_korean(korean):
    fig = _across_sizes({"old": (200.0, 80.0), "new": (180.0, 171.0)}).show()
    titles = [fig._suptitle.get_text()] + [ax.get_title() for ax in fig.axes]
    assert all(re.search(HANGUL, title) for title in titles), titles
    assert "40%" in fig.axes[2].get_title() and glyph_warnings(fig) == []
    plt.close(fig)


def test_the_live_preview_alt_text(korean):
    assert plotting.LivePicture().alt.startswith("만들어지는 그림의 실시간 미리 보기")
    assert plotting.LivePicture(alt="mine").alt == "mine"
    i18n.set_language("en")
    assert plotting.LivePicture().alt == plotting.LivePicture.DEFAULT_ALT


def test_grader_feedback_opens_in_korean(korean, capsys):
    assert exercises.feedback(True, "yes.") is True
    assert exercises.feedback(False, "no.") is False
    assert capsys.readouterr().out == "정답: yes.\n아직 아니에요: no.\n"


# --- the sentences measuring cells print, built from data


def _fractions(values, photos=2):
    layers = [f"conv{b}_{i}" for b in range(1, 4) for i in (1, 2)]
    return {f"p{p}": dict(zip(layers, values)) for p in range(photos)}


class _Reconstruction:
    def __init__(self, pixel_error):
        self.pixel_error = pixel_error


def _cam_results(gradcam_pg):
    row = {"pointing_game": gradcam_pg, "average_drop": 6.0, "increase": 30.0, "deletion_auc": 0.2,
           "insertion_auc": 0.8}
    bad = {"pointing_game": 10.0, "average_drop": 50.0, "increase": 1.0, "deletion_auc": 0.25, "insertion_auc": 0.4}
    return {"gradcam": row, "random": bad, "inverted gradcam": dict(bad)}


def _first_layer_summary(kinds):
    original = activations.kernel_kinds
    activations.kernel_kinds = lambda model: kinds
    try:
        return activations.first_layer_summary(None)
    finally:
        activations.kernel_kinds = original


def _blank_title(values):
    fig = activations.plot_blank_fractions(_fractions(values))
    title = fig.axes[0].get_title()
    plt.close(fig)
    return title


def _across_sizes(scores):
    """A filters.AcrossSizes from data: two 8 px patterns and their filter's responses, no optimisation."""
    g = torch.Generator().manual_seed(0)
    patterns = {label: torch.rand(1, 3, 8, 8, generator=g) for label in scores}
    maps = {label: (torch.randn(4, 4, generator=g), torch.randn(7, 7, generator=g)) for label in scores}
    return filters.AcrossSizes("conv4_1", 12, 128, 224, patterns, maps, scores)


REF = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(0))
SENTENCES = {
    "blank_trend rising": (lambda: activations.blank_trend(_fractions([0.0, 0.1, 0.2, 0.3, 0.4, 0.5], photos=3)),
                           "Measured on 3 photos: the share of blank channels grows steadily with depth; from the "
                           "first to the last convolution of a block it rises within blocks 1, 2, 3; the curves of the "
                           "different photos stay close together."),
    "blank_trend saw": (lambda: activations.blank_trend(_fractions([0.0, 0.5, 0.5, 0.0, 0.3, 0.3], photos=1)),
                        "Measured on 1 photo: the share of blank channels does not grow steadily with depth; from the "
                        "first to the last convolution of a block it rises within block 1; falls within block 2; "
                        "stays level within block 3; the curves of the different photos stay close together."),
    "first_layer_summary": (lambda: _first_layer_summary(["colour", "horizontal edge", "diagonal edge", "other"]),
                            "Of conv1_1's 4 filters, 1 are mostly one colour at every tap (colour detectors), 2 are a "
                            "ramp from a light to a dark side (edge detectors: 1 horizontal, 1 diagonal) and 1 are "
                            "neither."),
    "first_layer_summary no edges": (lambda: _first_layer_summary(["colour"] * 3),
                                     "Of conv1_1's 3 filters, 3 are mostly one colour at every tap (colour detectors), "
                                     "0 are a ramp from a light to a dark side (edge detectors: none) and 0 are "
                                     "neither."),
    "plot_blank_fractions title": (lambda: _blank_title([0.0, 0.1, 0.2, 0.3, 0.4, 0.5]),
                                   "Blank channels per layer: more with depth"),
    "cam summary": (lambda: cam_metrics.summary(_cam_results(5.0)),
                    "The gradcam maximum lands inside the object's box in 5 % of these scenes, against 10 % for the "
                    "random map and 10 % for the inverted gradcam map. Seeing only image * map costs 6 % of the "
                    "confidence, against 50 % and 50 %. gradcam beats both baselines on 4 of 5 metrics, not on "
                    "pointing_game; of deletion and insertion, deletion separates it less from the baselines. The "
                    "methods' pointing games lie within 0 points of one another."),
    "cam sanity_summary": (lambda: cam_metrics.sanity_summary(REF, {"trained": REF, "random": REF + 1e-3}),
                           "Mean rank correlation with the trained model's maps: trained 1.00, random 1.00. The maps "
                           "barely change as the weights are randomised: they may show the image rather than the "
                           "model."),
    "probe rising": (lambda: probe.finding({"relu1_2": 0.3, "relu3_2": 0.5, "relu5_2": 0.8}, 1 / 6),
                     "A linear probe reads the class best from relu5_2 (80% on held-out scenes, chance 17%) and "
                     "accuracy rises with depth, from 30% at relu1_2 to 80% at relu5_2."),
    "probe bumpy": (lambda: probe.finding({"relu1_2": 0.3, "relu3_2": 0.9, "relu5_2": 0.6}, 1 / 6),
                    "A linear probe reads the class best from relu3_2 (90% on held-out scenes, chance 17%); accuracy "
                    "is higher at relu5_2 (60%) than at relu1_2 (30%) but does not rise at every layer (it falls at "
                    "relu5_2)."),
    "reconstruct summary": (lambda: reconstruct.summary({"relu1_2": _Reconstruction(0.001),
                                                         "relu3_2": _Reconstruction(0.2),
                                                         "relu5_2": _Reconstruction(0.15)}),
                            "The pixel error grows from 0.001 at relu1_2 to 0.150 at relu5_2, but not at every layer "
                            "(not at relu5_2): deeper layers keep less of the picture overall."),
    "across_sizes": (lambda: str(_across_sizes({"old": (200.0, 80.0), "new": (180.0, 171.0)})),
                     "old: robust score 200 at 128 px, 80 at 224 px (40% kept)\n"
                     "new: robust score 180 at 128 px, 171 at 224 px (95% kept)\n"
                     "The pattern that keeps more of its score at 224 px: new."),
    "across_sizes tie": (lambda: str(_across_sizes({"old": (200.0, 100.0), "new": (180.0, 90.5)})),
                         "old: robust score 200 at 128 px, 100 at 224 px (50% kept)\n"
                         "new: robust score 180 at 128 px, 90 at 224 px (50% kept)\n"
                         "The patterns keep about the same share of their score at 224 px."),
    "across_sizes no share": (lambda: str(_across_sizes({"old": (-3.0, 1.0), "new": (5.0, 4.0)})),
                              "old: robust score -3 at 128 px, 1 at 224 px (- kept)\n"
                              "new: robust score 5 at 128 px, 4 at 224 px (80% kept)"),
}


def _numbers(text):
    return sorted(re.findall(r"\d+(?:\.\d+)?", text))


@pytest.mark.parametrize("name", list(SENTENCES))
def test_measured_sentences_in_english_are_unchanged(name):
    make, english = SENTENCES[name]
    assert make() == english


@pytest.mark.parametrize("name", list(SENTENCES))
def test_measured_sentences_speak_korean_with_the_same_numbers(korean, name):
    make, english = SENTENCES[name]
    sentence = make()
    assert re.search(HANGUL, sentence), sentence
    assert _numbers(sentence) == _numbers(english)
    assert "{" not in sentence and "}" not in sentence


# --- the graders' feedback


def _po_messages():
    messages = {key.decode(): value.decode()
                for key, value in msgfmt.parse_po(PO.read_text(encoding="utf-8"), PO.name).items()}
    return {key.split("\0")[0]: value for key, value in messages.items()}


def _message_calls(path: Path) -> list[ast.Call]:
    """The ``_(...)`` and ``ngettext(...)`` calls of a module whose first argument is written out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and getattr(node.func, "id", None) in ("_", "ngettext") and node.args
            and isinstance(node.args[0], ast.Constant)]


#: Every nstlib module that speaks through i18n (found by its import, so a new one is checked too).
TRANSLATED = sorted(path.relative_to(ROOT / "nstlib").as_posix() for path in (ROOT / "nstlib").rglob("*.py")
                    if re.search(r"^from \.+i18n import .*\b_\b", path.read_text(encoding="utf-8"), re.M))
#: What stays English: the command line, the tests' stand-ins, the shapes classifier's training, the training engine.
ENGLISH = ["cli.py", "testing.py", "shapes_classifier.py",
           *sorted(p.relative_to(ROOT / "nstlib").as_posix() for p in (ROOT / "nstlib" / "train").glob("*.py"))]


def test_the_translated_modules_are_the_lesson_facing_ones():
    assert {"activations.py", "cam.py", "studio.py", "explorer.py", "images.py", "core/urls.py", "weights.py",
            "env.py", "style.py", "fast.py", "filters.py"} <= set(TRANSLATED)
    assert not set(ENGLISH) & set(TRANSLATED)
    for module in ENGLISH:
        assert not _message_calls(ROOT / "nstlib" / module), f"{module} stays English"


@pytest.mark.parametrize("module", TRANSLATED)
def test_every_message_of_a_translated_module_has_korean_with_the_same_fields(module):
    messages = _po_messages()
    calls = _message_calls(ROOT / "nstlib" / module)
    assert calls
    for call in calls:
        msgid = call.args[0].value
        assert msgid in messages, f"no Korean for {msgid!r}"
        words = re.sub(r"\{\w*\}", "", msgid)  # a message that is only fields and punctuation has no words
        assert messages[msgid] != msgid or not re.search("[a-z]{3}", words), msgid
        fields = sorted(set(re.findall(r"\{(\w+)\}", msgid)))
        assert sorted(set(re.findall(r"\{(\w+)\}", messages[msgid]))) == fields, msgid


GRADERS = {
    "blank_fraction right": lambda: exercises.grade_blank_fraction(
        lambda acts: (acts[0].flatten(1).amax(1) <= 0).float().mean()),
    "blank_fraction wrong": lambda: exercises.grade_blank_fraction(lambda acts: 3.0),
    "blank_fraction raises": lambda: exercises.grade_blank_fraction(lambda acts: 1 / 0),
    "objective mean of all": lambda: exercises.grade_objective(lambda acts, c: acts.mean()),
    "why_noise": lambda: exercises.grade_why_noise("a"),
    "why_noise options": lambda: exercises.grade_why_noise("z"),
    "pointing_game": lambda: exercises.grade_pointing_game(lambda heat, box: True),
    "counterfactual": lambda: exercises.grade_counterfactual(lambda logits: -logits[:, 0]),
    "counterfactual wrong": lambda: exercises.grade_counterfactual(lambda logits: logits[:, 0] * 2),
    "gram": lambda: exercises.grade_gram(lambda f: torch.einsum("bchw,bdhw->bcd", f, f)),
    "weight_mapping right": lambda: exercises.grade_weight_mapping(1e6 / 64**2, 1e6, 64),
    "weight_mapping kind": lambda: exercises.grade_weight_mapping("big", 1e6, 64),
    "checkerboard options": lambda: exercises.grade_checkerboard("z"),
    "speedup right": lambda: exercises.grade_speedup(100, 0.02, 2.0),
    "speedup slow": lambda: exercises.grade_speedup(0.5, 0.02, 2.0),
    "sparsest_layer": lambda: exercises.grade_sparsest_layer("conv3_1", _fractions([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])),
}


def _feedback(capsys, grader):
    grader()
    return capsys.readouterr().out


@pytest.mark.parametrize("name", list(GRADERS))
def test_grader_feedback_speaks_korean_with_the_same_numbers(capsys, name):
    english = _feedback(capsys, GRADERS[name])
    assert english.startswith(("Right: ", "Not quite: ")) and not re.search(HANGUL, english)
    with matplotlib.rc_context():
        i18n.set_language("ko")
        try:
            korean = _feedback(capsys, GRADERS[name])
        finally:
            i18n.set_language(None)
    assert korean.startswith(("정답: ", "아직 아니에요: ")), korean
    assert re.search(HANGUL, korean[8:]), korean
    assert set(_numbers(english)) <= set(_numbers(korean)), (english, korean)
    assert _feedback(capsys, GRADERS[name]) == english
