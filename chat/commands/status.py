"""/status: the last watch cycle, the exchange's health, data age and the outbox queue."""

from __future__ import annotations

from typing import Any

from chat.commands.base import Command, Reply
from chat.context import CommandContext
from storage.heartbeat import last_beat


def _age(ms: float | None) -> str:
    if ms is None or ms < 0:
        return "n/a"
    s = ms / 1000
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def pending_deliveries(db: Any) -> int:
    return int(db.execute(
        "select count(*) from deliveries where status = 'pending'").fetchone()[0])


class Status(Command):
    name = "status"
    summary = "last cycle, exchange health, data age and queued alerts"
    usage = "/status"
    examples = ("/status",)

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        s = ctx.services
        now = s.now_ms()
        beat = last_beat(s.db, "cycle")
        cycle: dict[str, Any] | None = None
        lines = []
        if beat is None:
            lines.append("Last cycle: none yet")
        else:
            cycle = {"ts": beat.ts, "age_ms": now - beat.ts, "duration_ms": beat.duration_ms,
                     "status": beat.status}
            lines.append(f"Last cycle: {_age(now - beat.ts)} ago, {beat.status}, "
                         f"took {beat.duration_ms:.0f} ms")
        h = s.market.health()
        health = {"name": h.name, "latency_p50_ms": h.latency_p50_ms,
                  "latency_p95_ms": h.latency_p95_ms, "last_success_ms": h.last_success_ms,
                  "requests": h.requests, "retries": h.retries, "errors": h.errors,
                  "last_error": h.last_error}
        lat = "" if h.latency_p95_ms is None else f", p95 {h.latency_p95_ms:.0f} ms"
        lines.append(f"Exchange {h.name}: {h.requests} requests, {h.errors} errors, "
                     f"{h.retries} retries{lat}" + (f" — last error: {h.last_error}"
                                                     if h.last_error else ""))
        snap = s.cached_snapshot()
        if snap is None:
            snap = await s.snapshot()
        data_age = snap.data_age_ms
        lines.append(f"Data: latest bar closed {_age(data_age)} before the exchange's clock"
                     + (" (SIMULATED)" if snap.simulated else ""))
        if snap.missing:
            lines.append("⚠ no data for " + ", ".join(sorted(snap.missing)))
        queue = pending_deliveries(s.db)
        lines.append(f"Outbox: {queue} alert(s) waiting to be sent")
        return Reply(data={"cycle": cycle, "exchange": health, "data_age_ms": data_age,
                           "data_age_by_symbol_ms": h.data_age_ms,
                           "missing": dict(snap.missing), "outbox_pending": queue,
                           "simulated": snap.simulated}, text=lines)
