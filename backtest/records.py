"""What a start's accounts share and what they leave behind: the context every book of one
start reads, the trades and liquidations it records, and the holdings rebuilt from them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from backtest.prepared import Prepared
from core.types import FloatArray, Position
from plugins.manager import PluginManager


@dataclass(frozen=True)
class Trade:
    t: int  # bar index of the fill
    symbol: str
    delta: float  # signed base units bought (+) or sold (−)
    price: float
    fee: float
    slippage: float
    reason: str


@dataclass(frozen=True)
class LiquidationEvent:
    t: int
    symbol: str  # "account" for a cross account
    side: str
    price: float  # an isolated leg's liquidation price; NaN for an account
    margin_lost: float  # what the trader lost at that bar (the leg's margin, the equity)
    main: bool  # the main position (or the whole account) went


@dataclass(eq=False)
class Context:
    """What every book of one start shares."""

    m: Prepared
    start: int
    stop: int
    cross: bool
    capital: float
    leverage: float
    hedge_leverage: float
    threshold: float
    reentry: int | None  # bars after a liquidation, or None
    keep: bool  # keep trades, decisions and holdings for reports
    pm: PluginManager | None = None
    positions: dict[int, Position] = field(default_factory=dict)
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {s: j for j, s in enumerate(self.m.snap.symbols)}

    def position_at(self, t: int) -> Position:
        """The main position opened at bar ``t``'s open, one object for every book."""
        p = self.positions.get(t)
        if p is None:
            m = self.m
            j = m.target
            entry = float(m.snap.open[t, j])
            size = self.capital * self.leverage / entry
            p = Position(m.snap.symbols[j], m.book.side, size, entry, self.leverage,
                         margin=self.capital)
            self.positions[t] = p
        return p


def holdings(bars: int, n: int, events: list[tuple[int, int, float]]
             ) -> tuple[FloatArray, FloatArray]:
    """Net sizes held over each bar (after its open's fills) and after its close."""
    seq = np.full((2 * bars, n), np.nan)
    for k, j, v in events:
        seq[k, j] = v
    ok = np.isfinite(seq)
    idx = np.where(ok, np.arange(2 * bars)[:, None], -1)
    np.maximum.accumulate(idx, axis=0, out=idx)
    out = np.where(idx >= 0, seq[np.maximum(idx, 0), np.arange(n)], 0.0)
    return out[0::2], out[1::2]
