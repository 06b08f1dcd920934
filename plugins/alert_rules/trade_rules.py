"""Per-trade rules: ``liquidation``, ``rebalance`` and ``take_profit``. Their alerts go only to
the trade's owner, in private. Each speaks only for its share of the trade's one action of
the bar (``ctx.advice``, see ``plugins.alert_rules.advising``): danger → liquidation,
take profit → take_profit, a hedge change → rebalance; never two for one trade and bar. The
last advice told per trade is read from the ``recommendations`` table and written with the
alert, never kept here."""

from __future__ import annotations

from collections.abc import Sequence

from core.advice import DANGER, HEDGE, TAKE_PROFIT, Advice, Leg, hedge_gap, legs_text
from core.recommend import TakeProfitSignal
from i18n import DEFAULT, L_, N_, Msg, use
from plugins.alert_rules.base import (
    Alert,
    AlertRule,
    RuleContext,
    TradeInfo,
    finite,
    severity_rank,
)
from plugins.alert_rules.words import english, word

HEDGE_TITLES = {"add_hedge": N_("Add to the hedge of #{trade_id} {base} ({strategy})"),
                "reduce_hedge": N_("Reduce the hedge of #{trade_id} {base} ({strategy})"),
                "switch_hedge": N_("Switch the hedge of #{trade_id} {base} ({strategy})")}


def _pct(p: float | None) -> str | Msg:
    return L_("n/a") if p is None else f"{p:.0%}"


def _since(told: dict, now_ms: int, why: str) -> Msg:
    hours = (now_ms - int(told.get("at", now_ms))) / 3_600_000
    ago = L_("{hours:.0f}h ago", hours=hours) if hours >= 1 else \
        L_("{minutes:.0f} min ago", minutes=hours * 60)
    was = _pct(told.get("prob"))
    if why == "reminder":
        return L_("Still at risk since the last warning {ago} ({prob} then).", ago=ago, prob=was)
    if why in ("worse", "escalated"):
        return L_("Worse since the last warning {ago} ({prob} then).", ago=ago, prob=was)
    return L_("Since the last warning {ago} ({prob} then).", ago=ago, prob=was)


def _trade_line(ti: TradeInfo) -> Msg:
    t = ti.trade
    values = {"trade_id": t.trade_id, "side": word(t.side), "size": t.size,
              "base": t.symbol.split("-")[0], "entry": t.entry, "leverage": t.leverage}
    if t.parent_id is not None:
        return L_("Trade #{trade_id} (hedge leg of #{parent_id}): {side} {size:g} {base} @ "
                  "{entry:g}, {leverage:g}×", parent_id=t.parent_id, **values)
    return L_("Trade #{trade_id}: {side} {size:g} {base} @ {entry:g}, {leverage:g}×", **values)


def _distance_line(price: float, liq: float, dist: float, sigma: float | None) -> Msg:
    if sigma is not None:
        return L_("Price {price:g}, liquidation {liquidation:g}: {distance:.1f}% away "
                  "({sigma:.1f}σ of a day's moves)", price=price, liquidation=liq,
                  distance=dist, sigma=sigma)
    return L_("Price {price:g}, liquidation {liquidation:g}: {distance:.1f}% away",
              price=price, liquidation=liq, distance=dist)


