"""Per-trade rules: ``liquidation``, ``rebalance`` and ``take_profit``. Their alerts go only to
the trade's owner, in private. The last recommendation per trade and strategy is read from
the ``recommendations`` table and written with the alert, never kept here."""

from __future__ import annotations

import math

from plugins.alert_rules.base import Alert, AlertRule, RuleContext, TradeInfo, finite
from plugins.strategies.base import TargetLeg
from plugins.strategies.rebalance import hedge_gap, rebalance


def _trade_line(ti: TradeInfo) -> str:
    t = ti.trade
    return (f"Trade #{t.trade_id}: {t.side} {t.size:g} {t.symbol.split('-')[0]} @ {t.entry:g}, "
            f"{t.leverage:g}×")


class LiquidationRule(AlertRule):
    """A logged trade's 24h touch probability above ``[risk] liquidation_alert_prob`` or its
    distance to liquidation below ``liquidation_alert_sigma`` σ (24h)."""

    name = "liquidation"
    kind = "liquidation"

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        r = ctx.result
        assert r is not None
        if r.risk is None:
            return []
        cfg = ctx.config.risk
        out = []
        for ti in ctx.trades:
            i = ti.position_index
            prob = float(r.risk.touch_prob_24h[i])
            sigma = float(r.risk.distance_sigma_24h[i])
            hot_p = prob == prob and prob > cfg.liquidation_alert_prob
            hot_s = sigma == sigma and sigma < cfg.liquidation_alert_sigma
            if not (hot_p or hot_s):
                continue
            bucket = "critical" if (prob >= 0.5 or (sigma == sigma and sigma < 1.0)) \
                else "warning"
            pos = r.positions[i]
            liq = float(r.risk.liquidation_price[i])
            price = float(r.prices[r.index(pos.symbol)])
            dist = float(r.risk.distance_pct[i])
            if dist == dist and dist <= 0:
                out.append(self._past(ctx, ti, pos.symbol, pos.side, price, liq, dist))
                continue
            safe = float(r.risk.safe_leverage[i])
            numbers = {"trade_id": ti.trade_id, "symbol": pos.symbol, "price": finite(price),
                       "liquidation_price": finite(liq), "distance_pct": finite(dist),
                       "distance_sigma_24h": finite(sigma), "touch_prob_24h": finite(prob),
                       "safe_leverage": finite(safe),
                       "threshold_prob": cfg.liquidation_alert_prob,
                       "threshold_sigma": cfg.liquidation_alert_sigma}
            body = [_trade_line(ti),
                    f"Price {price:g}, liquidation {liq:g}: {dist:.1f}% away "
                    f"({sigma:.1f}σ of a day's moves)",
                    f"Chance to touch it within 24h: {prob:.0%}"]
            action = (f"Add margin or cut size to at most {safe:.1f}× leverage, or put on the "
                      f"hedge: /hedge {ti.trade_id}" if math.isfinite(safe) else
                      f"Add margin or cut size; /hedge {ti.trade_id} for the hedge.")
            out.append(self.alert(
                ctx, f"{ti.trade_id}:{bucket}:{ctx.time_ms}", bucket,
                f"Liquidation risk on #{ti.trade_id} {pos.symbol.split('-')[0]} "
                f"{pos.side}: {prob:.0%} in 24h", body, action, payload=numbers,
                symbol=pos.symbol, trade_id=ti.trade_id, owner_chat_id=ti.owner_chat_id,
                chart={"type": "gauge", "symbol": pos.symbol, "side": pos.side,
                       "price": finite(price), "liquidation_price": finite(liq),
                       "distance_pct": finite(dist), "distance_sigma": finite(sigma),
                       "touch_prob": finite(prob),
                       "threshold_sigma": cfg.liquidation_alert_sigma}))
        return out


    def _past(self, ctx: RuleContext, ti: TradeInfo, symbol: str, side: str, price: float,
              liq: float, dist: float) -> Alert:
        """Past the liquidation price: said once per trade (its dedup key never repeats);
        "add margin" would be wrong advice for a position the exchange has already closed."""
        return self.alert(
            ctx, f"{ti.trade_id}:past", "critical",
            f"#{ti.trade_id} {symbol.split('-')[0]} {side} is past its liquidation price",
            [_trade_line(ti), f"Price {price:g} is {-dist:.1f}% beyond the liquidation price "
                              f"{liq:g}."],
            f"The exchange has most likely liquidated it: check your account, then log the "
            f"exit with /close {ti.trade_id} @<price> so your P&L stays right.",
            payload={"trade_id": ti.trade_id, "symbol": symbol, "price": finite(price),
                     "liquidation_price": finite(liq), "distance_pct": finite(dist),
                     "past": True},
            symbol=symbol, trade_id=ti.trade_id, owner_chat_id=ti.owner_chat_id,
            cooldown_key=f"liquidation:{ti.trade_id}:past")


