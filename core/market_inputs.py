"""The cascade score's evidence inputs from a snapshot's stored samples: book depth, open
interest, liquidations, taker selling, funding and the perp's discount to its mark price.

Each is read *as of* a moment from the samples stamped at or before it (a live cycle stamps
its samples with the close of the bar it belongs to, the one-minute watch with the
exchange's clock), so a replay of stored samples gives the live numbers. A sample older
than its freshness limit no longer counts as "now", and a source without the input gives
NaN, so the score leaves the factor out instead of guessing. Market-wide numbers are
weighted by notional (book depth, open interest, liquidations in USDT): the majors, which
the one-minute watch samples, weigh most, as they do in a cascade.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Sized

import numpy as np

from core.types import DepthSeries, FloatArray, IntArray, MarketSnapshot, StatSeries

DEPTH_BAND = 1  # index into DEPTH_BANDS: ±1 % of mid
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
FRESH_MS = 30 * MINUTE_MS  # depth, open interest, liquidations, taker flow
FUNDING_FRESH_MS = 9 * HOUR_MS  # settled rates come every 8 h (some every 4 h or 1 h)
BASIS_FRESH_MS = 75 * MINUTE_MS  # hourly mark candles, read on a 15-minute bar
FLOW_INPUTS = ("depth_drop", "oi_drop", "liq_ratio", "taker_sell", "funding_abs", "basis")


def _window(times: IntArray, now_ms: int, span_ms: int, fresh_ms: int) -> tuple[int, int]:
    """``lo:hi`` of the samples in ``(now − span, now]``; empty when the latest one at or
    before ``now`` is older than ``fresh_ms``."""
    hi = int(np.searchsorted(times, now_ms, side="right"))
    if hi == 0 or int(times[hi - 1]) < now_ms - fresh_ms:
        return 0, 0
    return int(np.searchsorted(times, now_ms - span_ms, side="right")), hi


def _nanmedian(v: FloatArray) -> float:
    """``np.nanmedian`` of a short 1-D array (NaN when empty), without its generic-axis
    machinery: called per symbol, series and bar, that overhead was most of the cost. Same
    middle values and the same ``(a + b) / 2``, so the same number."""
    v = v[~np.isnan(v)]
    h = v.size // 2
    if v.size == 0:
        return float("nan")
    if v.size % 2:
        return float(np.partition(v, h)[h])
    v = np.partition(v, (h - 1, h))
    return float((v[h - 1] + v[h]) / 2)


def depth_drop(depth: Mapping[str, DepthSeries], now_ms: int,
               symbols: Sequence[str] | None = None, span_ms: int = DAY_MS,
               min_points: int = 5, fresh_ms: int = FRESH_MS) -> float:
    """How far the books have thinned: 1 − Σ depth now / Σ its median over ``span_ms``
    (±1 % of mid, summed over the symbols with a fresh sample and enough history)."""
    now_total = med_total = 0.0
    for sym, s in depth.items():
        if symbols is not None and sym not in symbols:
            continue
        lo, hi = _window(s.times, now_ms, span_ms, fresh_ms)
        total = s.bid[lo:hi, DEPTH_BAND] + s.ask[lo:hi, DEPTH_BAND]
        if total.size < min_points or not np.isfinite(total[-1]):
            continue
        med = _nanmedian(total)
        if med > 0:
            now_total += float(total[-1])
            med_total += med
    return 1.0 - now_total / med_total if med_total > 0 else float("nan")


def oi_drop(open_interest: Mapping[str, StatSeries], now_ms: int, span_ms: int = 4 * HOUR_MS,
            min_points: int = 3, fresh_ms: int = FRESH_MS) -> float:
    """Notional-weighted drop of open interest from its high over the last ``span_ms`` (four
    hours: a cascade closes positions within hours, and a day-long window would keep
    reporting the drop for a day after it is over)."""
    now_total = high_total = 0.0
    for s in open_interest.values():
        lo, hi = _window(s.times, now_ms, span_ms, fresh_ms)
        v = s.values[lo:hi]
        if v.size < min_points or not np.isfinite(v[-1]):
            continue
        now_total += float(v[-1])
        high_total += float(np.nanmax(v))
    return 1.0 - now_total / high_total if high_total > 0 else float("nan")


def liquidation_ratio(liquidations: Mapping[str, StatSeries], now_ms: int,
                      span_ms: int = 7 * DAY_MS, min_points: int = 10,
                      fresh_ms: int = FRESH_MS) -> float:
    """Liquidated notional in the latest sample's window over its median (all symbols
    summed); each sample holds what was liquidated in the bar before it."""
    latest = med = 0.0
    seen = False
    for s in liquidations.values():
        lo, hi = _window(s.times, now_ms, span_ms, fresh_ms)
        v = s.values[lo:hi]
        if v.size < min_points or not np.isfinite(v[-1]):
            continue
        seen = True
        latest += float(v[-1])
        med += _nanmedian(v)
    if not seen:
        return float("nan")
    return latest / med if med > 0 else (float("inf") if latest > 0 else 1.0)


def taker_sell(taker: Mapping[str, StatSeries], now_ms: int, fresh_ms: int = FRESH_MS
               ) -> float:
    """Share of taker volume that sold in the latest window, averaged over the symbols."""
    shares = []
    for s in taker.values():
        lo, hi = _window(s.times, now_ms, fresh_ms, fresh_ms)
        if hi > lo and np.isfinite(s.values[hi - 1]):
            shares.append(float(s.values[hi - 1]))
    return float(np.mean(shares)) if shares else float("nan")


def funding_abs(funding: Mapping[str, StatSeries], now_ms: int | None = None,
                fresh_ms: int = FUNDING_FRESH_MS) -> float:
    """The most extreme latest funding rate across symbols (absolute, per period); with
    ``now_ms`` None, the latest of each series whatever its age."""
    last = []
    for s in funding.values():
        if now_ms is None:
            v = s.last
        else:
            lo, hi = _window(s.times, now_ms, fresh_ms, fresh_ms)
            v = float(s.values[hi - 1]) if hi > lo else float("nan")
        if np.isfinite(v):
            last.append(abs(v))
    return max(last) if last else float("nan")


def basis_discount(basis: Mapping[str, StatSeries], now_ms: int,
                   fresh_ms: int = BASIS_FRESH_MS) -> float:
    """How far perps trade under their mark price: −median over symbols of the latest
    ``last / mark − 1`` (positive when forced selling pushes trades below mark)."""
    latest = []
    for s in basis.values():
        lo, hi = _window(s.times, now_ms, fresh_ms, fresh_ms)
        if hi > lo and np.isfinite(s.values[hi - 1]):
            latest.append(float(s.values[hi - 1]))
    return -float(np.median(latest)) if latest else float("nan")


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


def flow_inputs(snap: MarketSnapshot, now_ms: int | None = None) -> dict[str, float]:
    """The evidence inputs as of ``now_ms`` (default ``snap.as_of_ms``); the candle ones are
    in :mod:`core.cascade_series`."""
    now = snap.as_of_ms if now_ms is None else int(now_ms)
    return {
        "depth_drop": depth_drop(snap.depth, now),
        "oi_drop": oi_drop(snap.open_interest, now),
        "liq_ratio": liquidation_ratio(snap.liquidations, now),
        "taker_sell": taker_sell(snap.taker, now),
        "funding_abs": funding_abs(snap.funding, now),
        "basis": basis_discount(snap.basis, now),
    }


def flow_input_series(snap: MarketSnapshot, times_ms: IntArray) -> dict[str, FloatArray]:
    """``flow_inputs`` at each of ``times_ms``: the same function, so the same numbers. An
    input the snapshot has no samples of at all is left out (not a column of NaN)."""
    sources: dict[str, Mapping[str, Sized]] = {
        "depth_drop": snap.depth, "oi_drop": snap.open_interest,
               "liq_ratio": snap.liquidations, "taker_sell": snap.taker,
               "funding_abs": snap.funding, "basis": snap.basis}
    have = [k for k, m in sources.items() if any(len(s) for s in m.values())]
    out = {k: np.full(len(times_ms), np.nan) for k in have}
    if not have:
        return out
    for i, t in enumerate(np.asarray(times_ms, dtype=np.int64).tolist()):
        row = flow_inputs(snap, t)
        for k in have:
            out[k][i] = row[k]
    return out
