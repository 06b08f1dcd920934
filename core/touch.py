"""Probability that the price *touches* a liquidation level within a horizon.

Two estimates:

* **First passage** (reflection principle). Log price is modelled as Brownian motion with
  volatility σ per bar and optional drift μ per bar. For an adverse log distance d > 0 and a
  horizon of T bars, with ν = the drift *towards* the barrier (−μ for a long, +μ for a short)
  and s = σ√T,

      P(touch) = Φ((−d + νT)/s) + exp(2νd/σ²) · Φ((−d − νT)/s)

  which for ν = 0 is ``2·Φ(−d/s)``: twice the probability of merely *ending* beyond the
  barrier, because every path that ends beyond it crossed it, and reflecting a path at its
  first crossing maps paths ending on the safe side one-to-one onto those ending beyond.

* **Empirical** (fat tails). From a symbol's own history: for every start bar in the lookback,
  the maximum adverse log excursion within the horizon (using bar lows for a long and highs
  for a short when given, else closes). Excursions are rescaled by σ_now / σ_hist, the ratio of
  current to the lookback's volatility, and the estimate is the fraction of windows whose
  rescaled excursion reaches the distance. Windows overlap, so the sample is far from
  independent: treat it as a shape check on the tails, not as a precise number.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from core.types import FloatArray
from core.types import as_floats as _f

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def norm_sf(x: npt.ArrayLike) -> FloatArray:
    """Standard normal upper tail Φ(−x) = 1 − Φ(x), accurate far into the tail.

    ``math.erfc`` mapped over a list of floats: numpy has no erfc, and this is about twice
    as fast as ``np.frompyfunc`` over an object array, with the same numbers.
    """
    x = _f(x) / _SQRT2
    out = np.fromiter(map(math.erfc, x.ravel().tolist()), dtype=np.float64, count=x.size)
    out *= 0.5
    return out.reshape(x.shape)


def norm_cdf(x: npt.ArrayLike) -> FloatArray:
    """Standard normal CDF Φ(x)."""
    return norm_sf(-_f(x))


def log_norm_sf(x: npt.ArrayLike) -> FloatArray:
    """log Φ(−x); an asymptotic series beyond x = 25, where erfc underflows."""
    x = _f(x)
    far = x > 25.0
    xs = np.where(far, 0.0, x)
    with np.errstate(divide="ignore"):
        near = np.log(norm_sf(xs))
    xf = np.where(far, x, 26.0)
    asym = -0.5 * xf * xf - np.log(xf) - _LOG_SQRT_2PI + np.log1p(-1 / xf**2 + 3 / xf**4)
    return np.where(far, asym, near)


@lru_cache(maxsize=256)
def norm_isf(p: float) -> float:
    """z with Φ(−z) = p (inverse upper tail), by bisection on erfc; p in (0, 1)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"probability must be in (0, 1), not {p!r}")
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if 0.5 * math.erfc(mid / _SQRT2) > p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-15:
            break
    return 0.5 * (lo + hi)


def touch_probability(distance: npt.ArrayLike, sigma_per_bar: npt.ArrayLike,
                      bars: npt.ArrayLike, drift_toward: npt.ArrayLike = 0.0) -> FloatArray:
    """First-passage probability of a Brownian log price reaching an adverse log distance.

    ``distance`` is |ln(liq / mark)| (> 0 while on the safe side; ≤ 0 gives 1.0),
    ``sigma_per_bar`` the σ of log returns per bar, ``bars`` the horizon in bars and
    ``drift_toward`` the log drift per bar in the direction of the barrier (see module
    docstring for the sign). NaN where σ is NaN; a zero σ gives 0 or 1 by the drift.
    """
    d, sig, t, nu = np.broadcast_arrays(_f(distance), _f(sigma_per_bar), _f(bars),
                                        _f(drift_toward))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = sig * np.sqrt(t)
        z1 = (d - nu * t) / s
        z2 = (d + nu * t) / s
        if not np.any(nu):
            p = 2.0 * norm_sf(np.where(np.isfinite(z1), z1, 0.0))
        else:
            first = norm_sf(np.where(np.isfinite(z1), z1, 0.0))
            log2 = 2.0 * nu * d / (sig * sig) + log_norm_sf(np.where(np.isfinite(z2), z2, 0.0))
            p = first + np.exp(np.minimum(log2, 0.0))
        p = np.where(np.isfinite(z1), p, np.where(d - nu * t > 0, 0.0, 1.0))
    p = np.clip(p, 0.0, 1.0)
    p = np.where(d <= 0, 1.0, p)
    return np.where(np.isnan(sig) | np.isnan(d), np.nan, p)


