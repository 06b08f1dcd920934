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


def _ewma_dense(v: FloatArray, beta: float) -> FloatArray:
    """adjust=False EWMA of a gap-free 1-D series starting at its first value.

    Within a chunk of n values, ``y_j = β^(j+1) (y_prev + (1−β) Σ_{i≤j} v_i β^−(i+1))``: a
    cumulative sum instead of a Python loop; chunks keep β^−n far from overflow.
    """
    out = np.empty(v.shape[0])
    out[0] = y = v[0]
    step = max(1, min(_CHUNK, int(-500 / np.log2(beta))))  # β^−step stays below 2^500
    for a in range(1, v.shape[0], step):
        chunk = v[a:a + step]
        p = beta ** np.arange(1, chunk.shape[0] + 1)
        out[a:a + chunk.shape[0]] = p * (y + (1 - beta) * np.cumsum(chunk / p))
        y = out[a + chunk.shape[0] - 1]
    return out


def ewma_filter(x: FloatArray, halflife: float) -> FloatArray:
    """adjust=False EWMA of each column, starting at its first value; a NaN input skips the
    bar (the average holds, and does not decay). Causal: row t depends on rows ≤ t only."""
    x = np.asarray(x, dtype=np.float64)
    flat = x.reshape(x.shape[0], -1)
    beta = 2.0 ** (-1.0 / halflife)
    out = np.full(flat.shape, np.nan)
    for k in range(flat.shape[1]):
        idx = np.flatnonzero(np.isfinite(flat[:, k]))
        if idx.size == 0:
            continue
        y = _ewma_dense(flat[idx, k], beta)
        # hold the average between observations: the latest observation at or before t
        last = np.maximum.accumulate(np.where(np.isfinite(flat[:, k]),
                                              np.arange(flat.shape[0]), -1))
        ok = last >= 0
        out[ok, k] = y[np.searchsorted(idx, last[ok])]
    return out.reshape(x.shape)


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
    others: tuple[int, ...] = ()  # columns of the candidate hedges, in the order below
    beta_all: FloatArray | None = None  # (T, K) fast β to every candidate
    corr_all: FloatArray | None = None  # (T, K) fast ρ to every candidate

    def pair(self, t: int, column: int) -> tuple[float, float]:
        """Fast β and ρ of the target to ``column`` at bar ``t`` (NaN when unknown)."""
        if self.beta_all is None or self.corr_all is None or column not in self.others:
            return float("nan"), float("nan")
        k = self.others.index(column)
        return float(self.beta_all[t, k]), float(self.corr_all[t, k])

    def cascade_level(self, t: int) -> str:
        return level_of(float(self.cascade_score[t]))


def position_series(close: FloatArray, target: int, params: CorrelationParams,
                    cascade_score: FloatArray | None = None) -> PositionSeries:
    """Hedge choice, β (fast window and EWMA), correlations, pair regime and cascade score
    at every bar. ``cascade_score`` can be passed in when several positions share a market
    (and should be: ``core.cascade_series.snapshot_cascade_series`` scores every bar as the
    live cycle does; from closes alone the range and volume factors are left out)."""
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
                          np.asarray(cascade_score, dtype=np.float64), tuple(others),
                          fast.beta, fast.corr)
