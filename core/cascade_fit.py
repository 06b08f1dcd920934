"""Fitting the cascade score's candle factors, and judging any score on real bars: the pure
half of ``scripts/calibrate_cascade.py`` (walk-forward: every fit sees only bars before the
window it is judged on).

* ``fit_model``: each candle factor's ramp runs from a quiet quantile to an extreme quantile
  of its training values; its weight is its lift (ranking AUC − 0.5) for "the market falls
  ≥ 5 % within 4 h"; the knots put elevated, high and cascade where, in the training bars'
  calm stretches, each level is entered at most its budget of times per 30 days.
* ``alert_starts``: the bars at which the live rule (``plugins.alert_rules.episodes``: enter
  at once, leave only after ``clear`` bars ``margin`` points under) raises a level.
* ``forward_drop``, ``lead_before``, ``hit_rates``: what the calibration report states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from core.cascade import CascadeModel, Ramp, gated_levels
from core.types import BoolArray, FloatArray, IntArray

CANDLE_WEIGHT = 0.7  # the candle factors' share of all weight (see core.cascade)
BUDGETS = (6.0, 2.0, 1.0)  # calm-stretch entries per 30 days: elevated, high, cascade
MIN_TRAINING_BARS = 3 * 96  # a factor with fewer training values keeps its prior ramp
BARS_PER_30D = 2880


@dataclass(frozen=True, eq=False)
class Training:
    """One stretch of bars: the candle inputs, the 4-hour forward drop of the market and
    which bars are calm (far from any crash)."""

    inputs: Mapping[str, FloatArray]
    drop: FloatArray
    calm: BoolArray


def forward_drop(market_return: FloatArray, horizon: int) -> FloatArray:
    """At each bar, how far the market falls below its close within the next ``horizon``
    bars (closes, compounded from the equal-weight returns): 0.05 is a 5 % fall."""
    level = np.cumsum(np.where(np.isfinite(market_return), market_return, 0.0))
    low = np.full(level.shape, np.inf)
    for k in range(1, horizon + 1):
        low[:-k] = np.minimum(low[:-k], level[k:])
    out: FloatArray = 1.0 - np.exp(low - level)
    out[-horizon:] = np.nan  # the future is not in the data
    return out


def calm_bars(drop: FloatArray, crash_drop: float = 0.10, pad: int = 96) -> BoolArray:
    """Bars farther than ``pad`` bars from any bar followed by a ``crash_drop`` fall."""
    crash = np.flatnonzero(np.nan_to_num(drop) >= crash_drop)
    near = np.zeros(drop.shape, dtype=bool)
    for i in crash:
        near[max(0, i - pad):i + pad + 1] = True
    return ~near


def auc(x: FloatArray, y: BoolArray) -> float:
    """Probability that a random positive bar has a higher ``x`` than a random negative one
    (ties count half); NaN values are left out, NaN when a class is empty."""
    ok = np.isfinite(x)
    x, y = x[ok], y[ok]
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    ranks = (upper - (counts - 1) / 2.0)[inv]  # average rank of ties, 1-based
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def candle_mean(inputs: Mapping[str, FloatArray], model: CascadeModel) -> FloatArray:
    """The weighted mean of the available candle factors' ramps (0 where none is known)."""
    n = len(next(iter(inputs.values()))) if inputs else 0
    num, den = np.zeros(n), np.zeros(n)
    for k, r in model.factors.items():
        if r.core and k in inputs:
            x = np.asarray(inputs[k], dtype=np.float64)
            ok = ~np.isnan(x)
            num += np.where(ok, r.weight * r.score(np.where(ok, x, 0.0)), 0.0)
            den += np.where(ok, r.weight, 0.0)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def bridged_starts(on: BoolArray, gap: int) -> IntArray:
    """Starts of the runs of ``on``, runs closer than ``gap`` bars merged (the live rule's
    clear-after, without its margin: it counts a few more starts, never fewer)."""
    idx = np.flatnonzero(on)
    if not idx.size:
        return idx.astype(np.int64)
    keep: BoolArray = np.concatenate([[True], np.diff(idx) > gap])
    starts: IntArray = idx[keep].astype(np.int64)
    return starts


def _knot(sets: Sequence[tuple[FloatArray, BoolArray]], budget: float, gap: int,
          floor: float) -> float:
    """The smallest candle mean above ``floor`` entered at most ``budget`` times per 30 calm
    days in the training sets."""
    calm_days = sum(int(c.sum()) for _, c in sets) * 30 / BARS_PER_30D
    pooled = np.concatenate([m for m, _ in sets])
    cand = np.unique(np.quantile(pooled, np.linspace(0.9, 1.0, 401)))
    cand = cand[(cand > floor) & (cand < 1.0)]
    if not cand.size or calm_days <= 0:
        return min(0.999, max(floor + 1e-3, floor * 1.1))

    def ok(c: float) -> bool:
        n = sum(int(calm[bridged_starts(m >= c, gap)].sum()) for m, calm in sets)
        return n * 30 / calm_days <= budget

    lo, hi = 0, cand.size - 1
    if not ok(float(cand[hi])):
        return float(min(0.999, cand[hi] + 1e-3))
    while lo < hi:  # entries fall as the threshold rises
        mid = (lo + hi) // 2
        if ok(float(cand[mid])):
            hi = mid
        else:
            lo = mid + 1
    return float(cand[lo])


