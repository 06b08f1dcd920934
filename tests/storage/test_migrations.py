"""Schema migrations: named steps, idempotent, upgrading older files; WAL and foreign keys."""

from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils import Database

from storage import open_database
from storage.migrations import migrations


def test_fresh_database_has_every_table(db_path):
    db = open_database(db_path)
    assert {"chats", "trades", "candles", "market_stats", "alerts", "deliveries",
            "recommendations", "heartbeat", "users"} <= set(db.table_names())
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_applying_twice_is_a_no_op(db_path):
    db = open_database(db_path)
    applied = [m.name for m in migrations.applied(db)]
    schema = db.schema
    db2 = open_database(db_path)
    assert [m.name for m in migrations.applied(db2)] == applied
    assert db2.schema == schema


def test_an_older_database_is_upgraded_and_keeps_its_rows(db_path):
    old = Database(db_path)
    migrations.apply(old, stop_before="m002_user_settings")
    assert "users" not in old.table_names()
    old["chats"].insert({"id": 42, "type": "private", "active": 1})
    old.close()
    db = open_database(db_path)
    assert "users" in db.table_names()
    assert db["chats"].get(42)["type"] == "private"
    assert not migrations.pending(db)


def test_foreign_keys_are_enforced(db_path):
    db = open_database(db_path)
    with pytest.raises(sqlite3.IntegrityError):
        db["deliveries"].insert({"alert_id": 999, "chat_id": 1, "status": "pending"})


def test_one_delivery_per_alert_and_chat(db_path):
    db = open_database(db_path)
    db["alerts"].insert({"id": 1, "dedup_key": "k", "kind": "regime", "severity": "info",
                         "created_at": 0})
    db["deliveries"].insert({"alert_id": 1, "chat_id": 5, "status": "pending"})
    with pytest.raises(sqlite3.IntegrityError):
        db["deliveries"].insert({"alert_id": 1, "chat_id": 5, "status": "pending"})


def test_the_delivery_policy_step_keeps_alerts_and_deliveries(db_path):
    old = Database(db_path)
    migrations.apply(old, stop_before="m006_delivery_policy")
    old["alerts"].insert({"id": 1, "dedup_key": "cascade:high:1", "cooldown_key": "cascade:high",
                          "kind": "cascade", "severity": "warning", "created_at": 0})
    old["deliveries"].insert({"alert_id": 1, "chat_id": 5, "status": "pending"})
    old.close()
    db = open_database(db_path)
    assert db["alerts"].get(1)["subject"] == "cascade:high"  # an old alert: its cooldown key
    row = next(db["deliveries"].rows)
    assert (row["status"], row["unanswered"], row["folded_into"]) == ("pending", 0, None)
