"""/whatif <asset|market> <±move%> [1h|4h|24h]: your whole book under one shock.

The named asset (or the equal-weight market of the snapshot) moves by the shock and every
asset of your book by its stress beta to it (``chat.commands.book_model``); the shock model
(``core.shock``) then says, per position and for the account: the P&L after, which positions
liquidate and in what order (the move of the shocked asset at which each goes), the cross
account's equity and margin ratio, how much the held hedges offset their main trades, and for
the survivors the distance to liquidation and the chance to touch it within the horizon after
the move (the calibrated tail model at today's volatility: after a real shock volatility is
higher, so read it as a floor). Private: it reads your trade log.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from chat.commands.base import ArgumentError, Command, Reply
from chat.commands.book_model import Entry, book_of, co_movement, entries, priced
from chat.commands.market_view import age_text, freshness_data
from chat.commands.whatif_text import render, render_short
from chat.context import CommandContext
from core.market_inputs import market_returns
from core.risk import log_distance
from core.shock import ShockResult, apply_shock, betas_on, cross_liquidation_prices
from core.tail_risk import tail_touch_probability
from core.types import MarketSnapshot, finite_or_none
from i18n import N_, _
from storage.trades import list_trades

MARKET = "market"
HORIZONS = {"1h": 1, "4h": 4, "24h": 24, "1d": 24}


@dataclass(frozen=True)
class WhatIfRequest:
    driver: str  # a symbol as typed, or "market"
    move: float  # a fraction: −0.10 is −10 %
    hours: int = 24


def parse_move(token: str, example: str) -> float:
    """``-10%``, ``+20%``, ``−15`` (a percentage, signed or not) as a fraction."""
    text = token.strip().replace("−", "-").removesuffix("%")
    try:
        pct = float(text)
    except ValueError:
        raise ArgumentError(_("'{move}' is not a move in percent, e.g. {example}").format(
            move=token[:20], example=example)) from None
    if not math.isfinite(pct) or pct == 0 or pct <= -100 or pct > 1000:
        raise ArgumentError(_("a move is a percentage above −100 % and up to +1000 %, not "
                              "{move}, e.g. {example}").format(move=token[:20], example=example))
    return pct / 100.0


class WhatIf(Command):
    name = "whatif"
    expandable = True
    summary = N_("your whole book if one asset (or the market) moves: P&L, liquidations, "
                 "account")
    usage = N_("/whatif <symbol|market> <±move%> [1h|4h|24h]")
    examples = ("/whatif btc -10%", "/whatif market -15%", "/whatif eth +20% 4h")
    private_only = True

    def parse(self, args: list[str]) -> WhatIfRequest:
        if len(args) not in (2, 3):
            raise ArgumentError(_("/whatif takes an asset or 'market', a move and maybe a "
                                  "horizon, e.g. {example}").format(example=self.example))
        hours = 24
        if len(args) == 3:
            h = args[2].lower()
            if h not in HORIZONS:
                raise ArgumentError(_("the horizon is 1h, 4h or 24h, not '{horizon}', "
                                      "e.g. {example}").format(horizon=args[2][:20],
                                                                example=self.examples[2]))
            hours = HORIZONS[h]
        return WhatIfRequest(args[0], parse_move(args[1], self.example), hours)

    def add_cli_parser(self, sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
        """``bot.py whatif btc -10%``: argparse would take ``-10%`` for an unknown option
        (it lets only plain negative numbers through), so a signed percentage counts as one."""
        p = super().add_cli_parser(sub, common)
        p._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)%?$")
        return p

    async def answer(self, request: WhatIfRequest, ctx: CommandContext) -> Reply:
        if not ctx.is_private:
            raise ArgumentError(_("Your trades are private — ask /whatif in a private chat."))
        s = ctx.services
        trades = sorted(list_trades(s.db, ctx.user_id, open_only=True), key=lambda t: t.id)
        if not trades:
            return Reply(data={"positions": []}, text=[
                _("You have no open trades to shock. Log one with /open btc long 0.5 @60000 "
                  "10x.")])
        market = request.driver.lower() == MARKET
        driver = MARKET if market else await s.resolve(request.driver, self.example)
        symbols = sorted({t.symbol for t in trades} | ({driver} - {MARKET}))
        snap = await s.snapshot(symbols)
        await s.load_tiers(t.symbol for t in trades if t.symbol in snap.symbols)
        if not market and not priced_symbol(snap, driver):
            raise ArgumentError(_("There is no price for {symbol} right now: try another "
                                  "asset or 'market'.").format(symbol=driver))
        state = await s.engine_market(snap)
        items = entries(s, snap, trades, state)
        warnings = [_("#{id} {symbol}: no price right now, left out").format(
            id=t.id, symbol=t.symbol) for t in trades if not priced(snap, t)]
        if not items:
            raise ArgumentError(_("None of your trades has a price right now."))
        beta, notes = driver_betas(state, [e.column for e in items], driver)
        warnings += notes
        result = apply_shock(book_of(items, snap), beta, request.move)
        data = shock_data(request, driver, items, beta, result, snap, state)
        data["warnings"] = warnings
        data.update(freshness_data(await s.freshness(snap)))
        age = age_text(data["data_age_ms"], data["data_behind"])
        return Reply(data=data, text=[*render(data), *[f"⚠ {w}" for w in warnings], age],
                     short=render_short(data, age))


def priced_symbol(snap: MarketSnapshot, symbol: str) -> bool:
    return symbol in snap.symbols and math.isfinite(snap.last_price(symbol))


def driver_betas(state: Any, columns: list[int], driver: str) -> tuple[np.ndarray, list[str]]:
    """Each position's β to the driver: a symbol's column, or the market index."""
    if driver != MARKET:
        return co_movement(state, columns, state.snap.index(driver))
    r = state.returns
    mkt = market_returns(r)
    min_bars = 24
    b = betas_on(r, mkt, state.stress_rows, min_bars)
    notes = []
    if not np.isfinite(b[columns]).all():
        calm = betas_on(r, mkt, np.ones(r.shape[0], dtype=bool), min_bars)
        notes.append(_("too few stress bars for some assets against the market: their β over "
                       "the whole window"))
        b = np.where(np.isfinite(b), b, calm)
    return np.nan_to_num(b[columns], nan=0.0), notes


def shock_data(request: WhatIfRequest, driver: str, items: list[Entry], beta: np.ndarray,
               res: ShockResult, snap: MarketSnapshot, state: Any) -> dict[str, Any]:
    """The JSON answer (keys in the README)."""
    num = finite_or_none
    x = math.log1p(request.move)
    book = book_of(items, snap)
    after_book = dataclasses.replace(book, mark=res.prices_after)
    survivors_cross = cross_liquidation_prices(after_book, _pair_betas(state, items)) \
        if book.cross.any() and math.isnan(res.account_at) else np.full(len(items), np.nan)
    positions = []
    for k, e in enumerate(items):
        t, rep = e.trade, e.report
        dead = math.isfinite(res.liquidated_at[k])
        liq_after = survivors_cross[k] if book.cross[k] else (rep.liquidation_price or math.nan)
        dist = prob = None
        if not dead and math.isfinite(liq_after) and liq_after > 0:
            d = float(log_distance(res.prices_after[k], liq_after, e.position.sign))
            dist = num(e.position.sign * (res.prices_after[k] - liq_after)
                       / res.prices_after[k] * 100.0)
            prob = num(float(tail_touch_probability(state.tails, e.column, e.position.sign,
                                                    d, request.hours)))
        positions.append({
            "trade_id": t.id, "parent_id": t.parent_id, "symbol": t.symbol, "side": t.side,
            "size": t.size, "entry": t.entry, "margin_mode": t.margin_mode,
            "beta": float(beta[k]), "price_now": float(book.mark[k]),
            "price_after": float(res.prices_after[k]),
            "move_pct": float(math.expm1(beta[k] * x) * 100.0),
            "pnl_now": float(res.pnl_now[k]), "pnl_after": float(res.pnl_after[k]),
            "pnl_change": float(res.pnl_after[k] - res.pnl_now[k]),
            "liquidated": dead, "liquidation_order": num(res.order[k]),
            "liquidated_at_move_pct": num(math.expm1(res.liquidated_at[k] * x) * 100.0)
            if dead else None,
            "liquidation_price_after": num(liq_after) if not dead else None,
            "distance_pct_after": dist, f"touch_prob_{request.hours}h_after": prob})
    order = sorted((p for p in positions if p["liquidated"]),
                   key=lambda p: (p["liquidation_order"], p["trade_id"]))
    return {
        "shock": {"driver": driver, "move_pct": request.move * 100.0,
                  "horizon_h": request.hours},
        "positions": positions,
        "liquidation_order": [p["trade_id"] for p in order],
        "account": _account(book, res, x) if book.cross.any() else None,
        "hedges": _hedges(positions),
        "totals": {"pnl_now": float(res.pnl_now.sum()), "pnl_after": float(res.pnl_after.sum()),
                   "pnl_change": float((res.pnl_after - res.pnl_now).sum())},
        "as_of": snap.last_bar_close_ms}


def _pair_betas(state: Any, items: list[Entry]) -> np.ndarray:
    cols = [e.column for e in items]
    out = np.empty((len(cols), len(cols)))
    for i, j in enumerate(cols):
        out[:, i], _ = co_movement(state, cols, j)
    return out


def _account(book: Any, res: ShockResult, x: float) -> dict[str, Any]:
    num = finite_or_none
    mm = res.maintenance_after
    dead = math.isfinite(res.account_at)
    return {"collateral": book.collateral, "equity_now": res.equity_now,
            "equity_after": res.equity_after, "maintenance_after": mm,
            "margin_ratio_after": num(res.equity_after / mm) if mm > 0 else None,
            "liquidated": dead,
            "liquidated_at_move_pct": num(math.expm1(res.account_at * x) * 100.0)
            if dead else None}


def _hedges(positions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per main trade with legs: its P&L change, its legs', and the share of the main's
    loss (or gain) the legs offset."""
    out = []
    for p in positions:
        legs = [q for q in positions if q["parent_id"] == p["trade_id"]]
        if p["parent_id"] is not None or not legs:
            continue
        main, hedge = p["pnl_change"], sum(q["pnl_change"] for q in legs)
        offset = -hedge / main if main else None
        out.append({"trade_id": p["trade_id"], "legs": [q["trade_id"] for q in legs],
                    "main_pnl_change": main, "legs_pnl_change": hedge,
                    "net_pnl_change": main + hedge, "offset": offset})
    return out
