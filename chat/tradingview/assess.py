"""The one place a TradingView signal gets its numbers: liquidation and touch probability from
``/risk``, the hedge, regime and cascade level from ``/hedge``, for the same words.

Asking the commands themselves (not the engine behind them) keeps a relayed signal's numbers
equal to what ``/risk`` and ``/hedge`` answer for that position — and when those commands
change model (a calibrated tail model for the touch probability), ``assess_position`` follows
without a change here. A command's refusal is kept in every language we speak (asked
again in each, only then), so each chat reads it in its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chat.commands.base import Command
from chat.commands.hedge import Hedge
from chat.commands.risk import Risk
from chat.context import CommandContext, Services
from chat.dispatch import answer
from chat.grammar import ArgumentError
from i18n import DEFAULT, Msg, _, current_language, use
from i18n.languages import RENDERED


@dataclass(frozen=True)
class Said(Msg):
    """What a command said, as it said it in each language (``msgid``: in English)."""

    texts: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.texts.get(current_language()) or self.texts.get(DEFAULT) or self.msgid


@dataclass(frozen=True)
class Assessment:
    """``/risk`` and ``/hedge``'s data for one position (``words`` as typed after them)."""

    words: tuple[str, ...]
    risk: dict[str, Any] = field(default_factory=dict)
    hedge: dict[str, Any] = field(default_factory=dict)
    problems: tuple[Said, ...] = ()  # a command's refusal or failure, as it said it

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


async def _ask(command: Command, words: tuple[str, ...], ctx: CommandContext
               ) -> tuple[dict[str, Any] | None, str]:
    """The command's data, or (None, what it said instead) in the current language."""
    try:
        reply = await answer(command, command.parse(list(words)), ctx)
    except ArgumentError as e:
        return None, str(e)
    if reply.ok:
        return reply.data, ""
    return None, reply.text[0] if reply.text else _("/{command} failed").format(
        command=command.name)


async def assess_position(services: Services, words: list[str], *, user_id: int,
                          chat_id: int) -> Assessment:
    """``/risk <words>`` and ``/hedge <words>`` as the route's owner would get them. A refusal
    (a size the exchange would not take) is kept as a problem, not raised."""
    ctx = CommandContext(user_id=user_id, chat_id=chat_id, services=services,
                         chat_type="group", is_admin=False,
                         extra={"front_end": "tradingview"})
    out: dict[str, dict[str, Any]] = {}
    problems: list[Said] = []
    for command in (Risk(), Hedge()):
        with use(DEFAULT):
            data, said = await _ask(command, tuple(words), ctx)
        if data is not None:
            out[command.name] = data
            continue
        texts = {DEFAULT: said}
        for lang in RENDERED:  # rare: a refusal, asked again for its words in each language
            if lang != DEFAULT:
                with use(lang):
                    texts[lang] = (await _ask(command, tuple(words), ctx))[1] or said
        problems.append(Said(said, texts=texts))
    return Assessment(tuple(words), out.get("risk", {}), out.get("hedge", {}),
                      tuple(problems))
