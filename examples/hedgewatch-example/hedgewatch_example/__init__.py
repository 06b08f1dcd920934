"""An example third-party hedgewatch plugin, one of each hook kind (see docs/plugins.md).

- a strategy, ``half_beta``, marked ``tryfirst`` so ``/hedge`` lists it first;
- a ``wrapper`` around ``hedgewatch_register_commands`` that hides ``/backtest`` (a busy
  group's bot that does not want long backtests in chat);
- an alert kind, ``summary``, and the rule that raises it: one line per bar with the cascade
  level, for a channel that wants a heartbeat of the market;
- a command, ``/summary``, answering the same line on demand.

Installed, it is found through the ``hedgewatch`` entry-point group (pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from chat.commands.base import Command, Reply
from core.alerts import AlertKind
from plugins import hookimpl
from plugins.alert_rules.base import Alert, AlertRule, RuleContext
from plugins.strategies.base import BarView, Decision, Strategy, beta_leg

HIDDEN_COMMANDS = {"backtest"}


class HalfBeta(Strategy):
    name = "half_beta"
    description = "Half the minimum-variance hedge: keeps half the exposure on purpose."
    defaults: Mapping[str, float] = {"fraction": 0.5}

    def decide(self, bar: BarView, state: Mapping[str, Any] | None) -> Decision:
        leg = beta_leg(bar, self.params["fraction"])
        what = f"{leg.side} {leg.size:.6g} {leg.symbol}" if leg else "no hedge"
        return Decision((leg,) if leg else (),
                        f"{self.params['fraction']:g} × β {bar.beta_fast:.3f} → {what}")


class SummaryRule(AlertRule):
    """One info alert per bar: the cascade level and what drives it."""

    name = "summary"
    kind = "summary"

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        r = ctx.result
        assert r is not None  # rules run on fresh data only (not on_stale_data)
        level = r.cascade.level
        return [self.alert(ctx, f"{ctx.time_ms}", "info",
                           f"Market: cascade level {level} ({r.cascade.score:.0f}/100)",
                           [f"{len(r.symbols)} symbols watched"], "Nothing to do.",
                           cooldown_ms=0, payload={"level": level})]


class Summary(Command):
    name = "summary"
    summary = "the market in one line (example plugin)"
    usage = "/summary"
    examples = ("/summary",)

    async def answer(self, request: None, ctx: Any) -> Reply:
        snap = await ctx.services.snapshot()
        state = await ctx.services.engine_market(snap)
        line = (f"Market: cascade level {state.cascade.level}, "
                f"{len(snap.symbols)} symbols, data {snap.data_age_ms // 60_000} min old")
        return Reply(data={"level": state.cascade.level, "symbols": len(snap.symbols),
                           "data_age_ms": snap.data_age_ms}, text=[line])


@hookimpl(tryfirst=True)
def hedgewatch_register_strategies() -> list[type]:
    return [HalfBeta]


@hookimpl
def hedgewatch_register_commands() -> list[Any]:
    return [Summary()]


@hookimpl(wrapper=True, specname="hedgewatch_register_commands")
def hide_commands() -> Generator[None, list[list[Any]], list[list[Any]]]:
    """Wraps every plugin's command registration (the built-ins' included)."""
    lists = yield
    for commands in lists:  # in place: hedgewatch still knows which plugin gave what
        commands[:] = [c for c in commands if c.name not in HIDDEN_COMMANDS]
    return lists


@hookimpl
def hedgewatch_register_alert_kinds() -> list[AlertKind]:
    return [AlertKind("summary", "one line per bar with the cascade level (example plugin)")]


@hookimpl
def hedgewatch_register_alert_rules() -> list[AlertRule]:
    return [SummaryRule()]
