"""Fitting the recalibration map of the tail model (``core.tail_calibration``) to cases, and
choosing its form, on the first half of the real data only.

The map ``logit q = c + a·ln p − b·ln(1 − p)`` is a logistic regression of the outcome on
(1, ln p, −ln(1 − p)) — Platt's is the one on (1, logit p), i.e. a = b — fitted by maximum
likelihood with Newton's method (three parameters, a dozen steps; no dependency of ours fits
a logistic regression). Cases with p = 0 or 1 are left out: the map leaves those as they are.

The form is chosen inside the first half: each form is fitted on the earlier half of every
dataset's first-half cases and scored (log loss) on the later half; the lowest wins, the
identity included, so the map is only used where it helps on cases it was not fitted on.
The score is of what the bot reports — the mapped probability, floored by the shorter
horizons' — so the horizons are chosen in order. The chosen form is then refitted on the
whole first half.

That rule now picks the 1 h map only: 4 h and 24 h get a *binned* map (``fit_binned_map``)
fitted on the whole first half, since their error bends locally in a way the two-slope forms
cannot follow (``docs/risk-model.md``, the third step; ``real_market_maps`` is the rule the
shipped constants follow).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backtest.risk_calibration import CaseArrays, Dataset, later_half
from backtest.risk_scores import EDGES, log_loss
from core.tail_calibration import IDENTITY, BinnedMap, TouchCalibration, TouchMap
from core.tail_risk import HORIZONS_H
from core.types import FloatArray

FORMS: tuple[str, ...] = ("identity", "platt", "beta")


def _features(p: FloatArray, form: str) -> FloatArray:
    if form == "platt":
        return np.column_stack([np.ones_like(p), np.log(p) - np.log1p(-p)])
    return np.column_stack([np.ones_like(p), np.log(p), -np.log1p(-p)])


def _loglik(x: FloatArray, y: FloatArray, beta: FloatArray) -> float:
    z = x @ beta
    return float(np.sum(y * z - np.logaddexp(0.0, z)))


def fit_touch_map(p: np.ndarray, touched: np.ndarray, form: str = "beta") -> TouchMap:
    """The map of ``form`` (``FORMS``) that maximises the likelihood of ``touched`` given
    the simulated probabilities ``p``; the identity for ``"identity"``. ``ValueError`` when
    the fit is not increasing (a or b not positive) or does not converge."""
    if form not in FORMS:
        raise ValueError(f"unknown map form {form!r}; one of {FORMS}")
    if form == "identity":
        return IDENTITY
    pp = np.asarray(p, dtype=np.float64)
    use = np.isfinite(pp) & (pp > 0) & (pp < 1)
    x, y = _features(pp[use], form), np.asarray(touched, dtype=np.float64)[use]
    beta = np.array([0.0, 1.0]) if form == "platt" else np.array([0.0, 1.0, 1.0])
    ll = _loglik(x, y, beta)
    for _ in range(100):
        q = 1.0 / (1.0 + np.exp(-(x @ beta)))
        grad = x.T @ (y - q)
        hess = (x * (q * (1.0 - q))[:, None]).T @ x
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while _loglik(x, y, beta + t * step) < ll and t > 1e-6:  # halve until it improves
            t *= 0.5
        beta = beta + t * step
        new = _loglik(x, y, beta)
        done = abs(new - ll) < 1e-10 * max(1.0, abs(ll))
        ll = new
        if done:
            break
    else:
        raise ValueError("the map's fit did not converge")
    c, a = float(beta[0]), float(beta[1])
    b = a if form == "platt" else float(beta[2])
    return TouchMap(c, a, b)  # TouchMap refuses a or b ≤ 0 (a map that is not increasing)


def fit_binned_map(p: np.ndarray, touched: np.ndarray, edges: Sequence[float] = EDGES,
                   min_events: int = 30) -> BinnedMap:
    """The binned map (``core.tail_calibration.BinnedMap``) of simulated probabilities ``p``
    against ``touched``: a knot per bin of ``edges`` with at least ``min_events`` touches and
    as many misses (logit of its mean p → logit of its realised rate), adjacent knots pooled
    until the realised rates strictly increase. ``ValueError`` when no bin has enough."""
    pp = np.asarray(p, dtype=np.float64)
    yy = np.asarray(touched, dtype=np.float64)
    use = np.isfinite(pp) & (pp > 0) & (pp < 1)
    pp, yy = pp[use], yy[use]
    bins: list[list[float]] = []  # [cases, sum of p, touches]
    for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
        m = (pp >= lo) & ((pp <= hi) if i == len(edges) - 2 else (pp < hi))
        n, k = float(m.sum()), float(yy[m].sum())
        if k >= min_events and n - k >= min_events:
            bins.append([n, float(pp[m].sum()), k])
    pooled: list[list[float]] = []
    for b in bins:  # pool adjacent violators: each rate above the one before it
        pooled.append(b)
        while len(pooled) > 1 and pooled[-1][2] / pooled[-1][0] <= pooled[-2][2] / pooled[-2][0]:
            last = pooled.pop()
            pooled[-1] = [x + y for x, y in zip(pooled[-1], last, strict=True)]
    if not pooled:
        raise ValueError(f"no bin has {min_events} touches and {min_events} misses")

    def logit(x: float) -> float:
        return math.log(x) - math.log1p(-x)

    return BinnedMap(tuple((logit(sp / n), logit(k / n)) for n, sp, k in pooled))


@dataclass(frozen=True)
class FormScore:
    hours: int
    form: str
    fitted: TouchMap  # on the earlier part
    log_loss: float  # on the later part, of the reported (floored) probability
    chosen: bool


def first_halves(datasets: Sequence[Dataset]) -> list[Dataset]:
    """Each dataset cut at its middle bar: the cases of these, and the bars that decide
    them, all come before any held-out case (``CaseArrays.held_out``)."""
    return [dataclasses.replace(ds, snap=ds.snap.upto(len(ds.snap.times) // 2))
            for ds in datasets]


def choose_maps(c: CaseArrays, forms: Sequence[str] = FORMS, fitted_on: str = ""
                ) -> tuple[TouchCalibration, list[FormScore]]:
    """The map of every horizon (module docstring) from cases whose ``raw`` holds the
    simulation's own probabilities, and the score of every form tried."""
    later = later_half(c.dataset, c.time_ms)
    scores: list[FormScore] = []
    maps: list[tuple[int, TouchMap]] = []
    floor: FloatArray | None = None
    for h in HORIZONS_H:
        p, y = c.raw[h], c.touched[h]
        tried = []
        for form in forms:
            m = fit_touch_map(p[~later], y[~later], form)
            q = m.apply(p[later]) if floor is None else np.fmax(floor[later], m.apply(p[later]))
            tried.append((log_loss(q, y[later]), form, m))
        best = min(tried, key=lambda x: x[0])[1]
        scores += [FormScore(h, f, m, ll, f == best) for ll, f, m in tried]
        chosen = fit_touch_map(p, y, best)
        maps.append((h, chosen))
        floor = chosen.apply(p) if floor is None else np.fmax(floor, chosen.apply(p))
    return TouchCalibration(tuple(maps), fitted_on), scores


BINNED_H: tuple[int, ...] = (4, 24)
"""The horizons whose map is binned (``docs/risk-model.md``, the third step): their error has
a shape the two-slope forms cannot take."""


def real_market_maps(c: CaseArrays, fitted_on: str = ""
                     ) -> tuple[TouchCalibration, list[FormScore]]:
    """The rule the shipped ``REAL_MARKETS`` follows: 1 h by ``choose_maps`` (the form that
    scores best on the later part), ``BINNED_H`` binned on all of ``c``; and the form scores
    of the 1 h choice."""
    chosen, scores = choose_maps(c, fitted_on=fitted_on)
    maps = tuple((h, fit_binned_map(c.raw[h], c.touched[h]) if h in BINNED_H else chosen.at(h))
                 for h in HORIZONS_H)
    return TouchCalibration(maps, fitted_on), [s for s in scores if s.hours not in BINNED_H]
