"""Views of the trade log: /daily, /weekly, /monthly, /performance, /stats, /export.

Private chats only, per user: each reads only the asker's trades. Money is in USDT and
booked when a row (trade or hedge leg) closes; the definitions are in ``chat.trade_metrics``.
Periods are the chat's timezone (``/settings tz``, UTC by default). The text rounds money to
cents; the data (``--json``) keeps every figure exact.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chat.commands.base import ArgumentError, Command, Document, Reply
from chat.context import CommandContext
from chat.first_screens import MAX_LINES
from chat.grammar import parse_count
from chat.trade_export import COLUMNS, export_rows, to_csv
from chat.trade_metrics import Sums, by_period, by_symbol, period_bounds, statistics, total_of
from storage import chats
from storage import trades as store

MAX_PERIODS = 60
EMPTY = "Your trade log has no closed trade yet — log one with /open, close it with /close."


def money(x: float | None) -> str:
    """Signed, with thousands and cents: ``+1,234.50``; ``n/a`` for None."""
    return "n/a" if x is None else f"{x:+,.2f}"


def plain(x: float) -> str:
    return f"{x:,.2f}"


def chat_timezone(ctx: CommandContext) -> tuple[ZoneInfo, list[str]]:
    """The chat's timezone (UTC when unset); an unknown stored name falls back to UTC."""
    name = chats.get_settings(ctx.services.db, ctx.chat_id).timezone or "UTC"
    try:
        return ZoneInfo(name), []
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC"), [f"unknown timezone {name[:40]!r}: UTC used"]


def when_text(ms: int | None, tz: ZoneInfo) -> str:
    if ms is None:
        return "n/a"
    return dt.datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%d %H:%M")


def as_of_line(now_ms: int, tz: ZoneInfo) -> str:
    """The age line: these views read the log itself, current to the moment asked."""
    return f"From your trade log as of {when_text(now_ms, tz)} {tz.key}."


def counts_text(s: Sums) -> str:
    if not (s.trade_count or s.leg_count):
        return "no trade closed"
    text = f"{s.trade_count} trade{'s' if s.trade_count != 1 else ''}"
    if s.leg_count:
        text += f" + {s.leg_count} hedge leg{'s' if s.leg_count != 1 else ''}"
    return text + (f" ({s.liquidations} liquidated)" if s.liquidations else "")


def sums_text(s: Sums) -> str:
    if not (s.trade_count or s.leg_count):
        return f"{plain(0.0)} USDT · no trade closed"
    return (f"{money(s.net)} USDT · {counts_text(s)} · realised {money(s.realised)} · "
            f"funding {money(s.funding)} · fees {plain(s.fees)}")


class _LogView(Command):
    private_only = True


class _PeriodView(_LogView):
    """Net P&L per period (day, week, month), newest first, like freqtrade's /daily."""

    unit: ClassVar[str]
    default: ClassVar[int]
    title: ClassVar[str]
    expandable = True

    def parse(self, args: list[str]) -> int:
        if len(args) > 1:
            raise ArgumentError(f"/{self.name} takes one number at most, e.g. "
                                f"{self.examples[-1]}")
        return parse_count(args[0], self.examples[-1], maximum=MAX_PERIODS) if args \
            else self.default

    def label(self, start: dt.date) -> str:
        return start.isoformat()

    async def answer(self, request: int, ctx: CommandContext) -> Reply:
        s = ctx.services
        now = s.now_ms()
        tz, warnings = chat_timezone(ctx)
        oldest = period_bounds(now, self.unit, request, tz)[-1].start_ms
        closed = store.closed_trades(s.db, ctx.user_id, since_ms=oldest)
        periods = by_period(closed, now, self.unit, request, tz)
        total = total_of(periods)
        data: dict[str, Any] = {
            "unit": self.unit, "timezone": tz.key,
            "periods": [{"date": p.start.isoformat(), "start_ms": p.start_ms,
                         "end_ms": p.end_ms, **p.sums.to_dict()} for p in periods],
            "total": total.to_dict(), "as_of": now, "warnings": warnings}
        lines = [f"{self.title} P&L ({tz.key}), newest first — net = realised after fees "
                 "+ funding, booked when a trade or leg closes"]
        lines += [f"{self.label(p.start)}: {sums_text(p.sums)}" for p in periods]
        lines.append(f"Total of {request} {self.unit}{'s' if request != 1 else ''}: "
                     f"{sums_text(total)}")
        lines += [f"⚠ {w}" for w in warnings]
        lines.append(as_of_line(now, tz))
        short = None
        if len(lines) > MAX_LINES:  # the total first, then the newest periods that fit
            rows = lines[1:1 + len(periods)]
            room = max(1, MAX_LINES - (len(lines) - len(rows)) - 1)
            short = [lines[0], lines[1 + len(periods)], *rows[:room],
                     f"… {len(rows) - room} older — More", *lines[2 + len(periods):]]
        return Reply(data=data, text=lines, short=short)


class Daily(_PeriodView):
    name = "daily"
    summary = "net P&L, trades closed, fees and funding per day (newest first)"
    usage = "/daily [n]"
    examples = ("/daily", "/daily 14")
    unit, default, title = "day", 7, "Daily"


class Weekly(_PeriodView):
    name = "weekly"
    summary = "net P&L, trades closed, fees and funding per week from Monday"
    usage = "/weekly [n]"
    examples = ("/weekly", "/weekly 12")
    unit, default, title = "week", 8, "Weekly"

    def label(self, start: dt.date) -> str:
        return f"week of {start.isoformat()}"


