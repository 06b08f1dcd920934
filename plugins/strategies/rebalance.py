"""The rebalance policy every strategy shares: trade only when the target hedge differs
from the one held by more than ``threshold`` of the position's notional, so fees are not
burnt on noise."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from core import advice
from plugins.strategies.base import TargetLeg


def hedge_gap(current: Sequence[TargetLeg], target: Sequence[TargetLeg],
              prices: Mapping[str, float]) -> float:
    """Sum over symbols of |target − current| signed notional, USDT (NaN if a price is
    missing for a leg that changes): ``core.advice.hedge_gap`` on ``TargetLeg`` values.

    The usual case — one leg held, one wanted, same symbol — is answered directly: the
    backtester asks this at nearly every bar of every start.
    """
    if len(current) == 1 and len(target) == 1 and current[0].symbol == target[0].symbol:
        diff = abs(target[0].signed() - current[0].signed())
        return diff * prices.get(target[0].symbol, math.nan) if diff else 0.0
    return advice.hedge_gap([(x.symbol, x.side, x.size) for x in current],
                            [(x.symbol, x.side, x.size) for x in target], prices)


def rebalance(current: Sequence[TargetLeg], target: Sequence[TargetLeg],
              prices: Mapping[str, float], position_notional: float,
              threshold: float) -> tuple[tuple[TargetLeg, ...], bool]:
    """The legs to hold after this bar and whether that is a trade.

    A first hedge (nothing held) or removing every leg always trades when the change is above
    the threshold too; a missing price never triggers a trade on a guess.
    """
    gap = hedge_gap(current, target, prices)
    if math.isnan(gap) or position_notional <= 0:
        return tuple(current), False
    if gap > threshold * position_notional:
        return tuple(target), True
    return tuple(current), False