def _legs_text(legs: tuple[TargetLeg, ...] | list[TargetLeg]) -> str:
    return ", ".join(f"{x.side} {x.size:.6g} {x.symbol.split('-')[0]}" for x in legs) or \
        "no hedge"


class RebalanceRule(AlertRule):
    """A trade's recommended hedge under its chosen strategy moved by more than
    ``[strategies] rebalance_threshold`` of its notional since the last one stored. The first
    recommendation of a trade is stored without an alert (there is nothing to move from)."""

    name = "rebalance"
    kind = "rebalance"

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        r = ctx.result
        assert r is not None
        prices = dict(zip(r.symbols, r.prices.tolist(), strict=True))
        threshold = ctx.config.strategies.rebalance_threshold
        out = []
        for ti in ctx.trades:
            decision = ctx.decisions.get(ti.trade_id)
            if decision is None:
                continue
            legs = tuple(decision.legs)
            raw = [(x.symbol, x.side, x.size) for x in legs]
            last = ctx.memory.last_recommendation(ti.trade_id, ti.strategy)
            if last is None:
                ctx.memory.recommend(ti.trade_id, ti.strategy, raw, decision.reason,
                                     now_ms=ctx.now_ms, data_time=r.time_ms)
                continue
            held = tuple(TargetLeg(str(s), str(side), float(size)) for s, side, size in last)
            pos = r.positions[ti.position_index]
            notional = pos.size * prices.get(pos.symbol, pos.entry)
            _, moved = rebalance(held, legs, prices, notional, threshold)
            if not moved:
                continue
            gap = hedge_gap(held, legs, prices)
            key = f"{ti.trade_id}:{r.time_ms}"
            alert = self.alert(
                ctx, key, "warning" if r.cascade.rank >= 2 else "info",
                f"Rebalance the hedge of #{ti.trade_id} {pos.symbol.split('-')[0]} "
                f"({ti.strategy})",
                [_trade_line(ti), f"Was: {_legs_text(held)}", f"Now: {_legs_text(legs)}",
                 f"Change {gap:,.0f} USDT = {gap / notional:.0%} of the position "
                 f"(threshold {threshold:.0%})", f"Why: {decision.reason}"],
                f"Adjust the hedge to: {_legs_text(legs)}",
                payload={"trade_id": ti.trade_id, "strategy": ti.strategy,
                         "previous": [list(x) for x in last], "target": [list(x) for x in raw],
                         "gap_usdt": finite(gap), "gap_fraction": finite(gap / notional),
                         "threshold": threshold, "reason": decision.reason},
                symbol=pos.symbol, trade_id=ti.trade_id, owner_chat_id=ti.owner_chat_id,
                cooldown_key=f"rebalance:{ti.trade_id}")
            # stored only if the alert is: the trader's last-seen advice stays the reference
            ctx.memory.recommend(ti.trade_id, ti.strategy, raw, decision.reason,
                                 now_ms=ctx.now_ms, data_time=r.time_ms,
                                 only_if=alert.dedup_key)
            out.append(alert)
        return out


class TakeProfitRule(AlertRule):
    """The seed's take-profit: a held hedge leg in profit while the cascade level is high or
    above (``EngineResult.take_profit``)."""

    name = "take_profit"
    kind = "take_profit"

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        r = ctx.result
        assert r is not None
        by_index = {ti.position_index: ti for ti in ctx.trades}
        out = []
        for sig in r.take_profit:
            ti = by_index.get(sig.position_index)
            if ti is None:
                continue
            if r.risk is not None and not r.risk.distance_pct[sig.position_index] > 0:
                continue  # the main position is past liquidation: "tighten it" would be wrong
            out.append(self.alert(
                ctx, f"{ti.trade_id}:{sig.symbol}:{r.time_ms}",
                "critical" if sig.level == "cascade" else "warning",
                f"Take profit on the {sig.symbol.split('-')[0]} hedge of #{ti.trade_id}",
                [_trade_line(ti), sig.message],
                "Close (part of) the hedge and tighten the main position's stop.",
                payload={"trade_id": ti.trade_id, **sig.to_dict()}, symbol=sig.symbol,
                trade_id=ti.trade_id, owner_chat_id=ti.owner_chat_id,
                cooldown_key=f"take_profit:{ti.trade_id}:{sig.symbol}"))
        return out
