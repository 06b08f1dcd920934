"""The outbox: alerts and their per-chat deliveries, written before anything is sent.

``record_alerts`` writes a cycle's alerts, their deliveries (subscriptions, minimum severity,
mute and inactive chats applied here, once) and the rules' memory in ONE transaction. The
sender then moves each delivery ``pending → sending → sent`` (or ``failed``), each step its own
committed transaction, so after a crash ``sent`` is never sent again and only a delivery
caught in ``sending`` — at most one per chat, the sender keeps one in flight per chat — can
reach its chat twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from core.alerts import SEVERITIES, Alert, severity_rank
from core.cascade import LEVEL_ORDER
from i18n import use
from i18n.languages import RENDERED
from storage import chats
from storage.rule_state import RuleMemory
from storage.thresholds import thresholds_of
from storage.writes import write

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
EXPIRED, FOLDED, UNCONFIRMED = "expired", "folded", "unconfirmed"
MAY_HAVE_ARRIVED = 2  # unanswered attempts after which a delivery is not sent again
FLOOD_WAIT = "flood:"  # how the error of a delivery waiting out a 429 begins


immediate = write
"""A write transaction that takes the write lock up front (``BEGIN IMMEDIATE``), so a
concurrent writer in another process waits on ``busy_timeout`` and is retried with backoff
instead of failing (``storage.writes``)."""


def _recipients(db: Database, alert: Alert, now_ms: int, signal_channel: int | str | None
                ) -> list[int | str]:
    rank = severity_rank(alert.severity)
    # a critical alert about the owner's own trade (about to be liquidated) breaks through a
    # mute, unless the owner chose to silence that too (/mute all)
    breaks_mute = not alert.market_wide and alert.severity == "critical"

    def wants(row: dict[str, Any] | None, *, subscribed: bool) -> bool:
        if row is None:  # a chat that never changed anything: the defaults
            return True
        if not row["active"]:
            return False
        if (row["muted_until"] or 0) > now_ms and (
                not breaks_mute or chats.mutes_everything(row["settings"])):
            return False
        if rank < SEVERITIES.index(row["min_severity"] or "info"):
            return False
        return subscribed or alert.kind in json.loads(row["subscriptions"] or "[]")

    if not alert.market_wide:
        rows = list(db["chats"].rows_where("id = ?", [alert.owner_chat_id]))
        # the owner's own trade: delivered without a subscription; severity holds, and mute
        # except for critical alerts
        return [alert.owner_chat_id] if wants(rows[0] if rows else None, subscribed=True) \
            else []  # type: ignore[list-item]
    out: list[int | str] = [
        r["id"] for r in db["chats"].rows_where("active = 1 and subscriptions like ?",
                                                [f'%"{alert.kind}"%'], order_by="id")
        if wants(r, subscribed=False)]
    if signal_channel is not None and signal_channel not in out:
        rows = list(db["chats"].rows_where("id = ?", [signal_channel]))
        if wants(rows[0] if rows else None, subscribed=True):
            out.append(signal_channel)
    if alert.kind != "cascade":
        return out
    chosen = thresholds_of(db, "cascade", "level")
    return [c for c in out if _over_threshold(alert, chosen.get(c) if isinstance(c, int)
                                              else None)]


def _over_threshold(alert: Alert, wanted: str | None) -> bool:
    """A cascade alert reaches a chat only at or above the level it chose with
    ``/threshold cascade <level>``; the "eased" alert only when the episode's peak did."""
    if wanted not in LEVEL_ORDER:
        return True
    p = alert.payload
    level = p.get("level") if p.get("level") != "calm" else (p.get("peak") or p.get("previous"))
    return level not in LEVEL_ORDER or LEVEL_ORDER.index(level) >= LEVEL_ORDER.index(wanted)


