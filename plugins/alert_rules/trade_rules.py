"""Per-trade rules: ``liquidation``, ``rebalance`` and ``take_profit``. Their alerts go only to
the trade's owner, in private. The last recommendation per trade and strategy is read from
the ``recommendations`` table and written with the alert, never kept here."""

from __future__ import annotations

import math

from plugins.alert_rules.base import (
    Alert,
    AlertRule,
    RuleContext,
    TradeInfo,
    finite,
    severity_rank,
)
from plugins.strategies.base import TargetLeg
from plugins.strategies.rebalance import hedge_gap, rebalance


def _pct(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.0%}"


def _since(told: dict, now_ms: int, why: str) -> str:
    hours = (now_ms - int(told.get("at", now_ms))) / 3_600_000
    ago = f"{hours:.0f}h ago" if hours >= 1 else f"{hours * 60:.0f} min ago"
    what = {"reminder": "Still at risk", "worse": "Worse", "escalated": "Worse"}.get(why, "")
    return f"{what} since the last warning {ago} ({_pct(told.get('prob'))} then)."


def _trade_line(ti: TradeInfo) -> str:
    t = ti.trade
    return (f"Trade #{t.trade_id}: {t.side} {t.size:g} {t.symbol.split('-')[0]} @ {t.entry:g}, "
            f"{t.leverage:g}×")


def hedge_command(ti: TradeInfo) -> str:
    """The ``/hedge`` command for a logged trade's position, spelled out so it runs as typed
    (and fits an alert button's 64-byte ``callback_data``)."""
    t = ti.trade
    return (f"/hedge {t.symbol.split('-')[0]} {t.side} {t.size:.8g} @{t.entry:.8g} "
            f"{t.leverage:g}x")


