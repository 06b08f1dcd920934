"""/risk: liquidation price, distance, touch probabilities and safe leverage of a position,
or of each of your open trades with its hedge legs.

The numbers are ``chat.commands.risk_view``'s (the calibrated tail model, the Gaussian next to
it). Without a size the position is one contract (tier 1). Your cross-margin trades are one
account: each one's liquidation price is where the account is liquidated when its asset moves
against it and the others move with it by their stress betas (``chat.commands.book_model``).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, replace
from typing import Any

from chat.commands.accounts import account_note, ago
from chat.commands.base import ArgumentError, Command, Reply
from chat.commands.book_model import entries, with_joint_cross
from chat.commands.market_view import age_text, freshness_data, side_word
from chat.commands.position_args import build_position
from chat.commands.risk_view import price_text, report_for, report_lines
from chat.context import CommandContext
from chat.first_screens import MAX_LINES
from chat.grammar import PositionArgs, parse_position, parse_trade_id
from i18n import N_, _
from storage.trades import list_trades

__all__ = ["Risk", "RiskRequest", "report_for", "report_lines"]  # /account reads them here


@dataclass(frozen=True)
class RiskRequest:
    position: PositionArgs | None = None
    mmr: float | None = None
    fee: float | None = None
    trade_id: int | None = None  # ``/risk 5``: that trade of yours and the legs it holds


def synced_numbers(t: Any, ours: float | None, approximate: str | None = None
                   ) -> dict[str, Any]:
    """For a synced trade: the exchange's liquidation price at the last sync and ours
    relative to it (percent), when the sync was, and why ours is only an estimate in its
    account's mode (portfolio margin), if it is."""
    if not t.synced:
        return {}
    theirs = t.exchange_liq_price
    diff = None if ours is None or not theirs else (ours / theirs - 1.0) * 100.0
    return {"exchange_liquidation_price": theirs, "liquidation_diff_pct": diff,
            "synced_at": t.synced_at, "approximate": approximate}


def synced_lines(t: Any, ours: float | None, now_ms: int, approximate: str | None = None
                 ) -> list[str]:
    """"okx's liquidation price X at the last sync, 3 min ago (ours differs by d %)" under a
    synced trade, and a warning where our figure is an approximation."""
    n = synced_numbers(t, ours, approximate)
    if not n:
        return []
    out = [f"⚠ {_(approximate)}"] if approximate else []
    if n["exchange_liquidation_price"] is None:
        return out
    diff = n["liquidation_diff_pct"]
    v = {"exchange": t.exchange, "price": price_text(n["exchange_liquidation_price"]),
         "diff": diff}
    if t.synced_at is None:
        line = (_("{exchange}'s liquidation price {price}") if diff is None else
                _("{exchange}'s liquidation price {price} (ours differs by {diff:+.2f} %)"))
    else:
        v["ago"] = ago(max(0, now_ms - t.synced_at))
        line = (_("{exchange}'s liquidation price {price} at the last sync, {ago}")
                if diff is None else
                _("{exchange}'s liquidation price {price} at the last sync, {ago} (ours "
                  "differs by {diff:+.2f} %)"))
    return [line.format(**v), *out]


def trade_name(t: Any) -> str:
    """``#5``, or ``#7 (hedge of #5)`` for a hedge leg."""
    return f"#{t.id}" if t.parent_id is None else _("#{id} (hedge of #{parent})").format(
        id=t.id, parent=t.parent_id)


def percent(p: float) -> str:
    """A probability as a trader reads it: 0.04 %, 3.2 %, 41 %, ≈100 %."""
    x = p * 100
    if x >= 99.5:
        return "≈100 %"
    return f"{x:.0f} %" if x >= 10 else f"{x:.1f} %" if x >= 1 else f"{x:.2g} %"


