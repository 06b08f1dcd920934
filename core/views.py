"""The live correlation picture for one bar: fast vs slow vs EWMA, vols, market index.

``correlation_view(close, params)`` is the one entry point the engine and the ``/corr``
command use; ``largest_changes`` lists the pairs whose real-time (fast) correlation moved
most away from the 30-day one, which is what a trader in a cascade needs to see first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from core.correlation import ewma_from_state, ewma_state, window_moments
from core.regimes import rolling_zscore
from core.returns import annualise, as_2d, log_returns
from core.rolling import market_index_series
from core.types import FloatArray
from core.volatility import realised_vol, vol_ratio


@dataclass(frozen=True)
class CorrelationParams:
    """Engine settings in bars and counts (the lead builds this from ``engine`` config).

    Defaults are the config defaults at 15-minute bars: fast 1 day, slow 30 days, EWMA
    half-life 6 hours, 80 % of a window present, regime thresholds and 1 hour in regime.
    """

    fast: int = 96
    slow: int = 2880
    halflife: float = 24.0
    min_fast: int = 77  # ceil(0.8 * 96)
    min_slow: int = 2304  # ceil(0.8 * 2880)
    min_ewma: int = 77  # pairwise rows seen before the EWMA matrix is trusted
    high_corr: float = 0.7
    low_corr: float = 0.3
    hysteresis: float = 0.05
    min_regime_bars: int = 4
    regime_z: float = 2.0
    z_hysteresis: float = 0.5
    timeframe_ms: int = 900_000

    def __post_init__(self) -> None:
        if not 2 <= self.fast <= self.slow:
            raise ValueError(f"need 2 <= fast <= slow, got fast={self.fast} slow={self.slow}")
        if self.halflife <= 0:
            raise ValueError(f"halflife must be positive, got {self.halflife}")


@dataclass(frozen=True, eq=False)
class CorrelationView:
    """Everything ``/corr`` and the engine need at the latest bar. Matrices are (N, N),
    vols (N,), per bar unless the name ends in ``_ann``."""

    fast_corr: FloatArray
    slow_corr: FloatArray
    ewma_corr: FloatArray
    fast_cov: FloatArray
    slow_cov: FloatArray
    ewma_cov: FloatArray
    n_fast: FloatArray  # rows per pair in the fast window
    n_slow: FloatArray
    vol_fast: FloatArray
    vol_slow: FloatArray
    vol_ewma: FloatArray
    vol_fast_ann: FloatArray
    vol_slow_ann: FloatArray
    vol_ewma_ann: FloatArray
    vol_ratio: FloatArray  # fast / slow: > 1 means moving more than usual
    market_index: float  # mean pairwise fast correlation now
    market_index_slow: float  # the same over the slow window, for context
    market_z: float  # market index vs its own slow-window history (NaN if not computed)


def mean_pairwise(corr: FloatArray) -> float:
    """Mean of the available off-diagonal correlations (NaN when there are none)."""
    iu = np.triu_indices(corr.shape[0], k=1)
    v = corr[iu]
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else math.nan


def correlation_view(close: FloatArray, params: CorrelationParams,
                     with_z: bool = True, *, returns: FloatArray | None = None
                     ) -> CorrelationView:
    """Build the live view from (T, N) closes (NaN where a bar is missing).

    Windows use the last ``fast``/``slow`` log returns; the EWMA runs over all T rows
    (give at least ~10 half-lives). ``with_z`` also computes the market index over the last
    ``slow`` bars to z-score the current one: about 2x the cost of the matrices at N = 100,
    so callers that keep their own index history can skip it. ``returns`` are
    ``log_returns(close)`` when the caller has them already (the engine does).
    """
    p = params
    r = log_returns(as_2d(close)) if returns is None else as_2d(returns)
    fast_cov, fast_corr, n_fast = window_moments(r, p.fast, p.min_fast)
    slow_cov, slow_corr, n_slow = window_moments(r, p.slow, p.min_slow)
    ewma_cov, ewma_corr = ewma_from_state(ewma_state(r, p.halflife), p.min_ewma)
    vf = realised_vol(r, p.fast, p.min_fast)
    vs = realised_vol(r, p.slow, p.min_slow)
    ve = np.sqrt(np.maximum(np.diagonal(ewma_cov), 0.0))  # = ewma_vol(r, ...), computed once
    z = math.nan
    if with_z:
        tail = r[-(p.slow + p.fast):]
        idx, _ = market_index_series(tail, p.fast, p.min_fast)
        z = float(rolling_zscore(idx, p.slow, p.min_slow)[-1])
    return CorrelationView(
        fast_corr, slow_corr, ewma_corr, fast_cov, slow_cov, ewma_cov, n_fast, n_slow,
        vf, vs, ve, annualise(vf, p.timeframe_ms), annualise(vs, p.timeframe_ms),
        annualise(ve, p.timeframe_ms), vol_ratio(vf, vs), mean_pairwise(fast_corr),
        mean_pairwise(slow_corr), z)


class PairChange(NamedTuple):
    """One pair's fast vs slow correlation."""

    a: str
    b: str
    fast: float
    slow: float
    change: float  # fast - slow


def largest_changes(view: CorrelationView, symbols: tuple[str, ...] | list[str],
                    k: int = 5) -> list[PairChange]:
    """The k pairs whose fast correlation differs most from the slow one, largest first.

    Pairs with either value unavailable are left out rather than shown as a change.
    """
    n = len(symbols)
    if view.fast_corr.shape != (n, n):
        raise ValueError(f"{n} symbols for a {view.fast_corr.shape} matrix")
    iu, ju = np.triu_indices(n, k=1)
    f, s = view.fast_corr[iu, ju], view.slow_corr[iu, ju]
    ok = np.flatnonzero(np.isfinite(f) & np.isfinite(s))
    order = ok[np.argsort(-np.abs(f[ok] - s[ok]), kind="stable")][:k]
    return [PairChange(symbols[iu[q]], symbols[ju[q]], float(f[q]), float(s[q]),
                       float(f[q] - s[q])) for q in order]
