"""What monitoring reads about the outbox: deliveries by status, and the unsent backlog with
the age of its oldest alert. Read-only queries, cheap enough for every scrape."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from storage.outbox import FAILED, PENDING, SENDING, SENT, UNCONFIRMED, delivery_counts

UNSENT = (PENDING, SENDING)


@dataclass(frozen=True)
class Backlog:
    """Deliveries not sent yet; ``oldest_ms`` is when the oldest one's alert was recorded."""

    depth: int
    oldest_ms: int | None

    def age_ms(self, now_ms: int) -> int:
        """How long the oldest unsent delivery has waited (0 when there is none)."""
        return 0 if self.oldest_ms is None else max(0, now_ms - self.oldest_ms)


def by_status(db: Database) -> dict[str, int]:
    """How many deliveries are in each status; the statuses every outbox has are always
    present, with 0 when there are none."""
    counts = {s: 0 for s in (PENDING, SENDING, SENT, FAILED)}
    counts.update(delivery_counts(db))
    return counts


def backlog(db: Database) -> Backlog:
    """The deliveries still to send (pending, or caught in sending) and the oldest one."""
    row = db.execute(
        "select count(*), min(a.created_at) from deliveries d join alerts a "
        f"on a.id = d.alert_id where d.status in ({', '.join('?' for _ in UNSENT)})",
        list(UNSENT)).fetchone()
    return Backlog(int(row[0]), None if row[1] is None else int(row[1]))


def given_up_since(db: Database, since_ms: int) -> dict[str, int]:
    """Deliveries the sender stopped on since ``since_ms``: ``failed`` (the chat refused or
    every retry failed) and ``unconfirmed`` (Telegram never answered; the alert may or may
    not have arrived), each 0 when there are none."""
    counts = {FAILED: 0, UNCONFIRMED: 0}
    counts.update(dict(db.execute(
        "select status, count(*) from deliveries where status in (?, ?) and updated_at >= ? "
        "group by status", [FAILED, UNCONFIRMED, since_ms]).fetchall()))
    return counts
