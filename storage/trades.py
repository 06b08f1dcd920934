"""The trade log: each user's positions, opened and closed by hand. Every query is per user.

Fees are the taker fee on both legs: ``fee × size × entry`` at open, plus ``fee × size × exit``
at close. Realised P&L of a closed trade is ``sign × size × (exit − entry) − fees``; funding
(``funding``: received positive, paid negative) is kept apart and reported next to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.chats import ensure_chat


@dataclass(frozen=True)
class Trade:
    id: int
    user_id: int
    chat_id: int | None
    exchange: str | None
    symbol: str
    side: str
    size: float
    entry: float
    leverage: float
    opened_at: int
    closed_at: int | None = None
    exit_price: float | None = None
    fees: float = 0.0
    funding: float = 0.0
    note: str | None = None

    @property
    def sign(self) -> int:
        return 1 if self.side == "long" else -1

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def realised_pnl(self) -> float | None:
        """``sign × size × (exit − entry) − fees`` once closed; None while open."""
        if self.exit_price is None:
            return None
        return self.sign * self.size * (self.exit_price - self.entry) - self.fees

    def unrealised_pnl(self, mark: float) -> float:
        """Mark-to-market P&L before fees of an open trade."""
        return self.sign * self.size * (mark - self.entry)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["realised_pnl"] = self.realised_pnl
        return d


_FIELDS = tuple(Trade.__dataclass_fields__)


def _finite(**values: float) -> None:
    """Nothing non-finite is stored: an ``inf`` fee would poison every later sum. Commands
    refuse such input with a message first (``chat.commands.domains``); this is the floor."""
    for name, v in values.items():
        if not math.isfinite(v):
            raise ValueError(f"refusing to store a non-finite {name} ({v!r})")


def _trade(row: dict[str, Any]) -> Trade:
    t = Trade(**{k: row.get(k) for k in _FIELDS})
    return t


def open_trade(db: Database, *, user_id: int, chat_id: int | None, symbol: str, side: str,
               size: float, entry: float, leverage: float, opened_at: int, fee_rate: float,
               exchange: str | None = None, note: str | None = None,
               chat_type: str = "private") -> Trade:
    """Record a new open trade (entry fee charged now) and return it."""
    _finite(size=size, entry=entry, leverage=leverage, fees=fee_rate * size * entry)
    with db.atomic():
        if chat_id is not None:
            ensure_chat(db, chat_id, chat_type, now_ms=opened_at)
        table = db["trades"]
        table.insert({
            "user_id": user_id, "chat_id": chat_id, "exchange": exchange, "symbol": symbol,
            "side": side, "size": size, "entry": entry, "leverage": leverage,
            "opened_at": opened_at, "fees": fee_rate * size * entry, "funding": 0.0,
            "note": note,
        })
        trade_id = table.last_pk
    found = get_trade(db, user_id, int(trade_id))
    assert found is not None
    return found


def get_trade(db: Database, user_id: int, trade_id: int) -> Trade | None:
    """The user's trade ``trade_id``; None when it does not exist *or belongs to someone else*."""
    rows = list(db["trades"].rows_where("id = ? and user_id = ?", [trade_id, user_id]))
    return _trade(rows[0]) if rows else None


def close_trade(db: Database, user_id: int, trade_id: int, exit_price: float, closed_at: int,
                fee_rate: float) -> Trade | None:
    """Close the user's open trade at ``exit_price`` (exit fee added); None if none such."""
    with db.atomic():
        trade = get_trade(db, user_id, trade_id)
        if trade is None or not trade.is_open:
            return None
        fees = trade.fees + fee_rate * trade.size * exit_price
        _finite(exit_price=exit_price, fees=fees,
                realised_pnl=trade.sign * trade.size * (exit_price - trade.entry) - fees)
        db["trades"].update(trade_id, {
            "closed_at": closed_at, "exit_price": exit_price,
            "fees": fees,
        })
    return get_trade(db, user_id, trade_id)


def list_trades(db: Database, user_id: int, *, open_only: bool = False,
                limit: int | None = None) -> list[Trade]:
    """The user's trades, newest first (open ones only with ``open_only``)."""
    where = "user_id = ?" + (" and closed_at is null" if open_only else "")
    rows = db["trades"].rows_where(where, [user_id], order_by="id desc", limit=limit)
    return [_trade(r) for r in rows]


def closed_totals(db: Database, user_id: int) -> dict[str, float]:
    """Realised P&L, fees and funding summed over the user's closed trades."""
    rows = db.execute(
        "select coalesce(sum(case when side = 'long' then 1 else -1 end * size "
        "* (exit_price - entry) - fees), 0), coalesce(sum(fees), 0), coalesce(sum(funding), 0), "
        "count(*) from trades where user_id = ? and closed_at is not null", [user_id]).fetchone()
    return {"realised": rows[0], "fees": rows[1], "funding": rows[2], "count": rows[3]}