def fit_model(train: Sequence[Training], prior: CascadeModel, *, q_lo: float = 0.95,
              q_hi: float = 0.999, target_drop: float = 0.05,
              budgets: tuple[float, float, float] = BUDGETS, gap: int = 4,
              fit_id: str = "fit") -> CascadeModel:
    """The candle factors and knots fitted on ``train``; evidence factors as in ``prior``."""
    y = np.concatenate([np.nan_to_num(t.drop) >= target_drop for t in train])
    factors: dict[str, Ramp] = dict(prior.factors)
    lift: dict[str, float] = {}
    for k, r in prior.factors.items():
        if not r.core:
            continue
        x = np.concatenate([np.asarray(t.inputs.get(k, np.full(t.drop.shape, np.nan)),
                                       dtype=np.float64) for t in train])
        ok = np.isfinite(x)
        if ok.sum() < MIN_TRAINING_BARS:
            lift[k] = r.weight
            continue
        lo, hi = (float(q) for q in np.quantile(x[ok], [q_lo, q_hi]))
        a = auc(x, y)
        if hi <= lo:
            hi = lo + max(abs(lo), 1.0) * 1e-3
        factors[k] = replace(r, lo=lo, hi=hi)
        lift[k] = max(0.0, a - 0.5) if np.isfinite(a) else 0.0
    total = sum(lift.values())
    for k, w in lift.items():
        share = w / total if total > 0 else 1.0 / len(lift)
        factors[k] = replace(factors[k], weight=CANDLE_WEIGHT * share)
    model = replace(prior, factors=factors)
    sets = [(candle_mean(t.inputs, model), t.calm) for t in train]
    knots: list[float] = []
    floor = 0.0
    for budget in budgets:
        floor = _knot(sets, budget, gap, floor + 1e-6)
        knots.append(floor)
    return CascadeModel(factors, (knots[0], knots[1], knots[2]), fit_id)


def alert_starts(score: FloatArray, confidence: FloatArray, *, margin: float = 5.0,
                 clear: int = 4) -> dict[int, IntArray]:
    """The bars at which the live cascade rule raises each level (1 elevated, 2 high,
    3 cascade), counting an entry straight to cascade as raising high and elevated too.

    The rule of ``plugins.alert_rules.episodes.step`` on 15-minute readings: a more severe
    (confidence-gated) level is entered at once; the held level is left only after ``clear``
    readings in a row more than ``margin`` points under it, and then for the level those
    readings support.
    """
    raw = gated_levels(score, confidence).astype(np.int64).tolist()
    kept = gated_levels(np.minimum(100.0, np.asarray(score) + margin), confidence)
    kept_l = kept.astype(np.int64).tolist()
    ok = np.isfinite(np.asarray(score)).tolist()
    held, leaving = 0, -1
    out: dict[int, list[int]] = {1: [], 2: [], 3: []}
    for i in range(len(raw)):
        if not ok[i]:
            continue
        r, k = raw[i], kept_l[i]
        if r > held:
            for lvl in range(held + 1, r + 1):
                out[lvl].append(i)
            held, leaving = r, -1
        elif k >= held:
            leaving = -1
        else:
            if leaving < 0:
                leaving = i
            if i - leaving >= clear:
                held, leaving = k, -1
    return {lvl: np.asarray(v, dtype=np.int64) for lvl, v in out.items()}


def lead_before(levels: FloatArray, worst: int, level: int, lookback: int) -> int | None:
    """Bars from the first reading at ``level`` or above within ``lookback`` bars before
    ``worst`` (the worst bar excluded) to ``worst``; None if there was none."""
    lo = max(0, worst - lookback)
    hit = np.flatnonzero(np.asarray(levels[lo:worst]) >= level)
    return int(worst - (lo + hit[0])) if hit.size else None


@dataclass(frozen=True)
class HitRate:
    """How a level did against "a ≥ ``drop`` fall within the horizon"."""

    level: int
    drop: float
    alerts: int  # times the level was raised
    hits: int  # of those, followed by such a fall
    events: int  # falls (runs of bars each followed by one)
    caught: int  # of those, with the level on at some bar of the run

    @property
    def precision(self) -> float:
        return self.hits / self.alerts if self.alerts else float("nan")

    @property
    def recall(self) -> float:
        return self.caught / self.events if self.events else float("nan")


def hit_rates(starts: Mapping[int, IntArray], levels: FloatArray, drop: FloatArray,
              drops: Sequence[float] = (0.03, 0.05, 0.10)) -> list[HitRate]:
    """Precision (alerts followed by the fall) and recall (falls warned of while still
    ahead) of every level for every size of fall."""
    out = []
    d = np.nan_to_num(np.asarray(drop), nan=-1.0)
    lv = np.asarray(levels)
    for x in drops:
        on = d >= x
        ev = np.flatnonzero(on & ~np.concatenate([[False], on[:-1]]))
        ends = np.flatnonzero(on & ~np.concatenate([on[1:], [False]]))
        for lvl in (1, 2, 3):
            s = starts[lvl]
            caught = sum(bool((lv[a:b + 1] >= lvl).any()) for a, b in zip(ev, ends,
                                                                          strict=True))
            out.append(HitRate(lvl, x, int(s.size), int((d[s] >= x).sum()), int(ev.size),
                               int(caught)))
    return out


def per_30_calm_days(starts: IntArray, calm: BoolArray) -> float:
    """Alerts starting in calm stretches per 30 calm days."""
    days = int(calm.sum()) * 30 / BARS_PER_30D
    return float(calm[starts].sum()) * 30 / days if days > 0 else float("nan")


__all__ = ["BUDGETS", "CANDLE_WEIGHT", "HitRate", "Training", "alert_starts", "auc",
           "bridged_starts", "calm_bars", "candle_mean", "fit_model", "forward_drop",
           "hit_rates", "lead_before", "per_30_calm_days"]
