"""nstlib's modules import each other without circles, and a lesson loads only what it uses.

The graph is read from the source with ``ast``: every ``import`` statement counts, at module level or inside a
function, because a function-level import hides a circle rather than removing it.
"""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "nstlib"


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    """Dotted name (relative to nstlib; "" is the package itself) -> source file, subpackages included."""
    found = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _package_of(name: str, path: Path) -> str:
    """The package a module's relative imports start from."""
    if path.name == "__init__.py":
        return name
    return name.rpartition(".")[0]


def _join(*parts: str) -> str:
    return ".".join(part for part in parts if part)


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The nstlib modules that ``name``'s source imports anywhere in its body."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "nstlib" or alias.name.startswith("nstlib."):
                    found.add(alias.name.removeprefix("nstlib").lstrip("."))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(name, path).split(".") if _package_of(name, path) else []
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                base = _join(".".join(base), node.module or "")
            elif node.module == "nstlib" or (node.module or "").startswith("nstlib."):
                base = node.module.removeprefix("nstlib").lstrip(".")
            else:
                continue
            for alias in node.names:
                submodule = _join(base, alias.name)
                found.add(submodule if submodule in known else base)
    return {target for target in found if target in known and target != name}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One circle per strongly connected group of modules (Tarjan), each written as a closed path."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return [_closed_path(group, edges) for group in groups]


def _closed_path(group: list[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest path from the group's first module back to itself, for a readable message."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(edges[node] & members):
                if target == start:
                    return paths[node] + [start]
                if target not in paths:
                    paths[target] = paths[node] + [target]
                    following.append(target)
        frontier = following
    return group


def _name(module: str) -> str:
    return _join("nstlib", module)


def test_the_graph_reader_sees_every_kind_of_import(tmp_path):
    package = tmp_path / "nstlib"
    (package / "train").mkdir(parents=True)
    (package / "__init__.py").write_text("from .a import x\n")
    (package / "a.py").write_text("def f():\n    from . import b\n")
    (package / "b.py").write_text("import nstlib.c\n")
    (package / "c.py").write_text("from nstlib.train import loop\n")
    (package / "train" / "__init__.py").write_text("")
    (package / "train" / "loop.py").write_text("from .. import a\nfrom ..b import y\n")
    found = modules(package)
    edges = {name: imports(name, path, set(found)) for name, path in found.items()}
    assert edges == {"": {"a"}, "a": {"b"}, "b": {"c"}, "c": {"train.loop"}, "train": set(),
                     "train.loop": {"a", "b"}}
    assert cycles(edges) == [["a", "b", "c", "train.loop", "a"]]


def test_no_import_circles():
    found = cycles(graph())
    assert not found, "import circles: " + "; ".join(" -> ".join(map(_name, path)) for path in found)


def test_lesson_1_does_not_load_lessons_4_and_5():
    code = ("import sys\n"
            "import nstlib.activations, nstlib.explorer\n"
            "from nstlib import activations, widgets\n"
            "activations.explore, widgets.explorer, widgets.interactive_available\n"
            "print(sorted(name for name in ('nstlib.fast', 'nstlib.style', 'nstlib.studio') if name in sys.modules))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent)
    assert run.stdout.strip() == "[]"


def test_the_studio_is_still_reached_through_widgets():
    code = "from nstlib import widgets\nprint(widgets.StyleStudio.__module__, widgets.UPLOAD)\n"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent)
    assert run.stdout.split()[0] == "nstlib.studio"
