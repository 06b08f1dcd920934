"""``bot.py run``: the long-running service on one event loop.

Telegram (when ``TELEGRAM_BOT_TOKEN`` is set) or the console as chat; the 15-minute cycle
aligned to the bar close and the one-minute cascade watch on APScheduler; one catch-up cycle
at start; ``/metrics`` for Prometheus with ``[metrics] port``. Alert deliveries waiting on a
backoff or a 429 get a one-off drain when they fall due (``delivery_retry``), through the
same serialised drain as the cycles. SIGTERM/SIGINT stop it gracefully: no new cycles, the
running one finishes its writes, the bot and the exchange session close, exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from chat.context import Services
from jobs.cycle import WatchCycle
from jobs.metrics import ServiceCollector, start_metrics
from jobs.scheduler import Jobs
from plugins.exchanges.errors import KeyRejected, MarketError, SourceUnavailable
from runtime import Runtime

log = logging.getLogger(__name__)
STOP_TIMEOUT_S = 60.0


def run_service(rt: Runtime) -> int:
    return asyncio.run(serve(rt))


async def serve(rt: Runtime, stop: asyncio.Event | None = None) -> int:
    config = rt.config
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    db = rt.open_storage(for_writing=True)  # a read-only file or full disk: one line, exit 1
    market = rt.market(storage=db)
    try:
        await market.load_instruments()
    except MarketError as e:  # the first cycle will say so in a data alert and retry
        from chat.cli import unreachable

        log.error("could not load instruments yet: %s", unreachable(rt, e)
                  if isinstance(e, SourceUnavailable) else e)
    await _check_key(market)
    commands = list(rt.commands)
    services = Services.from_runtime(rt, db, market)
    accounts = services.accounts
    if accounts is None:
        log.info("ACCOUNT_ENCRYPTION_KEY is not set: /connect is off (traders cannot connect "
                 "their own exchange accounts)")
    jobs = Jobs()
    app = None
    sender: Any = None
    tv_server: Any = None
    if rt.secrets.telegram_token:
        from chat.sender import Sender
        from chat.telegram.app import build_application, start_telegram

        app = build_application(config, rt.secrets.telegram_token, services, commands=commands,
                                webhook_secret=rt.secrets.webhook_secret)
        telegram_sender = sender = Sender(db, app.bot, config)

        async def drain() -> int:
            report = await telegram_sender.drain()
            if report.next_due_ms is not None:  # a backoff or retry_after: again when due
                jobs.once("delivery_retry", send, max(report.next_due_ms / 1000,
                                                      time.time() + 0.5))
            return report.sent

        await start_telegram(app)
        log.info("Telegram front end started (%s)", config.telegram.mode)
        tv_server = await _start_tradingview(services, app, lambda: send)
    else:
        from chat.console_sender import ConsoleSender

        console = ConsoleSender(db)

        async def drain() -> int:
            return console.drain()

        log.warning("TELEGRAM_BOT_TOKEN is not set: alerts go to this console")
        if config.tradingview.enabled:
            log.warning("[tradingview] enabled, but the intake runs with Telegram only: "
                        "set TELEGRAM_BOT_TOKEN")
    send = _serialised(drain)  # the cycle and the cascade watch share one sender
    metrics = start_metrics(config.metrics,
                            ServiceCollector(config.storage.path, market, sender))
    cycle = WatchCycle(rt, db=db, market=market, send_stage=send, accounts=accounts)
    board = None
    if app is not None and config.telegram.signal_board and config.telegram.signal_channel:
        from chat.signal_board import SignalBoard

        board = SignalBoard(app.bot, db, config.telegram.signal_channel,
                            language=config.telegram.signal_language)

    async def cycle_run() -> None:
        await cycle.run()
        if board is not None:  # the pinned market state, edited in place
            await board.update(cycle.last_result)

    watch = WatchCycle(rt, db=db, market=market, send_stage=send,
                       symbols=_resolve(market, config.schedule.cascade_symbols),
                       rules=["cascade_watch"], name="cascade_watch", watch=True)

    async def watch_run() -> None:
        if not watch.symbols:  # instruments were not loaded at start: try again now
            watch.symbols = _resolve(market, config.schedule.cascade_symbols)
        if watch.symbols:
            await watch.run()

    sch = config.schedule
    jobs.add("cycle", cycle_run, sch.interval.seconds, sch.delay.seconds)
    if config.schedule.cascade_symbols:
        jobs.add("cascade_watch", watch_run, sch.cascade_interval.seconds, aligned=False)
    console_task = None if app is not None else _console(services, commands, stop)
    try:
        log.info("catch-up cycle at start")
        try:
            await cycle_run()
        except Exception as e:  # e.g. the database locked past every retry: not fatal
            log.error("the catch-up cycle at start failed (%s: %s); the scheduler runs the "
                      "next one at the bar close", type(e).__name__, e, exc_info=True)
        jobs.start()
        log.info("watching %s every %s (cascade watch %s every %s)",
                 config.exchange.name, sch.interval, ", ".join(watch.symbols or ["off"]),
                 sch.cascade_interval)
        await stop.wait()
        log.info("stopping: no new cycles; waiting for the running one")
    finally:
        await jobs.stop(STOP_TIMEOUT_S)
        if metrics is not None:
            metrics.close()
        if console_task is not None:
            console_task.cancel()
        if tv_server is not None:
            await tv_server.stop()
        if app is not None:
            from chat.telegram.app import stop_telegram

            await stop_telegram(app)  # also closes the market through post_shutdown
        if accounts is not None:
            await accounts.close()
        await market.close()
        db.close()
    log.info("stopped cleanly")
    return 0


async def _check_key(market: Any) -> None:
    """With exchange keys set, say at start whether they read the account, and loudly when
    they could trade (hedgewatch never does; /account repeats it)."""
    if not getattr(market, "keys", None):
        return
    from chat.commands.account import key_rejected_message, read_account, trade_key_warning

    try:
        rights, read = await read_account(market)
    except KeyRejected as e:
        log.error(key_rejected_message(market.name, e))
        return
    except MarketError as e:
        log.error("the %s API keys could not read the account: %s", market.name, e)
        return
    if rights.trade or rights.withdraw:
        log.warning(trade_key_warning(market.name))
    else:
        log.info("%s API keys read the account (read only): %d open position(s)",
                 market.name, len(read.state.positions))


async def _start_tradingview(services: Services, app: Any,
                             send: Callable[[], Callable[[], Awaitable[int]]]) -> Any:
    """``[tradingview] enabled``: the intake, on the webhook's server or its own; each signal
    written kicks a drain (in the background: TradingView waits for no Telegram call)."""
    if not services.config.tradingview.enabled:
        return None
    from chat.telegram.app import WEBHOOK_SERVER
    from chat.tradingview.intake import TradingViewIntake
    from chat.tradingview.server import start_intake

    tasks: set[asyncio.Task[None]] = set()

    async def drain() -> None:
        try:
            await send()()
        except Exception as e:  # the signal is in the outbox: the next drain sends it
            log.warning("drain after a TradingView signal failed: %s", e)

    def kick() -> None:
        task = asyncio.ensure_future(drain())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    intake = TradingViewIntake(services, kick=kick)
    return await start_intake(services.config, intake, app.bot_data.get(WEBHOOK_SERVER))


def _serialised(drain: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[int]]:
    """One drain at a time: keeps "at most one message in flight per chat" true."""
    lock = asyncio.Lock()

    async def run() -> int:
        async with lock:
            return await drain()

    return run


def _resolve(market: Any, names: list[str]) -> list[str]:
    """The cascade watch's symbols; an unknown one is logged and left out."""
    out = []
    for name in names:
        try:
            out.append(market.resolve(name))
        except MarketError as e:
            log.error("cascade watch: %s", e)
    return out


def _console(services: Services, commands: list, stop: asyncio.Event) -> asyncio.Task | None:
    """The chat commands on stdin when it is a terminal (``run`` without a token)."""
    if not sys.stdin.isatty():
        return None
    from chat.console import serve_console

    return asyncio.create_task(serve_console(services, commands, stop))
