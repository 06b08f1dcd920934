"""Opening the database: WAL, foreign keys, a busy timeout, migrations applied; and the
start-up check that it can be written at all."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
from pathlib import Path

from sqlite_utils import Database

from i18n import _
from storage.migrations import migrations
from storage.writes import LOCKED, describe_fault, fault_kind, write

log = logging.getLogger(__name__)
MIN_FREE_BYTES = 1 << 20  # below this the next cycle's writes would fail: the disk is full


class StorageUnavailable(Exception):
    """The database cannot be opened or written (read-only, full disk, locked): one line
    for the operator, then exit 1."""


def open_database(path: str | Path, *, migrate: bool = True,
                  busy_timeout_ms: int = 5000) -> Database:
    """Open (creating if needed) the SQLite file at ``path`` with migrations applied.

    WAL lets the sender read while a cycle writes; ``busy_timeout`` waits out a concurrent
    writer (and ``storage.writes`` tries again with backoff after it), and foreign keys are
    enforced.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = Database(path)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    if str(path) != ":memory:":
        db.enable_wal()
    if migrate:
        migrations.apply(db)
    return db


def disk_problem(path: str | Path) -> str | None:
    """Why the disk holding ``path`` cannot take writes, judged without writing (for
    ``bot.py health`` and start-up): full, or mounted read-only; None when it looks fine."""
    folder = Path(path).resolve().parent
    try:
        free = shutil.disk_usage(folder).free
        readonly = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError as e:
        return _("cannot inspect the disk at {folder}: {error}").format(folder=folder, error=e)
    if readonly:
        return _("the disk holding {folder} is mounted read-only").format(folder=folder)
    if free < MIN_FREE_BYTES:
        return _("the disk holding {folder} is full ({free:,} bytes free)").format(
            folder=folder, free=free)
    return None


def open_for_writing(path: str | Path, *, busy_timeout_ms: int = 5000) -> Database:
    """``open_database`` for the long-running bot: also checks that the disk has room and
    that a write goes through (a heartbeat named "start"), so a read-only file or a full disk
    stops the start with one line (``StorageUnavailable``) instead of failing later."""
    where = str(path)
    if where != ":memory:":
        problem = disk_problem(where)
        if problem is not None:
            raise StorageUnavailable(_("cannot write the database {path}: {problem}").format(
                path=where, problem=problem))
    try:
        db = open_database(where, busy_timeout_ms=busy_timeout_ms)
        with write(db):
            db.execute("insert into heartbeat (name, ts, duration_ms, status, detail) "
                       "values ('start', ?, 0, 'ok', '{}') on conflict(name) do update set "
                       "ts = excluded.ts", [int(time.time() * 1000)])
    except (sqlite3.Error, OSError) as e:
        if fault_kind(e) == LOCKED:  # another writer: the bot starts, writes are retried
            log.warning("database %s is locked at start (%s): starting anyway; writes are "
                        "retried and the scheduler repeats what fails", where, e)
            return open_database(where, busy_timeout_ms=busy_timeout_ms, migrate=False)
        raise StorageUnavailable(_("cannot write the database {path}: {problem}").format(
            path=where, problem=describe_fault(e))) from e
    return db
