"""The outbox's backlog while Telegram cannot be reached: what has expired, what a newer alert
supersedes, when the next delivery is due, and what a chat missed.

The sender calls ``expire`` and ``fold`` before each drain and ``next_due_ms`` after it; the
``missed_*`` look-ups give the facts a delivery mentions ("3 updates while Telegram was
unreachable", "delivery was blocked for 2 h"). Statuses are those of ``storage.outbox``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import groupby

from sqlite_utils import Database

from core.alerts import SEVERITIES
from i18n import current_language
from storage.outbox import EXPIRED, FLOOD_WAIT, FOLDED, PENDING, UNCONFIRMED, immediate


@dataclass(frozen=True)
class Missed:
    """An alert a chat did not get: when it was recorded, its title and severity."""

    created_at: int
    title: str
    severity: str
    attempts: int


@dataclass(frozen=True)
class Blocked:
    """The last alert on a subject expired undelivered: since when we tried, until when."""

    since_ms: int
    until_ms: int
    title: str


def expire(db: Database, now_ms: int, max_age_ms: Callable[[str], int]) -> tuple[int, int]:
    """Pending deliveries whose alert is older than ``max_age_ms(severity)``: ``expired``, or
    ``unconfirmed`` when an attempt went out unanswered (it may have arrived). Returns
    (expired, unconfirmed)."""
    counts = [0, 0]
    with immediate(db):
        for severity in SEVERITIES:
            old = "alert_id in (select id from alerts where severity = ? and created_at <= ?)"
            cutoff = now_ms - max_age_ms(severity)
            for i, (status, unanswered) in enumerate(((EXPIRED, "= 0"), (UNCONFIRMED, "> 0"))):
                cur = db.execute(
                    f"update deliveries set status = ?, error = ?, updated_at = ? where "
                    f"status = ? and unanswered {unanswered} and {old}",
                    [status, f"not delivered within the {severity} max_delivery_age", now_ms,
                     PENDING, severity, cutoff])
                counts[i] += cur.rowcount
    return counts[0], counts[1]


def fold(db: Database, now_ms: int) -> int:
    """Two or more pending deliveries to one chat on one subject: keep the newest, mark the
    others ``folded`` into it (``unconfirmed`` if one may have arrived). Returns how many."""
    rows = db.execute(
        "select d.chat_id, a.subject, d.id, d.unanswered from deliveries d "
        "join alerts a on a.id = d.alert_id where d.status = ? and a.subject is not null "
        "order by d.chat_id, a.subject, a.created_at desc, d.alert_id desc", [PENDING]
    ).fetchall()
    n = 0
    with immediate(db):
        for _, group in groupby(rows, key=lambda r: (r[0], r[1])):
            newest, *older = list(group)
            for _, _, delivery_id, unanswered in older:
                db.execute("update deliveries set status = ?, folded_into = ?, error = ?, "
                           "updated_at = ? where id = ?",
                           [UNCONFIRMED if unanswered else FOLDED, newest[2],
                            "superseded by a newer alert on the same subject", now_ms,
                            delivery_id])
                db.execute("update deliveries set folded_into = ? where folded_into = ?",
                           [newest[2], delivery_id])
                n += 1
    return n


def defer(db: Database, delivery_ids: Iterable[int] | None, until_ms: int, now_ms: int
          ) -> None:
    """Hold pending deliveries (all of them when ``delivery_ids`` is None) until ``until_ms``
    without counting an attempt: their chat, or Telegram itself, is waiting out a failure."""
    held = "update deliveries set next_attempt_at = max(coalesce(next_attempt_at, 0), ?), " \
           "updated_at = ? where status = ?"
    with immediate(db):
        if delivery_ids is None:
            db.execute(held, [until_ms, now_ms, PENDING])
        else:
            db.conn.executemany(held + " and id = ?",
                                [(until_ms, now_ms, PENDING, i) for i in delivery_ids])


def resume(db: Database, now_ms: int) -> int:
    """Telegram answers again: pending deliveries waiting out its outage are due now; a chat
    waiting out a 429's ``retry_after`` keeps its time. Returns how many."""
    flooded = "select chat_id from deliveries where status = ? and next_attempt_at > ? " \
              "and error like ?"
    with immediate(db):
        cur = db.execute(f"update deliveries set next_attempt_at = ? where status = ? and "
                         f"next_attempt_at > ? and chat_id not in ({flooded})",
                         [now_ms, PENDING, now_ms, PENDING, now_ms, f"{FLOOD_WAIT}%"])
    return cur.rowcount


def next_due_ms(db: Database) -> int | None:
    """When the next pending delivery is due (None when nothing is pending)."""
    row = db.execute("select min(coalesce(next_attempt_at, 0)) from deliveries "
                     "where status = ?", [PENDING]).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def expired_subjects(db: Database, since_ms: int) -> frozenset[str]:
    """Subjects whose newest alert (recorded after ``since_ms``) reached no chat: each of its
    deliveries expired. A rule whose condition still holds may raise it again."""
    rows = db.execute(
        "select a.subject from alerts a where a.created_at > ? and a.id = "
        "(select max(b.id) from alerts b where b.subject = a.subject) "
        "and exists (select 1 from deliveries d where d.alert_id = a.id) "
        "and not exists (select 1 from deliveries d where d.alert_id = a.id "
        "and d.status != ?)", [since_ms, EXPIRED]).fetchall()
    return frozenset(r[0] for r in rows)


def _title(payload: str) -> str:
    """The alert's title in the current language (as recorded once per language), else as
    recorded (English)."""
    record = json.loads(payload)
    text = (record.get("text") or {}).get(current_language()) or {}
    return str(text.get("title") or record.get("title", ""))


def _missed(rows: Iterable[tuple[int, str, str, int]]) -> list[Missed]:
    return [Missed(created, _title(payload), severity, attempts)
            for created, payload, severity, attempts in rows]


def missed_folded(db: Database, delivery_id: int) -> list[Missed]:
    """The superseded alerts folded into this delivery, oldest first."""
    return _missed(db.execute(
        "select a.created_at, a.payload, a.severity, d.attempts from deliveries d "
        "join alerts a on a.id = d.alert_id where d.folded_into = ? "
        "order by a.created_at, d.alert_id", [delivery_id]).fetchall())


def missed_expired(db: Database, chat_id: int | str, subject: str, alert_id: int
                   ) -> Blocked | None:
    """When the previous alert on ``subject`` to this chat (before ``alert_id``) expired
    undelivered: since when delivery was tried (its oldest folded alert counts) and until
    when. None when it arrived, or may have."""
    row = db.execute(
        "select d.id, d.status, d.updated_at, a.created_at, a.payload from deliveries d "
        "join alerts a on a.id = d.alert_id where d.chat_id = ? and a.subject = ? "
        "and d.alert_id < ? and d.status != ? order by d.alert_id desc limit 1",
        [chat_id, subject, alert_id, FOLDED]).fetchone()
    if row is None or row[1] != EXPIRED:
        return None
    earliest = db.execute(
        "select min(a.created_at) from deliveries d join alerts a on a.id = d.alert_id "
        "where d.folded_into = ?", [row[0]]).fetchone()[0]
    since = min(row[3], earliest) if earliest is not None else row[3]
    return Blocked(since, row[2], _title(row[4]))
