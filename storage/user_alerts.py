"""A user's own alert rules (``/alert``): stored here, evaluated each cycle by the
``user_rules`` alert-rule plugin, listed and deleted with ``/alerts``.

Rules belong to the user who set them: every read and delete takes the owner's id, so one
user can neither see nor remove another's. Whether a rule is armed or has fired is rule
memory (``rule_state``), written with the alert it raised, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from i18n import _
from storage.writes import write

PRICE, MOVE, DISTANCE = "price", "move", "distance"
KINDS = (PRICE, MOVE, DISTANCE)
MAX_PER_USER = 20  # enough for a trader; keeps a cycle's work bounded


@dataclass(frozen=True)
class UserAlert:
    """One rule. ``price``: ``symbol`` ``op`` (``<``/``>``) ``value``; ``move``: ``symbol``
    moves by ``value`` % (either way) within ``window_ms``; ``distance``: trade ``trade_id``
    is within ``value`` % of its liquidation price (``op`` is ``<``)."""

    id: int
    user_id: int
    kind: str
    op: str
    value: float
    text: str  # the rule as the bot spells it back ("BTC < 60,000")
    created_at: int
    symbol: str | None = None
    trade_id: int | None = None
    window_ms: int | None = None
    chat_id: int | None = None


def _row(r: dict[str, Any]) -> UserAlert:
    return UserAlert(int(r["id"]), int(r["user_id"]), str(r["kind"]), str(r["op"]),
                     float(r["value"]), str(r["text"]), int(r["created_at"]), r["symbol"],
                     r["trade_id"], r["window_ms"], r["chat_id"])


class TooManyRules(ValueError):
    """The user already has ``MAX_PER_USER`` rules."""


def add_rule(db: Database, user_id: int, kind: str, op: str, value: float, text: str, *,
             now_ms: int, symbol: str | None = None, trade_id: int | None = None,
             window_ms: int | None = None, chat_id: int | None = None) -> UserAlert:
    """Store a new rule for ``user_id``; ``TooManyRules`` past the limit."""
    if kind not in KINDS:
        raise ValueError(f"unknown rule kind {kind!r}")
    with write(db):
        n = db.execute("select count(*) from user_alerts where user_id = ? and deleted_at "
                       "is null", [user_id]).fetchone()[0]
        if n >= MAX_PER_USER:
            raise TooManyRules(_("you have {n} alerts, the most I keep per user").format(n=n))
        cur = db.execute(
            "insert into user_alerts (user_id, chat_id, kind, symbol, trade_id, op, value, "
            "window_ms, text, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [user_id, chat_id, kind, symbol, trade_id, op, value, window_ms, text, now_ms])
        rule_id = int(cur.lastrowid or 0)
    return UserAlert(rule_id, user_id, kind, op, float(value), text, now_ms, symbol, trade_id,
                     window_ms, chat_id)


def user_rules(db: Database, user_id: int) -> list[UserAlert]:
    """The user's live rules, oldest first."""
    return [_row(r) for r in db["user_alerts"].rows_where(
        "user_id = ? and deleted_at is null", [user_id], order_by="id")]


def live_rules(db: Database) -> list[UserAlert]:
    """Every user's live rules (what the cycle evaluates), oldest first."""
    return [_row(r) for r in db["user_alerts"].rows_where("deleted_at is null",
                                                          order_by="id")]


def delete_rules(db: Database, user_id: int, ids: list[int] | None, *, now_ms: int
                 ) -> list[int]:
    """Delete the user's rules with these ids (all of theirs when None); returns the ids
    deleted. Another user's rule is never touched, even when its id is named."""
    with write(db):
        mine = [r.id for r in user_rules(db, user_id)]
        gone = mine if ids is None else [i for i in ids if i in mine]
        for i in gone:
            db.execute("update user_alerts set deleted_at = ? where id = ?", [now_ms, i])
    return gone
