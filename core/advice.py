"""One recommendation per trade per bar: the trade's situation reduced to a single action.

Several things can be said about a leveraged trade at the same close — it is near its
liquidation price, its hedge drifted from the strategy's target, a hedge leg is in profit in
a cascade — and said separately they contradict each other ("add to the hedge" and "take
profit on the hedge" on the same bar). ``advise`` decides, in this order:

1. **Liquidation danger** (touch probability or σ-distance past the thresholds): a hedge on
   its own margin does not move an isolated position's liquidation price, so the advice is
   ``add_margin`` — the exact USDT that puts the liquidation price at least ``safe_distance``
   from the price, and at least the risk model's distance for its 24 h target (the distance
   a new position at the safe leverage has; whichever is further) — or, when that cannot be
   computed, ``reduce_size`` to the size that does.
2. **Take profit** on held hedge legs in profit while the cascade level is high or above
   (the seed's rule): ``take_profit``, closing those legs.
3. **Hedge adjustment**: the strategy's target against the legs actually held; when they
   differ by more than the rebalance threshold of the position's notional, ``add_hedge``
   (nothing or less held), ``reduce_hedge`` (more held than the target) or ``switch_hedge``
   (another instrument or side).
4. Otherwise ``hold``.

Pure: numbers in, one ``Advice`` out. Its ``reason`` is an ``i18n.L_`` message, rendered in
each reader's language where it is shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from i18n import L_, Msg

HOLD, ADD_HEDGE, REDUCE_HEDGE, SWITCH_HEDGE = "hold", "add_hedge", "reduce_hedge", "switch_hedge"
TAKE_PROFIT, ADD_MARGIN, REDUCE_SIZE = "take_profit", "add_margin", "reduce_size"
DANGER = frozenset({ADD_MARGIN, REDUCE_SIZE})
HEDGE = frozenset({ADD_HEDGE, REDUCE_HEDGE, SWITCH_HEDGE})

Leg = tuple[str, str, float]  # (symbol, side, size in base units)


@dataclass(frozen=True)
class Advice:
    """What to do now. ``legs`` is the hedge to hold after the action (hedge actions) or the
    legs to close (``take_profit``); ``margin`` the USDT to add; ``size`` the size to cut
    to; ``distance`` the liquidation distance (fraction) the margin or size gives."""

    action: str
    reason: str | Msg
    legs: tuple[Leg, ...] = ()
    margin: float | None = None
    size: float | None = None
    distance: float | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def is_hold(self) -> bool:
        return self.action == HOLD


def margin_for_distance(side: str, size: float, entry: float, price: float, distance: float,
                        mmr: float, fee: float) -> float:
    """The isolated margin that puts the liquidation price ``distance`` (fraction) from
    ``price`` (OKX's isolated formula, solved for the margin); NaN when not finite."""
    k = mmr + fee
    if side == "long":
        liq = price * (1.0 - distance)
        need = size * (entry - liq * (1.0 - k))
    else:
        liq = price * (1.0 + distance)
        need = size * (liq * (1.0 + k) - entry)
    return need if math.isfinite(need) else math.nan


def liquidation_price(side: str, size: float, entry: float, margin: float, mmr: float,
                      fee: float) -> float:
    """OKX's isolated liquidation price (FACTS.md), for the distance an advice gives."""
    k = mmr + fee
    if side == "long":
        return max((entry - margin / size) / (1.0 - k), 0.0)
    return (entry + margin / size) / (1.0 + k)


def size_for_distance(side: str, margin: float, entry: float, price: float, distance: float,
                      mmr: float, fee: float) -> float:
    """The size the same margin can carry with its liquidation price ``distance`` from
    ``price``; NaN when no size can (the price is already past that point)."""
    k = mmr + fee
    if side == "long":
        gap = entry - price * (1.0 - distance) * (1.0 - k)
    else:
        gap = price * (1.0 + distance) * (1.0 + k) - entry
    return margin / gap if gap > 0 else math.nan


def hedge_gap(held: Sequence[Leg], target: Sequence[Leg], prices: Mapping[str, float]) -> float:
    """USDT between two sets of legs: Σ over symbols of |target − held| signed size × price
    (NaN when a symbol that changes has no price)."""
    def signed(legs: Sequence[Leg]) -> dict[str, float]:
        out: dict[str, float] = {}
        for sym, side, size in legs:
            out[sym] = out.get(sym, 0.0) + (size if side == "long" else -size)
        return out

    h, t = signed(held), signed(target)
    gap = 0.0
    for s in set(h) | set(t):
        diff = t.get(s, 0.0) - h.get(s, 0.0)
        if diff:
            gap += abs(diff) * prices.get(s, math.nan)
    return gap


def _hedge_action(held: Sequence[Leg], target: Sequence[Leg],
                  prices: Mapping[str, float]) -> str:
    held_syms = {(s, side) for s, side, _ in held}
    target_syms = {(s, side) for s, side, _ in target}
    if held and target and held_syms != target_syms:
        return SWITCH_HEDGE
    held_n = sum(size * prices.get(s, math.nan) for s, _, size in held)
    target_n = sum(size * prices.get(s, math.nan) for s, _, size in target)
    return ADD_HEDGE if target_n > held_n else REDUCE_HEDGE


def legs_text(legs: Sequence[Leg]) -> Msg:
    """"short 0.5 ETH, long 0.1 SOL" (or "no hedge") in the reader's language."""
    if not legs:
        return L_("no hedge")
    parts = [L_("{side} {size:.6g} {base}", side=L_(side), size=size, base=sym.split("-")[0])
             for sym, side, size in legs]
    out = parts[-1]
    for part in reversed(parts[:-1]):
        out = L_("{first}, {rest}", first=part, rest=out)
    return out


def advise(*, side: str, size: float, entry: float, price: float, margin: float, mmr: float,
           fee: float, danger: bool, danger_why: str | Msg, safe_distance: float,
           held: Sequence[Leg], target: Sequence[Leg] | None, target_reason: str | Msg,
           take_profit: Sequence[tuple[Leg, float]], prices: Mapping[str, float],
           rebalance_threshold: float, model_distance: float = math.nan) -> Advice:
    """The one action for a trade at this bar (see the module docstring for the order).

    ``held`` are the logged hedge legs, ``target`` the strategy's legs (None when the
    strategy gave none this bar), ``take_profit`` the held legs in profit in a cascade with
    their P&L in USDT; ``model_distance`` the adverse move (fraction of the price) the risk
    model's 24 h target needs (``RiskArrays.safe_distance_pct`` / 100)."""
    notional = size * price
    if danger:
        far = safe_distance
        if math.isfinite(model_distance) and 0 < model_distance < 1:
            far = max(far, model_distance)
        need = margin_for_distance(side, size, entry, price, far, mmr, fee)
        add = need - margin
        if math.isfinite(add) and add > 0:
            liq = liquidation_price(side, size, entry, need, mmr, fee)
            dist = abs(price - liq) / price
            freed = sum(p for _, p in take_profit)
            reason = L_("{why}; adding {add:,.2f} USDT of margin puts the liquidation price "
                        "{distance:.0%} away (closing the hedge in profit frees {freed:,.2f} "
                        "USDT towards it)", why=danger_why, add=add, distance=dist,
                        freed=freed) if freed > 0 else \
                L_("{why}; adding {add:,.2f} USDT of margin puts the liquidation price "
                   "{distance:.0%} away", why=danger_why, add=add, distance=dist)
            return Advice(ADD_MARGIN, reason, margin=add, distance=dist)
        smaller = size_for_distance(side, margin, entry, price, safe_distance, mmr, fee)
        if math.isfinite(smaller) and 0 < smaller < size:
            return Advice(REDUCE_SIZE,
                          L_("{why}; at {smaller:.6g} (from {size:.6g}) the same margin puts "
                             "the liquidation price {distance:.0%} away", why=danger_why,
                             smaller=smaller, size=size, distance=safe_distance),
                          size=smaller, distance=safe_distance)
        return Advice(REDUCE_SIZE, L_("{why}; more margin does not lower it here: cut or "
                                      "close the position", why=danger_why), size=0.0)
    if take_profit:
        legs = tuple(leg for leg, _ in take_profit)
        pnl = sum(p for _, p in take_profit)
        return Advice(TAKE_PROFIT, L_("the hedge is up {pnl:,.2f} USDT in a cascade: take the "
                                      "profit ({legs}) and tighten the main's stop", pnl=pnl,
                                      legs=legs_text(legs)),
                      legs=legs)
    if target is not None and notional > 0:
        gap = hedge_gap(held, target, prices)
        if math.isfinite(gap) and gap > rebalance_threshold * notional:
            action = _hedge_action(held, target, prices)
            return Advice(action, L_("held {held}, target {target}: {gap:,.0f} USDT apart "
                                     "({share:.0%} of the position, threshold "
                                     "{threshold:.0%}); {why}", held=legs_text(held),
                                     target=legs_text(target), gap=gap, share=gap / notional,
                                     threshold=rebalance_threshold, why=target_reason),
                          legs=tuple(target))
    return Advice(HOLD, L_("nothing to change"))
