"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def best_of(fn: Callable[[], object], repeat: int = 5, number: int = 1) -> float:
    """Best wall time in seconds of ``number`` calls, over ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def percentiles(samples_s: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    a = np.asarray(samples_s) * 1000
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


def row(label: str, ours: float, baseline: float | None = None, unit: str = "ms",
        target: str = "") -> None:
    """Print one figure, with its ratio to the baseline when there is one."""
    scale = 1000 if unit == "ms" else 1
    text = f"{label:<58} {ours * scale:10.2f} {unit}"
    if baseline is not None:
        text += f"   baseline {baseline * scale:10.2f} {unit}   ratio {baseline / ours:7.1f}x"
    if target:
        text += f"   (target {target})"
    print(text, flush=True)
