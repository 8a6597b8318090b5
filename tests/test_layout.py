"""The package's own list of itself stays true: ``nstlib._SUBMODULES``."""

from pathlib import Path

import nstlib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nstlib"


def public_modules() -> set[str]:
    """The package's top-level modules and subpackages, less the private ones (``_x``, ``__main__``)."""
    files = {path.stem for path in PACKAGE.glob("*.py")}
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    return {name for name in files | packages if not name.startswith("_")}


def test_submodules_lists_every_public_module():
    assert nstlib._SUBMODULES == public_modules()


def test_every_listed_module_loads_as_an_attribute_of_the_package():
    for name in sorted(nstlib._SUBMODULES):
        assert getattr(nstlib, name).__name__ == f"nstlib.{name}"
