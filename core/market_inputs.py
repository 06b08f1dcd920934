"""Cascade-score inputs from a snapshot's histories: depth, open interest, liquidations and
funding. Each returns NaN when the source does not provide it,
so the score leaves the factor out instead of guessing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from core.types import DepthSeries, FloatArray, MarketSnapshot, StatSeries

DEPTH_BAND = 1  # index into DEPTH_BANDS: ±1 % of mid
DAY_MS = 86_400_000


def _recent(s: StatSeries | DepthSeries, now_ms: int, span_ms: int) -> np.ndarray:
    return (s.times > now_ms - span_ms) & (s.times <= now_ms)


def _nanmedian(v: FloatArray) -> float:
    """``np.nanmedian`` of a short 1-D array (NaN when empty), without its generic-axis
    machinery: called once per symbol and series on every cycle, that overhead was most of
    the cost. Same middle values and the same ``(a + b) / 2``, so the same number."""
    v = v[~np.isnan(v)]
    h = v.size // 2
    if v.size == 0:
        return float("nan")
    if v.size % 2:
        return float(np.partition(v, h)[h])
    v = np.partition(v, (h - 1, h))
    return float((v[h - 1] + v[h]) / 2)


def depth_drop(depth: Mapping[str, DepthSeries], now_ms: int, symbols: Sequence[str] | None = None,
               span_ms: int = DAY_MS, min_points: int = 5) -> float:
    """Median over symbols of 1 − depth now / its median over the last ``span_ms``."""
    drops = []
    for sym, s in depth.items():
        if symbols is not None and sym not in symbols:
            continue
        keep = _recent(s, now_ms, span_ms)
        total = s.bid[:, DEPTH_BAND][keep] + s.ask[:, DEPTH_BAND][keep]
        if total.size < min_points or not np.isfinite(total[-1]):
            continue
        med = _nanmedian(total)
        if med > 0:
            drops.append(1.0 - float(total[-1]) / med)
    return float(np.median(drops)) if drops else float("nan")


def oi_drop(open_interest: Mapping[str, StatSeries], now_ms: int, span_ms: int = DAY_MS,
            min_points: int = 3) -> float:
    """Notional-weighted drop of open interest from its high over the last ``span_ms``."""
    now_total = high_total = 0.0
    for s in open_interest.values():
        keep = _recent(s, now_ms, span_ms)
        v = s.values[keep]
        v = v[np.isfinite(v)]
        if v.size < min_points:
            continue
        now_total += float(v[-1])
        high_total += float(v.max())
    return 1.0 - now_total / high_total if high_total > 0 else float("nan")


def liquidation_ratio(liquidations: Mapping[str, StatSeries], now_ms: int,
                      span_ms: int = 7 * DAY_MS, min_points: int = 10) -> float:
    """Latest liquidation volume over its median (all symbols summed per timestamp)."""
    latest = med = 0.0
    seen = False
    for s in liquidations.values():
        keep = _recent(s, now_ms, span_ms)
        v = s.values[keep]
        if v.size < min_points or not np.isfinite(v[-1]):
            continue
        seen = True
        latest += float(v[-1])
        med += _nanmedian(v)
    if not seen:
        return float("nan")
    return latest / med if med > 0 else (float("inf") if latest > 0 else 1.0)


def funding_abs(funding: Mapping[str, StatSeries]) -> float:
    """The most extreme latest funding rate across symbols (absolute, per period)."""
    last = [abs(s.last) for s in funding.values() if len(s) and np.isfinite(s.last)]
    return max(last) if last else float("nan")


def funding_per_day(funding: Mapping[str, StatSeries], interval_hours: float = 8.0
                    ) -> dict[str, float]:
    """Latest funding rate per symbol scaled to a day (positive: longs pay shorts)."""
    return {k: s.last * 24.0 / interval_hours for k, s in funding.items()
            if len(s) and np.isfinite(s.last)}


def latest_depth(depth: Mapping[str, DepthSeries]) -> dict[str, float]:
    """Latest total depth within ±1 % of mid per symbol, USDT."""
    return {k: float(s.bid[-1, DEPTH_BAND] + s.ask[-1, DEPTH_BAND]) for k, s in depth.items()
            if len(s)}


def market_returns(returns: FloatArray) -> FloatArray:
    """Equal-weight market return per bar (mean of the available symbols), NaN if none."""
    ok = np.isfinite(returns)
    cnt = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, np.where(ok, returns, 0.0).sum(axis=1) / cnt, np.nan)


def snapshot_inputs(snap: MarketSnapshot) -> dict[str, float]:
    """The cascade inputs from the snapshot's histories (the candle ones are in
    :mod:`core.cascade_series`)."""
    now = snap.server_time_ms
    return {
        "depth_drop": depth_drop(snap.depth, now),
        "oi_drop": oi_drop(snap.open_interest, now),
        "liq_ratio": liquidation_ratio(snap.liquidations, now),
        "funding_abs": funding_abs(snap.funding),
    }
