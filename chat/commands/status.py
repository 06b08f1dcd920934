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
from i18n import N_, _
from plugins.exchanges.errors import MarketError
from storage.accounts import sync_counts
from storage.delivery_stats import Backlog, backlog, given_up_since
from storage.heartbeat import last_beat
from storage.outbox import FAILED, UNCONFIRMED
from storage.writes import current_fault

DAY_MS = 86_400_000
STATUS_WORDS = {"ok": N_("OK"), "degraded": N_("DEGRADED"), "unhealthy": N_("UNHEALTHY")}


class Status(Command):
    name = "status"
    summary = N_("ok or degraded and why, last cycle, exchange, data age, storage, "
                 "queued alerts")
    usage = N_("/status [full]")
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
        word = _(STATUS_WORDS[verdict.status]) if verdict.status in STATUS_WORDS \
            else verdict.status.upper()
        lines = [_("Status: {status} — {causes}").format(
            status=word, causes="; ".join(verdict.causes)) if verdict.causes else
            _("Status: {status}").format(status=word)]
        cycle: dict[str, Any] | None = None
        if beat is None:
            lines.append(_("Last cycle: none yet"))
        else:
            cycle = {"ts": beat.ts, "age_ms": now - beat.ts, "duration_ms": beat.duration_ms,
                     "status": beat.status}
            lines.append(_("Last cycle: {age} ago, {status}, took {ms:.0f} ms").format(
                age=age_words(now - beat.ts), status=beat.status, ms=beat.duration_ms))
        lines.append(exchange_line(h))
        simulated = snap is not None and snap.simulated
        lines.append(data_line(age, behind, simulated))
        if snap is not None and snap.missing:
            lines.append(_("⚠ no data for {symbols}").format(
                symbols=", ".join(sorted(snap.missing))))
        lines.append(_("Storage: {problem}").format(problem=fault.text()) if fault else
                     _("Storage: ok"))
        queue = backlog(s.db)
        given_up = given_up_since(s.db, now - DAY_MS)
        lines.append(outbox_line(queue, given_up, now))
        accounts = sync_counts(s.db)
        if accounts["connected"]:
            oldest = accounts["oldest_sync_ms"]
            counts = {"connected": accounts["connected"], "failing": accounts["failing"]}
            lines.append(
                _("Connected exchange accounts: {connected}, {failing} not syncing").format(
                    **counts) if oldest is None else
                _("Connected exchange accounts: {connected}, {failing} not syncing; the oldest "
                  "last sync {age} ago").format(age=age_words(max(0, now - oldest)), **counts))
        lines += [_("Note: {note}").format(note=n) for n in verdict.notes]
        return Reply(data={"status": verdict.status, "causes": list(verdict.causes),
                           "cycle": cycle, "exchange": health, "data_age_ms": age,
                           "data_behind": behind,
                           "data_age_by_symbol_ms": h.data_age_ms,
                           "missing": dict(snap.missing) if snap is not None else {},
                           "storage": None if fault is None else {
                               "kind": fault.kind, "error": fault.message,
                               "since_ms": fault.since_ms, "held_alerts": fault.held_alerts},
                           "outbox_pending": queue.depth,
                           "outbox": {"waiting": queue.depth,
                                      "oldest_waiting_ms": queue.age_ms(now)
                                      if queue.depth else None,
                                      "failed_24h": given_up[FAILED],
                                      "unconfirmed_24h": given_up[UNCONFIRMED]},
                           "accounts": accounts,
                           "simulated": bool(snap is not None and snap.simulated)},
                     text=lines, short=status_short({}, lines))


def outbox_line(queue: Backlog, given_up: dict[str, int], now_ms: int) -> str:
    """The alerts waiting (pending, or caught mid-send) and how long the oldest has, and what
    the sender gave up on in the last day — what an outage cost, not just what is queued."""
    line = (_("Outbox: {n} alert(s) waiting to be sent, the oldest for {age}").format(
        n=queue.depth, age=age_words(queue.age_ms(now_ms))) if queue.depth else
        _("Outbox: nothing waiting to be sent"))
    if given_up[FAILED] or given_up[UNCONFIRMED]:
        line += _("; in the last 24 h {failed} not delivered, {unconfirmed} not confirmed by "
                  "Telegram").format(failed=given_up[FAILED], unconfirmed=given_up[UNCONFIRMED])
    return line


def exchange_line(h: Any) -> str:
    """The exchange's requests, errors and retries, its p95 latency and last error as tags."""
    line = _("Exchange {name}: {requests} requests, {errors} errors, {retries} retries").format(
        name=h.name, requests=h.requests, errors=h.errors, retries=h.retries)
    if h.latency_p95_ms is not None:
        line += _(", p95 {ms:.0f} ms").format(ms=h.latency_p95_ms)
    if h.last_error:
        line += _(" — last error: {error}").format(error=h.last_error)
    return line


def data_line(age: int | None, behind: str | None, simulated: bool) -> str:
    """The newest bar's age now (or none), why it is behind, whether it is simulated."""
    line = (_("Data: none") if age is None or age < 0 else
            _("Data: newest bar {age} old, on the exchange's clock").format(age=age_words(age)))
    if behind:
        line += _(" — ⚠ {reason}").format(reason=behind)
    return line + (_(" (SIMULATED)") if simulated else "")
