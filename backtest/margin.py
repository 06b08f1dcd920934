"""Margins of the backtest's legs: isolated liquidation prices, maintenance and initial
margin for a cross account, and the ranges liquidation is checked on.

**Isolated legs.**

A leg's liquidation price is fixed while the leg is unchanged (isolated margin, fixed size,
fees and funding paid from the account balance rather than the leg's margin), so it is
computed once when the leg is opened or resized and then compared with every bar's range:
a long is liquidated in the first bar whose low is at or below it, a short in the first bar
whose high is at or above it. The price comes from the instrument's tiers exactly as the
live risk report computes it: OKX's isolated formula with the tier's mmr and the taker fee
for contract tiers, Binance's bracket formula for notional tiers, and ``DEFAULT_MMR`` on
OKX's formula when the instrument has no tiers.

**Cross account.** The account's maintenance margin is the sum over its positions (net per
symbol) of each one's maintenance at a price, with the same tier conventions the isolated
formulas use, so a cross account holding one position liquidates exactly where an isolated
position with the whole collateral as margin would: OKX ``|n| · P · (mmr + fee)`` with the
tier chosen by size in contracts (``DEFAULT_MMR`` without tiers), Binance
``|n| · P · mmr − cum`` with the bracket chosen by the notional at that price.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.liquidation import DEFAULT_MMR, crossed, first_crossing, liquidation
from core.types import FloatArray, Instrument, MarketSnapshot, Position


def leg_liquidation_price(instrument: Instrument, signed_size: float, entry: float,
                          margin: float, fee: float | None = None) -> float:
    """Liquidation price of an isolated leg (0.0 for a long that cannot be liquidated)."""
    pos = Position(instrument.symbol, "long" if signed_size > 0 else "short",
                   abs(signed_size), entry, max(abs(signed_size) * entry / margin, 1e-9),
                   margin=margin)
    return liquidation(pos, instrument, fee=fee).price


@dataclass(frozen=True, eq=False)
class MaintenanceTable:
    """One instrument's maintenance-margin tiers as arrays, for ``maintenance``."""

    by_notional: bool  # Binance brackets (chosen by notional) rather than OKX contract tiers
    caps: FloatArray  # tier maxima (contracts, or USDT notional), ascending
    mmr: FloatArray
    cum: FloatArray  # Binance's maintenance amount (0 on OKX)
    contract_value: float

    @classmethod
    def of(cls, instrument: Instrument) -> MaintenanceTable:
        tiers = sorted(instrument.tiers, key=lambda t: t.max_size)
        if not tiers:
            return cls(False, np.array([np.inf]), np.array([DEFAULT_MMR]), np.zeros(1), 1.0)
        return cls(tiers[0].unit == "notional", np.array([t.max_size for t in tiers]),
                   np.array([t.mmr for t in tiers]),
                   np.array([t.maintenance_amount for t in tiers]),
                   instrument.contract_value)

    def rate(self, size: float) -> float:
        """The mmr of a position of ``size`` base units on a contract-tier table."""
        amount = round(size / self.contract_value, _SIZE_DECIMALS)
        k = min(int(np.searchsorted(self.caps, amount, side="left")), self.caps.size - 1)
        return float(self.mmr[k])


def maintenance(table: MaintenanceTable, size: float, prices: FloatArray, fee: float
                ) -> FloatArray:
    """Maintenance margin (USDT) of a position of ``size`` base units (≥ 0) at each price."""
    px = np.asarray(prices, dtype=np.float64)
    if size == 0.0:
        return np.zeros(px.shape)
    if table.by_notional:
        notional = size * px
        # NaN sorts last: the last tier, and a NaN margin that never triggers anything
        k = np.minimum(np.searchsorted(table.caps, notional, side="left"), table.caps.size - 1)
        out: FloatArray = notional * table.mmr[k] - table.cum[k]
        return out
    return size * px * (table.rate(size) + fee)


def liquidation_ranges(snap: MarketSnapshot, mark_high: FloatArray | None = None,
                       mark_low: FloatArray | None = None) -> tuple[FloatArray, FloatArray]:
    """The (T, N) low and high the liquidation check uses: the trade bars' range, replaced by
    the mark-price range wherever a mark column has data (see ``backtest.run.mark_ranges``)."""
    low, high = snap.low.copy(), snap.high.copy()
    if mark_high is None or mark_low is None:
        return low, high
    has = np.isfinite(mark_low).any(axis=0) & np.isfinite(mark_high).any(axis=0)
    low[:, has] = np.where(np.isfinite(mark_low[:, has]), mark_low[:, has], np.nan)
    high[:, has] = np.where(np.isfinite(mark_high[:, has]), mark_high[:, has], np.nan)
    return low, high


_SIZE_DECIMALS = 8  # as core.liquidation: 0.3 / 0.1 contracts counts as 3

__all__ = ["MaintenanceTable", "crossed", "first_crossing", "leg_liquidation_price",
           "liquidation_ranges", "maintenance"]
