"""The trade log: each user's positions and the hedge legs they hold against them.

A trade is a main position, or a hedge leg of one (``parent_id``). Every query is per user: a
user never reads or changes another's trades.

Money, in USDT:
- fees: ``fee_rate × size × price`` at the open and again at the close (the rate is the one
  the trade was logged with, kept in ``fee_rate``);
- an isolated trade posts ``margin`` (``size × entry / leverage`` unless given); it cannot
  lose more than that: unrealised P&L is floored at ``−margin`` and a trade closed as
  ``liquidated`` realises exactly ``−margin − fees``;
- otherwise realised P&L is ``sign × size × (exit − entry) − fees``; so is a trade synced from
  an exchange account (``source`` exchange), liquidated or not: its exit and fees are the
  exchange's fills (a liquidation penalty included), not our estimate;
- funding (received positive, paid negative) is kept per payment in ``funding_payments`` and
  summed in ``funding``, reported next to the P&L (``net`` adds it); ``storage.funding``
  writes it (its names are re-exported here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from i18n import _
from storage.chats import ensure_chat
from storage.funding import FundingPayment as FundingPayment
from storage.funding import add_funding as add_funding
from storage.funding import funding_amount as funding_amount
from storage.funding import funding_payments as funding_payments
from storage.funding import last_funding_time as last_funding_time
from storage.writes import write

CLOSED, LIQUIDATED, ADL = "closed", "liquidated", "adl"
CLOSE_REASONS = (CLOSED, LIQUIDATED, ADL)
ISOLATED, CROSS = "isolated", "cross"
MANUAL, EXCHANGE = "manual", "exchange"  # logged by hand, or synced from an exchange account


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
    parent_id: int | None = None
    margin_mode: str = ISOLATED
    margin: float | None = None
    close_reason: str | None = None
    fee_rate: float | None = None
    strategy: str | None = None
    source: str | None = None  # None or "manual": logged by hand; "exchange": synced
    account_id: int | None = None  # the connected account it syncs from
    position_id: str | None = None  # the exchange's id of the position
    liq_price: float | None = None  # a synced trade's liquidation price (ours, last sync)
    exchange_liq_price: float | None = None  # the exchange's, at the last sync
    synced_at: int | None = None

    @property
    def sign(self) -> int:
        return 1 if self.side == "long" else -1

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def is_leg(self) -> bool:
        return self.parent_id is not None

    @property
    def notional(self) -> float:
        return self.size * self.entry

    @property
    def synced(self) -> bool:
        """Mirrored from an exchange account: the exchange's record is its truth."""
        return self.source == EXCHANGE

    @property
    def isolated_margin(self) -> float:
        """The margin an isolated trade can lose at most (entry notional / leverage unless
        logged otherwise)."""
        return self.margin if self.margin is not None else self.notional / self.leverage

    @property
    def capped(self) -> bool:
        """Losses stop at the margin: isolated trades (cross ones share the account's)."""
        return self.margin_mode == ISOLATED

    @property
    def realised_pnl(self) -> float | None:
        """Once closed: ``−margin − fees`` when liquidated, else ``sign × size × (exit −
        entry) − fees``; None while open. Funding is apart (``net_pnl``)."""
        if self.exit_price is None:
            return None
        if self.close_reason == LIQUIDATED and self.capped and not self.synced:
            return -self.isolated_margin - self.fees
        return self.sign * self.size * (self.exit_price - self.entry) - self.fees

    @property
    def net_pnl(self) -> float | None:
        """Realised P&L plus funding, once closed."""
        r = self.realised_pnl
        return None if r is None else r + self.funding

    def unrealised_pnl(self, mark: float) -> float:
        """Mark-to-market P&L before fees of an open trade; an isolated trade's floor is
        ``−margin`` (past its liquidation price it is gone, not deeper in loss)."""
        pnl = self.sign * self.size * (mark - self.entry)
        return max(pnl, -self.isolated_margin) if self.capped else pnl

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["margin"] = self.isolated_margin
        d["realised_pnl"] = self.realised_pnl
        d["net_pnl"] = self.net_pnl
        return d


