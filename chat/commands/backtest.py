"""/backtest: static against dynamic hedging of a leveraged position, with real costs.

In chat ``/backtest [days] [leverage] [cross|isolated]`` runs the default strategies on the
configured market (long BTC, 2,000 USDT, cross margin) over one window and replies with the
chart and the table. On the command line ``bot.py backtest`` takes real flags (``--exchange
csv --data DIR --funding DIR --tiers FILE --mark DIR --symbols … --main BTC[,ETH,…]
--weights … --side long --margin cross|isolated --reentry none|after:1d --start … --end … |
--days 90 --leverage 10 --capital 2000 --strategies a,b --fees 0 --slippage 0 --funding off
--json --chart PATH.png --report PATH.md``), and ``--rolling 7d --horizon 90d`` makes it a
study of one start every 7 days over the data, with distributions, baselines
(``--baseline matched``) and paired intervals; a progress bar goes to stderr. See
``backtest/`` for the model and ``backtest.assumptions``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from dataclasses import dataclass
from typing import Any

from backtest import study_report
from backtest.report import headline, md_code, table
from backtest.request import BacktestRequest, BacktestUsageError
from backtest.run import backtest, parse_strategies, write_outputs
from chat.cli import with_exchange
from chat.commands.base import ArgumentError, Command, Document, Reply
from chat.context import CommandContext
from chat.first_screens import backtest_short
from i18n import N_, _
from plugins.exchanges.errors import MarketError, UnknownSymbol

MAX_DAYS = 1100


@dataclass(frozen=True)
class ChatBacktest:
    days: float = 90.0
    leverage: float = 10.0
    margin: str = "cross"


def _number(text: str, what: str, lo: float, hi: float, example: str) -> float:
    """``what`` is marked with ``N_`` ("days"): translated here."""
    try:
        v = float(text.rstrip("dx"))
    except ValueError:
        raise ArgumentError(_("{what} must be a number, not {text!r}; e.g. {example}").format(
            what=_(what), text=text, example=example)) from None
    if not lo <= v <= hi:
        raise ArgumentError(_("{what} must be between {lo:g} and {hi:g}; e.g. {example}").format(
            what=_(what), lo=lo, hi=hi, example=example))
    return v


class BacktestCommand(Command):
    name = "backtest"
    summary = N_("backtest static vs dynamic hedging with fees, funding, slippage, "
                 "liquidations")
    usage = N_("/backtest [days] [leverage] [cross|isolated] [full]")
    expandable = True
    examples = ("/backtest", "/backtest 90 10", "/backtest 30 5 isolated")

    def parse(self, args: list[str]) -> ChatBacktest:
        margin = "cross"
        if args and args[-1].lower() in ("cross", "isolated"):
            margin = args.pop().lower()
        if len(args) > 2:
            raise ArgumentError(_("/backtest takes at most two numbers and a margin mode, "
                                  "e.g. {example}").format(example=self.example))
        days = _number(args[0], N_("days"), 1, MAX_DAYS, "/backtest 90") if args else 90.0
        lev = _number(args[1], N_("leverage"), 1, 125, "/backtest 90 10") \
            if len(args) > 1 else 10.0
        return ChatBacktest(days, lev, margin)

    async def answer(self, request: ChatBacktest, ctx: CommandContext) -> Reply:
        s = ctx.services
        req = BacktestRequest(days=request.days, leverage=request.leverage, end_ms=s.at_ms,
                              margin=request.margin)
        try:
            result, data, _seconds = await backtest(s.market, req, s.config)
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
        p = sub.add_parser(self.name, parents=[common], help=_(self.summary),
                           description=_("Backtest hedging strategies on a leveraged "
                                         "perpetual position with fees, funding, slippage and "
                                         "liquidations; decisions at a close trade at the "
                                         "next open."))
        a = p.add_argument
        a("--exchange", metavar="NAME", help=_("market source: csv, sim, okx, ..."))
        a("--data", metavar="DIR",
          help=_("folder of <SYMBOL>_<timeframe>.csv[.gz] files (csv), e.g. BTCUSDT_15m.csv.gz"))
        a("--timeframe", metavar="15m",
          help=_("bar size of the data (default [exchange] timeframe, 15m)"))
        a("--funding", metavar="DIR|off",
          help=_("folder of <SYMBOL>_funding.csv[.gz] files; off: no funding at all"))
        a("--tiers", metavar="FILE", help=_("tier table (OKX .csv or Binance .json[.gz])"))
        a("--mark", metavar="DIR", help=_("folder of <SYMBOL>_mark_1h.csv[.gz] mark candles"))
        a("--symbols", nargs="+", metavar="SYM", help=_("symbols to load (default: all/config)"))
        a("--main", default="BTC",
          help=_("the main position's symbol, or a book: BTC,ETH,SOL (default BTC)"))
        a("--weights", default=None, metavar="W,W,…",
          help=_("weights of the book's symbols (default equal), e.g. 0.5,0.3,0.2"))
        a("--side", choices=("long", "short"), default="long")
        a("--margin", choices=("cross", "isolated"), default="cross",
          help=_("cross: one account for main and hedges (default); isolated: each leg alone"))
        a("--reentry", default="none", metavar="none|after:1d",
          help=_("after a liquidation: stay out (default) or re-enter after a duration"))
        a("--rolling", default=None, metavar="7d",
          help=_("a study: one start every this long over the data (all of it by default)"))
        a("--horizon", default="90d", metavar="90d", help=_("each start's length in a study"))
        a("--baseline", choices=("none", "matched"), default="matched",
          help=_("unhedged baselines in a study: the main leverage only, or also matched "
                 "to each strategy's collateral (default)"))
        a("--workers", type=int, default=None, help=_("processes for a study (default: cores)"))
        a("--fees", type=float, default=None, metavar="RATE",
          help=_("taker fee rate, e.g. 0.0005 (default [risk] taker_fee); 0: none"))
        a("--slippage", type=float, default=1.0, metavar="SCALE",
          help=_("scale of the slippage model (default 1); 0: none"))

        a("--start", metavar="TIME", help=_("ISO 8601 (UTC) or Unix ms"))
        a("--end", metavar="TIME", help=_("ISO 8601 (UTC) or Unix ms (default: end of data)"))
        a("--days", type=float, default=None, help=_("window length (default 90)"))
        a("--leverage", type=float, default=10.0)
        a("--capital", type=float, default=2000.0, help=_("USDT (default 2000)"))
        a("--threshold", type=float, default=None,
          help=_("rebalance threshold (default [strategies] rebalance_threshold)"))
        a("--strategies", default=None, help=_("comma-separated (default: the five built-ins)"))
        a("--json", action="store_true", help=_("print one JSON object"))
        a("--chart", metavar="PATH.png", help=_("write the equity/drawdown chart"))
        a("--report", metavar="PATH.md", help=_("write a Markdown report"))
        a("--title", default=None, help=_("title of the chart and report"))
        a("--no-progress", action="store_true", help=_("no progress bar on stderr"))
        return p

    def run_cli(self, rt: Any) -> int:
        from chat.cli import CliUsageError, parse_at

        args = rt.args
        try:
            start, end = parse_at(args.start), parse_at(args.end)
            days = args.days if args.days is not None else (
                None if start or args.rolling else 90.0)
            if start is not None and args.days is not None:
                end = end if end is not None else start + int(args.days * 86_400_000)
            if args.leverage <= 0 or args.capital <= 0:
                raise CliUsageError(_("--leverage and --capital must be positive"))
            if args.workers is not None and args.workers < 1:
                raise CliUsageError(_("--workers must be 1 or more"))
            request = BacktestRequest(
                main=args.main, side=args.side, days=days, start_ms=start, end_ms=end,
                leverage=args.leverage, capital=args.capital,
                strategies=parse_strategies(args.strategies),
                symbols=tuple(x for s in args.symbols for x in s.split(",") if x)
                if args.symbols else None,
                mark_dir=args.mark, rebalance_threshold=args.threshold,
                weights=_weights(args.weights), margin=args.margin, reentry=args.reentry,
                rolling=args.rolling, horizon=args.horizon, baseline=args.baseline,
                fees=args.fees, slippage=args.slippage, funding=args.funding != "off",
                workers=args.workers)
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
            print(_("market data: {error}").format(error=e), file=sys.stderr)
            return 1
        study = data.get("kind") == "study"
        line = study_report.headline(data) if study else headline(data)
        title = args.title or _("hedgewatch backtest: {headline}").format(headline=line)
        intro = _("Generated by {command} (hedgewatch backtest; see the assumptions below)."
                  ).format(command=md_code("python bot.py " + shlex.join(sys.argv[1:])))
        written = write_outputs(result, data, chart=args.chart, report=args.report, title=title,
                                intro=intro)
        if args.json:
            print(json.dumps(data, allow_nan=False))
        else:
            print(study_report.table(data) if study else table(data))
            print(_("[compute {seconds:.2f} s]").format(seconds=seconds), file=sys.stderr)
            for path in written:
                print(_("[written {path}]").format(path=path))
        return 0


def _weights(text: str | None) -> tuple[float, ...] | None:
    from chat.cli import CliUsageError

    if not text:
        return None
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise CliUsageError(_("--weights must be numbers separated by commas, not {text!r}"
                              ).format(text=text)) from None


def _with_exchange(rt: Any, args: argparse.Namespace, days: float | None) -> Any:
    """The runtime with the exchange flags folded into ``[exchange]`` (validated)."""
    update: dict[str, Any] = {}
    if args.exchange:
        update["name"] = args.exchange
    if args.timeframe:
        update["timeframe"] = args.timeframe
    if args.data:
        update["data_dir"] = args.data
        update.setdefault("name", "csv")
    if args.funding and args.funding not in ("on", "off"):
        update["funding_dir"] = args.funding
    if args.tiers:
        update["tiers_file"] = args.tiers
    if args.symbols:
        update["symbols"] = [x for s in args.symbols for x in s.split(",") if x]
    if (update.get("name") or rt.config.exchange.name) == "sim":
        span = days or (365 if args.rolling else 90)
        update["sim_days"] = int(span + rt.config.engine.slow_window.seconds / 86400 + 2)
    return with_exchange(rt, update)
