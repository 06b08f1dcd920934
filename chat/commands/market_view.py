"""Small pieces shared by the commands that show market numbers (/hedge, /market, the trade
log's views)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from chat.freshness import Freshness, age_text
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


def freshness_data(f: Freshness) -> dict[str, Any]:
    """The JSON keys every market answer carries: the newest bar's age when answered, and
    why the data is behind (None when it is the newest bar the exchange has)."""
    return {"data_age_ms": f.age_ms, "data_behind": None if f.current else f.reason}


__all__ = ["age_text", "finite_marks", "freshness_data", "leg_text", "num"]
