"""The package's own lists of itself stay true: ``nstlib._SUBMODULES`` and docs/design.md's module map."""

import re
from pathlib import Path

import nstlib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nstlib"
DESIGN = ROOT / "docs" / "design.md"


def public_modules() -> set[str]:
    """The package's top-level modules and subpackages, less the private ones (``_x``, ``__main__``)."""
    files = {path.stem for path in PACKAGE.glob("*.py")}
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    return {name for name in files | packages if not name.startswith("_")}


def repository_files() -> set[str]:
    """Every nstlib module (subpackages too) and every test file, as paths from the repository root."""
    found = {path for path in PACKAGE.rglob("*.py")} | set((ROOT / "tests").glob("test_*.py"))
    return {path.relative_to(ROOT).as_posix() for path in found}


def mapped_files() -> set[str]:
    """The files docs/design.md names as ``nstlib/....py`` or ``tests/test_....py`` in backticks."""
    return set(re.findall(r"`((?:nstlib/[\w/]+|tests/test_\w+)\.py)`", DESIGN.read_text(encoding="utf-8")))


def test_submodules_lists_every_public_module():
    assert nstlib._SUBMODULES == public_modules()


def test_every_listed_module_loads_as_an_attribute_of_the_package():
    for name in sorted(nstlib._SUBMODULES):
        assert getattr(nstlib, name).__name__ == f"nstlib.{name}"


def test_design_map_names_every_module_and_test_file():
    missing = repository_files() - mapped_files()
    assert not missing, f"docs/design.md's module map misses: {sorted(missing)}"


def test_design_map_names_no_file_that_is_gone():
    gone = mapped_files() - repository_files()
    assert not gone, f"docs/design.md's module map names files that are gone: {sorted(gone)}"


def test_the_readme_links_to_the_design_notes():
    assert "(docs/design.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
