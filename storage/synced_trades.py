"""Trades mirrored from a connected exchange account (``source`` exchange): written only by
the sync (``plugins.accounts.sync``), with the exchange's prices and fees.

They live in the trade log beside hand-logged trades and are read by every view the same way;
they differ in who writes them: a fill opens, grows, reduces or closes one (at the fill's
price, with the fill's fee), the exchange's funding payments are booked on it, and the sync
stores its liquidation prices (ours and the exchange's) each time. A hand-logged trade is never
matched to, merged with or changed by a synced one. ``synced_events`` remembers each fill,
funding payment and penalty applied, so a sync that runs twice applies each once.
"""

from __future__ import annotations

import math
from typing import Any

from sqlite_utils import Database

from storage.chats import ensure_chat
from storage.trades import EXCHANGE, LIQUIDATED, Trade, get_trade, list_trades


def _check(**values: float) -> None:
    for name, v in values.items():
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a finite number ≥ 0, not {v!r}")


def _get(db: Database, trade: Trade) -> Trade:
    found = get_trade(db, trade.user_id, trade.id)
    assert found is not None
    return found


def open_synced(db: Database, *, user_id: int, account_id: int, exchange: str, symbol: str,
                side: str, size: float, entry: float, leverage: float, margin_mode: str,
                margin: float | None, opened_at: int, fees: float, fee_rate: float,
                position_id: str | None = None) -> Trade:
    """A new synced trade (its owner's private chat is ``user_id``)."""
    _check(size=size, entry=entry, leverage=leverage, fees=fees)
    ensure_chat(db, user_id, "private", now_ms=opened_at)
    table = db.table("trades")
    table.insert({
        "user_id": user_id, "chat_id": user_id, "exchange": exchange, "symbol": symbol,
        "side": side, "size": size, "entry": entry, "leverage": leverage,
        "opened_at": opened_at, "fees": fees, "funding": 0.0, "margin_mode": margin_mode,
        "margin": margin if margin is not None else size * entry / leverage,
        "fee_rate": fee_rate, "source": EXCHANGE, "account_id": account_id,
        "position_id": position_id})
    found = get_trade(db, user_id, int(table.last_pk or 0))
    assert found is not None
    return found


def add_to(db: Database, trade: Trade, size: float, price: float, fee: float, at_ms: int
           ) -> Trade:
    """The position grew by ``size`` at ``price``: entry becomes the size-weighted average
    (as the exchange computes it), margin grows in proportion."""
    _check(size=size, price=price, fee=fee)
    new = trade.size + size
    db.table("trades").update(trade.id, {
        "size": new, "entry": (trade.size * trade.entry + size * price) / new,
        "fees": trade.fees + fee, "margin": trade.isolated_margin * new / trade.size,
        "synced_at": at_ms})
    return _get(db, trade)


def reduce_synced(db: Database, trade: Trade, size: float, price: float, fee: float,
                  at_ms: int, reason: str) -> tuple[Trade, Trade]:
    """Part of the position (``size`` < its size) was closed at ``price``: the part becomes a
    closed trade of its own (its share of the fees so far plus this fill's ``fee``, closed for
    ``reason``); the open one keeps the rest. Returns (the open one, the closed part)."""
    _check(size=size, price=price, fee=fee)
    part = size / trade.size
    table = db.table("trades")
    row = {k: v for k, v in table.get(trade.id).items() if k != "id"}
    table.insert({**row, "size": size, "fees": trade.fees * part + fee,
                         "margin": trade.isolated_margin * part, "funding": 0.0,
                         "closed_at": at_ms, "exit_price": price, "close_reason": reason,
                         "client_key": None})
    closed = get_trade(db, trade.user_id, int(table.last_pk or 0))
    assert closed is not None
    db.table("trades").update(trade.id, {"size": trade.size - size, "fees": trade.fees * (1 - part),
                                   "margin": trade.isolated_margin * (1 - part),
                                   "synced_at": at_ms})
    return _get(db, trade), closed


def close_synced(db: Database, trade: Trade, price: float, fee: float, at_ms: int,
                 reason: str) -> Trade:
    """The position was closed at ``price`` (the closing fills' average) for ``reason``."""
    _check(price=price, fee=fee)
    db.table("trades").update(trade.id, {"closed_at": at_ms, "exit_price": price,
                                   "close_reason": reason, "fees": trade.fees + fee,
                                   "synced_at": at_ms})
    return _get(db, trade)


def add_fee(db: Database, trade_id: int, fee: float) -> None:
    """A charge on the trade after the fact (a liquidation penalty)."""
    _check(fee=fee)
    db.execute("update trades set fees = coalesce(fees, 0) + ? where id = ?", [fee, trade_id])


def set_synced(db: Database, trade_id: int, **values: Any) -> None:
    """The numbers the last sync saw: ``entry``, ``size``, ``margin``, ``leverage``,
    ``liq_price`` (ours), ``exchange_liq_price``, ``position_id``, ``synced_at``."""
    allowed = {"entry", "size", "margin", "leverage", "liq_price", "exchange_liq_price",
               "position_id", "synced_at", "margin_mode"}
    bad = set(values) - allowed
    if bad:
        raise ValueError(f"not a synced field: {', '.join(sorted(bad))}")
    db.table("trades").update(trade_id, values)


def open_synced_trades(db: Database, account_id: int) -> list[Trade]:
    """The account's open synced trades, oldest first."""
    rows = db.execute("select user_id from accounts where id = ?", [account_id]).fetchone()
    if rows is None:
        return []
    return sorted((t for t in list_trades(db, int(rows[0]), open_only=True)
                   if t.account_id == account_id), key=lambda t: t.id)


def last_liquidated(db: Database, account_id: int, symbol: str) -> int | None:
    """The account's latest trade in ``symbol`` closed by liquidation (for its penalty)."""
    row = db.execute("select id from trades where account_id = ? and symbol = ? and "
                     "close_reason = ? order by closed_at desc, id desc limit 1",
                     [account_id, symbol, LIQUIDATED]).fetchone()
    return None if row is None else int(row[0])


def seen(db: Database, account_id: int, event_id: str) -> bool:
    return db.execute("select 1 from synced_events where account_id = ? and event_id = ?",
                      [account_id, event_id]).fetchone() is not None


def mark_seen(db: Database, account_id: int, event_id: str, trade_id: int | None,
              time_ms: int) -> None:
    db.execute("insert or ignore into synced_events (account_id, event_id, trade_id, time_ms) "
               "values (?, ?, ?, ?)", [account_id, event_id, trade_id, time_ms])
