"""/hedge with several symbols after 'with': a symbol named twice counts once, legs that can
be told apart are sized together, and legs that move as one get the reason and which to drop
instead of sizes (``core.hedging.MAX_CONDITION``)."""

from __future__ import annotations

from typing import Any

from chat.commands.market_view import num
from core.evaluate import EngineResult
from core.hedging import MAX_CONDITION, collinearity, multi_leg
from i18n import _


def short_name(symbol: str) -> str:
    """``BTC-USDT-SWAP`` → ``btc``, as a trader would type it."""
    return symbol.split("-")[0].lower()


def unique_legs(hedges: list[str]) -> tuple[list[str], list[str]]:
    """The hedge symbols in the order first named, and a note for each named more than once
    (``eth ETH-USDT-SWAP`` are the same leg)."""
    counts: dict[str, int] = {}
    for h in hedges:
        counts[h] = counts.get(h, 0) + 1
    notes = [_("{symbol} was named {n} times after 'with'; it is used once.").format(
        symbol=h, n=n) for h, n in counts.items() if n > 1]
    return list(counts), notes


def multi_leg_data(result: EngineResult, symbol: str, hedges: list[str]) -> dict[str, Any]:
    """The ``multi_leg`` JSON: legs in USDT notional (negative = short), the share of variance
    they remove and the legs' condition number; or, when ill-posed, ``refused`` and ``drop``."""
    pos = result.positions[0]
    target, idx = result.index(symbol), [result.index(h) for h in hedges]
    cov = result.view.fast_cov
    check = collinearity(cov, target, idx)
    out: dict[str, Any] = {"legs": [], "effectiveness": None,
                           "condition": num(check.condition), "refused": None, "drop": None}
    if check.ill_posed:
        drop = hedges[check.drop] if check.drop is not None else hedges[-1]
        rest = " ".join(short_name(h) for h in hedges if h != drop)
        params = {"legs": ", ".join(hedges), "drop": drop,
                  "example": f"/hedge {short_name(symbol)} with {rest}"}
        out["refused"] = (_(
            "No sizes for several legs: {legs} move almost as one (no data to tell them "
            "apart), so how to split the hedge between them would be noise. Drop {drop}, "
            "e.g. {example}").format(**params) if num(check.condition) is None else _(
            "No sizes for several legs: {legs} move almost as one (condition "
            "{condition:,.3g}, above {most:,.0f}), so how to split the hedge between them "
            "would be noise. Drop {drop}, e.g. {example}").format(
            condition=check.condition, most=MAX_CONDITION, **params))
        out["drop"] = drop
        return out
    fit = multi_leg(cov, target, idx)
    notional = pos.size * float(result.prices[target])
    out["legs"] = [{"symbol": h, "notional": num(w * pos.sign * notional)}
                   for h, w in zip(hedges, fit.weights, strict=True)]
    out["effectiveness"] = num(fit.effectiveness)
    return out


def multi_leg_lines(m: dict[str, Any]) -> list[str]:
    """The text under "Together:" for ``multi_leg_data``'s answer."""
    if m["refused"]:
        return [m["refused"]]
    legs = ", ".join(f"{x['symbol']} {x['notional']:,.0f} USDT" for x in m["legs"]
                     if x["notional"] is not None)
    if not legs or m["effectiveness"] is None:
        return [_("Together: not enough common data to size the legs yet.")]
    return [_("Together: {legs} (removes {pct:.0f} %, condition {condition:.1f})").format(
        legs=legs, pct=m["effectiveness"] * 100, condition=m["condition"])]
