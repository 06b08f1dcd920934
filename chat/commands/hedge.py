"""/hedge: each strategy's hedge for a position, the correlation regime, what the seed's
rule would do, the counterweights, and how old the data is."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from chat.commands.base import ArgumentError, Command, Reply
from chat.commands.hedge_legs import multi_leg_data, multi_leg_lines, unique_legs
from chat.commands.market_view import age_text, leg_text, num
from chat.commands.position_args import build_position
from chat.context import CommandContext
from chat.grammar import PositionArgs, parse_position
from core.evaluate import EngineResult, evaluate
from core.types import Position
from plugins.strategies.bars import bar_view
from settings.engine import engine_params


class Hedge(Command):
    name = "hedge"
    summary = "how to hedge a position: every strategy, regime, counterweights"
    usage = "/hedge <symbol> [long|short] [size] [@entry] [10x] [with <symbols>]"
    examples = ("/hedge btc 0.5 10x", "/hedge sol long 100 @180 10x", "/hedge eth with btc sol")

    def parse(self, args: list[str]) -> PositionArgs:
        if not args:
            raise ArgumentError(f"Which position? e.g. {self.example}")
        return parse_position(args, self.example)

    async def answer(self, request: PositionArgs, ctx: CommandContext) -> Reply:
        s = ctx.services
        symbol = await s.resolve(request.symbol, self.example)
        hedges, merged = unique_legs([await s.resolve(h, self.example)
                                      for h in request.hedges])
        if symbol in hedges:
            raise ArgumentError(f"{symbol} cannot hedge itself; name other symbols after "
                                f"'with', e.g. {self.examples[2]}")
        snap = await s.snapshot()
        wanted = {symbol, *hedges}
        if not wanted <= set(snap.symbols):
            snap = await s.snapshot(sorted(set(snap.symbols) | wanted))
        pos = build_position(s, snap, symbol, request, self.example)
        if isinstance(pos, Reply):
            return pos
        params = replace(engine_params(s.config), hedge_candidates=tuple(hedges) or None)
        market = await s.engine_market(snap)
        result = await asyncio.get_running_loop().run_in_executor(
            None, lambda: evaluate(snap, [pos], params, market=market))
        data = hedge_data(result, s.strategies, hedges)
        data["warnings"] = [*merged, *data["warnings"]]
        lines = hedge_lines(data, pos)
        log_cmd = f"/open {symbol} {pos.side} {pos.size:.8g} @{pos.entry:.8g} {pos.leverage:g}x"
        return Reply(data=data, text=lines,
                     buttons=[[("Log this trade", log_cmd),
                               ("Alert me on rebalance", "/subscribe rebalance")]])


def hedge_data(result: EngineResult, strategies: dict[str, Any], hedges: list[str]
               ) -> dict[str, Any]:
    """The JSON answer: stable keys documented in the README."""
    rec = result.hedge(0)
    bar = bar_view(result, 0)
    decided = {}
    for name, strategy in sorted(strategies.items()):
        try:
            d = strategy.decide(bar, None)
        except Exception as e:  # a plugin's bug is shown, not fatal to the answer
            decided[name] = {"legs": [], "reason": f"failed: {type(e).__name__}: {e}"}
            continue
        decided[name] = {"legs": [{"symbol": x.symbol, "side": x.side, "size": x.size}
                                  for x in d.legs], "reason": d.reason}
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
        "counterweights": [c.to_dict() for c in cws.legs] if cws else [],
        "counterweight_notes": list(cws.notes) if cws else [],
        "strategies": decided,
        "cascade": {"level": result.cascade.level, "score": round(result.cascade.score, 1)},
        "as_of": result.time_ms, "data_age_ms": result.data_age_ms,
        "simulated": result.simulated, "warnings": [*rec.warnings, *result.warnings],
    }
    if len(hedges) >= 2:
        data["multi_leg"] = multi_leg_data(result, rec.symbol, hedges)
    return data


def hedge_lines(d: dict[str, Any], pos: Position) -> list[str]:
    lines = [f"{pos.symbol} {pos.side} {pos.size:.6g} @ {pos.entry:,.6g} {pos.leverage:g}x"
             + (" [SIMULATED]" if d["simulated"] else "")]
    if d["hedge_symbol"] is None:
        lines.append("No hedge instrument has enough common data yet.")
    else:
        cf, cs = d["correlation_fast"], d["correlation_slow"]
        lines.append(f"Hedge with {d['hedge_symbol']}: correlation "
                     f"{'n/a' if cf is None else f'{cf:.2f}'} now (1d) vs "
                     f"{'n/a' if cs is None else f'{cs:.2f}'} (30d), {d['regime']} regime")
        for leg in d["legs"]:
            eff = leg["effectiveness"]
            lines.append(f"  β hedge: {leg['text']} — removes "
                         f"{'n/a' if eff is None else f'{eff * 100:.0f} %'} of the variance")
        seed = d["seed_rule"]
        if seed["leg"]:
            lines.append(f"  seed's rule (×{seed['multiplier']:g}): {seed['leg']['text']}")
    lines.append("Strategies:")
    for name, s in d["strategies"].items():
        lines.append(f"  {name}: {s['reason']}")
    if d["counterweights"]:
        lines.append("Counterweights (legs that gained in past stress):")
        for c in d["counterweights"]:
            lines.append(f"  {c['side']} {c['symbol']}: score {c['score']:.2f}, stress ρ "
                         f"{c['stress_corr']:.2f}, convexity {c['convexity']:.2f}")
    lines += [f"  ({n})" for n in d["counterweight_notes"]]
    if "multi_leg" in d:
        lines += multi_leg_lines(d["multi_leg"])
    lines.append(f"Cascade level {d['cascade']['level']} · {age_text(d['data_age_ms'])}")
    lines += [f"⚠ {w}" for w in d["warnings"]]
    return lines
