"""core/ is pure: it imports nothing that does I/O or belongs to an outer layer."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"
FORBIDDEN = {
    "telegram", "ccxt", "sqlite_utils", "sqlite3", "pluggy", "storage", "plugins", "settings",
    "chat", "jobs", "backtest", "bot", "aiohttp", "httpx", "requests", "urllib", "socket",
    "asyncio", "apscheduler", "time", "datetime", "os", "io", "pathlib", "subprocess",
    "logging", "matplotlib", "pandas", "shutil", "tempfile", "random",
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_nothing_outward():
    files = sorted(CORE.rglob("*.py"))
    assert files, "core/ has no modules"
    bad = {f.name: sorted(imported_roots(f) & FORBIDDEN) for f in files}
    assert not {k: v for k, v in bad.items() if v}


def test_core_calls_no_builtin_io():
    for f in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"open", "print", "input", "exec", "eval"}, (
                    f"{f.name}:{node.lineno} calls {node.func.id}()")
