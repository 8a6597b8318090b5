"""Checks of the instructors' class plans (docs/instructor/NN_<lesson>.md, format in its README.md).

A plan cites the notebook's cells by id, so a lesson that changes must not leave its plan pointing at cells
that are gone; its timeline must add up and fit a 50-minute class. The Korean plans (docs/ko/instructor/) have
the same format in Korean words (``FORMS["ko"]``).
"""

from __future__ import annotations

import re

CLASS_MINUTES = 50
SECTIONS = ("## Timeline", "## Prerequisites", "## Optional", "## Discussion questions", "## Misconceptions",
            "## When the pictures differ")
COLUMNS = ["min", "section", "run live", "show pre-run"]
_CELL = re.compile(r"cell:([A-Za-z0-9_-]+)")
#: A plan's fixed words per language: its sections, its timeline's columns, its total line and how to say it.
FORMS = {
    "en": {"sections": SECTIONS, "columns": COLUMNS,
           "total": re.compile(r"^Total:\s*(\d+)\s+minutes\b", re.MULTILINE), "total_line": "Total: {} minutes"},
    "ko": {"sections": ("## 시간표", "## 선수 지식", "## 선택 활동", "## 토론 질문", "## 흔한 오해",
                        "## 그림이 다를 때"),
           "columns": ["분", "절", "실습 실행", "미리 실행해 보여 주기"],
           "total": re.compile(r"^합계:\s*(\d+)\s*분", re.MULTILINE), "total_line": "합계: {}분"},
}


def cited_cells(text: str) -> list[str]:
    """Every ``cell:xxxxxxxx`` id the plan cites, in order."""
    return _CELL.findall(text)


def section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next ``## `` heading ('' when absent)."""
    match = re.search(rf"^{re.escape(heading)}\s*$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""


def timeline(text: str, heading: str = "## Timeline") -> tuple[list[str], list[list[str]]]:
    """The header and rows of the first table of the Timeline section."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in section(text, heading).splitlines() if line.strip().startswith("|")]
    if not rows:
        return [], []
    body = [r for r in rows[1:] if not all(set(c) <= set("-: ") for c in r)]
    return [c.lower() for c in rows[0]], body


def plan_problems(text: str, cell_ids, language: str = "en") -> list[str]:
    """What is wrong with one plan, given the ids of its notebook's cells; [] for a good plan."""
    form = FORMS[language]
    columns = form["columns"]
    problems = [f"no '{h}' section" for h in form["sections"]
                if not re.search(rf"^{re.escape(h)}\s*$", text, re.M)]
    ids = set(cell_ids)
    problems += [f"cites cell:{cid}, which is not a cell of the notebook" for cid in cited_cells(text)
                 if cid not in ids]
    header, rows = timeline(text, form["sections"][0])
    if header != columns:
        problems.append(f"the Timeline table's columns are {header or 'missing'}, expected "
                        f"| {' | '.join(columns)} |")
        return problems
    minutes = []
    for row in rows:
        if not row[0].isdigit():
            problems.append(f"Timeline row {row}: 'min' must be a whole number of minutes")
        else:
            minutes.append(int(row[0]))
    totals = form["total"].findall(text)
    if len(totals) != 1:
        problems.append(f"needs exactly one line '{form['total_line'].format('N')}'")
    elif int(totals[0]) != sum(minutes):
        problems.append(f"the min column sums to {sum(minutes)}, but the plan says "
                        f"'{form['total_line'].format(totals[0])}'")
    if sum(minutes) > CLASS_MINUTES:
        problems.append(f"the timeline takes {sum(minutes)} minutes, more than a {CLASS_MINUTES}-minute class")
    return problems
