"""/pnl: realised, unrealised, fees and funding of each of your trades and in total.

A trade here is a main position with its hedge legs (``chat.trade_metrics.TradeGroup``): its
figures add up the main's and the legs'. ``realised`` is after fees (closed parts),
``unrealised`` is at the current mark before fees (open parts; an isolated part never below
−margin), ``net`` = realised + unrealised + funding − the fees already paid on open parts:
what the trade shows if closed at the mark, before the exit fee. A part without a current
price leaves its trade's unrealised and net unknown (``null``) and is named.
"""

from __future__ import annotations

import logging
from typing import Any

from chat.charts import data_time
from chat.commands.base import Command, Reply
from chat.commands.market_view import age_text, finite_marks, freshness_data, side_word
from chat.commands.trade_views import money, plain
from chat.context import CommandContext
from chat.first_screens import MAX_LINES
from chat.trade_metrics import TradeGroup, equity_curve, group_trades
from core.types import MarketSnapshot
from i18n import N_, _, ngettext
from plugins.exchanges.errors import MarketError
from storage import trades as store
from storage.trades import Trade

log = logging.getLogger(__name__)

SHOWN_CLOSED = 10


async def current_marks(ctx: CommandContext, trades: list[Trade]
                        ) -> tuple[dict[str, float], MarketSnapshot | None, list[str]]:
    """Marks of the open trades' symbols (a symbol the market lacks is left out), the
    snapshot they come from (None when nothing is open: the market is not asked), and a
    warning when the market failed — the realised figures are still worth answering."""
    symbols = sorted({t.symbol for t in trades if t.is_open})
    if not symbols:
        return {}, None, []
    try:
        snap = await ctx.services.snapshot(symbols)
    except MarketError as e:
        log.warning("/pnl without marks: %s", e)
        return {}, None, [_("no current prices: the market data source failed ({error})")
                          .format(error=str(e)[:200])]
    return finite_marks(snap, symbols), snap, []


def trade_figures(g: TradeGroup, marks: dict[str, float]) -> dict[str, Any]:
    """One trade's P&L with its legs (see the module's docstring)."""
    closed = [t for t in g.rows if not t.is_open]
    opened = [t for t in g.rows if t.is_open]
    unpriced = [t.id for t in opened if t.symbol not in marks]
    realised = sum(t.realised_pnl or 0.0 for t in closed)
    funding = sum(t.funding for t in g.rows)
    open_fees = sum(t.fees for t in opened)
    unreal = None if unpriced else sum(t.unrealised_pnl(marks[t.symbol]) for t in opened)
    m = g.main
    return {"id": m.id, "symbol": m.symbol, "side": m.side, "size": m.size,
            "status": "open" if g.is_open else "closed", "close_reason": m.close_reason,
            "closed_at": m.closed_at, "legs": [leg.id for leg in g.legs],
            "realised": realised, "unrealised": unreal, "funding": funding,
            "fees": sum(t.fees for t in g.rows),
            "net": None if unreal is None else realised + unreal + funding - open_fees,
            "unpriced": unpriced}


def trade_text(f: dict[str, Any]) -> str:
    legs = len(f["legs"])
    head = f"#{f['id']} {f['symbol']} {side_word(f['side'])} {f['size']:g}"
    if legs:
        head = ngettext("{trade} + {n} hedge leg", "{trade} + {n} hedge legs", legs).format(
            trade=head, n=legs)
    if f["close_reason"] == store.LIQUIDATED:
        head = _("{trade} (liquidated)").format(trade=head)
    parts = []  # labelled figures, " · " between them
    if f["status"] == "closed" or f["realised"]:
        parts.append(_("realised {amount}").format(amount=money(f["realised"])))
    if f["status"] == "open":
        parts.append(_("unrealised {amount}").format(amount=money(f["unrealised"])))
    parts += [_("funding {amount}").format(amount=money(f["funding"])),
              _("fees {amount}").format(amount=plain(f["fees"]))]
    return _("{trade}: {figures} → net {net} USDT").format(
        trade=head, figures=" · ".join(parts), net=money(f["net"]))


def pnl_short(lines: list[str], has_marks: bool) -> list[str] | None:
    """The totals first, every warning, then as many trades as fit, the marks' age last."""
    if len(lines) <= MAX_LINES:
        return None
    tail = [lines[-1]] if has_marks else []
    middle = [x for x in lines[3:len(lines) - len(tail)] if x]
    warn = [x for x in middle if x.startswith("⚠")]
    body = [x for x in middle if not x.startswith("⚠")]
    keep = body[:max(0, MAX_LINES - 4 - len(warn) - len(tail))]
    return [*lines[:3], *keep, _("… {n} more line(s) — More").format(n=len(body) - len(keep)),
            *warn, *tail]


