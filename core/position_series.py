"""Every-bar hedge statistics of one position's symbol, for backtests and replay.

Each value at bar t uses returns up to and including t only (rolling windows and forward
recursions), so a strategy fed these series cannot see the future. The hedge instrument at
bar t is the one with the highest fast-window ρ² to the position's symbol at t, as in the
live engine (:func:`core.recommend.best_hedge`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.cascade import level_of
from core.cascade_series import cascade_series
from core.regimes import UNKNOWN, level_regimes
from core.returns import log_returns
from core.rolling import rolling_pair_series
from core.types import FloatArray, IntArray
from core.views import CorrelationParams

_CHUNK = 512


def ewma_filter(x: FloatArray, halflife: float) -> FloatArray:
    """adjust=False EWMA of each column, starting at the first value; NaN inputs skip a bar
    (the average holds). Vectorised over columns, chunked over time so β^−s never overflows.
    """
    x = np.asarray(x, dtype=np.float64)
    beta = 2.0 ** (-1.0 / halflife)
    out = np.full(x.shape, np.nan)
    state = np.full(x.shape[1:], np.nan)
    for a in range(0, x.shape[0], _CHUNK):
        block = x[a:a + _CHUNK]
        for i, row in enumerate(block):  # cheap: a row of K values per bar
            ok = np.isfinite(row)
            fresh = ok & ~np.isfinite(state)
            state = np.where(fresh, row, np.where(ok, beta * state + (1 - beta) * row, state))
            out[a + i] = state
    return out


@dataclass(frozen=True, eq=False)
class PositionSeries:
    """(T,) arrays for one target symbol; ``hedge`` is −1 where no hedge is available."""

    target: int
    hedge: IntArray
    beta_fast: FloatArray
    beta_ewma: FloatArray
    corr_fast: FloatArray
    corr_slow: FloatArray
    regime: IntArray
    cascade_score: FloatArray

    def cascade_level(self, t: int) -> str:
        return level_of(float(self.cascade_score[t]))


def position_series(close: FloatArray, target: int, params: CorrelationParams,
                    cascade_score: FloatArray | None = None) -> PositionSeries:
    """Hedge choice, β (fast window and EWMA), correlations, pair regime and cascade score
    at every bar. ``cascade_score`` can be passed in when several positions share a market."""
    p = params
    r = log_returns(close)
    n = r.shape[1]
    others = [j for j in range(n) if j != target]
    pairs = [(target, j) for j in others]
    fast = rolling_pair_series(r, pairs, p.fast, p.min_fast)
    slow = rolling_pair_series(r, pairs, p.slow, p.min_slow)
    regimes = level_regimes(fast.corr, p.high_corr, p.low_corr, p.hysteresis,
                            p.min_regime_bars)
    # EWMA β: cov/var from EWMA means of x·h, x, h and h² over the pairwise-valid bars
    x, h = r[:, [target] * len(others)], r[:, others]
    both = np.isfinite(x) & np.isfinite(h)
    xs, hs = np.where(both, x, np.nan), np.where(both, h, np.nan)
    m_xh, m_x, m_h, m_hh = (ewma_filter(a, p.halflife) for a in (xs * hs, xs, hs, hs * hs))
    with np.errstate(invalid="ignore", divide="ignore"):
        var_h = m_hh - m_h * m_h
        beta_e = np.where(var_h > 0, (m_xh - m_x * m_h) / var_h, np.nan)
    rho2 = np.where(np.isfinite(fast.corr), fast.corr ** 2, -1.0)
    best = np.argmax(rho2, axis=1) if others else np.zeros(r.shape[0], dtype=np.int64)
    rows = np.arange(r.shape[0])
    has = rho2[rows, best] >= 0 if others else np.zeros(r.shape[0], dtype=bool)
    hedge = np.where(has, np.asarray(others)[best] if others else -1, -1)

    def pick(a: FloatArray) -> FloatArray:
        return np.where(has, a[rows, best], np.nan) if others else np.full(r.shape[0], np.nan)

    if cascade_score is None:
        cascade_score, _, _ = cascade_series(r, p)
    reg = np.where(has, regimes[rows, best], UNKNOWN) if others else np.full(
        r.shape[0], UNKNOWN)
    return PositionSeries(target, hedge.astype(np.int64), pick(fast.beta), pick(beta_e),
                          pick(fast.corr), pick(slow.corr), reg.astype(np.int64),
                          np.asarray(cascade_score, dtype=np.float64))