def trades_short(reports: list[dict[str, Any]], warnings: list[str], age: str) -> list[str]:
    """``/risk``'s first screen for your open trades (≤ 10 lines): one line each, nearest
    to liquidation first; the full reports, legs and warnings are behind "More"."""
    def distance(r: dict[str, Any]) -> float:
        d = r["distance_pct"]
        return math.inf if d is None else float(d)

    ordered = sorted(reports, key=distance)
    room = MAX_LINES - 1 - (1 if warnings else 0)
    shown = ordered if len(ordered) <= room else ordered[:room - 1]
    lines = []
    for r in shown:
        p = r["position"]
        head = _("#{id} {base} {side} {leverage:g}x").format(
            id=r["trade_id"], base=r["symbol"].split("-")[0], side=side_word(r["side"]),
            leverage=p["leverage"])
        if r["liquidation_price"] is None:
            lines.append(_("{trade}: no liquidation").format(trade=head))
            continue
        liq = ("≈" if r.get("approximate") else "") + price_text(r["liquidation_price"])
        if r["distance_pct"] is not None and r["distance_pct"] <= 0:
            lines.append(_("{trade}: AT OR PAST liquidation {price}").format(trade=head,
                                                                             price=liq))
            continue
        p24 = r["touch_prob_24h"]
        v = {"trade": head, "price": liq, "distance": r["distance_pct"]}
        lines.append(_("{trade}: liq {price}, {distance:.1f} % away").format(**v) if p24 is None
                     else _("{trade}: liq {price}, {distance:.1f} % away, 24h {prob}").format(
                         prob=percent(p24), **v))
    if len(shown) < len(ordered):
        lines.append(_("… {n} more: tap More").format(n=len(ordered) - len(shown)))
    if warnings:
        lines.append(_("⚠ {n} warning(s): tap More").format(n=len(warnings)))
    return [*lines, age]


