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
from chat.commands.market_view import side_word
from chat.context import CommandContext
from chat.first_screens import MAX_LINES
from chat.grammar import parse_count
from chat.trade_export import COLUMNS, export_rows, to_csv
from chat.trade_metrics import (
    Period,
    Sums,
    by_period,
    by_symbol,
    period_bounds,
    statistics,
    total_of,
)
from i18n import N_, _, ngettext
from storage import chats
from storage import trades as store

MAX_PERIODS = 60
EMPTY = N_("Your trade log has no closed trade yet — log one with /open, close it with /close.")


def money(x: float | None) -> str:
    """Signed, with thousands and cents: ``+1,234.50``; ``n/a`` for None."""
    return _("n/a") if x is None else f"{x:+,.2f}"


def plain(x: float) -> str:
    return f"{x:,.2f}"


def chat_timezone(ctx: CommandContext) -> tuple[ZoneInfo, list[str]]:
    """The chat's timezone (UTC when unset); an unknown stored name falls back to UTC."""
    name = chats.get_settings(ctx.services.db, ctx.chat_id).timezone or "UTC"
    try:
        return ZoneInfo(name), []
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC"), [_("unknown timezone {name}: UTC used").format(
            name=repr(name[:40]))]


def when_text(ms: int | None, tz: ZoneInfo) -> str:
    if ms is None:
        return _("n/a")
    return dt.datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%d %H:%M")


def as_of_line(now_ms: int, tz: ZoneInfo) -> str:
    """The age line: these views read the log itself, current to the moment asked."""
    return _("From your trade log as of {when} {tz}.").format(when=when_text(now_ms, tz),
                                                              tz=tz.key)


def counts_text(s: Sums) -> str:
    if not (s.trade_count or s.leg_count):
        return _("no trade closed")
    text = ngettext("{n} trade", "{n} trades", s.trade_count).format(n=s.trade_count)
    if s.leg_count:
        text = _("{trades} + {legs}").format(trades=text, legs=ngettext(
            "{n} hedge leg", "{n} hedge legs", s.leg_count).format(n=s.leg_count))
    return _("{counts} ({n} liquidated)").format(counts=text, n=s.liquidations) \
        if s.liquidations else text


def sums_text(s: Sums) -> str:
    if not (s.trade_count or s.leg_count):
        return _("{zero} USDT · no trade closed").format(zero=plain(0.0))
    return _("{net} USDT · {counts} · realised {realised} · funding {funding} · fees {fees}"
             ).format(net=money(s.net), counts=counts_text(s), realised=money(s.realised),
                      funding=money(s.funding), fees=plain(s.fees))


# --- /daily, /weekly, /monthly: one table, per unit its title, row label and total -----------

PERIOD_TITLES = {
    "day": N_("Daily P&L ({tz}), newest first — net = realised after fees + funding, "
              "booked when a trade or leg closes"),
    "week": N_("Weekly P&L ({tz}), newest first — net = realised after fees + funding, "
               "booked when a trade or leg closes"),
    "month": N_("Monthly P&L ({tz}), newest first — net = realised after fees + funding, "
                "booked when a trade or leg closes"),
}


def period_label(unit: str, start: dt.date) -> str:
    """A period's row label: the day, "week of" its Monday, the month."""
    if unit == "week":
        return _("week of {date}").format(date=start.isoformat())
    return start.strftime("%Y-%m") if unit == "month" else start.isoformat()


def period_total(unit: str, n: int) -> str:
    """"Total of 7 days: {sums}" as a template (``{sums}`` left to fill)."""
    if unit == "week":
        return ngettext("Total of {n} week: {sums}", "Total of {n} weeks: {sums}", n)
    if unit == "month":
        return ngettext("Total of {n} month: {sums}", "Total of {n} months: {sums}", n)
    return ngettext("Total of {n} day: {sums}", "Total of {n} days: {sums}", n)


def period_table(unit: str, n: int, periods: list[Period], tz: ZoneInfo, now_ms: int,
                 warnings: list[str]) -> tuple[list[str], list[str] | None]:
    """The lines of /daily, /weekly or /monthly and their first screen (None when all fit):
    the title, a row per period newest first, the total, warnings, the log's age."""
    lines = [_(PERIOD_TITLES[unit]).format(tz=tz.key)]
    lines += [f"{period_label(unit, p.start)}: {sums_text(p.sums)}" for p in periods]
    lines.append(period_total(unit, n).format(n=n, sums=sums_text(total_of(periods))))
    lines += [f"⚠ {w}" for w in warnings]
    lines.append(as_of_line(now_ms, tz))
    if len(lines) <= MAX_LINES:
        return lines, None
    rows = lines[1:1 + len(periods)]  # the total first, then the newest periods that fit
    room = max(1, MAX_LINES - (len(lines) - len(rows)) - 1)
    return lines, [lines[0], lines[1 + len(periods)], *rows[:room],
                   _("… {n} older — More").format(n=len(rows) - room),
                   *lines[2 + len(periods):]]


