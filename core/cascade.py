"""The cascade score: 0–100, a level, a confidence that gates the level, and each factor's
contribution in points.

Two kinds of factor, combined so that the score means the same with and without the
optional inputs (a live exchange has order books and liquidations, a CSV file has candles):

* **Candle factors** (``core=True``: correlation z-score, volatility ratio, return shock, bar
  range, volume, drawdown) are what every source has and what the calibration can test on
  years of real bars. Each is mapped to 0–1 by a ramp between a quiet level ``lo`` and a full
  level ``hi``; their weighted mean (a factor missing at a bar is left out and the others
  re-weighted) is put on the 0–100 scale through the fitted *knots*: the mean at which
  elevated (30), high (50) and cascade (70) begin, chosen walk-forward so that each level is
  as rare in calm markets as ``docs/cascade-calibration.md`` says.
* **Evidence factors** (``core=False``: order-book depth drop, open-interest drop,
  liquidation volume, taker selling, funding extremes, perp discount to mark) can only add to
  that: each, ramped to 0–1 and scaled by its ``cap`` (the most it can say on its own), takes
  the remaining distance to 100 in the way independent pieces of evidence do:
  ``score = 100 · (1 − (1 − candle) · Π (1 − cap · s))``. A quiet or missing one changes
  nothing. (Averaging them in, as before, made a live score with calm books about 0.6× the
  candle-only score of the same bars, so "cascade" was out of reach live.)

``confidence`` is the share of all factor ``weight`` observed (candle factors carry 0.7 in
total, evidence 0.3, so complete candles alone give 0.7). It gates the level: below
``CONFIDENCE_GATES`` the level is capped (under 0.5 at most high, under 0.25 at most
elevated) and the reading says why; the score itself is not changed.

The numbers come from ``core/cascade_fitted.py``, written by ``scripts/calibrate_cascade.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.cascade_fitted import FITTED
from core.types import FloatArray

LEVELS: tuple[tuple[float, str], ...] = ((70.0, "cascade"), (50.0, "high"), (30.0, "elevated"),
                                         (0.0, "calm"))
LEVEL_ORDER = ("calm", "elevated", "high", "cascade")
CUTS = (30.0, 50.0, 70.0)  # where elevated, high and cascade begin on the 0–100 scale
CONFIDENCE_GATES: tuple[tuple[float, str], ...] = ((0.5, "cascade"), (0.25, "high"),
                                                   (0.0, "elevated"))
"""The most severe level a reading may have at a confidence (first row it reaches)."""


@dataclass(frozen=True)
class Ramp:
    """One factor: 0 at or below ``lo``, 1 at or above ``hi``, linear between.

    ``weight`` is its share of the whole for ``confidence`` (and, for a candle factor, its
    weight in the mean); ``cap`` marks an evidence factor and is the most it adds alone.
    """

    weight: float
    lo: float
    hi: float
    label: str
    cap: float | None = None

    @property
    def core(self) -> bool:
        return self.cap is None

    def score(self, x: FloatArray | float) -> FloatArray:
        with np.errstate(over="ignore", invalid="ignore"):  # ±1e308 saturate, as they should
            span = (np.asarray(x, dtype=np.float64) - self.lo) / (self.hi - self.lo)
            return np.clip(span, 0, 1)


@dataclass(frozen=True)
class CascadeModel:
    """The score's parameters: the factors and the knots of the candle mean (the means at
    which elevated, high and cascade begin). ``fit_id`` names the calibration run."""

    factors: Mapping[str, Ramp]
    knots: tuple[float, float, float]
    fit_id: str = "unfitted"

    def __post_init__(self) -> None:
        if not 0 < self.knots[0] < self.knots[1] < self.knots[2] < 1:
            raise ValueError(f"knots must rise strictly inside (0, 1), got {self.knots}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CascadeModel:
        """From the plain data ``scripts/calibrate_cascade.py`` writes."""
        factors = {k: Ramp(float(v["weight"]), float(v["lo"]), float(v["hi"]), str(v["label"]),
                           None if v.get("cap") is None else float(v["cap"]))
                   for k, v in d["factors"].items()}
        k = tuple(float(x) for x in d["knots"])
        return cls(factors, (k[0], k[1], k[2]), str(d.get("fit_id", "unfitted")))

    def to_dict(self) -> dict[str, Any]:
        return {"fit_id": self.fit_id, "knots": list(self.knots),
                "factors": {k: {"weight": r.weight, "lo": r.lo, "hi": r.hi, "label": r.label,
                                "cap": r.cap} for k, r in self.factors.items()}}

    def stretch(self, mean: FloatArray | float) -> FloatArray:
        """The candle mean (0–1) on the 0–100 scale, linear between the knots."""
        return np.interp(np.asarray(mean, dtype=np.float64), (0.0, *self.knots, 1.0),
                         (0.0, *CUTS, 100.0))


MODEL = CascadeModel.from_dict(FITTED)
FACTORS: Mapping[str, Ramp] = MODEL.factors


def level_of(score: float) -> str:
    """The level a score falls in: calm < 30 ≤ elevated < 50 ≤ high < 70 ≤ cascade."""
    return next(name for cut, name in LEVELS if score >= cut)


def level_cap(confidence: float) -> str:
    """The most severe level allowed at ``confidence`` (``CONFIDENCE_GATES``)."""
    return next(name for floor, name in CONFIDENCE_GATES if confidence >= floor)


def gated_level(score: float, confidence: float) -> str:
    """``level_of(score)``, capped at ``level_cap(confidence)``."""
    raw, cap = level_of(score), level_cap(confidence)
    return raw if LEVEL_ORDER.index(raw) <= LEVEL_ORDER.index(cap) else cap


@dataclass(frozen=True)
class CascadeReading:
    """One reading of the cascade score, JSON-ready through ``to_dict``. ``level`` is
    gated by confidence; ``uncapped`` is what the score alone says."""

    score: float
    level: str
    confidence: float
    factors: Mapping[str, float]  # raw input values that were available
    contributions: Mapping[str, float]  # points each factor added to the score
    missing: tuple[str, ...] = ()
    time_ms: int = 0
    notes: tuple[str, ...] = field(default=())
    uncapped: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 2), "level": self.level,
            "uncapped_level": self.uncapped or self.level, "capped": self.capped,
            "confidence": round(self.confidence, 3),
            "factors": {k: float(v) for k, v in self.factors.items()},
            "contributions": {k: round(float(v), 2) for k, v in self.contributions.items()},
            "missing": list(self.missing), "time_ms": self.time_ms, "notes": list(self.notes),
        }

    @property
    def rank(self) -> int:
        return LEVEL_ORDER.index(self.level)

    @property
    def capped(self) -> bool:
        return bool(self.uncapped) and self.uncapped != self.level


def _parts(inputs: Mapping[str, FloatArray | float], model: CascadeModel
           ) -> tuple[FloatArray, FloatArray, FloatArray, dict[str, FloatArray]]:
    """Candle mean, evidence survival Π(1 − cap·s), observed weight, per-factor terms."""
    arrays = [np.asarray(v, dtype=np.float64) for v in inputs.values() if v is not None]
    shape = np.broadcast(*arrays).shape if arrays else ()
    num, den = np.zeros(shape), np.zeros(shape)
    seen, survive = np.zeros(shape), np.ones(shape)
    terms: dict[str, FloatArray] = {}
    for name, ramp in model.factors.items():
        v = inputs.get(name)
        if v is None:
            continue
        x = np.broadcast_to(np.asarray(v, dtype=np.float64), shape)
        ok = ~np.isnan(x)
        s = np.where(ok, ramp.score(np.where(ok, x, 0.0)), 0.0)
        seen = seen + np.where(ok, ramp.weight, 0.0)
        if ramp.cap is None:
            num = num + ramp.weight * s
            den = den + np.where(ok, ramp.weight, 0.0)
            terms[name] = ramp.weight * s
        else:
            term = ramp.cap * s
            survive = survive * (1.0 - term)
            terms[name] = term
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return mean, survive, seen, terms


def cascade_scores(inputs: Mapping[str, FloatArray | float], model: CascadeModel = MODEL
                   ) -> tuple[FloatArray, FloatArray]:
    """Vectorised score and confidence for arrays of inputs (one value per bar).

    Inputs absent from the mapping or NaN at a bar are left out at that bar. Returns
    ``(score, confidence)``; the score is 0 where nothing is known.
    """
    mean, survive, seen, _ = _parts(inputs, model)
    candle = model.stretch(mean) / 100.0
    score = np.clip(100.0 * (1.0 - (1.0 - candle) * survive), 0.0, 100.0)
    total = sum(r.weight for r in model.factors.values())
    return score, np.minimum(seen / total, 1.0)  # sums in another order can pass 1 by 1 ulp


def gated_levels(score: FloatArray, confidence: FloatArray) -> FloatArray:
    """Level rank (0 calm … 3 cascade) of every bar, capped by confidence."""
    score = np.asarray(score, dtype=np.float64)
    raw = np.where(np.isnan(score), 0, np.searchsorted(np.asarray(CUTS), score, side="right"))
    cap = np.full(np.shape(score), 1)
    for floor, name in reversed(CONFIDENCE_GATES):
        cap = np.where(np.asarray(confidence) >= floor, LEVEL_ORDER.index(name), cap)
    ranks: FloatArray = np.minimum(raw, cap).astype(np.float64)
    return ranks


def cascade_reading(inputs: Mapping[str, float | None], time_ms: int = 0,
                    model: CascadeModel = MODEL) -> CascadeReading:
    """The score for one moment, with each factor's contribution in points (they add up to
    the score) and the level gated by confidence."""
    present = {k: float(v) for k, v in inputs.items()
               if k in model.factors and v is not None and not math.isnan(float(v))}
    mean, _, _, terms = _parts(present, model)
    score, confidence = (float(a) for a in cascade_scores(present, model))
    candle_pts = float(model.stretch(mean))
    core_terms = {k: float(t) for k, t in terms.items() if model.factors[k].core}
    core_sum = sum(core_terms.values())
    contributions = {k: candle_pts * t / core_sum if core_sum > 0 else 0.0
                     for k, t in core_terms.items()}
    # the evidence adds 100·(1 − candle)·(1 − Π(1 − e)): shared out by each −log(1 − e)
    logs = {k: -math.log1p(-min(float(t), 1.0 - 1e-12)) for k, t in terms.items()
            if not model.factors[k].core}
    added = max(0.0, score - candle_pts)
    spread = sum(logs.values())
    contributions.update({k: added * v / spread if spread > 0 else 0.0
                          for k, v in logs.items()})
    missing = tuple(k for k in model.factors if k not in present)
    raw, level = level_of(score), gated_level(score, confidence)
    notes: list[str] = []
    if not present:
        notes.append("no inputs available: the score is not informative")
    if level != raw:
        floor = next(f for f, name in CONFIDENCE_GATES if name == raw)
        notes.append(f"level capped at {level}: only {confidence:.0%} of the score's inputs "
                     f"are known (a {raw} level needs {floor:.0%})")
    return CascadeReading(score, level, confidence, present, contributions, missing, time_ms,
                          tuple(notes), raw)
