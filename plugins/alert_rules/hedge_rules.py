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

from plugins.alert_rules.base import Alert, AlertRule, RuleContext, TradeInfo, finite

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
        why = []
        body = [f"Trade #{m.trade_id}: {m.side} {m.size:g} {_base(m.symbol)}; hedge leg "
                f"#{g.trade_id}: {g.side} {g.size:g} {_base(g.symbol)}"]
        if weak:
            why.append("its correlation fell")
            body.append(f"ρ² of {_base(g.symbol)} with {_base(m.symbol)} over the last "
                        f"{window}: {r2:.2f}, under {threshold:.2f} — the leg now explains "
                        f"{r2:.0%} of the trade's moves; the rest is its own risk")
        if flipped:
            why.append("its stress beta flipped")
            body.append(f"Stress β of {_base(g.symbol)} on {_base(m.symbol)}: {beta:+.2f} — "
                        f"in a sell-off the {g.side} leg would lose with your {m.side}, "
                        "not offset it")
        elif math.isfinite(beta):
            body.append(f"Stress β of {_base(g.symbol)} on {_base(m.symbol)}: {beta:+.2f}")
        action = (f"Close #{g.trade_id} (/close {g.trade_id}) or replace it: /hedge "
                  f"{m.trade_id} finds the hedge that works now. Until then #{m.trade_id} "
                  "is as exposed as if unhedged.")
        return self.alert(
            ctx, f"{g.trade_id}:{ctx.time_ms}", "warning",
            f"Hedge #{g.trade_id} {_base(g.symbol)} {g.side} no longer hedges "
            f"#{m.trade_id} {_base(m.symbol)} {m.side}: " + " and ".join(why),
            body, action,
            payload={"trade_id": m.trade_id, "leg_id": g.trade_id, "symbol": m.symbol,
                     "leg_symbol": g.symbol, "r2_fast": finite(r2), "threshold_r2": threshold,
                     "stress_beta": finite(beta), "weak": weak, "flipped": flipped},
            symbol=m.symbol, trade_id=m.trade_id, owner_chat_id=leg.owner_chat_id,
            cooldown_ms=0)
