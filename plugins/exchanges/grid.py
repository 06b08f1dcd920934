"""Put per-symbol candles on one common time grid: the step every source shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from core.types import MarketSnapshot
from plugins.exchanges.source import Candles


def align(per_symbol: Mapping[str, Candles], timeframe_ms: int, *, bars: int,
          end_ms: int | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A regular grid of ``bars`` open times ending at the latest bar (or before ``end_ms``),
    and each OHLCV field as a (T, N) array with NaN where a symbol has no bar."""
    latest = max((int(c.times[-1]) for c in per_symbol.values() if len(c)), default=None)
    if end_ms is not None:
        last_open = (end_ms // timeframe_ms) * timeframe_ms - timeframe_ms
        latest = last_open if latest is None else min(latest, last_open)
    if latest is None:
        return np.zeros(0, np.int64), {f: np.zeros((0, len(per_symbol))) for f in
                                       ("open", "high", "low", "close", "volume")}
    times = latest - timeframe_ms * np.arange(bars - 1, -1, -1, dtype=np.int64)
    out = {f: np.full((bars, len(per_symbol)), np.nan) for f in
           ("open", "high", "low", "close", "volume")}
    for j, c in enumerate(per_symbol.values()):
        if not len(c):
            continue
        idx = np.searchsorted(times, c.times)
        ok = (idx < bars) & (times[np.minimum(idx, bars - 1)] == c.times)
        for f in out:
            out[f][idx[ok], j] = getattr(c, f)[ok]
    return times, out


def build_snapshot(per_symbol: Mapping[str, Candles], *, source: str, timeframe_ms: int,
                   bars: int, server_time_ms: int, end_ms: int | None = None,
                   **extra: Any) -> MarketSnapshot:
    """``MarketSnapshot.build`` from per-symbol candles; ``extra`` passes histories through."""
    times, f = align(per_symbol, timeframe_ms, bars=bars, end_ms=end_ms)
    return MarketSnapshot.build(
        source=source, timeframe_ms=timeframe_ms, symbols=list(per_symbol), times=times,
        open=f["open"], high=f["high"], low=f["low"], close=f["close"], volume=f["volume"],
        server_time_ms=server_time_ms, **extra,
    )
