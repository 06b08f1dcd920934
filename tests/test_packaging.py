"""``pip install .`` ships every package the bot imports (``.ci/run`` builds the wheel)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_SHIPPED = {"tests", "bench"}  # the test suite and the benchmarks stay in the repository


def test_every_package_is_in_the_wheel():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    shipped = {pattern.removesuffix("*") for pattern in include}
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - NOT_SHIPPED
    assert packages <= shipped, f"packages left out of the wheel: {packages - shipped}"
    assert all((ROOT / name / "py.typed").exists() for name in packages)
