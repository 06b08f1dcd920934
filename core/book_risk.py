"""Liquidation risk of a whole book of positions at once, each judged with its symbol's
instrument: the position-by-position half of ``core.evaluate``.

Positions arrive as frozen dataclasses; ``position_columns`` reads them into arrays in a few
C-level passes (attribute getters, not a Python loop per field and position), because for
10,000 positions reading them was a larger cost than the risk arithmetic itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from operator import attrgetter

import numpy as np

from core.liquidation import DEFAULT_MMR, TierTable, binance_liquidation_price, tier_index
from core.risk_many import RiskArrays, risk_many
from core.tail_risk import TailFit
from core.types import FloatArray, Instrument, IntArray, Position, Tier

_SIGN = {"long": 1.0, "short": -1.0}


@dataclass(frozen=True, eq=False)
class PositionColumns:
    """One array per field, one entry per position (in the order given)."""

    entry: FloatArray
    size: FloatArray
    sign: FloatArray  # +1.0 long, -1.0 short
    margin: FloatArray  # the isolated margin: given, or entry × size / leverage


def position_columns(positions: Sequence[Position]) -> PositionColumns:
    """The positions' numbers as arrays, equal to ``p.entry``, ``p.size``, ``p.sign`` and
    ``p.isolated_margin`` of each (the same float operations, in the same order)."""
    count = len(positions)

    def column(name: str) -> FloatArray:
        return np.fromiter(map(attrgetter(name), positions), dtype=np.float64, count=count)

    entry, size, leverage = column("entry"), column("size"), column("leverage")
    sign = np.fromiter(map(_SIGN.__getitem__, map(attrgetter("side"), positions)),
                       dtype=np.float64, count=count)
    margin = size * entry / leverage  # Position.notional / leverage
    given = list(map(attrgetter("margin"), positions))
    if given.count(None) < count:
        at = [i for i, m in enumerate(given) if m is not None]
        margin[at] = [given[i] for i in at]
    return PositionColumns(entry, size, sign, margin)


def bare_instrument(symbol: str) -> Instrument:
    """A symbol the snapshot has no instrument for: default fees, leverage and tiers."""
    return Instrument(symbol, symbol.split("-")[0])


def book_risk(positions: Sequence[Position], idx: IntArray, instruments: Mapping[str, Instrument],
              symbols: Sequence[str], prices: FloatArray, sigma: FloatArray,
              bars_per_hour: float, target_prob: float,
              tails: TailFit | None = None) -> RiskArrays | None:
    """Risk of every position at once (``idx``: each position's symbol column; ``tails``
    one row per symbol column); symbols without contract tiers get the default mmr, Binance
    brackets their own formula, and a position that carries its ``liquidation_price`` keeps
    it."""
    if not positions:
        return None
    insts = [instruments.get(s) or bare_instrument(s) for s in symbols]
    default = (Tier(1, 0.0, float("inf"), DEFAULT_MMR, 100.0),)
    tiers = [i.tiers if i.tiers and all(t.unit == "contracts" for t in i.tiers) else default
             for i in insts]
    cols = position_columns(positions)
    e, n, s, m = cols.entry, cols.size, cols.sign, cols.margin
    # Binance brackets (by notional, with a maintenance amount) have their own formula
    liq = np.full(len(positions), np.nan)
    bracket_mmr = np.full(len(positions), np.nan)
    bracket = np.full(len(positions), -1, dtype=np.int64)
    for j, inst in enumerate(insts):
        if not (inst.tiers and all(t.unit == "notional" for t in inst.tiers)):
            continue
        rows = idx == j
        if rows.any():
            ts = sorted(inst.tiers, key=lambda t: t.max_size)
            liq[rows] = binance_liquidation_price(e[rows], n[rows], s[rows], m[rows], ts)
            k = tier_index(ts, n[rows] * e[rows])
            bracket_mmr[rows] = [ts[i].mmr for i in k]
            bracket[rows] = [ts[i].tier for i in k]
    given = list(map(attrgetter("liquidation_price"), positions))
    if given.count(None) < len(given):  # synced positions: their exchange's rules decided
        at = [i for i, p in enumerate(given) if p is not None]
        liq[at] = [given[i] for i in at]
    risk = risk_many(e, n, s, m, prices, sigma, bars_per_hour, symbol_idx=idx,
                     tiers=TierTable.build(tiers), liquidation=liq,
                     contract_value=np.array([i.contract_value for i in insts]),
                     fee=np.array([i.taker_fee for i in insts]),
                     max_leverage=np.array([i.max_leverage for i in insts]),
                     target_prob=target_prob, tails=tails)
    if np.isfinite(bracket_mmr).any():  # report the bracket the Binance price came from
        binance = np.isfinite(bracket_mmr)
        risk = replace(risk, mmr=np.where(binance, bracket_mmr, risk.mmr),
                       tier=np.where(binance, bracket, risk.tier))
    return risk
