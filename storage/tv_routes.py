"""TradingView routes and the intake log.

A *route* is one destination (a chat, maybe a forum topic) with a URL token TradingView posts
to and a passphrase the alert message carries. Only the passphrase's SHA-256 is stored: it is
shown once, when the route is made, and checked in constant time. The *intake log* keeps every
request's verdict (relayed, held, duplicate, refused …) for ``/tvlog``, and is what the
per-route dedup check reads together with the outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.writes import write

KEEP_MS = 30 * 86_400_000  # intake rows older than this are dropped as new ones come in
KEEP_ROWS = 20_000  # and at most this many: a scanner posting to random URLs fills nothing
RELAYED, HELD, DUPLICATE = "relayed", "held", "duplicate"


def passphrase_hash(passphrase: str) -> str:
    return hashlib.sha256(passphrase.encode()).hexdigest()


@dataclass(frozen=True)
class Route:
    id: int
    token: str
    passphrase_hash: str
    chat_id: int
    thread_id: int | None
    owner_id: int
    log_trades: bool
    label: str
    created_at: int
    revoked_at: int | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def passphrase_ok(self, given: str) -> bool:
        """Constant-time comparison of the hashes (the given text's length leaks nothing)."""
        return hmac.compare_digest(passphrase_hash(given), self.passphrase_hash)

    @property
    def destination(self) -> str:
        return f"{self.chat_id}" + (f" topic {self.thread_id}" if self.thread_id else "")


def _route(row: dict[str, Any]) -> Route:
    return Route(row["id"], row["token"], row["passphrase_hash"], row["chat_id"],
                 row["thread_id"], row["owner_id"], bool(row["log_trades"]),
                 row["label"] or "", row["created_at"], row["revoked_at"])


def create_route(db: Database, *, chat_id: int, owner_id: int, now_ms: int,
                 thread_id: int | None = None, log_trades: bool = False, label: str = ""
                 ) -> tuple[Route, str]:
    """A new route and its passphrase (returned once, never stored in clear)."""
    token = secrets.token_urlsafe(24)
    passphrase = secrets.token_urlsafe(18)
    with write(db):
        cur = db.execute(
            "insert into tv_routes (token, passphrase_hash, chat_id, thread_id, owner_id, "
            "log_trades, label, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [token, passphrase_hash(passphrase), chat_id, thread_id, owner_id,
             int(log_trades), label, now_ms])
        route_id = int(cur.lastrowid or 0)
    route = get_route(db, route_id)
    assert route is not None
    return route, passphrase


def get_route(db: Database, route_id: int) -> Route | None:
    rows = list(db["tv_routes"].rows_where("id = ?", [route_id]))
    return _route(rows[0]) if rows else None


def route_by_token(db: Database, token: str) -> Route | None:
    """The route a URL token names, revoked or not (None when there is none)."""
    rows = list(db["tv_routes"].rows_where("token = ?", [token]))
    return _route(rows[0]) if rows else None


def list_routes(db: Database, *, include_revoked: bool = False) -> list[Route]:
    where = None if include_revoked else "revoked_at is null"
    return [_route(r) for r in db["tv_routes"].rows_where(where, order_by="id")]


def revoke_route(db: Database, route_id: int, now_ms: int) -> bool:
    """Revoke a route: its URL answers 404 from now on. False when there was none active."""
    with write(db):
        cur = db.execute("update tv_routes set revoked_at = ? where id = ? and "
                         "revoked_at is null", [now_ms, route_id])
    return cur.rowcount > 0


@dataclass(frozen=True)
class Intake:
    """One request to the intake and what became of it."""

    received_at: int
    route_id: int | None
    remote_ip: str
    status: int
    verdict: str
    detail: str = ""
    ticker: str = ""
    symbol: str = ""
    digest: str = ""
    alert_id: int | None = None


def log_intake(db: Database, entry: Intake, *, hold_until_ms: int | None = None) -> None:
    """Append to the intake log (and drop what is older than ``KEEP_MS`` or beyond the newest
    ``KEEP_ROWS``). With
    ``hold_until_ms`` the entry's alert is held back until then, in the same transaction: a
    signal over its route's rate waits, and a newer one on the same subject folds it away
    before then (the outbox keeps only the newest state)."""
    with write(db):
        if hold_until_ms is not None and entry.alert_id is not None:
            db.execute("update deliveries set next_attempt_at = ?, updated_at = ? where "
                       "alert_id = ? and status = 'pending'",
                       [hold_until_ms, entry.received_at, entry.alert_id])
        db.execute(
            "insert into tv_intake (route_id, received_at, remote_ip, status, verdict, "
            "detail, ticker, symbol, digest, alert_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [entry.route_id, entry.received_at, entry.remote_ip, entry.status, entry.verdict,
             entry.detail[:300], entry.ticker[:64], entry.symbol[:64], entry.digest,
             entry.alert_id])
        db.execute("delete from tv_intake where received_at < ? or id <= "
                   "(select max(id) from tv_intake) - ?", [entry.received_at - KEEP_MS,
                                                           KEEP_ROWS])


def recent_intake(db: Database, *, limit: int = 20, route_id: int | None = None
                  ) -> list[Intake]:
    """The newest intake rows first (of one route, or all)."""
    where, args = ("route_id = ?", [route_id]) if route_id is not None else (None, [])
    rows = db["tv_intake"].rows_where(where, args, order_by="received_at desc, id desc",
                                      limit=limit)
    return [Intake(r["received_at"], r["route_id"], r["remote_ip"] or "", r["status"],
                   r["verdict"], r["detail"] or "", r["ticker"] or "", r["symbol"] or "",
                   r["digest"] or "", r["alert_id"]) for r in rows]


def seen_within(db: Database, route_id: int, digest: str, since_ms: int) -> bool:
    """Whether this route relayed (or held) the same body since ``since_ms``: a retry."""
    row = db.execute("select 1 from tv_intake where route_id = ? and digest = ? and "
                     "received_at >= ? and verdict in (?, ?) limit 1",
                     [route_id, digest, since_ms, RELAYED, HELD]).fetchone()
    return row is not None


def intake_counts(db: Database, route_id: int, since_ms: int) -> dict[str, int]:
    """How many requests of each verdict a route had since ``since_ms`` (for ``/tvroute``)."""
    rows = db.execute("select verdict, count(*) from tv_intake where route_id = ? and "
                      "received_at >= ? group by verdict", [route_id, since_ms]).fetchall()
    return {r[0]: int(r[1]) for r in rows}


def verdict_counts(db: Database, since_ms: int) -> dict[str, int]:
    """Requests of each verdict since ``since_ms``, every route and none (for metrics)."""
    rows = db.execute("select verdict, count(*) from tv_intake where received_at >= ? "
                      "group by verdict order by verdict", [since_ms]).fetchall()
    return {r[0]: int(r[1]) for r in rows}


def alert_deliveries(db: Database, dedup_key: str) -> tuple[int, int]:
    """The id of the alert recorded under ``dedup_key`` and how many deliveries it has."""
    row = db.execute("select a.id, count(d.id) from alerts a left join deliveries d on "
                     "d.alert_id = a.id where a.dedup_key = ? group by a.id",
                     [dedup_key]).fetchone()
    if row is None:
        raise KeyError(dedup_key)
    return int(row[0]), int(row[1])

