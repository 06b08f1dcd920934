"""Opening the database: WAL, foreign keys, migrations applied."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from storage.migrations import migrations


def open_database(path: str | Path, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the SQLite file at ``path`` with migrations applied.

    WAL lets the sender read while a cycle writes; ``busy_timeout`` waits out a concurrent
    writer instead of failing, and foreign keys are enforced.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = Database(path)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 5000")
    if str(path) != ":memory:":
        db.enable_wal()
    if migrate:
        migrations.apply(db)
    return db
