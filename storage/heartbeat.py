"""The heartbeat: each watch cycle records that it ran, ``bot.py health`` reads it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.writes import write


@dataclass(frozen=True)
class Heartbeat:
    name: str
    ts: int  # ms
    duration_ms: float
    status: str
    detail: dict[str, Any]


def beat(db: Database, name: str, ts_ms: int, duration_ms: float, status: str = "ok",
         detail: dict[str, Any] | None = None) -> None:
    """Record that ``name`` (e.g. "cycle", "cascade_watch") finished at ``ts_ms``."""
    with write(db):
        db["heartbeat"].upsert(
            {"name": name, "ts": ts_ms, "duration_ms": duration_ms, "status": status,
             "detail": json.dumps(detail or {})},
            pk="name",
        )


def last_beat(db: Database, name: str) -> Heartbeat | None:
    rows = list(db["heartbeat"].rows_where("name = ?", [name]))
    if not rows:
        return None
    r = rows[0]
    return Heartbeat(r["name"], r["ts"], r["duration_ms"], r["status"],
                     json.loads(r["detail"] or "{}"))