class Risk(Command):
    name = "risk"
    expandable = True
    summary = N_("liquidation price, distance and safe leverage of a position")
    usage = N_("/risk [<symbol> [long|short] [size|5ct|5000usdt] [@entry] [10x]] | "
               "/risk <trade id>")
    examples = ("/risk btc long 0.5 @60000 10x", "/risk ETH short $5000 20x", "/risk",
                "/risk 1")

    def parse(self, args: list[str]) -> RiskRequest:
        if not args:
            return RiskRequest()
        if len(args) == 1 and args[0].removeprefix("#").isdecimal():
            return RiskRequest(trade_id=parse_trade_id(args[0], self.examples[3]))
        return RiskRequest(parse_position(args, self.example))

    def add_cli_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--mmr", type=float, help=_("maintenance margin rate override"))
        parser.add_argument("--fee", type=float, help=_("taker fee override (fraction)"))

    def apply_cli_options(self, request: RiskRequest, args: argparse.Namespace) -> RiskRequest:
        for flag in ("mmr", "fee"):
            v = getattr(args, flag, None)
            if v is not None and not (math.isfinite(v) and 0 <= v < 1):
                raise ArgumentError(_("--{flag} is a fraction from 0 to 1, e.g. --{flag} 0.005")
                                    .format(flag=flag))
        return replace(request, mmr=args.mmr, fee=args.fee)

    async def answer(self, request: RiskRequest, ctx: CommandContext) -> Reply:
        if request.position is None:
            return await self._open_trades(request, ctx)

        s = ctx.services
        a = request.position
        if a.hedges:
            raise ArgumentError(_("/risk takes one position; hedges go to /hedge, "
                                  "e.g. {example}").format(example=self.example))
        symbol = await s.resolve(a.symbol, self.example)
        snap = await s.snapshot([symbol])
        await s.load_tiers([symbol])
        pos = build_position(s, snap, symbol, a, self.example)
        if isinstance(pos, Reply):
            return pos
        report = report_for(s, snap, pos, mmr=request.mmr, fee=request.fee).to_dict()
        report["warnings"] = [*report["warnings"], *s.market.assumptions([symbol])]
        position = {"size": pos.size, "entry": pos.entry, "leverage": pos.leverage}
        data = {**report, "position": position, "as_of": snap.last_bar_close_ms,
                **freshness_data(await s.freshness(snap))}
        spec = {"type": "gauge", "symbol": symbol, "side": pos.side,
                "distance_sigma": report["distance_sigma_24h"],
                "threshold_sigma": s.config.risk.liquidation_alert_sigma,
                "touch_prob": report["touch_prob_24h"],
                "liquidation_price": report["liquidation_price"], "price": report["mark"],
                "time_ms": snap.last_bar_close_ms}

        def chart() -> bytes:
            from chat.alert_charts import gauge_png

            return gauge_png(spec)

        return Reply(data=data, text=[*report_lines(report, position),
                                      age_text(data["data_age_ms"], data["data_behind"])],
                     chart=chart if report["liquidation_price"] is not None else None,
                     caption=_("{base} {side} {leverage:g}x: distance to liquidation").format(
                         base=symbol.split("-")[0], side=side_word(pos.side),
                         leverage=pos.leverage))

    async def _open_trades(self, request: RiskRequest, ctx: CommandContext) -> Reply:
        """Each open trade with the hedge legs it holds (all, or the one asked for): each
        position on its own margin — the cross ones on the account, jointly — and the
        trade's P&L with its legs together."""
        if not ctx.is_private:
            raise ArgumentError(_("Your trades are private — ask /risk in a private chat, or "
                                  "give a position, e.g. {example}").format(example=self.example))
        s = ctx.services
        book = sorted(list_trades(s.db, ctx.user_id, open_only=True), key=lambda t: t.id)
        trades = book
        if request.trade_id is not None:
            trades = [t for t in book if request.trade_id in (t.id, t.parent_id)]
            if not trades:
                raise ArgumentError(_("There is no open trade #{id} of yours — see /positions.")
                                    .format(id=request.trade_id))
        if not trades:
            return Reply(data={"reports": []}, text=[
                _("You have no open trades. Log one with /open btc long 0.5 @60000 10x, "
                  "or ask about a position: {example}").format(example=self.example)])
        # the cross account is every cross trade of yours, whichever trade was asked about
        shown = trades + [t for t in book if t.margin_mode == "cross" and t not in trades]
        snap = await s.snapshot(sorted({t.symbol for t in shown}))
        await s.load_tiers(t.symbol for t in shown if t.symbol in snap.symbols)
        cross = any(t.margin_mode == "cross" for t in shown)
        state = await s.engine_market(snap) if cross else None
        items = entries(s, snap, shown, state, mmr=request.mmr, fee=request.fee)
        warnings: list[str] = []
        if cross:
            items, warnings = with_joint_cross(s, snap, items, state, mmr=request.mmr,
                                               fee=request.fee)
        by_id = {e.trade.id: e for e in items}
        ids = {t.id for t in trades}
        groups = [(t, [x for x in trades if x.parent_id == t.id]) for t in trades
                  if t.parent_id not in ids]
        reports: list[dict[str, Any]] = []
        lines: list[str] = []
        for main, legs in groups:
            together = 0.0
            priced = True
            first = len(reports)
            for t in (main, *legs):
                name = trade_name(t)
                e = by_id.get(t.id)
                if e is None:
                    lines.append(_("#{id} {symbol}: no price right now").format(
                        id=t.id, symbol=t.symbol) if t.parent_id is None else
                        _("#{id} {symbol} (hedge of #{parent}): no price right now").format(
                            id=t.id, symbol=t.symbol, parent=t.parent_id))
                    priced = False
                    continue
                r = e.report.to_dict()
                mark = snap.last_price(t.symbol)
                together += t.unrealised_pnl(mark)
                position = {"size": t.size, "entry": t.entry, "leverage": t.leverage,
                            "margin_mode": t.margin_mode, "margin": t.isolated_margin,
                            "parent_id": t.parent_id, "source": t.source or "manual",
                            "exchange": t.exchange if t.synced else None}
                approx = account_note(s.db, t)
                reports.append({"trade_id": t.id, **r, "position": position,
                                "unrealised_pnl": t.unrealised_pnl(mark),
                                **synced_numbers(t, r["liquidation_price"], approx)})
                lines += [_("{trade} [{exchange}, synced]").format(trade=name, exchange=t.exchange)
                          if t.synced else name,
                          *report_lines(r, position),
                          *synced_lines(t, r["liquidation_price"], s.now_ms(), approx)]
            if legs and priced:
                shared = main.margin_mode == "cross" and any(x.margin_mode == "cross"
                                                             for x in legs)
                v = {"id": main.id, "pnl": together}
                lines.append(_("#{id} with its hedge: unrealised {pnl:+,.2f} USDT (your cross "
                               "trades share one account: its liquidation prices above count "
                               "the legs moving with the main)").format(**v) if shared else
                             _("#{id} with its hedge: unrealised {pnl:+,.2f} USDT (the legs are "
                               "on their own margin: they do not move #{id}'s liquidation "
                               "price)").format(**v))
                if reports[first]["trade_id"] == main.id:
                    reports[first].update(with_hedge_unrealised_pnl=together,
                                          legs=[x.id for x in legs])
            lines.append("")
        fresh = freshness_data(await s.freshness(snap))
        lines = lines[:-1] if lines and not lines[-1] else lines
        lines += [f"⚠ {w}" for w in warnings]
        age = age_text(fresh["data_age_ms"], fresh["data_behind"])
        return Reply(data={"reports": reports, "as_of": snap.last_bar_close_ms, **fresh,
                           "warnings": warnings},
                     text=[*lines, age], short=trades_short(reports, warnings, age))
