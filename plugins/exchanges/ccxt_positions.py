"""Reading an account's open positions through ccxt (needs read-only API keys).

Whether the key may also trade is asked separately (``CcxtMarket._key_can_trade``, answered per
exchange) so hedgewatch can warn about a key with more rights than it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.types import Instrument, Position
from plugins.exchanges import ccxt_parse as parse
from plugins.exchanges.errors import NotSupported
from plugins.exchanges.source import AccountPositions


def positions_need_keys(source: str) -> NotSupported:
    """The error for reading positions without keys, naming the variables to set."""
    return NotSupported(f"{source}: reading positions needs read-only API keys "
                        f"({source.upper()}_API_KEY / _API_SECRET)")


def account_positions(rows: Iterable[Mapping[str, Any]] | None, *, can_trade: bool,
                      markets: Mapping[str, str], markets_by_id: Mapping[str, Any],
                      instruments: Mapping[str, Instrument]) -> AccountPositions:
    """Positions from ccxt ``fetch_positions`` rows, keyed by canonical id.

    ``markets`` maps canonical id → unified symbol; a row whose unified symbol is not there is
    matched by the exchange's own id (``info.instId``) in ccxt's ``markets_by_id``, else
    skipped. Flat or unusable rows are dropped; the exchange's liquidation price is kept for
    cross-checking ours.
    """
    out: list[Position] = []
    liq: dict[str, float] = {}
    for p in rows or []:
        m = markets_by_id.get((p.get("info") or {}).get("instId", ""), None)
        sym = next((k for k, v in markets.items() if v == p.get("symbol")), None)
        if sym is None and m:
            sym = m[0]["id"]
        if sym is None:
            continue
        pos = parse.position(p, sym, instruments[sym].contract_value)
        if pos is not None:
            out.append(pos)
            if (lp := parse.finite(p.get("liquidationPrice"))) is not None:
                liq[sym] = lp
    return AccountPositions(tuple(out), can_trade=can_trade, exchange_liquidation=liq)
