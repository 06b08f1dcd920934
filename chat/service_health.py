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

from chat.freshness import NO_NEW_BARS, age_words, reason_words
from i18n import _, ngettext
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
    ``live_reason``) is the age of data the caller fetched itself, which wins when newer.
    Causes and notes are in the current language (``/status`` shows them)."""
    j = _Judge()
    limit = 2 * interval_ms
    j.causes += [_("storage: {problem}").format(problem=p) for p in storage_problems]
    if beat is None:
        return Assessment(UNHEALTHY, (_("no cycle has completed yet"), *j.causes))
    cycle_age = max(0, now_ms - beat.ts)
    detail = beat.detail
    if cycle_age > limit:
        j.causes.insert(0, _("last cycle {age} ago (limit {limit})").format(
            age=age_words(cycle_age), limit=age_words(limit)))
    data_age = data_age_now(detail, now_ms)
    fetch_error = detail.get("fetch_error")
    if live_age_ms is not None and live_age_ms >= 0 and (data_age is None
                                                          or live_age_ms < data_age):
        data_age, fetch_error = live_age_ms, live_reason if live_reason != NO_NEW_BARS else None
    error = reason_words(str(fetch_error)) if fetch_error else ""
    said_error = False  # a cause already names the exchange's error
    if data_age is None:
        said_error = bool(fetch_error)
        j.causes.append(_("no market data yet: exchange errors: {error}").format(error=error)
                        if fetch_error else _("no market data yet"))
    elif data_age > limit:
        newest = detail.get("newest_bar_ms")
        age = age_words(data_age)
        said_error = bool(fetch_error)
        j.causes.append(
            _("data {age} old: exchange errors: {error}").format(age=age, error=error)
            if fetch_error else
            _("data {age} old: no new bars from the exchange (newest bar closed {when})")
            .format(age=age, when=_utc(int(newest))) if newest else
            _("data {age} old: no new bars from the exchange").format(age=age))
    if detail.get("storage_error"):
        j.causes.append(_("storage: {problem}").format(problem=detail["storage_error"]))
    if detail.get("held_alerts"):
        held = int(detail["held_alerts"])
        j.causes.append(ngettext("{n} alert(s) kept in memory until they can be written",
                                 "{n} alert(s) kept in memory until they can be written",
                                 held).format(n=held))
    if detail.get("missing"):
        j.notes.append(_("no data for {symbols}").format(
            symbols=", ".join(sorted(detail["missing"]))))
    if fetch_error and not said_error:
        j.notes.append(_("last fetch: {error}").format(error=error))
    status = (UNHEALTHY if cycle_age > limit else DEGRADED if j.causes else OK)
    return Assessment(status, tuple(dict.fromkeys(j.causes)), tuple(j.notes), cycle_age,
                      data_age)
