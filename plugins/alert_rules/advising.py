"""Each trade's one action at this bar (``core.advice.advise``) from the engine's numbers,
its strategy's decision and the hedge legs the trader logged.

Computed once per cycle in ``runner.build_context`` and handed to every per-trade rule in
``RuleContext.advice``: the liquidation rule speaks when the action is ``add_margin`` or
``reduce_size``, the take-profit rule when it is ``take_profit``, the rebalance rule for
the hedge actions — so two rules can never give one trade opposite advice on one bar.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from core.advice import Advice, Leg, advise
from core.evaluate import EngineResult
from core.types import finite_or_none
from i18n import L_, Msg
from plugins.alert_rules.base import TradeInfo
from plugins.strategies.base import Decision
from settings.config import Config


def danger_reason(prob: float | None, sigma: float | None, config: Config,
                  distance: float | None = None, own: Mapping[str, float] | None = None
                  ) -> Msg | None:
    """Why the trade is in liquidation danger, or None when it is not. ``own`` holds the
    owner's ``/threshold liquidation`` values: ``prob`` replaces the config's touch
    probability, ``distance`` (%) adds a distance to the liquidation price."""
    cfg, own = config.risk, own or {}
    limit = own.get("prob", cfg.liquidation_alert_prob)
    if prob is not None and prob > limit:
        return L_("a {prob:.0%} chance to touch the liquidation price within 24 h", prob=prob)
    near = own.get("distance")
    if near is not None and distance is not None and distance < near:
        return L_("the liquidation price is {distance:.1f}% away (your threshold {near:g}%)",
                  distance=distance, near=near)
    if sigma is not None and sigma < cfg.liquidation_alert_sigma:
        return L_("the liquidation price is {sigma:.1f}σ of a day's moves away", sigma=sigma)
    return None


def held_legs(infos: Sequence[TradeInfo]) -> dict[int, tuple[Leg, ...]]:
    """Every main trade's logged hedge legs, by trade id."""
    out: dict[int, list[Leg]] = {}
    for ti in infos:
        t = ti.trade
        if t.parent_id is not None:
            out.setdefault(t.parent_id, []).append((t.symbol, t.side, t.size))
    return {k: tuple(v) for k, v in out.items()}


def trade_advice(result: EngineResult, infos: Sequence[TradeInfo],
                 decisions: Mapping[int, Decision], config: Config,
                 thresholds: Mapping[int, Mapping[str, float]] | None = None
                 ) -> tuple[dict[int, Advice], dict[int, tuple[Leg, ...]]]:
    """The advice for every trade and leg in ``infos``, and the legs each trade holds;
    ``thresholds`` are the owners' own liquidation thresholds, by owner."""
    held = held_legs(infos)
    prices = dict(zip(result.symbols, result.prices.tolist(), strict=True))
    out: dict[int, Advice] = {}
    risk = result.risk
    for ti in infos:
        i, t = ti.position_index, ti.trade
        pos = result.positions[i]
        price = prices.get(pos.symbol, math.nan)
        if risk is None or not math.isfinite(price):
            continue
        prob = finite_or_none(risk.touch_prob_24h[i])
        sigma = finite_or_none(risk.distance_sigma_24h[i])
        dist = finite_or_none(risk.distance_pct[i])
        why = danger_reason(prob, sigma, config, dist,
                            (thresholds or {}).get(t.owner_chat_id))
        decision = decisions.get(t.trade_id)
        inst = result.instruments.get(pos.symbol)
        take = []
        if not t.is_leg:
            mine = held.get(t.trade_id, ())
            for sig in result.take_profit:
                if sig.position_index == i:
                    size = sum(s for sym, side, s in mine if sym == sig.symbol and side == sig.side)
                    take.append(((sig.symbol, sig.side, size), sig.pnl))
        out[t.trade_id] = advise(
            side=pos.side, size=pos.size, entry=pos.entry, price=price,
            margin=pos.isolated_margin, mmr=float(risk.mmr[i]),
            fee=inst.taker_fee if inst is not None else config.risk.taker_fee,
            danger=why is not None, danger_why=why or "", safe_distance=config.risk.safe_distance,
            held=held.get(t.trade_id, ()),
            target=None if t.is_leg or decision is None else
            tuple((x.symbol, x.side, x.size) for x in decision.legs),
            target_reason=decision.reason if decision is not None else "",
            take_profit=take, prices=prices,
            rebalance_threshold=config.strategies.rebalance_threshold,
            model_distance=float(risk.safe_distance_pct[i]) / 100.0)
    return out, held
