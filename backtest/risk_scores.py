"""Scores of predicted probabilities against outcomes: Brier score, log loss, and the
reliability table whose intervals allow for overlapping cases.

Cases overlap — a 24 h window opened every 4 h shares most of its bars with the next, and
every symbol falls in the same crash — so they are far from independent. The interval of a
probability bin therefore uses an effective sample size: the cluster-robust variance of the
realised rate with clusters of ``cluster_days`` calendar days (all symbols and datasets
together, so OKX and Binance BTC on the same day count once), against the binomial one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.types import FloatArray, IntArray

DAY_MS = 86_400_000
EDGES = (0.0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9, 1.0)


def brier(p: FloatArray, y: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def log_loss(p: FloatArray, y: np.ndarray, eps: float = 1e-6) -> float:
    q = np.clip(p, eps, 1 - eps)
    return float(-np.mean(np.where(y, np.log(q), np.log(1 - q))))


@dataclass(frozen=True)
class Bin:
    lo: float
    hi: float
    n: int
    n_eff: float
    predicted: float
    realised: float
    ci_lo: float  # the 95 % interval of the prediction with n_eff cases
    ci_hi: float
    tested: bool  # enough cases: n_eff·p and n_eff·(1 − p) both at least 5
    inside: bool


def wilson(p: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion ``p`` over ``n`` trials."""
    if n <= 0:
        return 0.0, 1.0
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def reliability(p: FloatArray, y: np.ndarray, time_ms: IntArray, *,
                edges: Sequence[float] = EDGES, cluster_days: float = 3.0) -> list[Bin]:
    """Bins of predicted probability: the realised rate against the 95 % interval of the
    mean prediction, with the effective sample size of the clustered cases (module
    docstring). A bin is tested when n_eff·p̄ and n_eff·(1 − p̄) are both at least 5."""
    ok = np.isfinite(p)
    p, y, t = p[ok], y[ok].astype(np.float64), time_ms[ok]
    cluster = (t // int(cluster_days * DAY_MS)).astype(np.int64)
    out = []
    for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
        last = i == len(edges) - 2
        m = (p >= lo) & ((p <= hi) if last else (p < hi))
        n = int(m.sum())
        if n == 0:
            continue
        pb, yb = float(p[m].mean()), float(y[m].mean())
        _, inv = np.unique(cluster[m], return_inverse=True)
        sums = np.bincount(inv, weights=y[m] - yb)
        v_cluster = float(np.sum(sums ** 2)) / n ** 2
        v_binom = yb * (1 - yb) / n
        deff = max(1.0, v_cluster / v_binom) if v_binom > 0 else 1.0
        n_eff = n / deff
        lo_ci, hi_ci = wilson(pb, n_eff)
        tested = n_eff * pb >= 5 and n_eff * (1 - pb) >= 5
        out.append(Bin(lo, hi, n, n_eff, pb, yb, lo_ci, hi_ci, tested,
                       lo_ci <= yb <= hi_ci))
    return out


def passes(bins: Sequence[Bin]) -> bool:
    """Every tested bin's realised rate inside its interval."""
    return all(b.inside for b in bins if b.tested)
