"""Small pieces shared by the commands that show market numbers (/hedge, /market, the trade
log's views)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from core.hedging import HedgeLeg
from core.types import MarketSnapshot, finite_or_none

num = finite_or_none  # JSON-ready number: None for NaN/inf

def leg_text(leg: HedgeLeg) -> dict[str, Any]:
    """A leg as data plus the line a trader reads: side, base size, contracts, USDT."""
    contracts = num(leg.contracts)
    text = (f"{leg.side} {leg.size:.6g} {leg.symbol.split('-')[0]}"
            + (f" ({contracts:,.1f} ct" if contracts is not None else " (")
            + f", {leg.notional:,.0f} USDT)")
    return {"symbol": leg.symbol, "side": leg.side, "size": leg.size, "contracts": contracts,
            "notional": leg.notional, "beta": num(leg.beta), "text": text}


def finite_marks(snap: MarketSnapshot, symbols: Iterable[str]) -> dict[str, float]:
    """The last price of each of ``symbols`` the snapshot has a finite one for."""
    out = {}
    for s in symbols:
        if s in snap.symbols:
            px = snap.last_price(s)
            if math.isfinite(px):
                out[s] = px
    return out


def age_text(age_ms: int | None) -> str:
    if age_ms is None or age_ms < 0:
        return "data age unknown"
    minutes = age_ms / 60_000
    if minutes < 1:
        return "data fresh (< 1 min)"
    if minutes < 120:
        return f"data {minutes:.0f} min old"
    return f"data {minutes / 60:.1f} h old"
