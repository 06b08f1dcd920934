"""Command answer time from a warm snapshot: /risk and /corr in-process (target p95 < 50 ms).

The simulated market (13 symbols, 30 days of 15-minute bars in the snapshot) and a real SQLite
file in a temporary folder; the dispatcher is called exactly as the console and Telegram call
it. The /corr figure is the answer (matrices and words); its heatmap PNG is drawn only by front
ends that show images and is timed on its own.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.timing import percentiles, row
from chat.context import CommandContext, Services
from chat.dispatch import Dispatcher
from runtime import build_runtime
from settings import Config

CALLS = 300


async def _run(folder: Path) -> None:
    config = Config().with_overrides(exchange={"name": "sim"},
                                     storage={"path": str(folder / "bench.db")})
    rt = build_runtime(config, entry_points=False)
    commands = rt.commands
    services = Services.from_runtime(rt, rt.open_storage(), rt.market())
    t0 = time.perf_counter()
    await services.warm()
    row("cold snapshot (sim, 13 symbols x 2881 bars)", time.perf_counter() - t0)
    dispatcher = Dispatcher(commands)
    ctx = CommandContext.local(services)
    await dispatcher.handle("/open btc long 0.5 @60000 10x", ctx)
    cases = {
        "/hedge btc 0.5 10x (every strategy, counterweights)": "/hedge btc 0.5 10x",
        "/risk btc long 0.5 @60000 10x": "/risk btc long 0.5 @60000 10x",
        "/risk (each open trade)": "/risk",
        "/corr btc eth sol doge (answer, no image)": "/corr btc eth sol doge",
        "/corr all 13 symbols (answer, no image)": "/corr",
    }
    chart = None
    for label, text in cases.items():
        samples = []
        for _ in range(CALLS):
            t = time.perf_counter()
            reply = await dispatcher.handle(text, ctx)
            samples.append(time.perf_counter() - t)
            assert reply is not None and reply.ok, reply and reply.text
            chart = reply.chart or chart
        p50, p95 = percentiles(samples)
        row(f"{label} p50", p50 / 1000)
        row(f"{label} p95", p95 / 1000, target="< 50 ms")
    if chart is not None:
        chart()  # the first draw pays matplotlib's import and font cache
        samples = []
        for _ in range(10):
            t = time.perf_counter()
            chart()
            samples.append(time.perf_counter() - t)
        row("/corr heatmap PNG (13 x 13, two panels) p50", percentiles(samples)[0] / 1000)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_run(Path(tmp)))


if __name__ == "__main__":
    main()
