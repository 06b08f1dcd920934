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
from i18n import N_, _, ngettext
from jobs.cycle import CycleSummary, WatchCycle
from jobs.scheduler import Jobs
from runtime import Runtime
from storage.chats import set_subscriptions
from storage.trades import open_trade

# words of the data shown in the console (the data itself stays English)
SIDE_WORDS = {"long": N_("long"), "short": N_("short")}
LEVEL_WORDS = {"calm": N_("calm"), "elevated": N_("elevated"), "high": N_("high"),
               "cascade": N_("cascade")}
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
    positions = "; ".join(
        _("{base} {side} {notional:,.0f} USDT {leverage:g}x ({strategy})").format(
            base=s.split("-")[0], side=_(SIDE_WORDS.get(side, side)), notional=n,
            leverage=lev, strategy=st)
        for s, side, n, lev, st in DEMO_TRADES)
    return "\n".join([
        _("hedgewatch demo — SIMULATED market, {n} symbols, clock {clock} UTC").format(
            n=len(market.symbols), clock=_when(market.clock_ms)),
        ngettext("{n} cycle of one 15-minute bar each, one every {interval:g} s; database "
                 "{path}", "{n} cycles of one 15-minute bar each, one every {interval:g} s; "
                 "database {path}", cycles).format(n=cycles, interval=interval, path=path),
        _("A local trader holds: {positions}").format(positions=positions),
        ""])


def _level(level: str | None) -> str:
    return _(LEVEL_WORDS.get(level, level)) if level else _("n/a")


def status_line(market: Any, s: CycleSummary) -> str:
    return _("[SIM {clock}] cascade {level:<8} engine {engine_ms:5.0f} ms  alerts {alerts}"
             ).format(clock=_when(market.clock_ms), level=_level(s.cascade_level),
                      engine_ms=s.stages_ms.get("engine", 0), alerts=sum(s.alerts.values()))


def closing_summary(summaries: list[CycleSummary], db: Any, elapsed: float) -> str:
    kinds: Counter[str] = Counter()
    for s in summaries:
        kinds.update(s.alerts)
    delivered = sum(s.delivered for s in summaries)
    degraded = sum(1 for s in summaries if s.error)
    engine = sorted(s.stages_ms.get("engine", 0) for s in summaries)
    levels = Counter(s.cascade_level for s in summaries)
    alerts = sum(kinds.values())
    return "\n".join([
        "", _("demo summary (SIMULATED)"),
        _("  cycles            {n} ({degraded} degraded) in {seconds:.1f} s").format(
            n=len(summaries), degraded=degraded, seconds=elapsed),
        _("  cascade levels    {levels}").format(levels=", ".join(
            f"{_level(k)} {v}" for k, v in levels.most_common())),
        _("  alerts            {n}: {kinds}").format(n=alerts, kinds=", ".join(
            f"{k} {v}" for k, v in sorted(kinds.items()))) if alerts
        else _("  alerts            0: none"),
        _("  deliveries        {printed} printed, {outbox} in the outbox").format(
            printed=delivered, outbox=db["deliveries"].count),
        _("  engine per cycle  median {ms:.0f} ms").format(ms=engine[len(engine) // 2])
        if engine else "",
    ])


def _when(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ms / 1000))