class _LogView(Command):
    private_only = True


class _PeriodView(_LogView):
    """Net P&L per period (day, week, month), newest first, like freqtrade's /daily."""

    unit: ClassVar[str]
    default: ClassVar[int]
    expandable = True

    def parse(self, args: list[str]) -> int:
        if len(args) > 1:
            raise ArgumentError(_("/{name} takes one number at most, e.g. {example}").format(
                name=self.name, example=self.examples[-1]))
        return parse_count(args[0], self.examples[-1], maximum=MAX_PERIODS) if args \
            else self.default

    async def answer(self, request: int, ctx: CommandContext) -> Reply:
        s = ctx.services
        now = s.now_ms()
        tz, warnings = chat_timezone(ctx)
        oldest = period_bounds(now, self.unit, request, tz)[-1].start_ms
        closed = store.closed_trades(s.db, ctx.user_id, since_ms=oldest)
        periods = by_period(closed, now, self.unit, request, tz)
        data: dict[str, Any] = {
            "unit": self.unit, "timezone": tz.key,
            "periods": [{"date": p.start.isoformat(), "start_ms": p.start_ms,
                         "end_ms": p.end_ms, **p.sums.to_dict()} for p in periods],
            "total": total_of(periods).to_dict(), "as_of": now, "warnings": warnings}
        lines, short = period_table(self.unit, request, periods, tz, now, warnings)
        return Reply(data=data, text=lines, short=short)


class Daily(_PeriodView):
    name = "daily"
    summary = N_("net P&L, trades closed, fees and funding per day (newest first)")
    usage = N_("/daily [n]")
    examples = ("/daily", "/daily 14")
    unit, default = "day", 7


class Weekly(_PeriodView):
    name = "weekly"
    summary = N_("net P&L, trades closed, fees and funding per week from Monday")
    usage = N_("/weekly [n]")
    examples = ("/weekly", "/weekly 12")
    unit, default = "week", 8


class Monthly(_PeriodView):
    name = "monthly"
    summary = N_("net P&L, trades closed, fees and funding per calendar month")
    usage = N_("/monthly [n]")
    examples = ("/monthly", "/monthly 12")
    unit, default = "month", 6


class Performance(_LogView):
    name = "performance"
    summary = N_("net P&L per symbol of your closed trades, hedge legs shown apart")
    usage = N_("/performance")
    examples = ("/performance",)

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        s = ctx.services
        now, (tz, _warnings) = s.now_ms(), chat_timezone(ctx)
        rows = by_symbol(store.closed_trades(s.db, ctx.user_id))
        data = {"symbols": rows, "as_of": now}
        if not rows:
            return Reply(data=data, text=[_(EMPTY), as_of_line(now, tz)])
        lines = [_("Performance by symbol, best first — net = realised after fees + funding; "
                   "a hedge leg counts under its own symbol")]
        lines += [symbol_line(r) for r in rows]
        lines.append(as_of_line(now, tz))
        return Reply(data=data, text=lines)


def symbol_line(r: dict[str, Any]) -> str:
    """One symbol of /performance: net (and its return on margin), counts, hedges, funding,
    fees."""
    counts = Sums(trade_count=r["trade_count"], leg_count=r["leg_count"],
                  liquidations=r["liquidations"])
    net = (_("{net} USDT").format(net=money(r["net"])) if r["return_pct"] is None else
           _("{net} USDT ({pct:+.2f} % of margin)").format(net=money(r["net"]),
                                                           pct=r["return_pct"]))
    v = {"symbol": r["symbol"], "net": net, "counts": counts_text(counts),
         "funding": money(r["funding"]), "fees": plain(r["fees"])}
    if r["leg_count"]:
        return _("{symbol}: {net} · {counts} · hedges {hedges} · funding {funding} · "
                 "fees {fees}").format(hedges=money(r["hedge_net"]), **v)
    return _("{symbol}: {net} · {counts} · funding {funding} · fees {fees}").format(**v)


