"""/backtest: static against dynamic hedging of a leveraged position, with real costs.

In chat ``/backtest [days] [leverage]`` runs the default strategies on the configured market
(long BTC, 2,000 USDT) and replies with the chart and the table. On the command line
``bot.py backtest`` takes real flags (``--exchange csv --data DIR --funding DIR --tiers FILE
--mark DIR --symbols … --main BTC --side long --start … --end … | --days 90 --leverage 10
--capital 2000 --strategies a,b --json --chart PATH.png --report PATH.md``); a progress bar
goes to stderr. See ``backtest/`` for the model and ``backtest.report.assumptions``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from dataclasses import dataclass
from typing import Any

from backtest.report import headline, md_code, table
from backtest.run import (
    BacktestRequest,
    BacktestUsageError,
    backtest,
    parse_strategies,
    write_outputs,
)
from chat.cli import with_exchange
from chat.commands.base import ArgumentError, Command, Document, Reply
from chat.context import CommandContext
from chat.first_screens import backtest_short
from plugins.exchanges.errors import MarketError, UnknownSymbol

MAX_DAYS = 1100


@dataclass(frozen=True)
class ChatBacktest:
    days: float = 90.0
    leverage: float = 10.0


def _number(text: str, what: str, lo: float, hi: float, example: str) -> float:
    try:
        v = float(text.rstrip("dx"))
    except ValueError:
        raise ArgumentError(f"{what} must be a number, not {text!r}; e.g. {example}") from None
    if not lo <= v <= hi:
        raise ArgumentError(f"{what} must be between {lo:g} and {hi:g}; e.g. {example}")
    return v


class BacktestCommand(Command):
    name = "backtest"
    summary = "backtest static vs dynamic hedging with fees, funding, slippage, liquidations"
    usage = "/backtest [days] [leverage] [full]"
    expandable = True
    examples = ("/backtest", "/backtest 90 10", "/backtest 30 5")

    def parse(self, args: list[str]) -> ChatBacktest:
        if len(args) > 2:
            raise ArgumentError(f"/backtest takes at most two numbers, e.g. {self.example}")
        days = _number(args[0], "days", 1, MAX_DAYS, "/backtest 90") if args else 90.0
        lev = _number(args[1], "leverage", 1, 125, "/backtest 90 10") if len(args) > 1 else 10.0
        return ChatBacktest(days, lev)

    async def answer(self, request: ChatBacktest, ctx: CommandContext) -> Reply:
        s = ctx.services
        req = BacktestRequest(days=request.days, leverage=request.leverage, end_ms=s.at_ms)
        try:
            result, data, _ = await backtest(s.market, req, s.config)
        except (BacktestUsageError, UnknownSymbol) as e:
            return Reply.usage(str(e))

        def chart() -> bytes:
            from backtest.charts import equity_chart

            return equity_chart(result, headline(data))

        text = table(data)
        full = bool(ctx.extra.get("full"))  # the wide table goes to a file in chat, too
        return Reply(data=data, text=text.splitlines(), render=lambda: text, chart=chart,
                     caption=headline(data)[:1024], short=backtest_short(data),
                     document=Document("backtest.txt", text.encode("utf-8"), "text/plain")
                     if full else None)

    # --- the one-shot CLI with real flags ---------------------------------------------------

    def add_cli_parser(self, sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p = sub.add_parser(self.name, parents=[common], help=self.summary,
                           description="Backtest hedging strategies on a leveraged perpetual "
                                       "position with fees, funding, slippage and "
                                       "liquidations; decisions at a close trade at the next "
                                       "open.")
        a = p.add_argument
        a("--exchange", metavar="NAME", help="market source: csv, sim, okx, ...")
        a("--data", metavar="DIR", help="folder of <SYMBOL>_15m.csv[.gz] files (csv)")
        a("--funding", metavar="DIR", help="folder of <SYMBOL>_funding.csv[.gz] files")
        a("--tiers", metavar="FILE", help="tier table (OKX .csv or Binance .json[.gz])")
        a("--mark", metavar="DIR", help="folder of <SYMBOL>_mark_1h.csv[.gz] mark candles")
        a("--symbols", nargs="+", metavar="SYM", help="symbols to load (default: all/config)")
        a("--main", default="BTC", help="the main position's symbol (default BTC)")
        a("--side", choices=("long", "short"), default="long")
        a("--start", metavar="TIME", help="ISO 8601 (UTC) or Unix ms")
        a("--end", metavar="TIME", help="ISO 8601 (UTC) or Unix ms (default: end of data)")
        a("--days", type=float, default=None, help="window length (default 90)")
        a("--leverage", type=float, default=10.0)
        a("--capital", type=float, default=2000.0, help="USDT (default 2000)")
        a("--threshold", type=float, default=None,
          help="rebalance threshold (default [strategies] rebalance_threshold)")
        a("--strategies", default=None, help="comma-separated (default: the five built-ins)")
        a("--json", action="store_true", help="print one JSON object")
        a("--chart", metavar="PATH.png", help="write the equity/drawdown chart")
        a("--report", metavar="PATH.md", help="write a Markdown report")
        a("--title", default=None, help="title of the chart and report")
        a("--no-progress", action="store_true", help="no progress bar on stderr")
        return p

    def run_cli(self, rt: Any) -> int:
        from chat.cli import CliUsageError, parse_at

        args = rt.args
        try:
            start, end = parse_at(args.start), parse_at(args.end)
            days = args.days if args.days is not None else (None if start else 90.0)
            if start is not None and args.days is not None:
                end = end if end is not None else start + int(args.days * 86_400_000)
            if args.leverage <= 0 or args.capital <= 0:
                raise CliUsageError("--leverage and --capital must be positive")
            request = BacktestRequest(
                main=args.main, side=args.side, days=days, start_ms=start, end_ms=end,
                leverage=args.leverage, capital=args.capital,
                strategies=parse_strategies(args.strategies),
                symbols=tuple(x for s in args.symbols for x in s.split(",") if x)
                if args.symbols else None,
                mark_dir=args.mark, rebalance_threshold=args.threshold)
            rt = _with_exchange(rt, args, days)
            market = rt.market()
        except (CliUsageError, ValueError) as e:
            print(str(e), file=sys.stderr)
            return 2
        progress = not args.no_progress and not args.json

        async def go() -> Any:
            try:
                return await backtest(market, request, rt.config, rt.plugins, progress)
            finally:
                await market.close()

        try:
            result, data, seconds = asyncio.run(go())
        except (BacktestUsageError, UnknownSymbol) as e:
            print(str(e), file=sys.stderr)
            return 2
        except MarketError as e:
            print(f"market data: {e}", file=sys.stderr)
            return 1
        title = args.title or f"hedgewatch backtest: {headline(data)}"
        intro = ("Generated by " + md_code("python bot.py " + shlex.join(sys.argv[1:]))
                 + " (hedgewatch backtest; see the assumptions below).")
        written = write_outputs(result, data, chart=args.chart, report=args.report, title=title,
                                intro=intro)
        if args.json:
            print(json.dumps(data, allow_nan=False))
        else:
            print(table(data))
            print(f"[compute {seconds:.2f} s]", file=sys.stderr)
            for path in written:
                print(f"[written {path}]")
        return 0


def _with_exchange(rt: Any, args: argparse.Namespace, days: float | None) -> Any:
    """The runtime with the exchange flags folded into ``[exchange]`` (validated)."""
    update: dict[str, Any] = {}
    if args.exchange:
        update["name"] = args.exchange
    if args.data:
        update["data_dir"] = args.data
        update.setdefault("name", "csv")
    if args.funding:
        update["funding_dir"] = args.funding
    if args.tiers:
        update["tiers_file"] = args.tiers
    if args.symbols:
        update["symbols"] = [x for s in args.symbols for x in s.split(",") if x]
    if (update.get("name") or rt.config.exchange.name) == "sim":
        update["sim_days"] = int((days or 90) + rt.config.engine.slow_window.seconds / 86400 + 2)
    return with_exchange(rt, update)
