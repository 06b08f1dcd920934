"""``bot.py demo`` (``make demo``): the whole pipeline on the simulated market, fast.

The simulated exchange's clock advances one 15-minute bar per cycle and the scheduler runs a
cycle every ``--interval`` seconds, so a day and a half — including the cascade the simulator
schedules 18 hours ahead — passes in well under a minute. A local trader has three logged
positions and is subscribed to every alert; each alert is printed as a phone would show it.
Everything is labelled SIMULATED; the database is a temporary file unless ``--db`` is given.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from chat.console_sender import ConsoleSender
from chat.context import LOCAL_USER_ID
from jobs.cycle import CycleSummary, WatchCycle
from jobs.scheduler import Jobs
from runtime import Runtime
from storage.chats import set_subscriptions
from storage.trades import open_trade

DEFAULT_CYCLES = 144  # 36 simulated hours
DEFAULT_INTERVAL_S = 0.15
DEMO_TRADES = (  # symbol, side, notional in USDT, leverage, strategy
    ("BTC-USDT-SWAP", "long", 50_000.0, 10.0, "min_variance"),
    ("SOL-USDT-SWAP", "long", 20_000.0, 20.0, "seed_regime"),
    ("ETH-USDT-SWAP", "long", 30_000.0, 10.0, "counterweight"),
)


def run_demo(rt: Runtime) -> int:
    return asyncio.run(demo(rt))


async def demo(rt: Runtime) -> int:
    args = rt.args
    cycles = args.cycles or DEFAULT_CYCLES
    interval = args.interval or DEFAULT_INTERVAL_S
    exchange = rt.config.exchange.model_copy(update={"name": "sim", "symbols": "top:12"})
    rt = rt.with_config(rt.config.model_copy(update={"exchange": exchange}))
    config = rt.config
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="hedgewatch-demo-")) / \
        "demo.db"
    db = rt.open_storage(str(path))
    market = rt.market("sim")
    await market.load_instruments()
    sim_now = lambda: market.clock_ms / 1000  # noqa: E731 - the demo runs on simulated time
    set_subscriptions(db, LOCAL_USER_ID, list(rt.extensions.alert_kinds.subscribable))
    snap = await market.snapshot(bars=2)
    for symbol, side, notional, lev, strategy in DEMO_TRADES:
        price = snap.last_price(symbol)
        trade = open_trade(db, user_id=LOCAL_USER_ID, chat_id=LOCAL_USER_ID, symbol=symbol,
                           side=side, size=notional / price, entry=price, leverage=lev,
                           opened_at=market.clock_ms, fee_rate=config.risk.taker_fee,
                           exchange="sim")
        db["trades"].update(trade.id, {"strategy": strategy})
    console = ConsoleSender(db, clock=sim_now)

    async def send() -> int:
        return console.drain()

    cycle = WatchCycle(rt, db=db, market=market, send_stage=send, clock=sim_now,
                       before_fetch=lambda: market.advance(1))
    print(banner(market, cycles, interval, path), flush=True)
    summaries: list[CycleSummary] = []
    done = asyncio.Event()
    started = time.monotonic()

    async def one() -> None:
        s = await cycle.run()
        summaries.append(s)
        if len(summaries) % 4 == 0:
            print(status_line(market, s), flush=True)
        if len(summaries) >= cycles:
            done.set()

    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    if not args.verbose:  # the status lines and the alerts tell the story; -v shows the logs
        logging.getLogger("jobs").setLevel(logging.WARNING)
    jobs = Jobs(quiet_skips=True)
    jobs.add("cycle", one, interval_s=interval, aligned=False)
    jobs.start()
    try:
        await done.wait()
    finally:
        await jobs.stop()
        await market.close()
    print(closing_summary(summaries, db, time.monotonic() - started), flush=True)
    return 0


def banner(market: Any, cycles: int, interval: float, path: Path) -> str:
    return (f"hedgewatch demo — SIMULATED market, {len(market.symbols)} symbols, clock "
            f"{_when(market.clock_ms)} UTC\n{cycles} cycles of one 15-minute bar each, one "
            f"every {interval:g} s; database {path}\nA local trader holds: " + "; ".join(
                f"{s.split('-')[0]} {side} {n:,.0f} USDT {lev:g}x ({st})"
                for s, side, n, lev, st in DEMO_TRADES) + "\n")


def status_line(market: Any, s: CycleSummary) -> str:
    return (f"[SIM {_when(market.clock_ms)}] cascade {s.cascade_level or 'n/a':<8} "
            f"engine {s.stages_ms.get('engine', 0):5.0f} ms  alerts {sum(s.alerts.values())}")


def closing_summary(summaries: list[CycleSummary], db: Any, elapsed: float) -> str:
    kinds: Counter[str] = Counter()
    for s in summaries:
        kinds.update(s.alerts)
    delivered = sum(s.delivered for s in summaries)
    degraded = sum(1 for s in summaries if s.error)
    engine = sorted(s.stages_ms.get("engine", 0) for s in summaries)
    levels = Counter(s.cascade_level for s in summaries)
    return "\n".join([
        "", "demo summary (SIMULATED)",
        f"  cycles            {len(summaries)} ({degraded} degraded) in {elapsed:.1f} s",
        "  cascade levels    " + ", ".join(f"{k} {v}" for k, v in levels.most_common()),
        f"  alerts            {sum(kinds.values())}: " + (", ".join(
            f"{k} {v}" for k, v in sorted(kinds.items())) or "none"),
        f"  deliveries        {delivered} printed, "
        f"{db['deliveries'].count} in the outbox",
        f"  engine per cycle  median {engine[len(engine) // 2]:.0f} ms" if engine else "",
    ])


def _when(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ms / 1000))
