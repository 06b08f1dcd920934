"""The one way to ask a strategy for its decision: call, validate, apply one failure policy.

The live cycle, ``/hedge`` and the backtester all call ``ask``, so a strategy that raises or
answers nonsense is treated the same everywhere: logged with its name and its plugin's,
recorded in the plugin manager's failures, left out of the answer, and named in a warning —
never an exception that takes the other strategies' answers with it.

What a valid decision is: a ``Decision`` whose legs are ``TargetLeg`` objects with side
``long`` or ``short``, a finite size above 0, a symbol the bar has a price for, and a
notional of at most ``MAX_LEG_MULTIPLE`` times the position's (a hedge ten times the
position is a bug, not a hedge); a ``str`` reason; a mapping as state.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from i18n import Msg, _
from plugins.manager import PluginManager
from plugins.strategies.base import BarView, Decision, Strategy, TargetLeg

log = logging.getLogger(__name__)

MAX_LEG_MULTIPLE = 10.0


class InvalidDecision(ValueError):
    """A strategy's answer that must not reach a trader."""


@dataclass(frozen=True)
class Answer:
    """A strategy's decision, or why there is none (``warning``)."""

    strategy: str
    decision: Decision | None
    warning: str | None = None

    @property
    def ok(self) -> bool:
        return self.decision is not None


def validate(decision: Any, bar: BarView) -> Decision:
    """``decision`` if it is a valid answer at ``bar``; ``InvalidDecision`` says what is not."""
    if not isinstance(decision, Decision):
        raise InvalidDecision(f"returned {type(decision).__name__}, expected a Decision")
    if not isinstance(decision.reason, (str, Msg)):
        raise InvalidDecision("its reason is not text")
    state = decision.state
    if type(state) is not dict and not isinstance(state, Mapping):  # dict: skip the ABC check
        raise InvalidDecision("its state is not a mapping")
    if not decision.legs:
        return decision
    notional = abs(bar.notional())
    for leg in decision.legs:
        if not isinstance(leg, TargetLeg):
            raise InvalidDecision(f"a leg is {type(leg).__name__}, expected a TargetLeg")
        if leg.side not in ("long", "short"):
            raise InvalidDecision(f"leg {leg.symbol}: side {leg.side!r} is not long or short")
        if not isinstance(leg.size, (int, float)) or not math.isfinite(leg.size) or \
                leg.size <= 0:
            raise InvalidDecision(f"leg {leg.symbol}: size {leg.size!r} is not a finite "
                                  "number above 0")
        price = bar.prices.get(leg.symbol)
        if price is None or not (isinstance(price, (int, float)) and math.isfinite(price) and
                                 price > 0):
            raise InvalidDecision(f"leg {leg.symbol!r}: not a symbol with a price at this bar")
        if math.isfinite(notional) and notional > 0 and \
                leg.size * price > MAX_LEG_MULTIPLE * notional:
            raise InvalidDecision(
                f"leg {leg.symbol}: {leg.size * price:,.0f} USDT is more than "
                f"{MAX_LEG_MULTIPLE:g}× the position's {notional:,.0f} USDT")
    return decision


def ask(strategy: Strategy, bar: BarView, state: Mapping[str, Any] | None,
        pm: PluginManager | None = None, *, where: str = "") -> Answer:
    """``strategy``'s validated decision at ``bar``; on any failure an ``Answer`` without a
    decision whose ``warning`` says why (and the failure logged and recorded in ``pm``).
    ``where`` says what was being answered, for the log (e.g. "trade 5")."""
    name = getattr(strategy, "name", type(strategy).__name__)
    try:
        return Answer(name, validate(strategy.decide(bar, state), bar))
    except Exception as e:
        what = f"{type(e).__name__}: {e}" if not isinstance(e, InvalidDecision) else str(e)
        plugin = getattr(strategy, "plugin", "unknown plugin")
        context = f" on {where}" if where else ""
        if pm is not None:
            pm.failed(plugin, f"strategy {name}{context}", e)
        else:
            log.error("strategy %s (plugin %s) failed%s: %s", name, plugin, context, what,
                      exc_info=e)
        return Answer(name, None, _("strategy {name} left out: {error}").format(
            name=name, error=what[:200]))
