"""Log returns on the common grid and the annualisation factor for 24/7 markets.

A return is only as good as both bars it spans: if either close is missing (NaN) the return
is NaN, so a gap can never masquerade as a zero move (which would drag correlations to 0 and
read as "no hedge needed").
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np

from core.types import FloatArray

MS_PER_YEAR_24_7 = 365 * 24 * 60 * 60 * 1000
"""Crypto perps trade every minute of the year, so a year is 365 full days of bars."""


def bars_per_year(timeframe_ms: int) -> float:
    """Bars in a 24/7 year: 35,040 for 15-minute bars, 8,760 for hourly ones.

    Parameters
    ----------
    timeframe_ms : int
        Bar length in milliseconds.
    """
    if timeframe_ms <= 0:
        raise ValueError(f"timeframe_ms must be positive, got {timeframe_ms}")
    return MS_PER_YEAR_24_7 / timeframe_ms


_Vol = TypeVar("_Vol", FloatArray, float)


def annualise(per_bar_vol: _Vol, timeframe_ms: int) -> _Vol:
    """Scale a per-bar volatility to a yearly one by the square root of time."""
    return per_bar_vol * math.sqrt(bars_per_year(timeframe_ms))


def as_2d(a: FloatArray) -> FloatArray:
    """Normalise input at the boundary: float64, C-contiguous, shape (T, N)."""
    arr = np.ascontiguousarray(a, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"expected a (T, N) array, got shape {arr.shape}")
    return arr


def log_returns(close: FloatArray) -> FloatArray:
    """Log returns of closes on the common grid, shape (T, N) like the input.

    Row 0 is all NaN so that row ``t`` of the returns is the move into bar ``t`` and the two
    arrays stay aligned. Non-positive or missing closes give NaN returns on both sides.

    Parameters
    ----------
    close : FloatArray
        (T, N) closes, NaN where a bar is missing.
    """
    c = as_2d(close)
    valid = c > 0
    if valid.all():  # every close present: no masks needed
        lc = np.log(c)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            lc = np.where(valid, np.log(np.where(valid, c, 1.0)), np.nan)
    out = np.empty_like(lc)
    out[:1] = np.nan
    np.subtract(lc[1:], lc[:-1], out=out[1:])
    return out
