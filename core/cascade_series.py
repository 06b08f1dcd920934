"""The candle-based cascade factors for every bar: the live reading and the backtest's
stress windows come from the same code.

* ``corr_z``: the market correlation index (mean pairwise fast correlation) as a z-score
  against its own slow-window history;
* ``vol_ratio``: EWMA volatility of the equal-weight market return (the configured
  half-life, 6 h by default) over its slow-window realised volatility — EWMA rather than the
  1-day window so the ratio moves within hours, as a cascade does;
* ``shock_sigma``: |market return of the bar| in σ of the EWMA volatility *before* it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from core.cascade import cascade_scores
from core.market_inputs import market_returns
from core.regimes import rolling_zscore
from core.rolling import market_index_series
from core.types import FloatArray
from core.views import CorrelationParams
from core.volatility import rolling_vol


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


def candle_factors(returns: FloatArray, params: CorrelationParams) -> dict[str, FloatArray]:
    """``corr_z``, ``vol_ratio`` and ``shock_sigma`` for every bar of (T, N) log returns."""
    p = params
    m = market_returns(returns)
    var = ewma_variance_series(m, p.halflife)
    sigma = np.sqrt(var)
    prev = np.concatenate([[np.nan], sigma[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        shock = np.where(prev > 0, np.abs(m) / prev, np.nan)
        slow = rolling_vol(m, p.slow, p.min_slow)[:, 0]
        ratio = np.where(slow > 0, sigma / slow, np.nan)
    index, _ = market_index_series(returns, p.fast, p.min_fast)
    z = rolling_zscore(index, p.slow, p.min_slow)
    return {"corr_z": z, "vol_ratio": ratio, "shock_sigma": shock, "market_index": index}


def cascade_series(returns: FloatArray, params: CorrelationParams,
                   extra: Mapping[str, FloatArray] | None = None
                   ) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
    """Score and confidence for every bar from the candle factors plus any ``extra`` series
    (depth drop, open-interest drop, ... aligned to the bars); also returns the inputs."""
    inputs = candle_factors(returns, params)
    scored = {k: v for k, v in inputs.items() if k != "market_index"}
    scored.update(extra or {})
    score, confidence = cascade_scores(scored)
    return score, confidence, inputs
