"""Is the bot healthy? One judgement for ``/status`` and ``bot.py health``.

Cycles running is not enough: when the exchange gives nothing new for hours the cycle still
runs, so the newest bar's age is judged too (past two intervals: degraded), and so is the
storage (a full or read-only disk, a database locked past every retry). Each problem is named
with its cause — exchange errors, no new bars, disk, database — in one line each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chat.freshness import NO_NEW_BARS, age_words
from storage.heartbeat import Heartbeat

OK, DEGRADED, UNHEALTHY = "ok", "degraded", "unhealthy"


@dataclass(frozen=True)
class Assessment:
    status: str  # OK, DEGRADED (the bot runs but something is wrong), UNHEALTHY (no cycles)
    causes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # worth knowing, not a fault (e.g. one symbol missing)
    cycle_age_ms: int | None = None
    data_age_ms: int | None = None  # the newest bar's age now, on the exchange's clock

    @property
    def healthy(self) -> bool:
        return self.status == OK

    def line(self) -> str:
        """``ok: ...`` or ``degraded: cause; cause``."""
        said = self.causes or self.notes
        return self.status + (": " + "; ".join(said) if said else "")


@dataclass
class _Judge:
    causes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _utc(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def data_age_now(detail: Mapping[str, Any], now_ms: int) -> int | None:
    """The newest bar's age now from a cycle's heartbeat: its age at the cycle's start plus
    the time since."""
    age, started = detail.get("data_age_ms"), detail.get("started_ms")
    if age is None or started is None or int(age) < 0:
        return None
    return int(age) + max(0, now_ms - int(started))


def assess(beat: Heartbeat | None, now_ms: int, interval_ms: int, *,
           storage_problems: tuple[str, ...] = (), live_age_ms: int | None = None,
           live_reason: str | None = None) -> Assessment:
    """Judge the last cycle's heartbeat at ``now_ms``. ``storage_problems`` are what the
    caller found wrong with the disk or the database right now; ``live_age_ms`` (with
    ``live_reason``) is the age of data the caller fetched itself, which wins when newer."""
    j = _Judge()
    limit = 2 * interval_ms
    j.causes += [f"storage: {p}" for p in storage_problems]
    if beat is None:
        return Assessment(UNHEALTHY, ("no cycle has completed yet", *j.causes))
    cycle_age = max(0, now_ms - beat.ts)
    detail = beat.detail
    if cycle_age > limit:
        j.causes.insert(0, f"last cycle {age_words(cycle_age)} ago (limit {age_words(limit)})")
    data_age = data_age_now(detail, now_ms)
    fetch_error = detail.get("fetch_error")
    if live_age_ms is not None and live_age_ms >= 0 and (data_age is None
                                                          or live_age_ms < data_age):
        data_age, fetch_error = live_age_ms, live_reason if live_reason != NO_NEW_BARS else None
    if data_age is None:
        j.causes.append("no market data yet" + (f": exchange errors: {fetch_error}"
                                                if fetch_error else ""))
    elif data_age > limit:
        newest = detail.get("newest_bar_ms")
        why = (f"exchange errors: {fetch_error}" if fetch_error else
               NO_NEW_BARS + (f" (newest bar closed {_utc(int(newest))})" if newest else ""))
        j.causes.append(f"data {age_words(data_age)} old: {why}")
    if detail.get("storage_error"):
        j.causes.append(f"storage: {detail['storage_error']}")
    if detail.get("held_alerts"):
        j.causes.append(f"{detail['held_alerts']} alert(s) kept in memory until they can be "
                        "written")
    if detail.get("missing"):
        j.notes.append("no data for " + ", ".join(sorted(detail["missing"])))
    if fetch_error and not any("exchange errors" in c for c in j.causes):
        j.notes.append(f"last fetch: {fetch_error}")
    status = (UNHEALTHY if cycle_age > limit else DEGRADED if j.causes else OK)
    return Assessment(status, tuple(dict.fromkeys(j.causes)), tuple(j.notes), cycle_age,
                      data_age)
