"""/status: ok or degraded and why, the last watch cycle, the exchange's health, the data's
age now, the storage, the outbox queue, and how the connected exchange accounts sync (counts
only: /status may be asked in a group)."""

from __future__ import annotations

from typing import Any

from chat.commands.base import Command, Reply
from chat.context import CommandContext
from chat.first_screens import status_short
from chat.freshness import EXCHANGE_DOWN, age_words
from chat.service_health import assess
from plugins.exchanges.errors import MarketError
from storage.accounts import sync_counts
from storage.heartbeat import last_beat
from storage.writes import current_fault


def pending_deliveries(db: Any) -> int:
    return int(db.execute(
        "select count(*) from deliveries where status = 'pending'").fetchone()[0])


class Status(Command):
    name = "status"
    summary = "ok or degraded and why, last cycle, exchange, data age, storage, queued alerts"
    usage = "/status [full]"
    expandable = True
    examples = ("/status",)

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        s = ctx.services
        now = s.now_ms()
        beat = last_beat(s.db, "cycle")
        fault = current_fault(s.db)
        h = s.market.health()
        health = {"name": h.name, "latency_p50_ms": h.latency_p50_ms,
                  "latency_p95_ms": h.latency_p95_ms, "last_success_ms": h.last_success_ms,
                  "requests": h.requests, "retries": h.retries, "errors": h.errors,
                  "last_error": h.last_error}
        snap, behind, age = None, None, None
        try:
            snap = await s.snapshot()
        except MarketError as e:  # nothing fetched yet and the exchange is down
            behind = f"{EXCHANGE_DOWN} ({str(e)[:120]})"
        if snap is not None:
            fresh = await s.freshness(snap)
            age, behind = fresh.age_ms, None if fresh.current else fresh.reason
        verdict = assess(beat, now, s.config.schedule.interval.ms,
                         storage_problems=(fault.text(),) if fault else (),
                         live_age_ms=age, live_reason=behind)
        lines = [f"Status: {verdict.status.upper()}"
                 + (" — " + "; ".join(verdict.causes) if verdict.causes else "")]
        cycle: dict[str, Any] | None = None
        if beat is None:
            lines.append("Last cycle: none yet")
        else:
            cycle = {"ts": beat.ts, "age_ms": now - beat.ts, "duration_ms": beat.duration_ms,
                     "status": beat.status}
            lines.append(f"Last cycle: {age_words(now - beat.ts)} ago, {beat.status}, "
                         f"took {beat.duration_ms:.0f} ms")
        lat = "" if h.latency_p95_ms is None else f", p95 {h.latency_p95_ms:.0f} ms"
        lines.append(f"Exchange {h.name}: {h.requests} requests, {h.errors} errors, "
                     f"{h.retries} retries{lat}" + (f" — last error: {h.last_error}"
                                                     if h.last_error else ""))
        lines.append("Data: " + ("none" if age is None or age < 0 else
                                 f"newest bar {age_words(age)} old, on the exchange's clock")
                     + (f" — ⚠ {behind}" if behind else "")
                     + (" (SIMULATED)" if snap is not None and snap.simulated else ""))
        if snap is not None and snap.missing:
            lines.append("⚠ no data for " + ", ".join(sorted(snap.missing)))
        lines.append("Storage: " + (fault.text() if fault else "ok"))
        queue = pending_deliveries(s.db)
        lines.append(f"Outbox: {queue} alert(s) waiting to be sent")
        accounts = sync_counts(s.db)
        if accounts["connected"]:
            oldest = accounts["oldest_sync_ms"]
            lines.append(f"Connected exchange accounts: {accounts['connected']}, "
                         f"{accounts['failing']} not syncing"
                         + ("" if oldest is None else
                            f"; the oldest last sync {age_words(max(0, now - oldest))} ago"))
        lines += [f"Note: {n}" for n in verdict.notes]
        return Reply(data={"status": verdict.status, "causes": list(verdict.causes),
                           "cycle": cycle, "exchange": health, "data_age_ms": age,
                           "data_behind": behind,
                           "data_age_by_symbol_ms": h.data_age_ms,
                           "missing": dict(snap.missing) if snap is not None else {},
                           "storage": None if fault is None else {
                               "kind": fault.kind, "error": fault.message,
                               "since_ms": fault.since_ms, "held_alerts": fault.held_alerts},
                           "outbox_pending": queue, "accounts": accounts,
                           "simulated": bool(snap is not None and snap.simulated)},
                     text=lines, short=status_short({}, lines))
