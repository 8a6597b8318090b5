"""The Korean lessons' catalogue (tools/translate.py): a translation is tied to the English text it was made from,
so a changed English cell fails the check until its translation is updated."""

import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import translate  # noqa: E402

sys.path.pop(0)


def lesson(*texts):
    nb = nbformat.v4.new_notebook()
    for i, text in enumerate(texts):
        cell = nbformat.v4.new_markdown_cell(text)
        cell.id = f"cell{i}"
        nb.cells.append(cell)
    nb.cells.append(nbformat.v4.new_code_cell("print('code is never translated')"))
    return nb


def catalogue(nb, **texts):
    return {"lesson": "09_fake", "language": "ko",
            "cells": {c.id: {"en_sha256": translate.digest(c.source), "en": c.source, "text": texts.get(c.id, "")}
                      for c in nb.cells if c.cell_type == "markdown"}}


def test_a_current_translation_passes_and_an_untranslated_cell_does_not():
    nb = lesson("# Lesson 9: a fake", "Some prose.")
    assert translate.problems(nb, catalogue(nb, cell0="# 9강: 가짜", cell1="산문.")) == []
    found = translate.problems(nb, catalogue(nb, cell0="# 9강: 가짜"))
    assert len(found) == 1 and "cell1 is not translated yet" in found[0]


def test_a_changed_english_cell_fails_until_its_translation_is_updated():
    nb = lesson("# Lesson 9: a fake", "Some prose.")
    done = catalogue(nb, cell0="# 9강: 가짜", cell1="산문.")
    nb.cells[1].source = "Some prose, now longer."
    found = translate.problems(nb, done)
    assert len(found) == 1 and "cell1 changed in English" in found[0]


def test_a_new_english_cell_has_no_translation():
    nb = lesson("# Lesson 9: a fake")
    done = catalogue(nb, cell0="# 9강: 가짜")
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("A new paragraph."))
    nb.cells[1].id = "newcell"
    assert any("newcell has no translation" in p for p in translate.problems(nb, done))


def test_extract_keeps_a_stale_translation_stale_and_adds_new_cells(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nb = lesson("# Lesson 9: a fake", "Some prose.")
    nbformat.write(nb, notebooks / "09_fake.ipynb")
    monkeypatch.setattr(translate, "ROOT", tmp_path)
    monkeypatch.setattr(translate, "NOTEBOOKS", notebooks)
    translate.extract("ko")
    path = tmp_path / "docs" / "ko" / "lessons" / "09_fake.json"
    entries = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert list(entries) == ["cell0", "cell1"] and all(e["text"] == "" for e in entries.values())
    entries["cell1"]["text"] = "산문."
    path.write_text(json.dumps({"lesson": "09_fake", "language": "ko", "cells": entries}, ensure_ascii=False))
    nb.cells[1].source = "Changed prose."
    nbformat.write(nb, notebooks / "09_fake.ipynb")
    translate.extract("ko")
    entry = json.loads(path.read_text(encoding="utf-8"))["cells"]["cell1"]
    assert entry["text"] == "산문." and entry["en"] == "Changed prose."
    assert entry["en_sha256"] != translate.digest("Changed prose."), "refreshing en must not make it look current"


def test_accept_ties_an_updated_translation_to_the_english_as_it_is(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nb = lesson("# Lesson 9: a fake")
    nbformat.write(nb, notebooks / "09_fake.ipynb")
    monkeypatch.setattr(translate, "ROOT", tmp_path)
    monkeypatch.setattr(translate, "NOTEBOOKS", notebooks)
    translate.extract("ko")
    nb.cells[0].source = "# Lesson 9: a changed fake"
    nbformat.write(nb, notebooks / "09_fake.ipynb")
    assert translate.problems(nb, translate.load_catalogue("ko", notebooks / "09_fake.ipynb"))
    path = tmp_path / "docs" / "ko" / "lessons" / "09_fake.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["cells"]["cell0"]["text"] = "# 9강: 바뀐 가짜"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    translate.main(["accept", "ko", "09", "cell0"])
    assert translate.problems(nb, translate.load_catalogue("ko", notebooks / "09_fake.ipynb")) == []


@pytest.mark.parametrize("path", translate.lessons(), ids=lambda p: p.name)
def test_every_lesson_has_a_current_korean_translation(path):
    found = translate.problems(nbformat.read(path, as_version=4), translate.load_catalogue("ko", path))
    assert not found, f"{path.name}: update docs/ko/lessons/{path.stem}.json:\n  " + "\n  ".join(found)