def record_alerts(db: Database, alerts: Sequence[Alert], *, now_ms: int,
                  memory: RuleMemory | None = None, signal_channel: int | str | None = None,
                  min_severity: str = "info") -> list[Alert]:
    """Record alerts with their deliveries and the rules' memory in one transaction; returns
    the alerts that were new. An alert whose ``dedup_key`` exists, or whose ``cooldown_key``
    was recorded less than ``cooldown_ms`` ago, is skipped. Alerts below ``min_severity``
    are recorded (history, cooldowns) but delivered nowhere."""
    new: list[Alert] = []
    floor = SEVERITIES.index(min_severity)
    with immediate(db):
        for a in alerts:
            if db.execute("select 1 from alerts where dedup_key = ?", [a.dedup_key]).fetchone():
                continue
            if db.execute("select 1 from alerts where cooldown_key = ? and created_at > ?",
                          [a.cooldown_key, now_ms - a.cooldown_ms]).fetchone():
                continue
            cur = db.execute(
                "insert into alerts (dedup_key, cooldown_key, subject, kind, severity, symbol, "
                "trade_id, owner_chat_id, payload, created_at) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [a.dedup_key, a.cooldown_key, a.subject, a.kind, a.severity, a.symbol,
                 a.trade_id, a.owner_chat_id, json.dumps(localized_record(a), allow_nan=False),
                 now_ms])
            alert_id = cur.lastrowid
            if severity_rank(a.severity) >= floor:
                db.conn.executemany(
                    "insert into deliveries (alert_id, chat_id, status, attempts, updated_at) "
                    "values (?, ?, 'pending', 0, ?)",
                    [(alert_id, c, now_ms) for c in _recipients(db, a, now_ms, signal_channel)])
            new.append(a)
        if memory is not None:
            memory.apply(db, {a.dedup_key for a in new})
    return new


def localized_record(alert: Alert) -> dict[str, Any]:
    """``Alert.to_record()`` plus its words in every language we speak, rendered once here
    (not once per chat): ``record["text"][lang]`` holds title, body, action and the chart's
    title; the sender picks the chat's."""
    record = alert.to_record()
    text = {}
    for lang in RENDERED:
        with use(lang):
            text[lang] = {**alert.texts(),
                          "chart_title": str((alert.chart or {}).get("title") or "")}
    record["text"] = text
    return record


# --- what the sender reads and writes ----------------------------------------------------


@dataclass(frozen=True)
class StoredAlert:
    id: int
    kind: str
    severity: str
    symbol: str | None
    trade_id: int | None
    created_at: int
    record: dict[str, Any]  # Alert.to_record()
    subject: str = ""


@dataclass(frozen=True)
class Delivery:
    id: int
    alert_id: int
    chat_id: int | str
    status: str
    attempts: int
    unanswered: int = 0  # attempts that went out with no answer: they may have arrived


def load_alert(db: Database, alert_id: int) -> StoredAlert:
    r = db["alerts"].get(alert_id)
    return StoredAlert(r["id"], r["kind"], r["severity"], r["symbol"], r["trade_id"],
                       r["created_at"], json.loads(r["payload"]),
                       r["subject"] or r["cooldown_key"] or "")


def find_alert(db: Database, alert_id: int | str) -> tuple[StoredAlert, int | None] | None:
    """The stored alert and its owner chat (None for market-wide); None when ``alert_id`` is
    not a stored alert's id (an old button, a hand-typed deep link)."""
    try:
        key = int(alert_id)
    except (TypeError, ValueError):
        return None
    row = db.execute("select owner_chat_id from alerts where id = ?", [key]).fetchone()
    if row is None:
        return None
    return load_alert(db, key), row[0]


SEVERITY_ORDER = "case a.severity " + " ".join(
    f"when '{s}' then {i}" for i, s in enumerate(SEVERITIES)) + " else -1 end"


def due_deliveries(db: Database, now_ms: int, limit: int = 10_000) -> list[Delivery]:
    """Pending deliveries whose wait has passed: highest severity first, then the newest
    alert (after an outage the latest state matters most), then in recording order."""
    rows = db.execute(
        "select d.id, d.alert_id, d.chat_id, d.status, d.attempts, d.unanswered "
        "from deliveries d join alerts a on a.id = d.alert_id where d.status = ? "
        f"and coalesce(d.next_attempt_at, 0) <= ? order by {SEVERITY_ORDER} desc, "
        "a.created_at desc, d.alert_id, d.id limit ?",
        [PENDING, now_ms, limit]).fetchall()
    return [Delivery(*r) for r in rows]


def recover_sending(db: Database, now_ms: int) -> int:
    """After a crash: deliveries left in ``sending`` may or may not have reached their chat
    (the Bot API has no idempotency key); send them once more, unless one more copy could
    make it two extra (an earlier attempt went unanswered too): those become ``unconfirmed``.
    Returns how many will be sent again."""
    with immediate(db):
        db.execute("update deliveries set unanswered = unanswered + 1, updated_at = ? "
                   "where status = ?", [now_ms, SENDING])
        db.execute("update deliveries set status = ?, error = 'in flight at a crash, after an "
                   "unanswered attempt' where status = ? and unanswered >= ?",
                   [UNCONFIRMED, SENDING, MAY_HAVE_ARRIVED])
        cur = db.execute("update deliveries set status = ?, error = 'resent after restart' "
                         "where status = ?", [PENDING, SENDING])
    return cur.rowcount


