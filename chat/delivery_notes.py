"""What one delivery tells its chat about alerts it missed: the updates a newer alert replaces
("3 updates while Telegram was unreachable") and how long delivery was blocked when the last
alert on the same subject expired undelivered. Shown under the alert's title."""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from i18n import _, ngettext
from storage.delivery_backlog import Blocked, Missed, missed_expired, missed_folded
from storage.outbox import Delivery, StoredAlert

LISTED = 3  # earlier titles named in a folded note; the rest are counted


def clock(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%H:%M")


def span(ms: int) -> str:
    """A length of time as a trader reads it: "45 min", "2 h 05 min"."""
    minutes = max(0, round(ms / 60_000))
    if minutes < 60:
        return ngettext("{n} min", "{n} min", minutes).format(n=minutes) if minutes \
            else _("under a minute")
    return _("{hours} h {minutes:02d} min").format(hours=minutes // 60, minutes=minutes % 60)


def folded_note(missed: list[Missed]) -> str:
    """The line of a delivery that replaces ``missed`` (oldest first)."""
    named = "; ".join(f"{clock(m.created_at)} {m.title}" for m in missed[-LISTED:])
    earlier = (_("{named} and {n} more").format(named=named, n=len(missed) - LISTED)
               if len(missed) > LISTED else named)
    values = {"count": len(missed) + 1, "since": clock(missed[0].created_at),
              "earlier": earlier}
    if any(m.attempts for m in missed):
        return _("{count} updates on this since {since} UTC while Telegram was unreachable; "
                 "this is the latest. Earlier: {earlier}.").format(**values)
    return _("{count} updates on this since {since} UTC; this is the latest. "
             "Earlier: {earlier}.").format(**values)


def blocked_note(blocked: Blocked) -> str:
    """The line of the first delivery on a subject after the last one expired undelivered."""
    return _("Delivery was blocked for {span} from {since} UTC: the alert on this then "
             "(\u201c{title}\u201d) expired undelivered.").format(
        span=span(blocked.until_ms - blocked.since_ms), since=clock(blocked.since_ms),
        title=blocked.title)


def delivery_notes(db: Database, delivery: Delivery, alert: StoredAlert) -> list[str]:
    """The notes for this delivery (none in the usual case)."""
    notes = []
    if alert.subject and (blocked := missed_expired(db, delivery.chat_id, alert.subject,
                                                    alert.id)):
        notes.append(blocked_note(blocked))
    if missed := missed_folded(db, delivery.id):
        notes.append(folded_note(missed))
    return notes
