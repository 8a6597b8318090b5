"""The language switch, the Korean catalogue and its compiled file, Hangul in figures, and the first strings."""

import gettext
import importlib.util
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from nstlib import exercises, i18n, plotting  # noqa: E402
from nstlib.core.errors import UsageError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "nstlib" / "locale" / "ko" / "LC_MESSAGES" / "nstlib.po"
sys.path.insert(0, str(ROOT / "tools"))
import msgfmt  # noqa: E402


@pytest.fixture
def korean():
    """Korean for one test, matplotlib's settings put back afterwards."""
    with matplotlib.rc_context():
        i18n.set_language("ko")
        yield
        i18n.set_language(None)


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
    assert expected and {key: catalogue.gettext(key) for key in expected} == expected
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


def test_the_live_preview_alt_text(korean):
    assert plotting.LivePicture().alt.startswith("만들어지는 그림의 실시간 미리 보기")
    assert plotting.LivePicture(alt="mine").alt == "mine"
    i18n.set_language("en")
    assert plotting.LivePicture().alt == plotting.LivePicture.DEFAULT_ALT


def test_grader_feedback_opens_in_korean(korean, capsys):
    assert exercises.feedback(True, "yes.") is True
    assert exercises.feedback(False, "no.") is False
    assert capsys.readouterr().out == "정답: yes.\n아직 아니에요: no.\n"