class Stats(_LogView):
    name = "stats"
    summary = N_("win rate, average win and loss, profit factor, max drawdown, liquidations")
    usage = N_("/stats")
    examples = ("/stats",)

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        s = ctx.services
        now, (tz, _warnings) = s.now_ms(), chat_timezone(ctx)
        st = statistics(store.list_trades(s.db, ctx.user_id))
        data = {**st, "as_of": now}
        if not st["trades"]:
            return Reply(data=data, text=[_(EMPTY), as_of_line(now, tz)])
        return Reply(data=data, text=[*stats_lines(st, tz), as_of_line(now, tz)])


def _ref(ref: dict[str, Any]) -> str:
    return f"#{ref['id']} {ref['symbol']} {side_word(ref['side'])} {money(ref['net'])} USDT"


def stats_lines(st: dict[str, Any], tz: ZoneInfo) -> list[str]:
    """/stats as text (money to cents, rates to a tenth of a percent)."""
    n = st["trades"]
    rate = {"rate": st["win_rate"] * 100, "wins": st["wins"], "losses": st["losses"]}
    lines = [ngettext("Statistics of {n} closed trade (a trade and its hedge legs count once; "
                      "net = realised after fees + funding)",
                      "Statistics of {n} closed trades (a trade and its hedge legs count "
                      "once; net = realised after fees + funding)", n).format(n=n),
             _("Win rate {rate:.1f} % ({wins} won, {losses} lost, {draws} even)").format(
                 draws=st["draws"], **rate) if st["draws"] else
             _("Win rate {rate:.1f} % ({wins} won, {losses} lost)").format(**rate),
             _("Average win {win} · average loss {loss} · per trade {net} USDT").format(
                 win=money(st["average_win"]), loss=money(st["average_loss"]),
                 net=money(st["average_net"]))]
    pf = st["profit_factor"]
    lines.append(_("Profit factor n/a (no losing trade)") if pf is None else
                 _("Profit factor {pf:.2f}").format(pf=pf))
    lines.append(_("Best {best} · worst {worst}").format(best=_ref(st["best_trade"]),
                                                         worst=_ref(st["worst_trade"])))
    if st["max_drawdown"] > 0:
        pct = st["max_drawdown_pct"]
        dd = {"amount": plain(st["max_drawdown"]), "start": when_text(st["max_drawdown_start"], tz),
              "end": when_text(st["max_drawdown_end"], tz), "tz": tz.key}
        lines.append(_("Max drawdown {amount} USDT ({start} → {end} {tz})").format(**dd)
                     if pct is None else
                     _("Max drawdown {amount} USDT, {pct:.1f} % of the peak ({start} → {end} "
                       "{tz})").format(pct=pct, **dd))
    else:
        lines.append(_("Max drawdown 0.00 USDT: the realised equity never fell"))
    lines.append(_("Liquidations: {n}").format(n=st["liquidations"]))
    lines.append(_("Net {net} USDT = realised {realised} (after fees {fees}) + funding "
                   "{funding}").format(net=money(st["net"]), realised=money(st["realised"]),
                                       fees=plain(st["fees"]), funding=money(st["funding"])))
    if st["open_trades"]:
        lines.append(_("{n} trade(s) still open: see /pnl").format(n=st["open_trades"]))
    return lines


class Export(_LogView):
    name = "export"
    summary = N_("your trade log as a CSV file: trades and legs with fees and funding")
    usage = N_("/export")
    examples = ("/export",)

    def add_cli_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--output", metavar="PATH",
                            help=_("write the CSV there (default: to stdout)"))

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        s = ctx.services
        now, (tz, _warnings) = s.now_ms(), chat_timezone(ctx)
        trades = store.list_trades(s.db, ctx.user_id)
        counts = {t.id: len(store.funding_payments(s.db, t.id)) for t in trades}
        rows = export_rows(trades, counts)
        day = dt.datetime.fromtimestamp(now / 1000, tz).strftime("%Y%m%d")
        filename = f"hedgewatch-trades-{day}.csv"
        data = {"filename": filename, "columns": list(COLUMNS), "rows": rows, "as_of": now}
        if not rows:
            return Reply(data=data, text=[_("Your trade log is empty — nothing to export.")])
        legs = sum(1 for t in trades if t.is_leg)
        text = [_("Your trade log as CSV ({filename}): {trades} trade(s) and {legs} hedge "
                  "leg(s), one row each, with fees, funding and P&L in USDT; times in UTC.")
                .format(filename=filename, trades=len(rows) - legs, legs=legs),
                as_of_line(now, tz)]
        return Reply(data=data, text=text,
                     document=Document(filename, to_csv(rows), "text/csv"))
