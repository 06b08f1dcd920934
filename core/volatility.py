"""Realised and EWMA volatility of log returns, per bar and annualised.

Conventions match pandas so every number can be checked against an independent reference:
``rolling_vol`` is ``DataFrame.rolling(W, min_periods=m).std()`` (ddof=1 over the valid
returns among the last W), ``ewma_vol`` is ``ewm(halflife=h, adjust=False).std()``
(bias-corrected, NaN-aware the way pandas is; see :mod:`core.correlation`).
"""

from __future__ import annotations

import numpy as np

from core.correlation import ewma_weights
from core.returns import as_2d
from core.types import FloatArray


def _window_sums(a: FloatArray, window: int) -> FloatArray:
    """Sums over the last ``window`` rows for every row (fewer at the start)."""
    c = np.cumsum(a, axis=0)
    out = c.copy()
    out[window:] -= c[:-window]
    return out


def rolling_vol(returns: FloatArray, window: int, min_periods: int) -> FloatArray:
    """Per-bar realised volatility for every bar, shape (T, N).

    Each value is the sample standard deviation (ddof=1) of the valid returns among the last
    ``window`` rows; NaN when fewer than ``max(min_periods, 2)`` are valid. Data are centred
    per column before the cumulative sums so the sum-of-squares formula does not cancel.
    """
    r = as_2d(returns)
    ok = np.isfinite(r)
    with np.errstate(invalid="ignore"):
        centre = np.where(ok.any(axis=0), np.nanmean(np.where(ok, r, np.nan), axis=0), 0.0)
    x = np.where(ok, r - centre, 0.0)
    n = _window_sums(ok.astype(np.float64), window)
    s = _window_sums(x, window)
    ss = _window_sums(x * x, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (ss - s * s / n) / (n - 1)
    var = np.maximum(var, 0.0)
    var[n < max(min_periods, 2)] = np.nan
    return np.sqrt(var)


def realised_vol(returns: FloatArray, window: int, min_periods: int) -> FloatArray:
    """Per-bar realised volatility over the last ``window`` returns, shape (N,)."""
    r = as_2d(returns)[-window:]
    ok = np.isfinite(r)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if ok.all():  # no gaps: the same sums without the masks
            d = r - r.sum(axis=0) / n
        else:
            d = np.where(ok, r - np.where(ok, r, 0.0).sum(axis=0) / n, 0.0)
        var: FloatArray = (d * d).sum(axis=0) / (n - 1)
    var[n < max(min_periods, 2)] = np.nan
    return np.sqrt(var)


def ewma_vol(returns: FloatArray, halflife: float, min_periods: int = 0) -> FloatArray:
    """EWMA volatility at the last bar, shape (N,): pandas ``ewm(adjust=False).std()``.

    Uses the closed-form weights of the adjust=False recursion (see
    :func:`core.correlation.ewma_weights`), shared by columns with the same missing-data
    pattern, and pandas' unbiasing factor ``1 / (1 - sum(w**2))``, so one return alone
    gives NaN rather than a fake 0.
    """
    r = as_2d(returns)
    ok = np.isfinite(r)
    out = np.full(r.shape[1], np.nan)
    patterns: dict[bytes, list[int]] = {}
    for j in range(r.shape[1]):
        patterns.setdefault(ok[:, j].tobytes(), []).append(j)
    for cols in patterns.values():
        rows = ok[:, cols[0]]
        if rows.sum() < max(min_periods, 1):
            continue
        w = ewma_weights(rows, halflife)
        x = r[rows][:, cols]
        wr = w[rows]
        d = x - wr @ x
        var = wr @ (d * d)
        denom = 1.0 - wr @ wr
        if denom > 0:
            out[cols] = np.sqrt(np.maximum(var, 0.0) / denom)
    return out


def vol_ratio(fast: FloatArray, slow: FloatArray) -> FloatArray:
    """Fast over slow volatility: above 1 means the market is moving more than usual."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(slow > 0, fast / slow, np.nan)
