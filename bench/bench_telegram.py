"""Telegram round trip: a command injected into the fake Bot API until the bot's answer is
logged by it (long poll, PTB Application, Dispatcher, render, sendMessage) — target p95 < 100 ms.

The real PTB Application with AIORateLimiter polls the fake Telegram server over real HTTP;
the simulated market and a real SQLite file in a temporary folder answer the command.
``/hedge`` when it is registered, else ``/risk``; the in-process answer time of the same
command is the baseline (what the Telegram layer adds is the difference).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.timing import percentiles, row
from chat.context import CommandContext, Services
from chat.telegram import build_application, start_telegram, stop_telegram
from runtime import build_runtime
from settings import Config
from tests.fakes.telegram_server import FakeTelegram, FloodControl

UPDATES = 500
CHAT = 4242


async def _run(folder: Path) -> None:
    commands = build_runtime(Config(), entry_points=False).commands
    names = {c.name for c in commands}
    line = "/hedge btc 0.5 10x" if "hedge" in names else "/risk btc long 0.5 @60000 10x"
    async with FakeTelegram(flood=FloodControl(enabled=False)) as tg:
        config = Config().with_overrides(exchange={"name": "sim"},
                                         storage={"path": str(folder / "bench.db")},
                                         telegram={"api_url": tg.base_url})
        rt = build_runtime(config, entry_points=False)
        services = Services.from_runtime(rt, rt.open_storage(), rt.market())
        app = build_application(config, tg.token, services, warm=True)
        t0 = time.perf_counter()
        await start_telegram(app, poll_timeout=10)
        row("start-up (initialize, commands, warm snapshot)", time.perf_counter() - t0)
        try:
            dispatcher = app.bot_data["hedgewatch"].dispatcher
            ctx = CommandContext(CHAT, CHAT, services)
            samples = []
            for _ in range(UPDATES // 5):
                t = time.perf_counter()
                await dispatcher.handle(line, ctx)
                samples.append(time.perf_counter() - t)
            base50, base95 = percentiles(samples)
            for _ in range(10):  # warm-up: connections, first renders
                tg.inject_message(CHAT, CHAT, line)
            await tg.wait_for_messages(10, timeout=30, chat_id=CHAT)
            samples = []
            for _ in range(UPDATES):
                before = len(tg.sent_to(CHAT))
                t = time.perf_counter()
                tg.inject_message(CHAT, CHAT, line)
                await tg.wait_for_messages(before + 1, timeout=30, chat_id=CHAT)
                samples.append(time.perf_counter() - t)
            p50, p95 = percentiles(samples)
            row(f"{line.split()[0]} answer in-process p50", base50 / 1000)
            row(f"{line.split()[0]} answer in-process p95", base95 / 1000)
            row(f"{line.split()[0]} Telegram round trip p50 ({UPDATES} updates)", p50 / 1000,
                baseline=base50 / 1000)
            row(f"{line.split()[0]} Telegram round trip p95 ({UPDATES} updates)", p95 / 1000,
                baseline=base95 / 1000, target="< 100 ms")
            assert not tg.rejected, tg.rejected[:3]
        finally:
            await stop_telegram(app)
            services.db.conn.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_run(Path(folder)))


if __name__ == "__main__":
    main()
