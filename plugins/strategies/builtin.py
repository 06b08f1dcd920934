"""The five built-in strategies and their registration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from i18n import L_, N_, Msg
from plugins import hookimpl
from plugins.alert_rules.words import listing, word
from plugins.strategies.base import (
    BarView,
    Decision,
    Strategy,
    TargetLeg,
    beta_leg,
    sticky_hedge,
)


def _describe(leg: TargetLeg | None) -> Msg:
    return L_("{side} {size:.6g} {symbol}", side=word(leg.side), size=leg.size,
              symbol=leg.symbol) if leg else L_("no hedge")


class NoHedge(Strategy):
    name = "none"
    description = N_("No hedge: the baseline every hedge is measured against.")

    def decide(self, bar: BarView, state: Mapping[str, Any] | None) -> Decision:
        return Decision((), L_("no hedge by design"))


class StaticHedge(Strategy):
    name = "static"
    description = N_("A β hedge set once at the position's open and never rebalanced.")

    def decide(self, bar: BarView, state: Mapping[str, Any] | None) -> Decision:
        if state and "legs" in state:
            legs = tuple(TargetLeg(*leg) for leg in state["legs"])
            return Decision(legs, L_("holding the hedge set at the open (β {beta:.3f})",
                                     beta=state["beta"]), state)
        leg = beta_leg(bar)
        legs = (leg,) if leg else ()
        new = {"legs": [(x.symbol, x.side, x.size) for x in legs], "beta": bar.beta_fast}
        return Decision(legs, L_("set at the open, β {beta:.3f} to {symbol} → {leg}",
                                 beta=bar.beta_fast, symbol=bar.hedge_symbol,
                                 leg=_describe(leg)), new)


class MinVariance(Strategy):
    name = "min_variance"
    description = N_("The minimum-variance β hedge, re-estimated every bar on the fast window; "
                     "the instrument changes only when another is better by switch_margin in "
                     "ρ².")
    defaults: ClassVar[Mapping[str, float]] = {"switch_margin": 0.1}

    def decide(self, bar: BarView, state: Mapping[str, Any] | None) -> Decision:
        hs = sticky_hedge(bar, state, self.params["switch_margin"])
        leg = beta_leg(bar, symbol=hs)
        beta, rho = bar.pair(hs) if hs else (float("nan"), float("nan"))
        return Decision((leg,) if leg else (),
                        L_("β {beta:.3f} to {symbol} (ρ² {r2:.2f}) → {leg}", beta=beta,
                           symbol=hs, r2=rho * rho, leg=_describe(leg)),
                        {"hedge": hs} if hs else {})


class SeedRegime(Strategy):
    name = "seed_regime"
    description = N_("The seed's rule: the β hedge shrunk when correlation is above high_corr, "
                     "grown below low_corr (see core/seed_rule.py for what it assumes).")
    defaults: ClassVar[Mapping[str, float]] = {"shrink": 0.5, "grow": 1.25,
                                               "switch_margin": 0.1}

    def decide(self, bar: BarView, state: Mapping[str, Any] | None) -> Decision:
        hs = sticky_hedge(bar, state, self.params["switch_margin"])
        beta, rho = bar.pair(hs) if hs else (float("nan"), float("nan"))
        if hs == bar.hedge_symbol:
            regime = bar.regime  # the engine's regime, with hysteresis
        else:  # the held instrument: the thresholds on its own correlation
            regime = ("high" if rho >= bar.high_corr else "low" if rho <= bar.low_corr
                      else "normal") if rho == rho else "unknown"
        factor = {"high": self.params["shrink"], "low": self.params["grow"]}.get(regime, 1.0)
        leg = beta_leg(bar, factor, symbol=hs)
        return Decision((leg,) if leg else (),
                        L_("correlation {rho:.2f} to {symbol} ({regime} regime) → β "
                           "{beta:.3f} × {factor:g} → {leg}", rho=rho, symbol=hs,
                           regime=word(regime), beta=beta, factor=factor,
                           leg=_describe(leg)),
                        {"hedge": hs} if hs else {})


class CounterweightHedge(Strategy):
    name = "counterweight"
    description = N_("The engine's top counterweight legs (those that gain in a cascade), "
                     "re-chosen when the cascade level changes.")
    defaults: ClassVar[Mapping[str, float]] = {"legs": 1, "weight": 1.0}

    def decide(self, bar: BarView, state: Mapping[str, Any] | None) -> Decision:
        if state and state.get("level") == bar.cascade_level and "legs" in state:
            legs = tuple(TargetLeg(*leg) for leg in state["legs"])
            return Decision(legs, L_("level still {level}, holding the legs chosen at the "
                                     "last change", level=word(bar.cascade_level)), state)
        chosen = []
        for cw in bar.counterweights()[: int(self.params["legs"])]:
            price = bar.prices.get(cw.symbol, float("nan"))
            if cw.stress_beta == cw.stress_beta and price == price and price > 0:
                size = cw.stress_beta * bar.notional() * self.params["weight"] / price
                chosen.append(TargetLeg(cw.symbol, cw.side, size))
        why = listing(L_("{side} {symbol} (score {score:.2f}, stress ρ {stress:.2f})",
                         side=word(leg.side), symbol=leg.symbol, score=cw.score,
                         stress=cw.stress_corr)
                      for leg, cw in zip(chosen, bar.counterweights(), strict=False)) \
            or L_("none available")
        return Decision(tuple(chosen), L_("at cascade level {level}: {why}",
                                          level=word(bar.cascade_level), why=why),
                        {"level": bar.cascade_level,
                         "legs": [(x.symbol, x.side, x.size) for x in chosen]})


BUILTIN_STRATEGIES = (NoHedge, StaticHedge, MinVariance, SeedRegime, CounterweightHedge)


@hookimpl
def hedgewatch_register_strategies() -> list[type]:
    return list(BUILTIN_STRATEGIES)
