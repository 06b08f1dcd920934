"""/market: the cascade score with its factors, the market correlation index and its z-score,
the volatility ratio, funding extremes and data freshness."""

from __future__ import annotations

import asyncio
from typing import Any

from chat.commands.base import ArgumentError, Command, Reply
from chat.commands.market_view import age_text, freshness_data, level_word, num
from chat.context import CommandContext
from chat.first_screens import market_short
from core.cascade import FACTORS
from core.evaluate import EngineResult, evaluate
from i18n import N_, _
from settings.engine import engine_params


class Market(Command):
    name = "market"
    summary = N_("is a cascade building? score, factors, correlation, funding")
    usage = N_("/market [full]")
    expandable = True
    examples = ("/market",)

    def parse(self, args: list[str]) -> None:
        if args:
            raise ArgumentError(_("/market takes no arguments, e.g. {example}").format(
                example=self.example))

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


def correlation_line(d: dict[str, Any]) -> str:
    """The market correlation now against its 30-day level, its z-score, a spike: whole
    sentences for the usual cases, the z-score and the spike as tags after them."""
    mi, ms, z = d["market_index"], d["market_index_slow"], d["market_z"]
    if mi is not None and ms is not None:
        line = _("Market correlation {now:.2f} now (1d) vs {slow:.2f} (30d)").format(
            now=mi, slow=ms)
    elif mi is not None:
        line = _("Market correlation {now:.2f} now (1d)").format(now=mi)
    elif ms is not None:
        line = _("Market correlation n/a vs {slow:.2f} (30d)").format(slow=ms)
    else:
        line = _("Market correlation n/a")
    if z is not None:
        line += _(", z {z:+.1f}").format(z=z)
    return line + (_(" — SPIKE") if d["market_spike"] else "")


def market_lines(d: dict[str, Any]) -> list[str]:
    c = d["cascade"]
    head = (_("Cascade score {score:.0f}/100: {level} [SIMULATED]") if d["simulated"] else
            _("Cascade score {score:.0f}/100: {level}"))
    lines = [head.format(score=c["score"], level=level_word(c["level"]).upper())]
    for name, pts in sorted(c["contributions"].items(), key=lambda x: -x[1]):
        lines.append(_("  {factor}: {value:.3g} → {points:.0f} pts").format(
            factor=_(FACTORS[name].label), value=c["factors"][name], points=pts))
    if c["missing"]:
        lines.append(_("  not available: {factors} (confidence {confidence:.0f} %)").format(
            factors=", ".join(c["missing"]), confidence=c["confidence"] * 100))
    lines += [f"  {n}" for n in c.get("notes", ())]  # e.g. why the level is capped
    lines.append(correlation_line(d))
    if d["vol_ratio"] is not None:
        lines.append(_("Volatility {ratio:.2f}× its 30-day level").format(ratio=d["vol_ratio"]))
    if d["funding_extremes"]:
        lines.append(_("Funding extremes: {rates}").format(rates=", ".join(
            f"{f['symbol'].split('-')[0]} {f['rate'] * 100:+.3f} %" for f in d["funding_extremes"]
            if f["rate"] is not None)))
    lines.append(age_text(d["data_age_ms"], d.get("data_behind")))
    lines += [f"⚠ {w}" for w in d["warnings"]]
    return lines
