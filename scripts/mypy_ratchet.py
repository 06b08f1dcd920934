"""The typing ratchet: the not-yet-strict list in pyproject.toml may only shrink.

Every ``[tool.mypy]`` override with ``disable_error_code`` is an allowance: "this module may
still have strict-mode errors of these kinds". This runs mypy once with every allowance
removed and fails when

* an allowance is stale: its module has no error of that kind any more (delete it, so the
  kind cannot come back unnoticed);
* an allowance names ``core.*`` or ``plugins.hookspecs``, which are strict without exception.

Plain ``mypy`` (run first by ``make typecheck``) keeps every module to the rest. Run from the
repository root: ``.venv/bin/python scripts/mypy_ratchet.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

NEVER_LISTED = ("core", "core.*", "plugins.hookspecs")


def module_of(path: str) -> str:
    """``chat/telegram/app.py`` -> ``chat.telegram.app``; ``pkg/__init__.py`` -> ``pkg``."""
    parts = list(Path(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def matches(pattern: str, module: str) -> bool:
    """mypy's override patterns: ``a.b`` is that module, ``a.b.*`` it and its submodules."""
    if pattern.endswith(".*"):
        base = pattern[:-2]
        return module == base or module.startswith(base + ".")
    return module == pattern


def toml_value(v: Any) -> str:
    # JSON strings, booleans, numbers and lists of them are also valid TOML
    return json.dumps(v)


def strict_config(mypy: dict[str, Any]) -> str:
    """The [tool.mypy] table as TOML with every ``disable_error_code`` taken out."""
    lines = ["[tool.mypy]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in mypy.items() if k != "overrides"]
    for o in mypy.get("overrides", []):
        rest = {k: v for k, v in o.items() if k != "disable_error_code"}
        if len(rest) > 1:  # more than the module name is left
            lines += ["[[tool.mypy.overrides]]"] + [f"{k} = {toml_value(v)}"
                                                   for k, v in rest.items()]
    return "\n".join(lines) + "\n"


def strict_errors(mypy: dict[str, Any]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "pyproject.toml"
        config.write_text(strict_config(mypy))
        run = subprocess.run(
            [sys.executable, "-m", "mypy", "--config-file", str(config), "--output", "json",
             "--cache-dir", ".mypy_cache/ratchet"],
            capture_output=True, text=True, check=False)
    if run.returncode not in (0, 1):  # 2: mypy could not check at all
        sys.exit(f"mypy failed:\n{run.stdout}{run.stderr}")
    found = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    return [e for e in found if e["severity"] == "error"]


def main() -> int:
    mypy = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["mypy"]
    allowances = [(m, code) for o in mypy.get("overrides", [])
                  for m in ([o["module"]] if isinstance(o["module"], str) else o["module"])
                  for code in o.get("disable_error_code", [])]
    problems = [f"{m} is strict without exception: remove its disable_error_code"
                for m, _ in allowances
                if any(matches(m, n) or matches(n, m) for n in NEVER_LISTED)]
    counts = Counter((module_of(e["file"]), e["code"]) for e in strict_errors(mypy))
    left = 0
    for pattern, code in allowances:
        n = sum(c for (mod, k), c in counts.items() if k == code and matches(pattern, mod))
        left += n
        if n == 0:
            problems.append(f'{pattern} has no "{code}" error any more: remove "{code}" from '
                            "its disable_error_code in pyproject.toml")
    for p in problems:
        print(f"mypy ratchet: {p}")
    modules = len({m for m, _ in allowances})
    print(f"mypy ratchet: {modules} modules not yet strict, {left} strict-mode errors allowed"
          + ("" if problems else "; nothing to remove"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
