"""The ``hedge`` rule: a held hedge leg that no longer hedges its trade.

A leg is put on because its asset moves with the trade's (high ρ²) and, in a sell-off, the
way that offsets it (stress β of the leg's asset on the trade's with the sign that makes the
leg's P&L oppose the trade's). Either can stop being true while the trader sleeps: the
correlation over the fast window falls (the leg is now mostly its own noise), or the stress
β flips (in a crash the leg would lose with the trade, not against it). The owner is told
once per breakdown, with the numbers and what to do; once the leg hedges again by a margin,
the rule forgets, so a later breakdown is news again.

One recommendation per trade per bar (``plugins.alert_rules.advising``): while the trade's
advice is an action (add margin, cut size, take profit, change the hedge), the rule that
speaks for that action has the trade's bar, and the breakdown waits — it is told on the
first bar the advice is "hold" again, if the leg still does not hedge.
"""

from __future__ import annotations

import math

from i18n import L_, Msg
from plugins.alert_rules.base import Alert, AlertRule, RuleContext, TradeInfo, finite
from plugins.alert_rules.words import word

_SIGN = {"long": 1.0, "short": -1.0}
RECOVER_MARGIN = 0.10  # ρ² must be this far above the threshold before a breakdown is over


def _base(symbol: str) -> str:
    return symbol.split("-")[0]


class HedgeBreakdownRule(AlertRule):
    """A held leg whose fast-window ρ² with its trade is under ``[risk] hedge_min_r2``, or
    whose stress β to its trade has the sign that adds to the trade's loss."""

    name = "hedge"
    kind = "hedge"

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        r = ctx.result
        assert r is not None
        mains = {ti.trade_id: ti for ti in ctx.trades if ti.trade.parent_id is None}
        threshold = ctx.config.risk.hedge_min_r2
        out = []
        for leg in ctx.trades:
            main = mains.get(leg.trade.parent_id) if leg.trade.parent_id is not None else None
            if main is None or main.trade.symbol not in r.symbols \
                    or leg.trade.symbol not in r.symbols:
                continue
            i, j = r.index(main.trade.symbol), r.index(leg.trade.symbol)
            rho = float(r.rho_fast[j, i])
            r2 = rho * rho if math.isfinite(rho) else math.nan
            beta = float(r.stress_beta[j, i]) if r.stress_beta is not None else math.nan
            same_way = _SIGN[main.trade.side] * _SIGN[leg.trade.side]
            flipped = math.isfinite(beta) and same_way * beta > 0  # the leg loses with it
            weak = math.isfinite(r2) and r2 < threshold
            key = str(leg.trade_id)
            told = ctx.memory.get(self.name, key)
            if not (weak or flipped):
                if told and r2 >= threshold + RECOVER_MARGIN:  # hedging again: forget
                    ctx.memory.set(self.name, key, {}, now_ms=ctx.now_ms)
                continue
            if told:
                continue
            advice = ctx.advice.get(main.trade_id)
            if advice is not None and not advice.is_hold:  # another rule has this bar
                continue
            alert = self._broken(ctx, main, leg, r2, beta, weak, flipped, threshold)
            ctx.memory.set(self.name, key, {"at": ctx.now_ms, "r2": finite(r2),
                                            "beta": finite(beta)},
                           now_ms=ctx.now_ms, only_if=alert.dedup_key)
            out.append(alert)
        return out

    def _broken(self, ctx: RuleContext, main: TradeInfo, leg: TradeInfo, r2: float,
                beta: float, weak: bool, flipped: bool, threshold: float) -> Alert:
        m, g = main.trade, leg.trade
        window = ctx.config.engine.fast_window
        names = {"trade_id": m.trade_id, "side": word(m.side), "base": _base(m.symbol),
                 "leg_id": g.trade_id, "leg_side": word(g.side), "leg_base": _base(g.symbol)}
        body: list[str | Msg] = [L_(
            "Trade #{trade_id}: {side} {size:g} {base}; hedge leg #{leg_id}: {leg_side} "
            "{leg_size:g} {leg_base}", size=m.size, leg_size=g.size, **names)]
        if weak:
            body.append(L_("ρ² of {leg_base} with {base} over the last {window}: {r2:.2f}, under "
                           "{threshold:.2f} — the leg now explains {r2:.0%} of the trade's "
                           "moves; the rest is its own risk", window=str(window), r2=r2,
                           threshold=threshold, **names))
        if flipped:
            body.append(L_("Stress β of {leg_base} on {base}: {beta:+.2f} — in a sell-off the "
                           "{leg_side} leg would lose with your {side}, not offset it",
                           beta=beta, **names))
        elif math.isfinite(beta):
            body.append(L_("Stress β of {leg_base} on {base}: {beta:+.2f}", beta=beta,
                           **names))
        action = L_("Close #{leg_id} (/close {leg_id}) or replace it: /hedge {trade_id} finds "
                    "the hedge that works now. Until then #{trade_id} is as exposed as if "
                    "unhedged.", **names)
        if weak and flipped:
            title = L_("Hedge #{leg_id} {leg_base} {leg_side} no longer hedges #{trade_id} "
                       "{base} {side}: its correlation fell and its stress beta flipped",
                       **names)
        elif weak:
            title = L_("Hedge #{leg_id} {leg_base} {leg_side} no longer hedges #{trade_id} "
                       "{base} {side}: its correlation fell", **names)
        else:
            title = L_("Hedge #{leg_id} {leg_base} {leg_side} no longer hedges #{trade_id} "
                       "{base} {side}: its stress beta flipped", **names)
        return self.alert(
            ctx, f"{g.trade_id}:{ctx.time_ms}", "warning", title,
            body, action,
            payload={"trade_id": m.trade_id, "leg_id": g.trade_id, "symbol": m.symbol,
                     "leg_symbol": g.symbol, "r2_fast": finite(r2), "threshold_r2": threshold,
                     "stress_beta": finite(beta), "weak": weak, "flipped": flipped},
            symbol=m.symbol, trade_id=m.trade_id, owner_chat_id=leg.owner_chat_id,
            cooldown_ms=0)
