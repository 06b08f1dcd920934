"""Every write goes through ``storage.writes.write``: a database another connection keeps
locked past ``busy_timeout`` is tried again with backoff, the body runs once, and a write
that still fails is remembered as a storage fault until one succeeds. Real SQLite files, a
second real connection holding the lock."""

from __future__ import annotations

import logging
import sqlite3
import threading

import pytest

from storage import open_database
from storage.chats import ensure_chat, get_settings
from storage.heartbeat import beat, last_beat
from storage.writes import FULL, LOCKED, current_fault, describe_fault, fault_kind, write


def hold_lock(path) -> sqlite3.Connection:
    """Another process's writer: a connection holding the write lock until it commits."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_a_locked_write_is_tried_again_until_the_lock_goes(tmp_path, caplog):
    db = open_database(tmp_path / "hw.db", busy_timeout_ms=50)
    other = hold_lock(tmp_path / "hw.db")
    release = threading.Timer(0.4, other.commit)  # longer than one busy_timeout
    release.start()
    try:
        with caplog.at_level(logging.WARNING, logger="storage.writes"):
            beat(db, "cycle", 1_000, 5.0)
    finally:
        release.join()
        other.close()
    assert last_beat(db, "cycle").ts == 1_000
    assert any("database locked" in r.getMessage() for r in caplog.records)
    assert current_fault(db) is None


def test_a_lock_held_past_every_retry_fails_once_and_is_remembered(tmp_path):
    db = open_database(tmp_path / "hw.db", busy_timeout_ms=20)
    other = hold_lock(tmp_path / "hw.db")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            ensure_chat(db, 42)
        fault = current_fault(db)
        assert fault is not None and fault.kind == LOCKED
        assert "locked by another writer" in fault.text()
    finally:
        other.commit()
        other.close()
    ensure_chat(db, 42)  # the lock is gone: the same write goes through, the fault is cleared
    assert get_settings(db, 42).type == "private" and current_fault(db) is None


def test_the_body_of_a_write_runs_once_and_rolls_back_on_error(tmp_path):
    db = open_database(tmp_path / "hw.db")
    with pytest.raises(ZeroDivisionError), write(db):
        db.execute("insert into heartbeat (name, ts, duration_ms, status, detail) "
                   "values ('x', 1, 0, 'ok', '{}')")
        1 / 0  # noqa: B018
    assert last_beat(db, "x") is None and current_fault(db) is None  # a bug is no disk fault


def test_a_full_database_is_a_storage_fault(tmp_path):
    """SQLite's own "database or disk is full" (a page limit stands in for the disk here;
    ``tests/jobs/test_storage_faults.py`` fills a real tmpfs)."""
    db = open_database(tmp_path / "hw.db")
    pages = db.execute("pragma page_count").fetchone()[0]
    db.execute(f"pragma max_page_count = {pages}")
    with pytest.raises(sqlite3.OperationalError) as e, write(db):
        db.execute("create table filler (x blob)")
        db.execute("insert into filler values (zeroblob(1000000))")
    assert fault_kind(e.value) == FULL
    assert current_fault(db).kind == FULL
    assert describe_fault(e.value).startswith("the disk is full")