def terminal_probability(distance: npt.ArrayLike, sigma_per_bar: npt.ArrayLike,
                         bars: npt.ArrayLike) -> FloatArray:
    """Probability of merely *ending* the horizon beyond the barrier (driftless): Φ(−d/s)."""
    return norm_sf(_f(distance) / (_f(sigma_per_bar) * np.sqrt(_f(bars))))


def required_distance(target_prob: float, sigma_per_bar: npt.ArrayLike,
                      bars: npt.ArrayLike) -> FloatArray:
    """Smallest log distance whose driftless touch probability is ≤ ``target_prob``."""
    return norm_isf(target_prob / 2.0) * _f(sigma_per_bar) * np.sqrt(_f(bars))


# --------------------------------------------------------------------------- empirical


def adverse_excursions(closes: npt.ArrayLike, horizon: int, sign: int, *,
                       lows: npt.ArrayLike | None = None,
                       highs: npt.ArrayLike | None = None) -> FloatArray:
    """Maximum adverse log excursion within ``horizon`` bars after each start bar.

    A position opened at ``closes[t]`` is followed over bars t+1 … t+horizon; for a long the
    excursion is ln close[t] − min ln low, for a short max ln high − ln close[t] (closes
    stand in for missing lows/highs). Returns one value per full window (T − horizon), NaN
    windows dropped. Non-positive values mean the price never went against the position.
    """
    c = _f(closes)
    extremes = lows if sign > 0 else highs
    path = _f(extremes) if extremes is not None else c
    if horizon < 1 or c.size <= horizon:
        return np.zeros(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lc, lp = np.log(c), np.log(path)
    win = np.lib.stride_tricks.sliding_window_view(lp[1:], horizon)
    start = lc[: win.shape[0]]
    exc: FloatArray = start - win.min(axis=1) if sign > 0 else win.max(axis=1) - start
    return exc[np.isfinite(exc)]


def empirical_touch_probability(distance: npt.ArrayLike, excursions: npt.ArrayLike,
                                scale: float = 1.0) -> FloatArray:
    """Fraction of (rescaled) excursions reaching each distance; NaN without excursions."""
    d = _f(distance)
    exc = np.sort(_f(excursions) * scale)
    if exc.size == 0 or not np.isfinite(scale):
        return np.full(d.shape, np.nan)
    below = np.searchsorted(exc, d, side="left")  # excursions strictly short of d
    p = (exc.size - below) / exc.size
    return np.where(d <= 0, 1.0, np.where(np.isnan(d), np.nan, p))


def empirical_touch(distance: npt.ArrayLike, closes: npt.ArrayLike, horizon: int, sign: int,
                    sigma_now: float, *, lows: npt.ArrayLike | None = None,
                    highs: npt.ArrayLike | None = None, min_windows: int = 50) -> FloatArray:
    """Empirical touch probability from a lookback of closes, scaled to current volatility.

    σ_hist is the standard deviation of the lookback's log close-to-close returns. NaN when
    there are fewer than ``min_windows`` windows or no usable volatility.
    """
    c = _f(closes)
    exc = adverse_excursions(c, horizon, sign, lows=lows, highs=highs)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(np.log(c))
    r = r[np.isfinite(r)]
    if exc.size < min_windows or r.size < 2:
        return np.full(np.shape(distance), np.nan)
    sigma_hist = float(np.std(r, ddof=1))
    if not (sigma_hist > 0 and np.isfinite(sigma_now)):
        return np.full(np.shape(distance), np.nan)
    return empirical_touch_probability(distance, exc, sigma_now / sigma_hist)
