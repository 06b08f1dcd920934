"""Probability that the price *touches* a liquidation level within a horizon.

* **First passage** (reflection principle). Log price is modelled as Brownian motion with
  volatility σ per bar and optional drift μ per bar. For an adverse log distance d > 0 and a
  horizon of T bars, with ν = the drift *towards* the barrier (−μ for a long, +μ for a short)
  and s = σ√T,

      P(touch) = Φ((−d + νT)/s) + exp(2νd/σ²) · Φ((−d − νT)/s)

  which for ν = 0 is ``2·Φ(−d/s)``: twice the probability of merely *ending* beyond the
  barrier, because every path that ends beyond it crossed it, and reflecting a path at its
  first crossing maps paths ending on the safe side one-to-one onto those ending beyond.

This Gaussian is what the bot reported before the calibrated tail model (``core.tail_risk``)
and is still reported next to it (``touch_prob_*_gaussian``): it ranks risk well but puts
crypto's tails 10–100× too low (``docs/risk-calibration.md``).
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


def required_log_distance(target_prob: float, sigma_h: npt.ArrayLike,
                          drift_toward_h: npt.ArrayLike = 0.0) -> FloatArray:
    """Smallest log distance with touch probability ≤ ``target_prob`` over one horizon.

    Driftless: closed form z·σ_h with Φ(−z) = target/2. With drift: vectorised bisection
    on the first-passage formula (monotone decreasing in the distance).
    """
    s = _f(sigma_h)
    z = norm_isf(target_prob / 2.0)
    nu = _f(drift_toward_h)
    if not np.any(nu):
        return z * s
    s, nu = np.broadcast_arrays(s, nu)
    lo = np.zeros(s.shape)
    hi = np.maximum(z * s + np.abs(nu), 1e-12) * 2.0 + np.maximum(nu, 0.0) * 2.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        too_close = touch_probability(mid, s, 1.0, nu) > target_prob
        lo = np.where(too_close, mid, lo)
        hi = np.where(too_close, hi, mid)
    return np.where(np.isnan(s), np.nan, hi)
