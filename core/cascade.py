"""The cascade score: 0–100, a level, and each factor's contribution as a number.

A liquidation cascade shows up as several things at once: correlations jump toward 1
(the market correlation index spikes against its 30-day baseline), fast volatility runs
ahead of slow, a large return shock, order books thin out (the seed watched depth fall 65 %
in three minutes), open interest drops as positions are liquidated, liquidation volume
spikes, funding goes to an extreme. Each factor is mapped to a 0–1 sub-score by a linear ramp
between a *quiet* level (``lo``: at or below it the factor adds nothing) and a *full* level
(``hi``: at or above it the factor is maxed out); the score is the weighted mean × 100.

Missing inputs (no order book from a CSV market, no liquidation feed) are left out and the
remaining weights renormalised; ``confidence`` is the share of the total weight that was
available and ``missing`` names what was not. Never NaN, never a crash.

Calibration (``scripts/calibrate_cascade.py`` re-runs it): ``lo`` is set near the 90th
percentile of the factor on calm real data (OKX 2022, July–October, 15m), ``hi`` near the
level reached in the worst hour of the 3AC and FTX sell-offs (for the candle factors) or the
simulated cascades (for depth, open interest, funding and liquidations, which the real data
lacks); the level cut-offs make "high or above" rare in calm months. Weights favour the
factors that lead (correlation, volatility, depth) over those that confirm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.types import FloatArray


@dataclass(frozen=True)
class Ramp:
    weight: float
    lo: float
    hi: float
    label: str

    def score(self, x: FloatArray | float) -> FloatArray:
        with np.errstate(over="ignore"):  # ±1e308 inputs saturate the ramp, as they should
            span = (np.asarray(x, dtype=np.float64) - self.lo) / (self.hi - self.lo)
            return np.clip(span, 0, 1)


FACTORS: Mapping[str, Ramp] = {
    "corr_z": Ramp(0.20, 1.0, 2.5, "market correlation index z-score"),
    "vol_ratio": Ramp(0.20, 1.3, 3.0, "fast/slow volatility ratio"),
    "shock_sigma": Ramp(0.20, 3.0, 8.0, "latest market return shock in σ"),
    "depth_drop": Ramp(0.15, 0.20, 0.65, "order-book depth drop vs recent median"),
    "oi_drop": Ramp(0.10, 0.03, 0.15, "open-interest drop from its 24h high"),
    "liq_ratio": Ramp(0.10, 3.0, 20.0, "liquidation volume vs its median"),
    "funding_abs": Ramp(0.05, 0.0005, 0.002, "most extreme funding rate per period"),
}
LEVELS: tuple[tuple[float, str], ...] = ((70.0, "cascade"), (50.0, "high"), (30.0, "elevated"),
                                         (0.0, "calm"))
LEVEL_ORDER = ("calm", "elevated", "high", "cascade")


def level_of(score: float) -> str:
    """The level a score falls in: calm < 30 ≤ elevated < 50 ≤ high < 70 ≤ cascade."""
    return next(name for cut, name in LEVELS if score >= cut)


@dataclass(frozen=True)
class CascadeReading:
    """One reading of the cascade score, JSON-ready through ``to_dict``."""

    score: float
    level: str
    confidence: float
    factors: Mapping[str, float]  # raw input values that were available
    contributions: Mapping[str, float]  # points each factor added to the score
    missing: tuple[str, ...] = ()
    time_ms: int = 0
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 2), "level": self.level,
            "confidence": round(self.confidence, 3),
            "factors": {k: float(v) for k, v in self.factors.items()},
            "contributions": {k: round(float(v), 2) for k, v in self.contributions.items()},
            "missing": list(self.missing), "time_ms": self.time_ms, "notes": list(self.notes),
        }

    @property
    def rank(self) -> int:
        return LEVEL_ORDER.index(self.level)


def cascade_scores(inputs: Mapping[str, FloatArray | float],
                   factors: Mapping[str, Ramp] = FACTORS) -> tuple[FloatArray, FloatArray]:
    """Vectorised score and confidence for arrays of inputs (one value per bar).

    Inputs absent from the mapping or NaN at a bar are left out at that bar, with the other
    weights renormalised. Returns ``(score, confidence)``; score is 0 where nothing is known.
    """
    total = sum(r.weight for r in factors.values())
    shape = np.broadcast(*[np.asarray(v) for v in inputs.values()]).shape if inputs else ()
    num = np.zeros(shape)
    den = np.zeros(shape)
    for name, ramp in factors.items():
        if name not in inputs:
            continue
        x = np.broadcast_to(np.asarray(inputs[name], dtype=np.float64), shape)
        ok = np.isfinite(x)
        num += np.where(ok, ramp.weight * ramp.score(np.where(ok, x, 0.0)), 0.0)
        den += np.where(ok, ramp.weight, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.clip(np.where(den > 0, 100.0 * num / den, 0.0), 0.0, 100.0)
    return score, np.minimum(den / total, 1.0)  # sums in another order can pass 1 by 1 ulp


def cascade_reading(inputs: Mapping[str, float], time_ms: int = 0,
                    factors: Mapping[str, Ramp] = FACTORS) -> CascadeReading:
    """The score for one moment, with each factor's contribution in points."""
    present = {k: float(v) for k, v in inputs.items()
               if k in factors and v is not None and np.isfinite(v)}
    den = sum(factors[k].weight for k in present)
    total = sum(r.weight for r in factors.values())
    contributions = {k: 100.0 * factors[k].weight * float(factors[k].score(v)) / den
                     for k, v in present.items()} if den else {}
    score = min(100.0, float(sum(contributions.values())))  # rounding can add 1e-14
    missing = tuple(k for k in factors if k not in present)
    notes = ("no inputs available: the score is not informative",) if not present else ()
    return CascadeReading(score, level_of(score), min(den / total, 1.0), present, contributions,
                          missing, time_ms, notes)
