"""An example third-party hedgewatch plugin, one of each hook kind (see docs/plugins.md).

- a strategy, ``half_beta``, marked ``tryfirst`` so ``/hedge`` lists it first;
- a ``wrapper`` around ``hedgewatch_register_commands`` that hides ``/backtest`` (a busy
  group's bot that does not want long backtests in chat);
- an alert kind, ``summary``, and the rule that raises it: one line per bar with the cascade
  level, for a channel that wants a heartbeat of the market;
- a command, ``/summary``, answering the same line on demand;
- its own translations (``locales/zh_Hans/LC_MESSAGES/hedgewatch_example.po``), registered
  with ``hedgewatch_register_translations``: its strings read in the trader's language.

Installed, it is found through the ``hedgewatch`` entry-point group (pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any

import i18n
from chat.commands.base import Command, Reply
from core.alerts import AlertKind
from plugins import hookimpl
from plugins.alert_rules.base import Alert, AlertRule, RuleContext
from plugins.strategies.base import BarView, Decision, Strategy, beta_leg

HIDDEN_COMMANDS = {"backtest"}
DOMAIN = "hedgewatch_example"
LOCALES = Path(__file__).resolve().parent / "locales"

_ = i18n.domain_gettext(DOMAIN)  # translated now, from this plugin's catalog
L_ = i18n.domain_lazy(DOMAIN)  # rendered later, in each reader's language (alerts)
LN_ = i18n.domain_lazy_plural(DOMAIN)
N_ = i18n.N_  # marked only: hedgewatch shows these with its _(), which finds them here too
LEVELS = {"calm": N_("calm"), "elevated": N_("elevated"), "high": N_("high"),
          "cascade": N_("cascade")}
SIDES = {"long": N_("long"), "short": N_("short")}


class HalfBeta(Strategy):
    name = "half_beta"
    description = N_("Half the minimum-variance hedge: keeps half the exposure on purpose.")
    defaults: Mapping[str, float] = {"fraction": 0.5}

    def decide(self, bar: BarView, state: Mapping[str, Any] | None) -> Decision:
        leg, fraction = beta_leg(bar, self.params["fraction"]), self.params["fraction"]
        if leg is None:
            return Decision((), _("{fraction:g} × β {beta:.3f} → no hedge").format(
                fraction=fraction, beta=bar.beta_fast))
        side = _(SIDES.get(leg.side, leg.side))
        return Decision((leg,), _("{fraction:g} × β {beta:.3f} → {side} {size:.6g} {symbol}")
                        .format(fraction=fraction, beta=bar.beta_fast, side=side,
                                size=leg.size, symbol=leg.symbol))


class SummaryRule(AlertRule):
    """One info alert per bar: the cascade level and what drives it."""

    name = "summary"
    kind = "summary"

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        r = ctx.result
        assert r is not None  # rules run on fresh data only (not on_stale_data)
        level = r.cascade.level
        n = len(r.symbols)
        title = L_("Market: cascade level {level} ({score:.0f}/100)",
                   level=L_(LEVELS.get(level, level)), score=r.cascade.score)
        return [self.alert(ctx, f"{ctx.time_ms}", "info", title,
                           [LN_("{n} symbol watched", "{n} symbols watched", n)],
                           L_("Nothing to do."),
                           cooldown_ms=0, payload={"level": level})]


class Summary(Command):
    name = "summary"
    summary = N_("the market in one line (example plugin)")
    usage = "/summary"
    examples = ("/summary",)

    async def answer(self, request: None, ctx: Any) -> Reply:
        snap = await ctx.services.snapshot()
        state = await ctx.services.engine_market(snap)
        level = state.cascade.level
        line = _("Market: cascade level {level}, {n} symbols, data {minutes} min old").format(
            level=_(LEVELS.get(level, level)), n=len(snap.symbols),
            minutes=snap.data_age_ms // 60_000)
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
    return [AlertKind("summary", N_("one line per bar with the cascade level (example plugin)"))]


@hookimpl
def hedgewatch_register_translations() -> list[tuple[str, Path]]:
    return [(DOMAIN, LOCALES)]


@hookimpl
def hedgewatch_register_alert_rules() -> list[AlertRule]:
    return [SummaryRule()]
