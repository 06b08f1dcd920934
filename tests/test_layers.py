"""The import structure: layers only import downwards, no module imports itself back, and no
module reaches into another module's private (``_underscore``) names.

Layers, bottom to top: i18n ← core ← settings ← storage ← plugins ← runtime ← backtest ← chat ←
jobs ← bot.py (scripts and bench on top). Every import counts — at module level, inside
functions, under ``TYPE_CHECKING`` — because each is a dependency a reader must follow. The
one deliberate inversion, the plugin manager loading ``chat.commands.builtin`` by name, is a
string, not an import.
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("i18n", "core", "settings", "storage", "plugins", "runtime", "backtest", "chat", "jobs",
          "bot", "scripts", "bench")
RANK = {name: i for i, name in enumerate(LAYERS)}
TOPS = {"scripts", "bench"}  # side by side at the top: neither imports the other


def modules(root: Path) -> dict[str, Path]:
    """Every project module by dotted name (tests and the virtualenv left out)."""
    out = {}
    for layer in LAYERS:
        if (root / f"{layer}.py").exists():
            out[layer] = root / f"{layer}.py"
        for path in sorted((root / layer).rglob("*.py")) if (root / layer).is_dir() else ():
            parts = path.relative_to(root).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(path: Path, name: str, known: set[str]) -> Iterator[tuple[str, list[str], int]]:
    """(imported project module, names taken from it, line) for every import in ``path``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in RANK:
                    yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] not in RANK:
                continue
            names = [a.name for a in node.names]
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in known]
            if submodules:
                for sub in submodules:
                    yield sub, [], node.lineno
                names = [n for n in names if f"{base}.{n}" not in known]
            if names or not submodules:
                yield base, names, node.lineno


def graph(root: Path) -> tuple[dict[str, set[str]], list[str]]:
    """The module import graph and every problem found on the way (upward imports, private
    names taken from another module)."""
    mods = modules(root)
    known = set(mods)
    edges: dict[str, set[str]] = {m: set() for m in mods}
    problems = []
    for name, path in mods.items():
        here = name.split(".")[0]
        for target, names, line in imports(path, name, known):
            there = target.split(".")[0]
            where = f"{path.relative_to(root)}:{line}"
            if RANK[there] > RANK[here] or (here in TOPS and there in TOPS and here != there):
                problems.append(f"{where}: {here} imports {target} from a layer above it")
            private = [n for n in names if n.startswith("_") and not n.startswith("__")
                       and n != "_"]  # ``_`` is gettext's conventional name, not private
            if private and target != name:
                problems.append(f"{where}: takes private {', '.join(private)} from {target}")
            resolved = target
            while resolved not in known and "." in resolved:
                resolved = resolved.rpartition(".")[0]
            if resolved in known and resolved != name:
                edges[name].add(resolved)
    return edges, problems


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def check(root: Path) -> list[str]:
    edges, problems = graph(root)
    return problems + [f"import circle: {' → '.join(c)}" for c in circles(edges)]


def test_the_project_imports_only_downwards_without_circles():
    assert check(ROOT) == []


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The project's modules copied, to break on purpose."""
    for layer in LAYERS:
        src = ROOT / layer
        if src.is_dir():
            shutil.copytree(src, tmp_path / layer, ignore=shutil.ignore_patterns("__pycache__"))
        elif (ROOT / f"{layer}.py").exists():
            shutil.copy(ROOT / f"{layer}.py", tmp_path / f"{layer}.py")
    return tmp_path


def test_an_upward_import_is_caught(copy):
    assert check(copy) == []
    path = copy / "storage" / "outbox.py"
    path.write_text(path.read_text() + "\n\ndef _late():\n    from plugins.manager import "
                                       "PluginManager\n    return PluginManager\n")
    assert check(copy) == [f"storage/outbox.py:{len(path.read_text().splitlines()) - 1}: "
                           "storage imports plugins.manager from a layer above it"]


def test_a_circle_and_a_private_name_are_caught(copy):
    (copy / "chat" / "loop_a.py").write_text("from chat.loop_b import B\nA = 1\n")
    (copy / "chat" / "loop_b.py").write_text("from chat.loop_a import A\nB = 2\n")
    (copy / "chat" / "nosy.py").write_text("from chat.context import _secret\n")
    found = check(copy)
    assert "import circle: chat.loop_a → chat.loop_b" in found
    assert "chat/nosy.py:1: takes private _secret from chat.context" in found