def danger_action(advice: Advice, ti: TradeInfo) -> Msg:
    """What to do about liquidation danger, with the exact amount."""
    if advice.margin is not None:
        how = L_("Add {margin:,.2f} USDT of margin to #{trade_id}: its liquidation price moves "
                 "{distance:.0%} away.", margin=advice.margin, trade_id=ti.trade_id,
                 distance=advice.distance)
    elif advice.size:
        how = L_("Cut #{trade_id} to {size:.6g} {base}: with the same margin its liquidation "
                 "price is {distance:.0%} away.", trade_id=ti.trade_id, size=advice.size,
                 base=ti.trade.symbol.split("-")[0], distance=advice.distance)
    else:
        how = L_("Close or cut #{trade_id}: no margin top-up puts it at a safe distance.",
                 trade_id=ti.trade_id)
    if ti.trade.parent_id is None:
        return L_("{advice} A hedge on its own margin does not move it; to see one: {command}",
                  advice=how, command=hedge_command(ti))
    return how


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
            advice = ctx.advice.get(ti.trade_id)
            hot = advice is not None and advice.action in DANGER
            last = ctx.memory.get(self.name, str(ti.trade_id))
            told = last if last and last.get("active") else None
            pos = r.positions[i]
            liq = float(r.risk.liquidation_price[i])
            price = float(r.prices[r.index(pos.symbol)])
            dist = float(r.risk.distance_pct[i])
            if not hot:
                own = ctx.thresholds.get(ti.owner_chat_id, {})
                near = own.get("distance")
                safe = (prob is not None or sigma is not None) and (
                    prob is None or prob < own.get("prob", cfg.liquidation_alert_prob) / 2
                ) and (sigma is None or sigma > cfg.liquidation_alert_sigma * 1.25) and (
                    near is None or dist > near * 1.25)
                if told is not None and safe and advice is not None and advice.is_hold:
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
            assert advice is not None  # hot
            numbers = {"trade_id": ti.trade_id, "symbol": pos.symbol, "price": finite(price),
                       "liquidation_price": finite(liq), "distance_pct": finite(dist),
                       "distance_sigma_24h": sigma, "touch_prob_24h": prob,
                       "safe_leverage": finite(safe_lev), "why": why,
                       "previous_touch_prob_24h": told.get("prob") if told else None,
                       "threshold_prob": ctx.thresholds.get(ti.owner_chat_id, {}).get(
                           "prob", cfg.liquidation_alert_prob),
                       "threshold_sigma": cfg.liquidation_alert_sigma,
                       "hedge_command": hedge_command(ti), "action": advice.action,
                       "add_margin": finite(advice.margin) if advice.margin else None,
                       "reduce_to": advice.size, "safe_distance": advice.distance}
            body: list[str | Msg] = [
                _trade_line(ti), _distance_line(price, liq, dist, sigma),
                L_("Chance to touch it within 24h: {prob}", prob=_pct(prob))]
            if told is not None and why != "undelivered":  # never seen: no "since" to tell
                body.append(_since(told, ctx.now_ms, why))
            action = danger_action(advice, ti)
            near = ctx.thresholds.get(ti.owner_chat_id, {}).get("distance")
            mine = near is not None and dist < near
            if mine:  # the owner's /threshold, not the probability, made it an alert
                body.append(L_("Inside your /threshold of {near:g}% from liquidation",
                               near=near))
                numbers["threshold_distance_pct"] = near
            head = {"trade_id": ti.trade_id, "base": pos.symbol.split("-")[0],
                    "side": word(pos.side),
                    "risk": L_("{distance:.1f}% away", distance=dist) if mine else
                    L_("{prob} in 24h", prob=_pct(prob))}
            if why in ("escalated", "worse"):
                title = L_("Liquidation risk on #{trade_id} {base} {side}: {risk} (was {was})",
                           was=_pct(told.get("prob") if told else None), **head)
            elif why == "reminder":
                title = L_("Liquidation risk on #{trade_id} {base} {side}: {risk} (still)",
                           **head)
            else:
                title = L_("Liquidation risk on #{trade_id} {base} {side}: {risk}", **head)
            alert = self.alert(
                ctx, f"{ti.trade_id}:{bucket}:{ctx.time_ms}", bucket, title, body, action,
                payload=numbers, symbol=pos.symbol, trade_id=ti.trade_id,
                owner_chat_id=ti.owner_chat_id, cooldown_ms=0,
                chart={"type": "gauge", "symbol": pos.symbol, "side": pos.side,
                       "price": finite(price), "liquidation_price": finite(liq),
                       "distance_pct": finite(dist), "distance_sigma": sigma,
                       "touch_prob": prob, "threshold_sigma": cfg.liquidation_alert_sigma,
                       "time_ms": ctx.time_ms})
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
            L_("Liquidation risk on #{trade_id} {base} {side} has eased: {prob} in 24h",
               trade_id=ti.trade_id, base=t.symbol.split("-")[0], side=word(t.side),
               prob=_pct(prob)),
            [_trade_line(ti), _distance_line(price, liq, dist, sigma),
             L_("Chance to touch it within 24h: {prob} (was {was})", prob=_pct(prob),
                was=_pct(told.get("prob")))],
            L_("No action needed now; the position is still leveraged, so keep its stop."),
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
            L_("#{trade_id} {base} {side} is past its liquidation price", trade_id=ti.trade_id,
               base=symbol.split("-")[0], side=word(side)),
            [_trade_line(ti), L_("Price {price:g} is {beyond:.1f}% beyond the liquidation "
                                 "price {liquidation:g}.", price=price, beyond=-dist,
                                 liquidation=liq)],
            L_("The exchange has most likely liquidated it: check your account; the next sync "
               "closes it in your log with the exchange's numbers.") if ti.trade.synced else
            L_("The exchange has most likely liquidated it: check your account, then log the "
               "exit with /close {trade_id} @<price> so your P&L stays right.",
               trade_id=ti.trade_id),
            payload={"trade_id": ti.trade_id, "symbol": symbol, "price": finite(price),
                     "liquidation_price": finite(liq), "distance_pct": finite(dist),
                     "past": True},
            symbol=symbol, trade_id=ti.trade_id, owner_chat_id=ti.owner_chat_id,
            cooldown_key=f"liquidation:{ti.trade_id}:past")