def _set(db: Database, delivery_id: int, now_ms: int, **values: Any) -> None:
    cols = ", ".join(f"{k} = ?" for k in values)
    with immediate(db):
        db.execute(f"update deliveries set {cols}, updated_at = ? where id = ?",
                   [*values.values(), now_ms, delivery_id])


def mark_sending(db: Database, delivery_id: int, now_ms: int) -> bool:
    """Committed before the HTTP call: the crash-safety marker. False when the delivery is no
    longer pending (sent, given up, or merged into another by a chat migration)."""
    with immediate(db):
        cur = db.execute("update deliveries set status = ?, attempts = attempts + 1, "
                         "updated_at = ? where id = ? and status = ?",
                         [SENDING, now_ms, delivery_id, PENDING])
    return cur.rowcount > 0


def mark_sent(db: Database, delivery_id: int, message_id: int | None, now_ms: int) -> None:
    _set(db, delivery_id, now_ms, status=SENT, message_id=message_id, error=None)


def mark_retry(db: Database, delivery_id: int, error: str, next_attempt_at: int,
               now_ms: int, *, unanswered: bool = False) -> None:
    """Back to ``pending`` until ``next_attempt_at``; ``unanswered`` when this attempt went
    out without an answer (it may have arrived)."""
    with immediate(db):
        db.execute("update deliveries set status = ?, error = ?, next_attempt_at = ?, "
                   "unanswered = unanswered + ?, updated_at = ? where id = ?",
                   [PENDING, error[:500], next_attempt_at, int(unanswered), now_ms,
                    delivery_id])


def mark_unconfirmed(db: Database, delivery_id: int, error: str, now_ms: int) -> None:
    """Sent without an answer once more: it may have arrived (twice), so it is not sent again
    — and it is not a failure."""
    with immediate(db):
        db.execute("update deliveries set status = ?, error = ?, unanswered = unanswered + 1, "
                   "updated_at = ? where id = ?", [UNCONFIRMED, error[:500], now_ms, delivery_id])


def mark_failed(db: Database, delivery_id: int, error: str, now_ms: int) -> None:
    _set(db, delivery_id, now_ms, status=FAILED, error=error[:500])


def fail_chat(db: Database, chat_id: int | str, error: str, now_ms: int) -> int:
    """Give up every unsent delivery to a chat (it blocked us or is gone)."""
    with immediate(db):
        cur = db.execute("update deliveries set status = ?, error = ?, updated_at = ? "
                         "where chat_id = ? and status in (?, ?)",
                         [FAILED, error[:500], now_ms, chat_id, PENDING, SENDING])
    return cur.rowcount


def migrate_chat(db: Database, old: int, new: int, now_ms: int = 0) -> None:
    """A group became a supergroup: move its settings, trades and unsent deliveries to the new
    id in one transaction (``storage.chats`` has no such function). The old row stays,
    inactive, as the record of where the chat went."""
    with immediate(db):
        row = db.execute("select * from chats where id = ?", [old]).fetchone()
        if row is not None and not db.execute("select 1 from chats where id = ?",
                                              [new]).fetchone():
            cols = [d[0] for d in db.execute("select * from chats limit 0").description]
            values = dict(zip(cols, row, strict=True))
            values.update(id=new, type="supergroup", updated_at=now_ms)
            db.execute(f"insert into chats ({', '.join(cols)}) values "
                       f"({', '.join('?' for _ in cols)})", list(values.values()))
        if row is not None:
            db.execute("update chats set active = 0, updated_at = ? where id = ?", [now_ms, old])
        db.execute("update trades set chat_id = ? where chat_id = ?", [new, old])
        # a delivery of the same alert may already exist for the new id: keep that one
        db.execute("delete from deliveries where chat_id = ? and status in (?, ?) and alert_id "
                   "in (select alert_id from deliveries where chat_id = ?)",
                   [old, PENDING, SENDING, new])
        db.execute("update deliveries set chat_id = ?, status = ?, updated_at = ? "
                   "where chat_id = ? and status in (?, ?)",
                   [new, PENDING, now_ms, old, PENDING, SENDING])


def delivery_counts(db: Database) -> dict[str, int]:
    """How many deliveries are in each status (for health and tests)."""
    return dict(db.execute("select status, count(*) from deliveries group by status").fetchall())