_FIELDS = tuple(Trade.__dataclass_fields__)


def _trade(row: dict[str, Any]) -> Trade:
    values = {k: row.get(k) for k in _FIELDS}
    values["margin_mode"] = values["margin_mode"] or ISOLATED
    values["fees"] = values["fees"] or 0.0
    values["funding"] = values["funding"] or 0.0
    return Trade(**values)


def _finite_positive(**values: float) -> None:
    """Nothing non-finite or non-positive is ever stored as a size, price, rate or margin."""
    for name, v in values.items():
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(_("{name} must be a finite number above 0, not {value!r}").format(
                name=name, value=v))


def open_trade(db: Database, *, user_id: int, chat_id: int | None, symbol: str, side: str,
               size: float, entry: float, leverage: float, opened_at: int, fee_rate: float,
               exchange: str | None = None, note: str | None = None,
               chat_type: str = "private", parent_id: int | None = None,
               margin_mode: str = ISOLATED, margin: float | None = None,
               client_key: str | None = None, strategy: str | None = None) -> Trade:
    """Record a new open trade (entry fee charged now) and return it.

    ``parent_id`` makes it a hedge leg of the user's open trade ``parent_id``
    (``ValueError`` when there is no such trade). With ``client_key`` the call is idempotent:
    the user's trade already logged under that key is returned instead of a second one.
    """
    if side not in ("long", "short"):
        raise ValueError(_("side must be long or short, not {side!r}").format(side=side))
    if margin_mode not in (ISOLATED, CROSS):
        raise ValueError(_("margin mode must be isolated or cross, not {mode!r}").format(
            mode=margin_mode))
    _finite_positive(size=size, entry=entry, leverage=leverage, notional=size * entry)
    if margin is not None:
        _finite_positive(margin=margin)
    if not (math.isfinite(fee_rate) and 0 <= fee_rate < 0.1):
        raise ValueError(_("fee rate must be between 0 and 10 %, not {rate!r}").format(
            rate=fee_rate))
    with write(db):
        if client_key is not None:
            found = list(db["trades"].rows_where("user_id = ? and client_key = ?",
                                                 [user_id, client_key]))
            if found:
                return _trade(found[0])
        if parent_id is not None:
            parent = get_trade(db, user_id, parent_id)
            if parent is None or not parent.is_open or parent.is_leg:
                raise ValueError(_("there is no open trade #{id} of yours to hedge").format(
                    id=parent_id))
        if chat_id is not None:
            ensure_chat(db, chat_id, chat_type, now_ms=opened_at)
        table = db["trades"]
        table.insert({
            "user_id": user_id, "chat_id": chat_id, "exchange": exchange, "symbol": symbol,
            "side": side, "size": size, "entry": entry, "leverage": leverage,
            "opened_at": opened_at, "fees": fee_rate * size * entry, "funding": 0.0,
            "note": note, "parent_id": parent_id, "margin_mode": margin_mode,
            "margin": margin if margin is not None else size * entry / leverage,
            "client_key": client_key, "fee_rate": fee_rate, "strategy": strategy,
        })
        trade_id = table.last_pk
    found_trade = get_trade(db, user_id, int(trade_id))
    assert found_trade is not None
    return found_trade


def get_trade(db: Database, user_id: int, trade_id: int) -> Trade | None:
    """The user's trade ``trade_id``; None when it does not exist *or belongs to someone else*."""
    rows = list(db["trades"].rows_where("id = ? and user_id = ?", [trade_id, user_id]))
    return _trade(rows[0]) if rows else None


