"""Liquidation of isolated legs: the price from ``core.liquidation``, the check on bar ranges.

A leg's liquidation price is fixed while the leg is unchanged (isolated margin, fixed size,
fees and funding paid from the account balance rather than the leg's margin), so it is
computed once when the leg is opened or resized and then compared with every bar's range:
a long is liquidated in the first bar whose low is at or below it, a short in the first bar
whose high is at or above it. The price comes from the instrument's tiers exactly as the
live risk report computes it: OKX's isolated formula with the tier's mmr and the taker fee
for contract tiers, Binance's bracket formula for notional tiers, and ``DEFAULT_MMR`` on
OKX's formula when the instrument has no tiers.
"""

from __future__ import annotations

import numpy as np

from core.liquidation import crossed, first_crossing, liquidation
from core.types import FloatArray, Instrument, MarketSnapshot, Position


def leg_liquidation_price(instrument: Instrument, signed_size: float, entry: float,
                          margin: float, fee: float | None = None) -> float:
    """Liquidation price of an isolated leg (0.0 for a long that cannot be liquidated)."""
    pos = Position(instrument.symbol, "long" if signed_size > 0 else "short",
                   abs(signed_size), entry, max(abs(signed_size) * entry / margin, 1e-9),
                   margin=margin)
    return liquidation(pos, instrument, fee=fee).price


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


__all__ = ["crossed", "first_crossing", "leg_liquidation_price", "liquidation_ranges"]
