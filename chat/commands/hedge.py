"""/hedge: each strategy's hedge for a position, the correlation regime, what the seed's
rule would do, the counterweights, and how old the data is."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from chat.commands.base import ArgumentError, Command, Reply
from chat.commands.market_view import age_text, freshness_data, leg_text, num
from chat.commands.multi_leg import multi_leg_data, multi_leg_lines, unique_legs
from chat.commands.position_args import build_position
from chat.context import CommandContext
from chat.dispatch import PRIVATE_ONLY
from chat.first_screens import MAX_LINES, hedge_short
from chat.grammar import PositionArgs, parse_position, parse_trade_id, side_word
from core.evaluate import EngineResult, evaluate
from core.recommend import HeldHedge
from core.types import Position
from i18n import N_, _
from plugins.alert_rules.trade_rules import hedged_command
from plugins.manager import PluginManager
from plugins.strategies.asking import ask
from plugins.strategies.bars import bar_view
from settings.engine import engine_params
from storage import trades as trades_store


@dataclass(frozen=True)
class TradeRef:
    """``/hedge 5``: the user's logged trade 5, with the legs it holds."""

    trade_id: int


REGIMES = {"low": N_("low regime"), "normal": N_("normal regime"),  # core.regimes names
           "high": N_("high regime"), "unknown": N_("unknown regime")}
CASCADE_LEVELS = {"calm": N_("calm"), "elevated": N_("elevated"),  # core.cascade.LEVEL_ORDER
                  "high": N_("high"), "cascade": N_("cascade")}


class Hedge(Command):
    name = "hedge"
    summary = N_("how to hedge a position or one of your trades: every strategy, "
                 "counterweights")
    usage = N_("/hedge <symbol> [long|short] [size] [@entry] [10x] [with <symbols>] [full] | "
               "/hedge <trade id> [full]")
    expandable = True
    examples = ("/hedge btc 0.5 10x", "/hedge sol long 100 @180 10x", "/hedge eth with btc sol",
                "/hedge 1")

    def parse(self, args: list[str]) -> PositionArgs | TradeRef:
        if not args:
            raise ArgumentError(_("Which position? e.g. {example}").format(
                example=self.example))
        if len(args) == 1 and args[0].removeprefix("#").isdecimal():
            return TradeRef(parse_trade_id(args[0], self.examples[3]))
        return parse_position(args, self.example)

    async def answer(self, request: PositionArgs | TradeRef, ctx: CommandContext) -> Reply:
        if isinstance(request, TradeRef):
            return await self.answer_trade(request, ctx)
        return await self.answer_position(request, ctx)

    async def answer_trade(self, request: TradeRef, ctx: CommandContext) -> Reply:
        """The hedge of a logged trade: its own position and margin, the legs it holds, and
        "I put this on" for its strategy's legs."""
        if not ctx.is_private:
            return Reply.usage(_(PRIVATE_ONLY).format(example=self.examples[3]))
        s = ctx.services
        t = trades_store.get_trade(s.db, ctx.user_id, request.trade_id)
        if t is None or not t.is_open or t.is_leg:
            raise ArgumentError(_("There is no open trade #{id} of yours — see /positions."
                                  ).format(id=request.trade_id))
        pos = Position(t.symbol, t.side, t.size, t.entry, t.leverage, t.margin_mode,
                       t.isolated_margin)
        legs = trades_store.legs_of(s.db, ctx.user_id, t.id)
        reply = await self.answer_position(
            PositionArgs(t.symbol, t.side, None, t.entry, t.leverage), ctx, position=pos,
            held=legs)
        if not reply.ok or "strategies" not in reply.data:
            return reply
        name = t.strategy if t.strategy in reply.data["strategies"] else \
            s.config.strategies.default
        chosen = reply.data["strategies"].get(name)
        reply.data["trade_id"] = t.id
        reply.data["held"] = [{"id": x.id, "symbol": x.symbol, "side": x.side, "size": x.size,
                               "entry": x.entry} for x in legs]
        held = ", ".join(f"#{x.id} {side_word(x.side)} {x.size:.6g} {x.symbol.split('-')[0]}"
                         for x in legs)
        held_line = _("Held: {legs} · strategy {name}").format(legs=held, name=name) if held \
            else _("Held: no hedge logged · strategy {name}").format(name=name)
        reply.text.insert(1, held_line)
        if reply.short is not None:
            reply.short.insert(1, held_line)
            del reply.short[MAX_LINES:]
        reply.buttons = []
        if chosen is not None:
            target = [(leg["symbol"], leg["side"], leg["size"]) for leg in chosen["legs"]]
            reply.buttons = [[(_("I put this on ({name})").format(name=name),
                               hedged_command(t.id, target))]]
        return reply

    async def answer_position(self, request: PositionArgs, ctx: CommandContext, *,
                              position: Position | None = None,
                              held: list[trades_store.Trade] | None = None) -> Reply:
        s = ctx.services
        symbol = await s.resolve(request.symbol, self.example)
        hedges, merged = unique_legs([await s.resolve(h, self.example)
                                      for h in request.hedges])
        if symbol in hedges:
            raise ArgumentError(_("{symbol} cannot hedge itself; name other symbols after "
                                  "'with', e.g. {example}").format(symbol=symbol,
                                                                  example=self.examples[2]))
        snap = await s.snapshot()
        wanted = {symbol, *hedges}
        if not wanted <= set(snap.symbols):
            snap = await s.snapshot(sorted(set(snap.symbols) | wanted))
        pos = position or build_position(s, snap, symbol, request, self.example)
        if isinstance(pos, Reply):
            return pos
        params = replace(engine_params(s.config), hedge_candidates=tuple(hedges) or None)
        market = await s.engine_market(snap)
        held_now = [HeldHedge(0, x.symbol, x.side, x.size, x.entry) for x in held or []
                    if x.symbol in snap.symbols]
        result = await asyncio.get_running_loop().run_in_executor(
            None, lambda: evaluate(snap, [pos], params, held_now, market=market))
        funding = {sym: float(v.values[-1]) for sym, v in snap.funding.items() if len(v)}
        data = hedge_data(result, s.strategies, hedges, s.plugins, funding)
        data["warnings"] = [*merged, *data["warnings"],
                            *s.market.assumptions([symbol, *hedges])]
        data.update(freshness_data(await s.freshness(snap)))
        lines = hedge_lines(data, pos)
        short = hedge_short(data)
        log_cmd = f"/open {symbol} {pos.side} {pos.size:.8g} @{pos.entry:.8g} {pos.leverage:g}x"
        return Reply(data=data, text=lines, short=short,
                     buttons=[[(_("Log this trade"), log_cmd),
                               (_("Alert me on rebalance"), "/subscribe rebalance")]])


