"""Plugin failures seen at run time, one row per (plugin, hook) with a count.

The running bot records them as they happen; ``bot.py plugins`` — another process — reads
them, so an operator sees which plugin raised in which hook even when the log has rotated.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from storage.writes import write


@dataclass(frozen=True)
class StoredFailure:
    plugin: str
    hook: str
    error: str  # the latest
    count: int
    first_at: int  # ms
    last_at: int  # ms


def record_failure(db: Database, plugin: str, hook: str, error: str, now_ms: int) -> None:
    """Count one more failure of ``plugin`` in ``hook``, keeping the latest error text."""
    with write(db):
        db.execute(
            "insert into plugin_failures (plugin, hook, error, count, first_at, last_at) "
            "values (?, ?, ?, 1, ?, ?) on conflict (plugin, hook) do update set "
            "error = excluded.error, count = count + 1, last_at = excluded.last_at",
            [plugin, hook, error[:500], now_ms, now_ms])


def recent_failures(db: Database, since_ms: int = 0) -> list[StoredFailure]:
    """Failures last seen at or after ``since_ms``, most recent first."""
    return [StoredFailure(r["plugin"], r["hook"], r["error"], r["count"], r["first_at"],
                          r["last_at"])
            for r in db["plugin_failures"].rows_where("last_at >= ?", [since_ms],
                                                      order_by="last_at desc")]
