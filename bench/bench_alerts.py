"""One alert to 1,000 subscribers through the real PTB bot and the fake Bot API enforcing
Telegram's flood limits (30 messages/s overall). The bound is 1,000 / 30 = 33.3 s; the ratio
is bound / ours (1.0 = exactly at the limit, just below 1 = the margin we keep). Also the
outbox write (alert + 1,000 deliveries in one transaction) and rule evaluation."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.timing import row
from chat.sender import Sender, make_bot
from plugins.alert_rules.base import Alert
from settings import Config
from storage import open_database, outbox
from storage.chats import set_subscriptions
from tests.fakes.telegram_server import FakeTelegram

N = 1_000
T0 = 1_772_323_200_000


async def _deliver(db) -> tuple[float, int, int]:
    async with FakeTelegram() as tg:
        config = Config().with_overrides(telegram={"api_url": tg.base_url, "max_retries": 5})
        start = time.monotonic()  # the sender's clock starts when the alert was recorded

        def clock() -> float:
            return T0 / 1000 + time.monotonic() - start

        sender = Sender(db, make_bot(config, tg.token), config, clock=clock)
        t0 = time.perf_counter()
        report = await sender.drain()
        sent = report.sent
        while report.next_due_ms is not None:  # as the service drains: again when one is due
            await asyncio.sleep(max(0.0, report.next_due_ms / 1000 - clock()))
            report = await sender.drain()
            sent += report.sent
        elapsed = time.perf_counter() - t0
        await sender.bot.shutdown()
        return elapsed, sent, sum(r.status == 429 for r in tg.rejected)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "bench.db")
        with db.conn:
            for c in range(1, N + 1):
                set_subscriptions(db, 10_000 + c, ["cascade"])
        alert = Alert("cascade", "cascade:high:1", "warning", "Cascade level HIGH", ("b",),
                      "Cut leverage", T0, 0, 3_600_000)
        t0 = time.perf_counter()
        outbox.record_alerts(db, [alert], now_ms=T0)
        row(f"outbox: 1 alert + {N:,} deliveries, one transaction",
            time.perf_counter() - t0)
        elapsed, sent, throttled = asyncio.run(_deliver(db))
        assert sent == N, sent
        row(f"deliver 1 alert to {N:,} subscribers (fake: 30 msg/s)", elapsed,
            baseline=N / 30, unit="s", target="ratio ≥ 0.9 of the 33.3 s bound")
        print(f"    {sent} sent, {throttled} answered 429, "
              f"{sent / elapsed:.1f} msg/s", flush=True)


if __name__ == "__main__":
    main()
