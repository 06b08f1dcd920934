"""The one place a TradingView signal gets its numbers: liquidation and touch probability from
``/risk``, the hedge, regime and cascade level from ``/hedge``, for the same words.

Asking the commands themselves (not the engine behind them) keeps a relayed signal's numbers
equal to what ``/risk`` and ``/hedge`` answer for that position — and when those commands
change model (a calibrated tail model for the touch probability), ``assess_position`` follows
without a change here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chat.commands.hedge import Hedge
from chat.commands.risk import Risk
from chat.context import CommandContext, Services
from chat.dispatch import answer
from chat.grammar import ArgumentError


@dataclass(frozen=True)
class Assessment:
    """``/risk`` and ``/hedge``'s data for one position (``words`` as typed after them)."""

    words: tuple[str, ...]
    risk: dict[str, Any] = field(default_factory=dict)
    hedge: dict[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # a command's refusal or failure, as it said it

    @property
    def as_of(self) -> int | None:
        value = self.hedge.get("as_of", self.risk.get("as_of"))
        return int(value) if value is not None else None

    @property
    def data_age_ms(self) -> int:
        age = self.hedge.get("data_age_ms", self.risk.get("data_age_ms"))
        return int(age) if age is not None else -1

    @property
    def hedge_leg(self) -> dict[str, Any] | None:
        legs = self.hedge.get("legs") or []
        return legs[0] if legs else None


async def assess_position(services: Services, words: list[str], *, user_id: int,
                          chat_id: int) -> Assessment:
    """``/risk <words>`` and ``/hedge <words>`` as the route's owner would get them. A refusal
    (a size the exchange would not take) is kept as a problem, not raised."""
    ctx = CommandContext(user_id=user_id, chat_id=chat_id, services=services,
                         chat_type="group", is_admin=False,
                         extra={"front_end": "tradingview"})
    out: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for command in (Risk(), Hedge()):
        try:
            reply = await answer(command, command.parse(list(words)), ctx)
        except ArgumentError as e:
            problems.append(str(e))
            continue
        if reply.ok:
            out[command.name] = reply.data
        else:
            problems.append(reply.text[0] if reply.text else f"/{command.name} failed")
    return Assessment(tuple(words), out.get("risk", {}), out.get("hedge", {}),
                      tuple(problems))
