"""What alert rules remember between cycles, and the trade facts they read.

Rules never keep memory in module globals: they read it here (the ``rule_state`` table and the
``recommendations`` history) and *buffer* their writes in a ``RuleMemory``. The outbox applies
the buffered writes in the same transaction that records the cycle's alerts, so a crash
between "decided" and "recorded" cannot leave the memory ahead of the alerts (which would lose
an alert) or behind them (which would repeat one).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database


@dataclass(frozen=True)
class OpenTrade:
    """An open logged trade (or hedge leg: ``parent_id``) with whom to tell and which
    strategy hedges it."""

    trade_id: int
    owner_chat_id: int  # the trader's private chat (Telegram: the user id)
    symbol: str
    side: str
    size: float
    entry: float
    leverage: float
    strategy: str | None  # the trade's own choice, else the user's; None: use the default
    chat_id: int | None = None  # where it was logged (may be a group)
    parent_id: int | None = None  # a hedge leg of that trade
    margin_mode: str = "isolated"
    margin: float | None = None
    opened_at: int = 0
    fee_rate: float | None = None
    account_id: int | None = None  # synced from this connected exchange account
    liq_price: float | None = None  # a synced trade's liquidation price, by its exchange's rules

    @property
    def is_leg(self) -> bool:
        return self.parent_id is not None

    @property
    def synced(self) -> bool:
        """Mirrored from a connected exchange account: the exchange's record is its truth."""
        return self.account_id is not None


def open_trades(db: Database) -> list[OpenTrade]:
    """Every open trade and hedge leg of every user, oldest first, with its strategy choice
    resolved."""
    sql = ("select t.id, t.user_id, t.symbol, t.side, t.size, t.entry, t.leverage, "
           "coalesce(t.strategy, u.strategy), t.chat_id, t.parent_id, "
           "coalesce(t.margin_mode, 'isolated'), t.margin, t.opened_at, t.fee_rate, "
           "case when t.source = 'exchange' then t.account_id end, t.liq_price "
           "from trades t left join users u on u.id = t.user_id where t.closed_at is null "
           "order by t.id")
    return [OpenTrade(int(r[0]), int(r[1]), r[2], r[3], float(r[4]), float(r[5]), float(r[6]),
                      r[7], r[8], r[9], r[10], r[11], int(r[12]), r[13], r[14], r[15])
            for r in db.execute(sql).fetchall()]


@dataclass
class _Write:
    sql: str
    params: list[Any]
    only_if: str | None  # dedup key of an alert that must be newly recorded for this to apply


@dataclass
class RuleMemory:
    """Reads straight from the database; writes are buffered until ``apply``."""

    db: Database
    writes: list[_Write] = field(default_factory=list)

    def get(self, rule: str, key: str, default: Any = None) -> Any:
        """The value ``rule`` stored under ``key`` (JSON-decoded), or ``default``."""
        row = self.db.execute("select value from rule_state where rule = ? and key = ?",
                              [rule, key]).fetchone()
        return default if row is None else json.loads(row[0])

    def set(self, rule: str, key: str, value: Any, *, now_ms: int,
            only_if: str | None = None) -> None:
        """Remember ``value``; with ``only_if`` only when that alert is newly recorded."""
        self.writes.append(_Write(
            "insert into rule_state (rule, key, value, updated_at) values (?, ?, ?, ?) "
            "on conflict(rule, key) do update set value = excluded.value, "
            "updated_at = excluded.updated_at",
            [rule, key, json.dumps(value), now_ms], only_if))

    def last_recommendation(self, trade_id: int, strategy: str) -> list[tuple[Any, ...]] | None:
        """The legs ``(symbol, side, size)`` last recommended for the trade under the
        strategy, None when nothing was recommended yet."""
        row = self.db.execute(
            "select legs from recommendations where trade_id = ? and strategy = ? "
            "order by created_at desc, id desc limit 1", [trade_id, strategy]).fetchone()
        return None if row is None else [tuple(x) for x in json.loads(row[0])]

    def recommend(self, trade_id: int, strategy: str, legs: Sequence[tuple[Any, ...]],
                  reason: str, *, now_ms: int, data_time: int,
                  only_if: str | None = None) -> None:
        """Store a recommendation (buffered like ``set``)."""
        self.writes.append(_Write(
            "insert into recommendations (trade_id, strategy, created_at, legs, reason, "
            "data_time) values (?, ?, ?, ?, ?, ?)",
            [trade_id, strategy, now_ms, json.dumps([list(x) for x in legs]), reason,
             data_time], only_if))

    def apply(self, db: Database, recorded: AbstractSet[str]) -> int:
        """Run the buffered writes (inside the caller's transaction); returns how many ran.
        Writes tied to an alert that was not recorded (cooldown, duplicate) are dropped."""
        n = 0
        for w in self.writes:
            if w.only_if is None or w.only_if in recorded:
                db.execute(w.sql, w.params)
                n += 1
        self.writes.clear()
        return n
