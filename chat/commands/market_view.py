"""Small pieces shared by the commands that show market numbers (/hedge, /market, the trade
log's views)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from chat.freshness import Freshness, age_text
from core.hedging import HedgeLeg
from core.types import MarketSnapshot, finite_or_none
from i18n import N_, _

num = finite_or_none  # JSON-ready number: None for NaN/inf

# enum-like values (stored, in ``--json``) as the reader's words: ``_(word(...))`` where shown
SIDE_WORDS = {"long": N_("long"), "short": N_("short")}
LEVEL_WORDS = {"calm": N_("calm"), "elevated": N_("elevated"), "high": N_("high"),
               "cascade": N_("cascade")}
MODE_WORDS = {"cross": N_("cross"), "isolated": N_("isolated")}


def side_word(side: str) -> str:
    """"long"/"short" in the reader's language (anything else as it is)."""
    return _(SIDE_WORDS[side]) if side in SIDE_WORDS else side


def level_word(level: str) -> str:
    """A cascade level (calm, elevated, high, cascade) in the reader's language."""
    return _(LEVEL_WORDS[level]) if level in LEVEL_WORDS else level


def mode_word(mode: str) -> str:
    """A margin mode (cross, isolated) in the reader's language."""
    return _(MODE_WORDS[mode]) if mode in MODE_WORDS else mode


def leg_text(leg: HedgeLeg) -> dict[str, Any]:
    """A leg as data plus the line a trader reads: side, base size, contracts, USDT."""
    contracts = num(leg.contracts)
    values = {"side": side_word(leg.side), "size": f"{leg.size:.6g}",
              "base": leg.symbol.split("-")[0], "notional": f"{leg.notional:,.0f}"}
    text = (_("{side} {size} {base} ({contracts} ct, {notional} USDT)").format(
        contracts=f"{contracts:,.1f}", **values) if contracts is not None else
        _("{side} {size} {base} ({notional} USDT)").format(**values))
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


__all__ = ["age_text", "finite_marks", "freshness_data", "leg_text", "level_word", "mode_word",
           "num", "side_word"]