class LiquidationRule(AlertRule):
    """A logged trade near its liquidation price: 24h touch probability above
    ``[risk] liquidation_alert_prob`` or distance below ``liquidation_alert_sigma`` σ (24h).

    A trader who gets the same warning every hour learns to mute it, and then misses the one
    that matters. So the danger is told when it starts; again at once when it escalates
    (warning → critical) or gets clearly worse (touch probability ×1.5 and 5 points up, or
    0.5σ closer); again at once when the last warning expired before Telegram took it
    (its delivery then says how long delivery was blocked); as a reminder every
    ``[alerts] reminder`` while it lasts; and "eased" once
    when it is clearly over (under half the probability threshold *and* beyond 1.25× the σ
    threshold), so a reading dancing around a threshold neither repeats nor flaps. What was
    last told is remembered per trade, written only when that alert is recorded.
    """

    name = "liquidation"
    kind = "liquidation"
    WORSE_FACTOR, WORSE_POINTS, CLOSER_SIGMA = 1.5, 0.05, 0.5

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        r = ctx.result
        assert r is not None
        if r.risk is None:
            return []
        cfg = ctx.config.risk
        out = []
        for ti in ctx.trades:
            i = ti.position_index
            prob = finite(r.risk.touch_prob_24h[i])
            sigma = finite(r.risk.distance_sigma_24h[i])
            hot = (prob is not None and prob > cfg.liquidation_alert_prob) or (
                sigma is not None and sigma < cfg.liquidation_alert_sigma)
            last = ctx.memory.get(self.name, str(ti.trade_id))
            told = last if last and last.get("active") else None
            pos = r.positions[i]
            liq = float(r.risk.liquidation_price[i])
            price = float(r.prices[r.index(pos.symbol)])
            dist = float(r.risk.distance_pct[i])
            if not hot:
                safe = (prob is not None or sigma is not None) and (
                    prob is None or prob < cfg.liquidation_alert_prob / 2) and (
                    sigma is None or sigma > cfg.liquidation_alert_sigma * 1.25)
                if told is not None and safe:
                    out.append(self._eased(ctx, ti, told, prob, sigma, price, liq, dist))
                continue
            if dist == dist and dist <= 0:
                out.append(self._past(ctx, ti, pos.symbol, pos.side, price, liq, dist))
                continue
            bucket = "critical" if ((prob or 0.0) >= 0.5 or (sigma is not None and sigma < 1.0)
                                    ) else "warning"
            why = self._news(told, bucket, prob, sigma, ctx.now_ms,
                             ctx.config.alerts.reminder.ms)
            if why is None and f"{self.kind}:{ti.trade_id}" in ctx.undelivered:
                why = "undelivered"  # the last warning expired unsent: say it again now
            if why is None:
                continue
            safe_lev = float(r.risk.safe_leverage[i])
            numbers = {"trade_id": ti.trade_id, "symbol": pos.symbol, "price": finite(price),
                       "liquidation_price": finite(liq), "distance_pct": finite(dist),
                       "distance_sigma_24h": sigma, "touch_prob_24h": prob,
                       "safe_leverage": finite(safe_lev), "why": why,
                       "previous_touch_prob_24h": told.get("prob") if told else None,
                       "threshold_prob": cfg.liquidation_alert_prob,
                       "threshold_sigma": cfg.liquidation_alert_sigma,
                       "hedge_command": hedge_command(ti)}
            body = [_trade_line(ti),
                    f"Price {price:g}, liquidation {liq:g}: {dist:.1f}% away"
                    + (f" ({sigma:.1f}σ of a day's moves)" if sigma is not None else ""),
                    f"Chance to touch it within 24h: {_pct(prob)}"]
            if told is not None and why != "undelivered":  # never seen: no "since" to tell
                body.append(_since(told, ctx.now_ms, why))
            action = (f"Add margin or cut size to at most {safe_lev:.1f}× leverage, or put on "
                      f"the hedge: {hedge_command(ti)}" if math.isfinite(safe_lev) else
                      f"Add margin or cut size; for the hedge: {hedge_command(ti)}")
            title = f"Liquidation risk on #{ti.trade_id} {pos.symbol.split('-')[0]} " \
                    f"{pos.side}: {_pct(prob)} in 24h"
            if why in ("escalated", "worse"):
                title += f" (was {_pct(told.get('prob') if told else None)})"
            elif why == "reminder":
                title += " (still)"
            alert = self.alert(
                ctx, f"{ti.trade_id}:{bucket}:{ctx.time_ms}", bucket, title, body, action,
                payload=numbers, symbol=pos.symbol, trade_id=ti.trade_id,
                owner_chat_id=ti.owner_chat_id, cooldown_ms=0,
                chart={"type": "gauge", "symbol": pos.symbol, "side": pos.side,
                       "price": finite(price), "liquidation_price": finite(liq),
                       "distance_pct": finite(dist), "distance_sigma": sigma,
                       "touch_prob": prob, "threshold_sigma": cfg.liquidation_alert_sigma})
            ctx.memory.set(self.name, str(ti.trade_id),
                           {"active": True, "severity": bucket, "prob": prob, "sigma": sigma,
                            "at": ctx.now_ms}, now_ms=ctx.now_ms, only_if=alert.dedup_key)
            out.append(alert)
        return out

    def _news(self, told: dict | None, bucket: str, prob: float | None, sigma: float | None,
              now_ms: int, reminder_ms: int) -> str | None:
        """Why this reading is worth telling ("new", "escalated", "worse", "reminder"), or
        None when the trader already knows it."""
        if told is None:
            return "new"
        if severity_rank(bucket) > severity_rank(told.get("severity", "warning")):
            return "escalated"
        was_p, was_s = told.get("prob"), told.get("sigma")
        if prob is not None and was_p is not None and prob >= was_p * self.WORSE_FACTOR \
                and prob - was_p >= self.WORSE_POINTS:
            return "worse"
        if sigma is not None and was_s is not None and sigma <= was_s - self.CLOSER_SIGMA:
            return "worse"
        if now_ms - int(told.get("at", 0)) >= reminder_ms:
            return "reminder"
        return None

    def _eased(self, ctx: RuleContext, ti: TradeInfo, told: dict, prob: float | None,
               sigma: float | None, price: float, liq: float, dist: float) -> Alert:
        """The danger told earlier is clearly over: said once, then forgotten."""
        t = ti.trade
        alert = self.alert(
            ctx, f"{ti.trade_id}:eased:{ctx.time_ms}", "info",
            f"Liquidation risk on #{ti.trade_id} {t.symbol.split('-')[0]} {t.side} has eased: "
            f"{_pct(prob)} in 24h",
            [_trade_line(ti),
             f"Price {price:g}, liquidation {liq:g}: {dist:.1f}% away"
             + (f" ({sigma:.1f}σ of a day's moves)" if sigma is not None else ""),
             f"Chance to touch it within 24h: {_pct(prob)} (was {_pct(told.get('prob'))})"],
            "No action needed now; the position is still leveraged, so keep its stop.",
            payload={"trade_id": ti.trade_id, "symbol": t.symbol, "price": finite(price),
                     "liquidation_price": finite(liq), "distance_pct": finite(dist),
                     "distance_sigma_24h": sigma, "touch_prob_24h": prob, "why": "eased",
                     "previous_touch_prob_24h": told.get("prob")},
            symbol=t.symbol, trade_id=ti.trade_id, owner_chat_id=ti.owner_chat_id,
            cooldown_ms=0)
        ctx.memory.set(self.name, str(ti.trade_id), {"active": False, "at": ctx.now_ms},
                       now_ms=ctx.now_ms, only_if=alert.dedup_key)
        return alert

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
