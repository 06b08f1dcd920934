"""Reading an account's open positions through ccxt (needs read-only API keys).

Whether the key may also trade is asked separately (``CcxtMarket._key_can_trade``, answered per
exchange) so hedgewatch can warn about a key with more rights than it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.types import Instrument, Position
from i18n import _
from plugins.exchanges import ccxt_parse as parse
from plugins.exchanges.errors import NotSupported
from plugins.exchanges.source import AccountPositions
from settings.secrets import key_variables


def positions_need_keys(source: str) -> NotSupported:
    """The error for reading positions without keys, naming the variables to set."""
    return NotSupported(_("{source}: reading positions needs read-only API keys "
                          "({variables})").format(source=source,
                                                  variables=" / ".join(key_variables(source))))


def usdt_equity(balance: Mapping[str, Any] | None) -> float | None:
    """The USDT equity that backs cross-margin USDT swaps, from ccxt ``fetch_balance``.

    Isolated margin is set aside for its own position, so it is left out where the exchange
    says how much it is: OKX ``details[USDT].eq − isoEq``; Binance USDⓈ-M
    ``crossWalletBalance + crossUnPnl``; otherwise ccxt's total USDT. None when unknown.
    """
    if not balance:
        return None
    info = balance.get("info") or {}
    okx = [d for row in (info.get("data") or []) if isinstance(row, Mapping)
           for d in (row.get("details") or []) if d.get("ccy") == "USDT"]
    binance = [a for a in (info.get("assets") or []) if isinstance(a, Mapping)
               and a.get("asset") == "USDT"]
    if okx:
        eq = parse.finite(okx[0].get("eq"))
        eq = None if eq is None else eq - (parse.finite(okx[0].get("isoEq")) or 0.0)
    elif binance and parse.finite(binance[0].get("crossWalletBalance")) is not None:
        eq = parse.finite(binance[0]["crossWalletBalance"]) + (  # type: ignore[operator]
            parse.finite(binance[0].get("crossUnPnl")) or 0.0)
    else:
        eq = parse.finite((balance.get("total") or {}).get("USDT"))
    return eq if eq is not None and eq >= 0 else None


def account_positions(rows: Iterable[Mapping[str, Any]] | None, *, can_trade: bool,
                      markets: Mapping[str, str], markets_by_id: Mapping[str, Any],
                      instruments: Mapping[str, Instrument],
                      equity: float | None = None) -> AccountPositions:
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
    return AccountPositions(tuple(out), can_trade=can_trade, equity=equity,
                            exchange_liquidation=liq)
