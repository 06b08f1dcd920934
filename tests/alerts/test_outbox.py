"""The outbox: one transaction per cycle, recipients chosen when written, dedup and cooldown,
chat migration."""

from __future__ import annotations

import sqlite3

import pytest

from plugins.alert_rules.base import Alert
from storage import outbox
from storage.chats import set_active, set_min_severity, set_muted_until, set_subscriptions
from storage.rule_state import RuleMemory

T0 = 1_772_323_200_000
HOUR = 3_600_000


def market(key: str = "1", severity: str = "warning", kind: str = "cascade") -> Alert:
    return Alert(kind, f"{kind}:high:{key}", severity, "t", ("b",), "a", T0, 0, HOUR)


def trade(owner: int, severity: str = "warning") -> Alert:
    return Alert("liquidation", f"liquidation:9:{severity}:{T0}", severity, "t", ("b",), "a", T0,
                 0, HOUR, trade_id=9, owner_chat_id=owner)


def recipients(db, alert_id: int = 1) -> set:
    return {r[0] for r in db.execute("select chat_id from deliveries where alert_id = ?",
                                     [alert_id])}


def test_subscriptions_severity_mute_and_inactive_chats_are_applied_when_written(db):
    set_subscriptions(db, 1, ["cascade"])
    set_subscriptions(db, 2, ["cascade"])
    set_min_severity(db, 2, "critical")
    set_subscriptions(db, 3, ["cascade"])
    set_muted_until(db, 3, T0 + HOUR)
    set_subscriptions(db, 4, ["cascade"])
    set_active(db, 4, False)
    set_subscriptions(db, 5, ["funding"])
    set_subscriptions(db, -100, ["cascade", "regime"], chat_type="supergroup")
    new = outbox.record_alerts(db, [market()], now_ms=T0, signal_channel=-1009)
    assert len(new) == 1
    assert recipients(db) == {1, -100, -1009}
    assert {r[0] for r in db.execute("select status from deliveries")} == {"pending"}


def test_trade_alerts_go_to_the_owner_only(db):
    set_subscriptions(db, 1, ["liquidation"])
    outbox.record_alerts(db, [trade(owner=77)], now_ms=T0, signal_channel=-1009)
    assert recipients(db) == {77}
    set_muted_until(db, 78, T0 + HOUR)
    outbox.record_alerts(db, [Alert("liquidation", "liquidation:10:warning:1", "warning", "t",
                                    (), "a", T0, 0, HOUR, trade_id=10, owner_chat_id=78)],
                         now_ms=T0)
    assert recipients(db, 2) == set()


def test_a_critical_alert_on_the_owners_trade_breaks_through_mute_unless_mute_all(db):
    set_subscriptions(db, 50, ["cascade"])
    set_muted_until(db, 50, T0 + HOUR)
    outbox.record_alerts(db, [trade(owner=50, severity="warning")], now_ms=T0)
    outbox.record_alerts(db, [Alert("liquidation", "liquidation:9:critical:x", "critical", "t",
                                    (), "a", T0, 0, 0, trade_id=9, owner_chat_id=50)],
                         now_ms=T0)
    outbox.record_alerts(db, [market(severity="critical")], now_ms=T0)  # not about a trade
    assert (recipients(db, 1), recipients(db, 2), recipients(db, 3)) == (set(), {50}, set())
    set_muted_until(db, 50, T0 + HOUR, everything=True)
    outbox.record_alerts(db, [Alert("liquidation", "liquidation:9:critical:y", "critical", "t",
                                    (), "a", T0, 0, 0, trade_id=9, owner_chat_id=50)],
                         now_ms=T0)
    assert recipients(db, 4) == set()


def test_same_dedup_key_is_recorded_once_and_cooldown_holds_the_subject(db):
    set_subscriptions(db, 1, ["cascade"])
    assert len(outbox.record_alerts(db, [market("1"), market("1")], now_ms=T0)) == 1
    assert outbox.record_alerts(db, [market("2")], now_ms=T0 + HOUR - 1) == []
    assert len(outbox.record_alerts(db, [market("3")], now_ms=T0 + HOUR)) == 1
    assert db.execute("select count(*) from deliveries").fetchone()[0] == 2


def test_the_global_minimum_severity_records_but_delivers_nothing(db):
    set_subscriptions(db, 1, ["cascade"])
    outbox.record_alerts(db, [market(severity="info")], now_ms=T0, min_severity="warning")
    assert db.execute("select count(*) from alerts").fetchone()[0] == 1
    assert recipients(db) == set()


def test_alerts_deliveries_and_rule_memory_are_one_transaction(db):
    set_subscriptions(db, 1, ["cascade"])
    memory = RuleMemory(db)
    memory.set("cascade", "level", "high", now_ms=T0)
    memory.writes.append(type(memory.writes[0])("insert into nowhere values (1)", [], None))
    with pytest.raises(sqlite3.OperationalError):
        outbox.record_alerts(db, [market()], now_ms=T0, memory=memory)
    for table in ("alerts", "deliveries", "rule_state"):
        assert db.execute(f"select count(*) from {table}").fetchone()[0] == 0


def test_memory_tied_to_an_alert_is_written_only_if_the_alert_is(db):
    memory = RuleMemory(db)
    outbox.record_alerts(db, [market("1")], now_ms=T0)
    memory.set("r", "k", 1, now_ms=T0, only_if="cascade:high:2")  # will hit the cooldown
    outbox.record_alerts(db, [market("2")], now_ms=T0 + 1, memory=memory)
    assert memory.get("r", "k") is None


def test_migrate_chat_moves_settings_trades_and_unsent_deliveries(db):
    set_subscriptions(db, -5, ["cascade"], chat_type="group")
    outbox.record_alerts(db, [market("1")], now_ms=T0)
    outbox.migrate_chat(db, -5, -1005, T0)
    assert recipients(db) == {-1005}
    row = db["chats"].get(-1005)
    assert row["type"] == "supergroup" and '"cascade"' in row["subscriptions"]
    assert db["chats"].get(-5)["active"] == 0
    outbox.record_alerts(db, [market("2", kind="regime")], now_ms=T0)
    assert recipients(db, 2) == set()