def counterweight_rows(result: EngineResult, funding: Mapping[str, float]
                       ) -> list[dict[str, Any]]:
    """The counterweights with sizes: ``stress_beta`` × the position's notional, in base units
    at the current price, and their carry in USDT a day (funding received is positive)."""
    cws = result.counterweights_for(0)
    if not cws:
        return []
    pos = result.positions[0]
    notional = pos.size * float(result.prices[result.index(pos.symbol)])
    out = []
    for c in cws.legs:
        price = float(result.prices[result.index(c.symbol)])
        leg_notional = c.stress_beta * notional
        rate = funding.get(c.symbol)
        carry = None if rate is None else (-1 if c.side == "long" else 1) * rate * 3 * \
            leg_notional  # three 8-hour fundings a day
        out.append({**c.to_dict(), "notional": num(leg_notional),
                    "size": num(leg_notional / price) if price > 0 else None,
                    "carry_usdt_per_day": num(carry) if carry is not None else None})
    return out


def hedge_data(result: EngineResult, strategies: Mapping[str, Any], hedges: list[str],
               pm: PluginManager | None = None,
               funding: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The JSON answer: stable keys documented in the README. Strategies come in the order
    the plugins registered them (a ``tryfirst`` one first); one that fails is left out and
    named in ``warnings``."""
    rec = result.hedge(0)
    bar = bar_view(result, 0)
    decided: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    for strategy in strategies.values():
        answer = ask(strategy, bar, None, pm, where=f"/hedge {rec.symbol}")
        if answer.decision is None:
            failed.append(answer.warning or _("strategy {name} left out").format(
                name=answer.strategy))
            continue
        decided[answer.strategy] = {
            "legs": [{"symbol": x.symbol, "side": x.side, "size": x.size}
                     for x in answer.decision.legs], "reason": answer.decision.reason}
    legs = []
    if rec.leg is not None:
        legs.append({**leg_text(rec.leg), "effectiveness": num(rec.effectiveness)})
    cws = result.counterweights_for(0)
    data: dict[str, Any] = {
        "symbol": rec.symbol, "side": result.positions[0].side,
        "size": result.positions[0].size, "entry": result.positions[0].entry,
        "leverage": result.positions[0].leverage, "hedge_symbol": rec.hedge_symbol,
        "legs": legs, "beta_ewma": num(rec.beta_ewma),
        "correlation_fast": num(rec.corr_fast), "correlation_slow": num(rec.corr_slow),
        "regime": rec.regime,
        "seed_rule": {"multiplier": num(rec.seed_multiplier),
                      "leg": leg_text(rec.seed_leg) if rec.seed_leg else None},
        "counterweights": counterweight_rows(result, funding or {}),
        "counterweight_notes": list(cws.notes) if cws else [],
        "strategies": decided,
        "cascade": {"level": result.cascade.level, "score": round(result.cascade.score, 1)},
        "as_of": result.time_ms, "data_age_ms": result.data_age_ms,
        "simulated": result.simulated,
        "warnings": [*rec.warnings, *result.warnings, *failed],
    }
    if len(hedges) >= 2:
        data["multi_leg"] = multi_leg_data(result, rec.symbol, hedges)
    return data


def _ratio(x: float | None, spec: str = ".2f") -> str:
    return _("n/a") if x is None else format(x, spec)


def counterweight_line(c: dict[str, Any]) -> str:
    """"long 12 SOL (2,000 USDT): stress ρ -0.40, score 0.80, carry +1.20 USDT/day"."""
    leg = " ".join(x for x in (side_word(c["side"]),
                               "" if c["size"] is None else f"{c['size']:.4g}", c["symbol"]) if x)
    if c["notional"] is not None:
        leg += f" ({c['notional']:,.0f} USDT)"
    if c["carry_usdt_per_day"] is None:
        return _("{leg}: stress ρ {rho:.2f}, score {score:.2f}").format(
            leg=leg, rho=c["stress_corr"], score=c["score"])
    return _("{leg}: stress ρ {rho:.2f}, score {score:.2f}, carry {carry:+,.2f} USDT/day"
             ).format(leg=leg, rho=c["stress_corr"], score=c["score"],
                      carry=c["carry_usdt_per_day"])


def hedge_lines(d: dict[str, Any], pos: Position) -> list[str]:
    head = f"{pos.symbol} {side_word(pos.side)} {pos.size:.6g} @ {pos.entry:,.6g} " \
           f"{pos.leverage:g}x"
    lines = [_("{position} [SIMULATED]").format(position=head) if d["simulated"] else head]
    if d["hedge_symbol"] is None:
        lines.append(_("No hedge instrument has enough common data yet."))
    else:
        regime = _(REGIMES[d["regime"]]) if d["regime"] in REGIMES else d["regime"]
        lines.append(_("Hedge with {symbol}: correlation {fast} now (1d) vs {slow} (30d), "
                       "{regime}").format(symbol=d["hedge_symbol"],
                                          fast=_ratio(d["correlation_fast"]),
                                          slow=_ratio(d["correlation_slow"]), regime=regime))
        for leg in d["legs"]:
            eff = leg["effectiveness"]
            lines.append("  " + (_("β hedge: {leg} — removes n/a of the variance").format(
                leg=leg["text"]) if eff is None else
                _("β hedge: {leg} — removes {pct:.0f} % of the variance").format(
                    leg=leg["text"], pct=eff * 100)))
        seed = d["seed_rule"]
        if seed["leg"]:
            lines.append("  " + _("seed's rule (×{multiplier:g}): {leg}").format(
                multiplier=seed["multiplier"], leg=seed["leg"]["text"]))
    lines.append(_("Strategies:"))
    for name, s in d["strategies"].items():
        lines.append(f"  {name}: {s['reason']}")
    if d["counterweights"]:
        lines.append(_("Counterweights (legs that gained in past stress):"))
        lines += [f"  {counterweight_line(c)}" for c in d["counterweights"]]
    lines += [f"  ({n})" for n in d["counterweight_notes"]]
    if "multi_leg" in d:
        lines += multi_leg_lines(d["multi_leg"])
    level = d["cascade"]["level"]
    lines.append(_("Cascade level {level} · {age}").format(
        level=_(CASCADE_LEVELS[level]) if level in CASCADE_LEVELS else level,
        age=age_text(d["data_age_ms"], d.get("data_behind"))))
    lines += [f"⚠ {w}" for w in d["warnings"]]
    return lines