def hedged_command(trade_id: int, legs: Sequence[Leg]) -> str:
    """``/hedged`` for the "I put this on" button: logs exactly these legs as the trade's
    hedge (pressing it twice logs once)."""
    return f"/hedged {trade_id} " + " ".join(
        f"{sym.split('-')[0]} {side} {size:.6g}" for sym, side, size in legs) if legs else \
        f"/hedged {trade_id} none"


class RebalanceRule(AlertRule):
    """The trade's hedge should change: its strategy's target differs from the legs the
    trader logged by more than ``[strategies] rebalance_threshold`` of the position's
    notional (``add_hedge``, ``reduce_hedge`` or ``switch_hedge``). Told when the target is
    new or moved by the threshold since it was last told, not every bar."""

    name = "rebalance"
    kind = "rebalance"

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        r = ctx.result
        assert r is not None
        prices = dict(zip(r.symbols, r.prices.tolist(), strict=True))
        threshold = ctx.config.strategies.rebalance_threshold
        out = []
        for ti in ctx.trades:
            advice = ctx.advice.get(ti.trade_id)
            decision = ctx.decisions.get(ti.trade_id)
            if decision is None:
                continue
            target = tuple((x.symbol, x.side, x.size) for x in decision.legs)
            last = ctx.memory.last_recommendation(ti.trade_id, ti.strategy)
            pos = r.positions[ti.position_index]
            notional = pos.size * prices.get(pos.symbol, pos.entry)
            told = tuple((str(a), str(b), float(c)) for a, b, c in last) if last else None
            if advice is None or advice.action not in HEDGE:
                continue
            if told is not None and hedge_gap(told, target, prices) <= threshold * notional:
                continue  # the trader was told this target already
            held = ctx.held.get(ti.trade_id, ())
            gap = hedge_gap(held, target, prices)
            reason = english(decision.reason)
            alert = self.alert(
                ctx, f"{ti.trade_id}:{r.time_ms}", "warning" if r.cascade.rank >= 2 else "info",
                L_(HEDGE_TITLES[advice.action], trade_id=ti.trade_id,
                   base=pos.symbol.split("-")[0], strategy=ti.strategy),
                [_trade_line(ti),
                 L_("Held: {legs}", legs=legs_text(held)) if held else
                 L_("Held: {legs} (none logged)", legs=legs_text(held)),
                 L_("Target: {legs}", legs=legs_text(target)),
                 L_("Change {gap:,.0f} USDT = {share:.0%} of the position (threshold "
                    "{threshold:.0%})", gap=gap, share=gap / notional, threshold=threshold),
                 L_("Why: {reason}", reason=decision.reason)],
                L_("Hold this hedge: {legs}; press \"{button}\" when done.",
                   legs=legs_text(target), button=L_("I put this on")),
                payload={"trade_id": ti.trade_id, "strategy": ti.strategy,
                         "action": advice.action, "held": [list(x) for x in held],
                         "target": [list(x) for x in target],
                         "previous": [list(x) for x in told] if told else None,
                         "gap_usdt": finite(gap), "gap_fraction": finite(gap / notional),
                         "threshold": threshold, "reason": reason,
                         "hedged_command": hedged_command(ti.trade_id, target)},
                symbol=pos.symbol, trade_id=ti.trade_id, owner_chat_id=ti.owner_chat_id,
                cooldown_key=f"rebalance:{ti.trade_id}")
            # stored only if the alert is: the trader's last-told advice stays the reference
            ctx.memory.recommend(ti.trade_id, ti.strategy, list(target), reason,
                                 now_ms=ctx.now_ms, data_time=r.time_ms,
                                 only_if=alert.dedup_key)
            out.append(alert)
        return out


class TakeProfitRule(AlertRule):
    """The seed's take-profit: a logged hedge leg in profit while the cascade level is high
    or above (``EngineResult.take_profit``) — the trade's action of the bar."""

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
            advice = ctx.advice.get(ti.trade_id)
            if advice is None or advice.action != TAKE_PROFIT:
                continue  # e.g. the main is in liquidation danger: that is said instead
            out.append(self.alert(
                ctx, f"{ti.trade_id}:{sig.symbol}:{r.time_ms}",
                "critical" if sig.level == "cascade" else "warning",
                L_("Take profit on the {base} hedge of #{trade_id}",
                   base=sig.symbol.split("-")[0], trade_id=ti.trade_id),
                [_trade_line(ti), sig.message],
                L_("Close (part of) the hedge and tighten the main position's stop."),
                payload={"trade_id": ti.trade_id, **_english_signal(sig)}, symbol=sig.symbol,
                trade_id=ti.trade_id, owner_chat_id=ti.owner_chat_id,
                cooldown_key=f"take_profit:{ti.trade_id}:{sig.symbol}"))
        return out


def _english_signal(sig: TakeProfitSignal) -> dict[str, object]:
    """The signal's numbers for the alert's payload, its message in English."""
    with use(DEFAULT):
        return sig.to_dict()
