"""Small hand-made markets and strategies for the backtest tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from core.types import Instrument, MarketSnapshot, StatSeries, Tier
from plugins.strategies.base import BarView, Decision, Strategy, TargetLeg

T0 = 1_704_092_400_000  # 2024-01-01 07:00 UTC
TF = 900_000
OKX_TIERS = (Tier(1, 0.0, 1e9, 0.004, 100.0, unit="contracts"),)


def flat_market(prices: Mapping[str, float], bars: int, *, low: Mapping[int, float] | None = None,
                high: Mapping[int, float] | None = None, volume: float = 1e9,
                funding: Mapping[str, StatSeries] | None = None, t0: int = T0,
                tiers: Sequence[Tier] = OKX_TIERS) -> MarketSnapshot:
    """Constant prices per symbol; ``low``/``high`` override the first symbol's range at
    given bars."""
    syms = [f"{s}-USDT-SWAP" for s in prices]
    px = np.array([[prices[s] for s in prices]] * bars, dtype=float)
    lo, hi = px.copy(), px.copy()
    for t, v in (low or {}).items():
        lo[t, 0] = v
    for t, v in (high or {}).items():
        hi[t, 0] = v
    insts = {s: Instrument(s, s.split("-")[0], contract_value=1.0, tiers=tuple(tiers))
             for s in syms}
    return MarketSnapshot.build(
        source="test", timeframe_ms=TF, symbols=syms, times=t0 + TF * np.arange(bars),
        open=px, high=np.maximum(hi, px), low=np.minimum(lo, px), close=px,
        volume=np.full(px.shape, volume), server_time_ms=t0 + TF * bars, instruments=insts,
        funding={f"{k}-USDT-SWAP": v for k, v in (funding or {}).items()})


class FixedHedge(Strategy):
    """Always holds the same legs (a static hedge that needs no statistics)."""

    name = "fixed"
    legs: tuple[TargetLeg, ...] = ()

    def __init__(self, legs: Sequence[TargetLeg]) -> None:
        super().__init__()
        self.legs = tuple(legs)

    def decide(self, bar: BarView, state: Mapping[str, Any] | None) -> Decision:
        return Decision(self.legs, "fixed legs")


def path_market(closes: Mapping[str, Sequence[float]], *,
                lows: Mapping[str, Mapping[int, float]] | None = None,
                highs: Mapping[str, Mapping[int, float]] | None = None,
                t0: int = T0 + 2 * 3_600_000, tiers: Sequence[Tier] = OKX_TIERS
                ) -> MarketSnapshot:
    """Bars whose open is the previous close (the first opens at its close), high/low the
    larger/smaller of open and close unless overridden per symbol and bar."""
    syms = [f"{s}-USDT-SWAP" for s in closes]
    close = np.array([list(closes[s]) for s in closes], dtype=float).T
    opens = np.vstack([close[:1], close[:-1]])
    hi, lo = np.maximum(opens, close), np.minimum(opens, close)
    for j, s in enumerate(closes):
        for t, v in ((lows or {}).get(s) or {}).items():
            lo[t, j] = v
        for t, v in ((highs or {}).get(s) or {}).items():
            hi[t, j] = v
    bars = close.shape[0]
    insts = {s: Instrument(s, s.split("-")[0], contract_value=1.0, tiers=tuple(tiers))
             for s in syms}
    return MarketSnapshot.build(
        source="test", timeframe_ms=TF, symbols=syms, times=t0 + TF * np.arange(bars),
        open=opens, high=hi, low=lo, close=close, volume=np.full(close.shape, 1e9),
        server_time_ms=t0 + TF * bars, instruments=insts)
