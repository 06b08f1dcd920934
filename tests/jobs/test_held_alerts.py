"""Alerts the outbox could not take wait in memory, oldest first, and are written before the
next cycle's own; the queue is bounded and keeps no engine results."""

from __future__ import annotations

import sqlite3

import pytest

from core.alerts import Alert
from jobs.held_alerts import HeldAlerts
from plugins.alert_rules.base import RuleContext
from settings import Config
from storage import open_database
from storage.rule_state import RuleMemory


def ctx(db, now_ms: int) -> RuleContext:
    return RuleContext(None, Config(), RuleMemory(db), now_ms, now_ms, -1)


def alert(n: int) -> Alert:
    return Alert(kind="regime", dedup_key=f"regime:t:{n}", severity="info", title="t",
                 body=(), action="a", time_ms=n, data_age_ms=0, cooldown_ms=0)


def test_held_alerts_are_written_in_order_once_the_storage_recovers(tmp_path):
    db = open_database(tmp_path / "hw.db")
    held = HeldAlerts(db)
    written: list[str] = []
    full = True

    def write(c, alerts):
        if full:
            raise sqlite3.OperationalError("database or disk is full")
        written.extend(a.dedup_key for a in alerts)
        return alerts

    for n in (1, 2):
        with pytest.raises(sqlite3.OperationalError):
            held.record(ctx(db, n), [alert(n)], write)
    with pytest.raises(sqlite3.OperationalError):
        held.record(ctx(db, 3), [], write)  # a cycle that raised nothing
    assert len(held) == 2
    full = False
    new = held.record(ctx(db, 4), [alert(4)], write)
    assert written == ["regime:t:1", "regime:t:2", "regime:t:4"] == [a.dedup_key for a in new]
    assert len(held) == 0


def test_the_queue_is_bounded_and_drops_the_oldest(tmp_path, caplog):
    db = open_database(tmp_path / "hw.db")
    held = HeldAlerts(db, limit=3)

    def fail(c, alerts):
        raise sqlite3.OperationalError("database or disk is full")

    for n in range(5):
        with pytest.raises(sqlite3.OperationalError):
            held.record(ctx(db, n), [alert(n)], fail)
    assert len(held) == 3 and "dropped" in caplog.text and "regime:t:0" in caplog.text
    assert all(c.result is None for c, _ in held._queue)