class Monthly(_PeriodView):
    name = "monthly"
    summary = "net P&L, trades closed, fees and funding per calendar month"
    usage = "/monthly [n]"
    examples = ("/monthly", "/monthly 12")
    unit, default, title = "month", 6, "Monthly"

    def label(self, start: dt.date) -> str:
        return start.strftime("%Y-%m")


class Performance(_LogView):
    name = "performance"
    summary = "net P&L per symbol of your closed trades, hedge legs shown apart"
    usage = "/performance"
    examples = ("/performance",)

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        s = ctx.services
        now, (tz, _) = s.now_ms(), chat_timezone(ctx)
        rows = by_symbol(store.closed_trades(s.db, ctx.user_id))
        data = {"symbols": rows, "as_of": now}
        if not rows:
            return Reply(data=data, text=[EMPTY, as_of_line(now, tz)])
        lines = ["Performance by symbol, best first — net = realised after fees + funding; "
                 "a hedge leg counts under its own symbol"]
        for r in rows:
            ret = "" if r["return_pct"] is None else f" ({r['return_pct']:+.2f} % of margin)"
            hedge = f" · hedges {money(r['hedge_net'])}" if r["leg_count"] else ""
            counts = Sums(trade_count=r["trade_count"], leg_count=r["leg_count"],
                          liquidations=r["liquidations"])
            lines.append(f"{r['symbol']}: {money(r['net'])} USDT{ret} · {counts_text(counts)}"
                         f"{hedge} · funding {money(r['funding'])} · fees {plain(r['fees'])}")
        lines.append(as_of_line(now, tz))
        return Reply(data=data, text=lines)


class Stats(_LogView):
    name = "stats"
    summary = "win rate, average win and loss, profit factor, max drawdown, liquidations"
    usage = "/stats"
    examples = ("/stats",)

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        s = ctx.services
        now, (tz, _) = s.now_ms(), chat_timezone(ctx)
        st = statistics(store.list_trades(s.db, ctx.user_id))
        data = {**st, "as_of": now}
        if not st["trades"]:
            return Reply(data=data, text=[EMPTY, as_of_line(now, tz)])
        return Reply(data=data, text=[*stats_lines(st, tz), as_of_line(now, tz)])


def _ref(ref: dict[str, Any]) -> str:
    return f"#{ref['id']} {ref['symbol']} {ref['side']} {money(ref['net'])} USDT"


def stats_lines(st: dict[str, Any], tz: ZoneInfo) -> list[str]:
    """/stats as text (money to cents, rates to a tenth of a percent)."""
    n = st["trades"]
    lines = [f"Statistics of {n} closed trade{'s' if n != 1 else ''} (a trade and its hedge "
             "legs count once; net = realised after fees + funding)",
             f"Win rate {st['win_rate'] * 100:.1f} % ({st['wins']} won, {st['losses']} lost"
             + (f", {st['draws']} even" if st["draws"] else "") + ")",
             f"Average win {money(st['average_win'])} · average loss "
             f"{money(st['average_loss'])} · per trade {money(st['average_net'])} USDT"]
    pf = st["profit_factor"]
    lines.append("Profit factor " + ("n/a (no losing trade)" if pf is None else f"{pf:.2f}"))
    lines.append(f"Best {_ref(st['best_trade'])} · worst {_ref(st['worst_trade'])}")
    if st["max_drawdown"] > 0:
        pct = st["max_drawdown_pct"]
        of_peak = "" if pct is None else f", {pct:.1f} % of the peak"
        lines.append(f"Max drawdown {plain(st['max_drawdown'])} USDT{of_peak} "
                     f"({when_text(st['max_drawdown_start'], tz)} → "
                     f"{when_text(st['max_drawdown_end'], tz)} {tz.key})")
    else:
        lines.append("Max drawdown 0.00 USDT: the realised equity never fell")
    lines.append(f"Liquidations: {st['liquidations']}")
    lines.append(f"Net {money(st['net'])} USDT = realised {money(st['realised'])} (after fees "
                 f"{plain(st['fees'])}) + funding {money(st['funding'])}")
    if st["open_trades"]:
        lines.append(f"{st['open_trades']} trade(s) still open: see /pnl")
    return lines


class Export(_LogView):
    name = "export"
    summary = "your trade log as a CSV file: trades and legs with fees and funding"
    usage = "/export"
    examples = ("/export",)

    def add_cli_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--output", metavar="PATH",
                            help="write the CSV there (default: to stdout)")

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        s = ctx.services
        now, (tz, _) = s.now_ms(), chat_timezone(ctx)
        trades = store.list_trades(s.db, ctx.user_id)
        counts = {t.id: len(store.funding_payments(s.db, t.id)) for t in trades}
        rows = export_rows(trades, counts)
        day = dt.datetime.fromtimestamp(now / 1000, tz).strftime("%Y%m%d")
        filename = f"hedgewatch-trades-{day}.csv"
        data = {"filename": filename, "columns": list(COLUMNS), "rows": rows, "as_of": now}
        if not rows:
            return Reply(data=data, text=["Your trade log is empty — nothing to export."])
        legs = sum(1 for t in trades if t.is_leg)
        text = [f"Your trade log as CSV ({filename}): {len(rows) - legs} trade(s) and {legs} "
                "hedge leg(s), one row each, with fees, funding and P&L in USDT; times in UTC.",
                as_of_line(now, tz)]
        return Reply(data=data, text=text,
                     document=Document(filename, to_csv(rows), "text/csv"))
