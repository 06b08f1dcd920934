"""The cascade factors and score for every bar: the live reading, the replays, the backtest's
stress windows and the calibration all come from this code.

Candle factors (all from the snapshot's bars, each causal: bar ``t`` uses bars ≤ ``t``):

* ``corr_z``: the market correlation index (mean pairwise fast correlation) as a z-score
  against its own slow-window history;
* ``vol_ratio``: EWMA volatility of the equal-weight market return (the configured
  half-life, 6 h by default) over its slow-window realised volatility — EWMA rather than the
  1-day window so the ratio moves within hours, as a cascade does;
* ``shock_sigma``: |market return of the bar| in σ of the EWMA volatility *before* it;
* ``range_ratio``: the bar's high/low range against its own slow-window mean (median over
  symbols, log ranges): liquidation wicks stretch bars before closes move much;
* ``volume_ratio``: the bar's volume against its mean over the previous week of fast
  windows (median over symbols, log volumes): forced selling trades;
* ``drawdown``: the market's fall from its high of the last fast window, in σ of a fast
  window's move (slow-window volatility).

``snapshot_cascade_series`` adds the evidence inputs (book depth, open interest,
liquidations, taker selling, funding, basis) at every bar close from the snapshot's stored
samples (``core.market_inputs``), so a replay of stored data gives the live scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from core.cascade import MODEL, CascadeModel, cascade_scores
from core.market_inputs import flow_input_series, market_returns
from core.regimes import rolling_zscore
from core.returns import log_returns
from core.rolling import market_index_series
from core.types import FloatArray, MarketSnapshot
from core.views import CorrelationParams
from core.volatility import rolling_vol

CANDLE_FACTORS = ("corr_z", "vol_ratio", "shock_sigma", "range_ratio", "volume_ratio",
                  "drawdown")
VOLUME_DAYS = 7  # the volume baseline: this many fast windows


def ewma_variance_series(x: FloatArray, halflife: float) -> FloatArray:
    """Zero-mean EWMA variance after each bar (RiskMetrics): ``v_t = β v_{t−1} + (1−β) x_t²``.

    Missing bars leave the variance unchanged. Starts from the mean square of the first
    ``halflife`` valid values so the first bars are not measured against zero.
    """
    x = np.asarray(x, dtype=np.float64)
    beta = 2.0 ** (-1.0 / halflife)
    ok = np.isfinite(x)
    out = np.full(x.shape, np.nan)
    valid = x[ok]
    if valid.size == 0:
        return out
    v = float(np.mean(valid[: max(2, int(halflife))] ** 2))
    sq = np.where(ok, x * x, np.nan)
    for t, s in enumerate(sq.tolist()):  # one pass over one series: cheap even for 100k bars
        if s == s:  # not NaN
            v = beta * v + (1.0 - beta) * s
        out[t] = v
    return out


def trailing_mean(x: FloatArray, window: int, min_periods: int) -> FloatArray:
    """Mean of the finite values among the ``window`` rows *before* each row (the row itself
    left out), per column; NaN with fewer than ``min_periods`` of them."""
    a = np.asarray(x, dtype=np.float64)
    flat = a.ndim == 1
    a = a[:, None] if flat else a
    ok = np.isfinite(a)
    c = np.vstack([np.zeros((1, a.shape[1])), np.cumsum(np.where(ok, a, 0.0), axis=0)])
    n = np.vstack([np.zeros((1, a.shape[1])), np.cumsum(ok, axis=0)])
    t = np.arange(a.shape[0])
    lo = np.maximum(0, t - window)
    s, k = c[t] - c[lo], n[t] - n[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(k >= min_periods, s / np.maximum(k, 1), np.nan)
    return out[:, 0] if flat else out


def rolling_max(x: FloatArray, window: int) -> FloatArray:
    """Max of the finite values over the last ``window`` rows including each (NaN if none)."""
    x = np.asarray(x, dtype=np.float64)
    pad = np.concatenate([np.full(window - 1, -np.inf), np.where(np.isfinite(x), x, -np.inf)])
    out = np.lib.stride_tricks.sliding_window_view(pad, window).max(axis=1)
    return np.where(np.isfinite(out), out, np.nan)


def _median_over_symbols(a: FloatArray) -> FloatArray:
    """Median across columns of the finite values, NaN where there are none."""
    a = np.where(np.isfinite(a), a, np.nan)
    out = np.full(a.shape[0], np.nan)
    has = np.isfinite(a).any(axis=1)
    if has.any():
        out[has] = np.nanmedian(a[has], axis=1)
    return out


def candle_factors(returns: FloatArray, params: CorrelationParams, *,
                   high: FloatArray | None = None, low: FloatArray | None = None,
                   volume: FloatArray | None = None) -> dict[str, FloatArray]:
    """The candle factors for every bar of (T, N) log returns (``range_ratio`` needs highs
    and lows, ``volume_ratio`` volumes; without them those are left out), plus the
    ``market_index`` series behind ``corr_z``."""
    p = params
    m = market_returns(returns)
    var = ewma_variance_series(m, p.halflife)
    sigma = np.sqrt(var)
    prev = np.concatenate([[np.nan], sigma[:-1]])
    slow = rolling_vol(m, p.slow, p.min_slow)[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        shock = np.where(prev > 0, np.abs(m) / prev, np.nan)
        ratio = np.where(slow > 0, sigma / slow, np.nan)
        level = np.cumsum(np.where(np.isfinite(m), m, 0.0))
        fall = rolling_max(level, p.fast) - level
        drawdown = np.where(slow > 0, fall / (slow * math.sqrt(p.fast)), np.nan)
    index, _ = market_index_series(returns, p.fast, p.min_fast)
    z = rolling_zscore(index, p.slow, p.min_slow)
    out = {"corr_z": z, "vol_ratio": ratio, "shock_sigma": shock, "drawdown": drawdown,
           "market_index": index}
    with np.errstate(invalid="ignore", divide="ignore"):
        if high is not None and low is not None:
            span = np.log(np.asarray(high, dtype=np.float64) / np.asarray(low, dtype=np.float64))
            span = np.where(span > 0, np.log(span), np.nan)  # a flat bar has no range to log
            base = trailing_mean(span, p.slow, p.min_slow)
            out["range_ratio"] = np.exp(_median_over_symbols(span - base))
        if volume is not None:
            v = np.asarray(volume, dtype=np.float64)
            lv = np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), np.nan)
            week = VOLUME_DAYS * p.fast
            base = trailing_mean(lv, week, math.ceil(0.8 * week))
            out["volume_ratio"] = np.exp(_median_over_symbols(lv - base))
    return out


def cascade_series(returns: FloatArray, params: CorrelationParams,
                   extra: Mapping[str, FloatArray] | None = None, *,
                   high: FloatArray | None = None, low: FloatArray | None = None,
                   volume: FloatArray | None = None, model: CascadeModel = MODEL
                   ) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
    """Score and confidence for every bar from the candle factors plus any ``extra`` series
    (evidence inputs aligned to the bars); also returns the inputs."""
    inputs = candle_factors(returns, params, high=high, low=low, volume=volume)
    scored = {k: v for k, v in inputs.items() if k != "market_index"}
    scored.update(extra or {})
    score, confidence = cascade_scores(scored, model)
    return score, confidence, inputs


@dataclass(frozen=True, eq=False)
class CascadeSeries:
    """Score, confidence and every input at each bar of a snapshot (bar closes in
    ``times_ms``)."""

    times_ms: FloatArray
    score: FloatArray
    confidence: FloatArray
    inputs: Mapping[str, FloatArray]


def snapshot_cascade_series(snap: MarketSnapshot, params: CorrelationParams,
                            model: CascadeModel = MODEL) -> CascadeSeries:
    """The score at every bar of ``snap`` as the live cycle computes it at that bar's close:
    candle factors from the bars, evidence from the samples stamped at or before the close."""
    closes = (snap.times + snap.timeframe_ms).astype(np.int64)
    extra = flow_input_series(snap, closes)
    score, conf, inputs = cascade_series(log_returns(snap.close), params, extra,
                                         high=snap.high, low=snap.low, volume=snap.volume,
                                         model=model)
    inputs.update(extra)
    return CascadeSeries(closes.astype(np.float64), score, conf, inputs)
