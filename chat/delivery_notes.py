"""What one delivery tells its chat about alerts it missed: the updates a newer alert replaces
("3 updates while Telegram was unreachable") and how long delivery was blocked when the last
alert on the same subject expired undelivered. Shown under the alert's title."""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from storage.delivery_backlog import Blocked, Missed, missed_expired, missed_folded
from storage.outbox import Delivery, StoredAlert

LISTED = 3  # earlier titles named in a folded note; the rest are counted


def clock(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%H:%M")


def span(ms: int) -> str:
    """A length of time as a trader reads it: "45 min", "2 h 05 min"."""
    minutes = max(0, round(ms / 60_000))
    if minutes < 60:
        return f"{minutes} min" if minutes else "under a minute"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def folded_note(missed: list[Missed]) -> str:
    """The line of a delivery that replaces ``missed`` (oldest first)."""
    why = " while Telegram was unreachable" if any(m.attempts for m in missed) else ""
    named = "; ".join(f"{clock(m.created_at)} {m.title}" for m in missed[-LISTED:])
    more = f" and {len(missed) - LISTED} more" if len(missed) > LISTED else ""
    return (f"{len(missed) + 1} updates on this since {clock(missed[0].created_at)} UTC{why}; "
            f"this is the latest. Earlier: {named}{more}.")


def blocked_note(blocked: Blocked) -> str:
    """The line of the first delivery on a subject after the last one expired undelivered."""
    return (f"Delivery was blocked for {span(blocked.until_ms - blocked.since_ms)} from "
            f"{clock(blocked.since_ms)} UTC: the alert on this then (\u201c{blocked.title}"
            f"\u201d) expired undelivered.")


def delivery_notes(db: Database, delivery: Delivery, alert: StoredAlert) -> list[str]:
    """The notes for this delivery (none in the usual case)."""
    notes = []
    if alert.subject and (blocked := missed_expired(db, delivery.chat_id, alert.subject,
                                                    alert.id)):
        notes.append(blocked_note(blocked))
    if missed := missed_folded(db, delivery.id):
        notes.append(folded_note(missed))
    return notes