class Pnl(Command):
    name = "pnl"
    summary = N_("realised and unrealised P&L, fees and funding, per trade and in total")
    usage = N_("/pnl [full]")
    expandable = True
    examples = ("/pnl",)
    private_only = True

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        trades = store.list_trades(ctx.services.db, ctx.user_id)
        marks, snap, warnings = await current_marks(ctx, trades)
        figures = [trade_figures(g, marks) for g in group_trades(trades)]
        opened = [t for t in trades if t.is_open]
        closed = [t for t in trades if not t.is_open]
        unpriced = [i for f in figures for i in f["unpriced"]]
        realised = sum(t.realised_pnl or 0.0 for t in closed)
        unreal = sum(t.unrealised_pnl(marks[t.symbol]) for t in opened if t.symbol in marks)
        funding = sum(t.funding for t in trades)
        fees = sum(t.fees for t in trades)
        open_fees = sum(t.fees for t in opened if t.symbol in marks)
        priced_funding = funding - sum(t.funding for t in opened if t.symbol not in marks)
        data: dict[str, Any] = {
            "realised": realised, "unrealised": unreal, "fees": fees, "funding": funding,
            "net": realised + unreal + priced_funding - open_fees,
            "closed_trades": sum(1 for f in figures if f["status"] == "closed"),
            "open_trades": sum(1 for f in figures if f["status"] == "open"),
            "legs": sum(len(f["legs"]) for f in figures), "unpriced_trades": unpriced,
            "trades": figures,
            "as_of": snap.last_bar_close_ms if snap else ctx.services.now_ms(),
            **(freshness_data(await ctx.services.freshness(snap)) if snap else
               {"data_age_ms": None, "data_behind": None}), "warnings": warnings}
        if not trades:
            return Reply(data=data, text=[_("Your trade log is empty. Log a trade with "
                                            "/open btc long 0.5 @60000 10x.")])
        lines = [_("Realised {amount} USDT over {n} closed trade(s) (after fees)").format(
                     amount=money(realised), n=data["closed_trades"]),
                 _("Unrealised {amount} USDT on {n} open trade(s)").format(
                     amount=money(unreal), n=data["open_trades"]),
                 _("Fees paid {fees} USDT · funding {funding} USDT · net {net} USDT").format(
                     fees=plain(fees), funding=money(funding), net=money(data["net"]))]
        open_f = [f for f in figures if f["status"] == "open"]
        closed_f = sorted((f for f in figures if f["status"] == "closed"),
                          key=lambda f: (f["closed_at"] or 0, f["id"]), reverse=True)
        if open_f:
            lines += ["", _("Open:"), *(trade_text(f) for f in open_f)]
        if closed_f:
            shown = closed_f[:SHOWN_CLOSED]
            title = (_("Closed (latest {shown} of {total}: /export has all):").format(
                shown=len(shown), total=len(closed_f)) if len(closed_f) > len(shown) else
                _("Closed:"))
            lines += ["", title, *(trade_text(f) for f in shown)]
        if unpriced:
            lines.append(_("⚠ no current price for {trades}").format(
                trades=", ".join(f"#{i}" for i in unpriced)))
        lines += [f"⚠ {w}" for w in warnings]
        if snap is not None:
            age = age_text(data["data_age_ms"], data["data_behind"])
            lines.append(_("Marks: {age} (SIMULATED)").format(age=age)
                         if getattr(snap, "simulated", False) else
                         _("Marks: {age}").format(age=age))
        short = pnl_short(lines, snap is not None)
        curve = equity_curve(closed)
        if not ctx.extra.get("full") or not curve:  # the first screen stays text
            return Reply(data=data, text=lines, short=short, buttons=[
                [(_("Equity curve"), "/pnl full")]] if curve and short is None else [])
        as_of = int(data["as_of"])  # the whole answer comes with the equity curve
        title = _("Realised {amount} USDT, {n} close(s); with open trades {net} · {time}").format(
            amount=money(realised), n=len(curve), net=money(data["net"]), time=data_time(as_of))

        def chart() -> bytes:
            from chat.charts import equity_png

            return equity_png(curve, title=title, now=(as_of, data["net"]))

        return Reply(data=data, text=lines, chart=chart, caption=title)
