"""/market: the cascade score with its factors, the market correlation index and its z-score,
the volatility ratio, funding extremes and data freshness."""

from __future__ import annotations

import asyncio
from typing import Any

from chat.commands.base import ArgumentError, Command, Reply
from chat.commands.market_view import age_text, freshness_data, num
from chat.context import CommandContext
from chat.first_screens import market_short
from core.cascade import FACTORS
from core.evaluate import EngineResult, evaluate
from settings.engine import engine_params


class Market(Command):
    name = "market"
    summary = "is a cascade building? score, factors, correlation, funding"
    usage = "/market [full]"
    expandable = True
    examples = ("/market",)

    def parse(self, args: list[str]) -> None:
        if args:
            raise ArgumentError(f"/market takes no arguments, e.g. {self.example}")

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        s = ctx.services
        snap = await s.snapshot()
        market = await s.engine_market(snap)
        result = await asyncio.get_running_loop().run_in_executor(
            None, lambda: evaluate(snap, [], engine_params(s.config), market=market))
        data = market_data(result, snap.funding)
        data.update(freshness_data(await s.freshness(snap)))
        return Reply(data=data, text=market_lines(data), short=market_short(data))


def market_data(result: EngineResult, funding: Any) -> dict[str, Any]:
    c = result.cascade
    rates = sorted(((sym, s.last) for sym, s in funding.items() if len(s)),
                   key=lambda x: -abs(x[1]))
    return {
        "cascade": c.to_dict(),
        "market_index": num(result.view.market_index),
        "market_index_slow": num(result.view.market_index_slow),
        "market_z": num(c.factors.get("corr_z")),
        "market_spike": result.market_spike,
        "vol_ratio": num(c.factors.get("vol_ratio")),
        "funding_extremes": [{"symbol": sym, "rate": num(r)} for sym, r in rates[:3]],
        "as_of": result.time_ms, "data_age_ms": result.data_age_ms,
        "simulated": result.simulated, "warnings": list(result.warnings),
    }


def market_lines(d: dict[str, Any]) -> list[str]:
    c = d["cascade"]
    lines = [f"Cascade score {c['score']:.0f}/100: {c['level'].upper()}"
             + (" [SIMULATED]" if d["simulated"] else "")]
    for name, pts in sorted(c["contributions"].items(), key=lambda x: -x[1]):
        lines.append(f"  {FACTORS[name].label}: {c['factors'][name]:.3g} → {pts:.0f} pts")
    if c["missing"]:
        lines.append(f"  not available: {', '.join(c['missing'])} "
                     f"(confidence {c['confidence'] * 100:.0f} %)")
    lines += [f"  {n}" for n in c.get("notes", ())]  # e.g. why the level is capped
    mi, ms, z = d["market_index"], d["market_index_slow"], d["market_z"]
    lines.append("Market correlation " + (f"{mi:.2f} now (1d)" if mi is not None else "n/a")
                 + (f" vs {ms:.2f} (30d)" if ms is not None else "")
                 + (f", z {z:+.1f}" if z is not None else "")
                 + (" — SPIKE" if d["market_spike"] else ""))
    if d["vol_ratio"] is not None:
        lines.append(f"Volatility {d['vol_ratio']:.2f}× its 30-day level")
    if d["funding_extremes"]:
        lines.append("Funding extremes: " + ", ".join(
            f"{f['symbol'].split('-')[0]} {f['rate'] * 100:+.3f} %" for f in d["funding_extremes"]
            if f["rate"] is not None))
    lines.append(age_text(d["data_age_ms"], d.get("data_behind")))
    lines += [f"⚠ {w}" for w in d["warnings"]]
    return lines