def close_trade(db: Database, user_id: int, trade_id: int, exit_price: float, closed_at: int,
                fee_rate: float | None = None, reason: str = CLOSED) -> Trade | None:
    """Close the user's open trade at ``exit_price`` (exit fee at ``fee_rate``, by default
    the rate it was opened with); None if there is no such open trade. ``reason`` is
    ``closed``, ``liquidated`` or ``adl``."""
    _finite_positive(exit_price=exit_price)
    if reason not in CLOSE_REASONS:
        raise ValueError(_("close reason must be one of {reasons}, not {reason!r}").format(
            reasons=", ".join(CLOSE_REASONS), reason=reason))
    with write(db):
        trade = get_trade(db, user_id, trade_id)
        if trade is None or not trade.is_open:
            return None
        rate = fee_rate if fee_rate is not None else (trade.fee_rate or 0.0)
        db["trades"].update(trade_id, {
            "closed_at": closed_at, "exit_price": exit_price, "close_reason": reason,
            "fees": trade.fees + rate * trade.size * exit_price,
        })
    return get_trade(db, user_id, trade_id)


def reduce_trade(db: Database, user_id: int, trade_id: int, new_size: float, price: float,
                 at_ms: int) -> Trade | None:
    """Close part of the user's open trade at ``price``: the closed part becomes a closed
    trade of its own (same entry, its share of the entry fee, the exit fee on it), the open
    one keeps ``new_size`` with its share of the fee and margin. None if no such open trade
    or ``new_size`` is not below its size."""
    _finite_positive(new_size=new_size, price=price)
    with write(db):
        t = get_trade(db, user_id, trade_id)
        if t is None or not t.is_open or new_size >= t.size:
            return None
        part = (t.size - new_size) / t.size
        rate = t.fee_rate or 0.0
        row = {k: v for k, v in db["trades"].get(trade_id).items() if k != "id"}
        db["trades"].insert({**row, "size": t.size - new_size, "fees": t.fees * part
                             + rate * (t.size - new_size) * price,
                             "margin": t.isolated_margin * part, "funding": 0.0,
                             "closed_at": at_ms, "exit_price": price, "close_reason": CLOSED,
                             "client_key": None})
        db["trades"].update(trade_id, {"size": new_size, "fees": t.fees * (1 - part),
                                       "margin": t.isolated_margin * (1 - part)})
    return get_trade(db, user_id, trade_id)


def legs_of(db: Database, user_id: int, trade_id: int, *, open_only: bool = True
            ) -> list[Trade]:
    """The hedge legs logged under the user's trade ``trade_id``, oldest first."""
    where = "user_id = ? and parent_id = ?" + (" and closed_at is null" if open_only else "")
    return [_trade(r) for r in db["trades"].rows_where(where, [user_id, trade_id],
                                                       order_by="id")]


def list_trades(db: Database, user_id: int, *, open_only: bool = False,
                limit: int | None = None) -> list[Trade]:
    """The user's trades and legs, newest first (open ones only with ``open_only``)."""
    where = "user_id = ?" + (" and closed_at is null" if open_only else "")
    rows = db["trades"].rows_where(where, [user_id], order_by="id desc", limit=limit)
    return [_trade(r) for r in rows]


def closed_trades(db: Database, user_id: int, since_ms: int | None = None) -> list[Trade]:
    """The user's closed trades and legs, in the order they closed."""
    where = "user_id = ? and closed_at is not null" + (
        " and closed_at >= ?" if since_ms is not None else "")
    params: list[Any] = [user_id] if since_ms is None else [user_id, since_ms]
    return [_trade(r) for r in db["trades"].rows_where(where, params,
                                                       order_by="closed_at, id")]


def closed_totals(db: Database, user_id: int) -> dict[str, float]:
    """Realised P&L, fees and funding summed over the user's closed trades and legs."""
    closed = closed_trades(db, user_id)
    return {"realised": sum(t.realised_pnl or 0.0 for t in closed),
            "fees": sum(t.fees for t in closed), "funding": sum(t.funding for t in closed),
            "count": len(closed)}
