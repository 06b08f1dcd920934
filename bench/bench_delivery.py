"""Alert delivery through Telegram trouble, with the real PTB bot and the fake Bot API
enforcing Telegram's flood limits (30 messages/s overall).

1. A 1,000-chat fan-out after a 10-minute 502 outage (cascade HIGH when it starts, CASCADE
   five minutes in, which supersedes it): the outage passes on a simulated clock (drains as
   the service would run them: probes, backoff), then the backlog drains in real time.
   Baseline: the same fan-out with no outage, in the same run; the bound is
   1,000 / 30 = 33.3 s. Also: Bot API calls spent during the outage, and duplicates.
2. The issue's latency case at full scale: 8 s on every call against a 5 s read timeout, to
   ``LATENCY_CHATS`` chats: every first attempt times out although Telegram delivered it;
   copies per chat (the bound is 2: one duplicate at most) and the database's states.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.timing import row
from chat.sender import DrainReport, Sender, make_bot
from settings import Config
from storage import open_database, outbox
from tests.alerts.delivery_scenario import T0, alert_of, market_alert, subscribe
from tests.fakes.telegram_server import FakeTelegram

N = 1_000
OUTAGE_S = 600
LATENCY_CHATS = 100


class Clock:
    """The sender's clock: real time, plus the simulated seconds skipped over an outage."""

    def __init__(self) -> None:
        self.start, self.skipped = time.monotonic(), 0.0

    def __call__(self) -> float:
        return T0 / 1000 + self.skipped + time.monotonic() - self.start

    def to(self, ms: int) -> None:
        self.skipped += max(0.0, ms / 1000 - self())


def _seed(folder: Path, name: str, chats: int, state: str = "cascade") -> Any:
    db = open_database(folder / f"{name}.db")
    subscribe(db, list(range(10_001, 10_001 + chats)), ("cascade",))
    _record(db, state, 0)
    return db


def _record(db: Any, state: str, at_s: int) -> None:
    severity = "critical" if state == "cascade" else "warning"
    outbox.record_alerts(db, [market_alert("cascade", state, severity, at_s,
                                           f"Cascade level {state.upper()}")],
                         now_ms=T0 + at_s * 1000)


async def _settle(sender: Sender, clock: Clock) -> DrainReport:
    total = DrainReport()
    while True:
        report = await sender.drain()
        total.add(report)
        if report.next_due_ms is None:
            return total
        await asyncio.sleep(max(0.0, report.next_due_ms / 1000 - clock()))


def _copies(tg: FakeTelegram) -> Counter[tuple[int, int]]:
    return Counter((m.chat_id, alert_of(m)) for m in tg.sent)


async def _fan_out(folder: Path, outage: bool) -> dict[str, float]:
    # with the outage: HIGH when it starts, CASCADE 5 minutes in (it supersedes HIGH)
    db = _seed(folder, f"fanout-{outage}", N, "high" if outage else "cascade")
    clock = Clock()
    async with FakeTelegram() as tg:
        config = Config().with_overrides(telegram={"api_url": tg.base_url})
        sender = Sender(db, make_bot(config, tg.token), config, clock=clock)
        calls, wait_s = 0, 0.0
        if outage:
            tg.set_outage(502)
            next_cycle, report, escalated = T0, await sender.drain(), False
            while clock() * 1000 < T0 + OUTAGE_S * 1000:  # drains as the service would
                due = min(report.next_due_ms or next_cycle, next_cycle)
                clock.to(min(due, T0 + OUTAGE_S * 1000))
                if clock() * 1000 >= T0 + OUTAGE_S * 1000:
                    break
                if due == next_cycle:
                    next_cycle += 60_000  # the cascade watch's drain
                if not escalated and clock() * 1000 >= T0 + 300_000:
                    _record(db, "cascade", round(clock() - T0 / 1000))
                    escalated = True
                report = await sender.drain()
            calls = len(tg.rejected)
            tg.set_outage(None)
            back = clock()
            clock.to(report.next_due_ms or int(back * 1000))  # the next probe finds it back
            wait_s = clock() - back
        t0 = time.perf_counter()
        await _settle(sender, clock)
        elapsed = time.perf_counter() - t0
        await sender.bot.shutdown()
        copies = _copies(tg)
        return {"elapsed": elapsed, "sent": sum(copies.values()), "calls": calls,
                "wait": wait_s, "dupes": sum(n - 1 for n in copies.values()),
                "flood": sum(r.status == 429 for r in tg.rejected)}


async def _latency(folder: Path) -> dict[str, Any]:
    db = _seed(folder, "latency", LATENCY_CHATS)
    clock = Clock()
    async with FakeTelegram() as tg:
        config = Config().with_overrides(telegram={"api_url": tg.base_url,
                                                   "read_timeout": "5s"})
        sender = Sender(db, make_bot(config, tg.token), config, clock=clock)
        tg.set_latency(8.0)
        t0 = time.perf_counter()
        await _settle(sender, clock)
        elapsed = time.perf_counter() - t0
        await tg.settle(60)
        await sender.bot.shutdown()
    states = Counter(r[0] for r in db.execute("select status from deliveries"))
    return {"elapsed": elapsed, "copies": _copies(tg), "states": dict(states)}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = asyncio.run(_fan_out(folder, outage=False))
        after = asyncio.run(_fan_out(folder, outage=True))
        assert base["sent"] == after["sent"] == N, (base, after)
        row(f"fan-out of 1 alert to {N:,} chats, no outage (baseline)", base["elapsed"],
            baseline=N / 30, unit="s", target="ratio ≥ 0.9 of the 33.3 s bound")
        row(f"the same after a {OUTAGE_S // 60}-minute 502 outage", after["elapsed"],
            baseline=base["elapsed"], unit="s", target="ratio ≈ 1: no slower once back")
        print(f"    outage: {after['calls']} Bot API calls in {OUTAGE_S} s (probes, not "
              f"{N:,} × retries; HIGH folded into CASCADE); next probe {after['wait']:.0f} s "
              f"after Telegram was back; duplicates {after['dupes']} (baseline "
              f"{base['dupes']}); 429s {after['flood']}", flush=True)
        lat = asyncio.run(_latency(folder))
        per_chat = Counter(lat["copies"].values())
        row(f"{LATENCY_CHATS} chats, 8 s latency vs 5 s read timeout",
            lat["elapsed"], unit="s")
        print(f"    copies per chat and alert: {dict(sorted(per_chat.items()))} "
              f"(bound: 2); states {lat['states']}", flush=True)
        assert max(per_chat) <= 2


if __name__ == "__main__":
    main()
