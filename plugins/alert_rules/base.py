"""The alert rule interface: ``Alert`` (what a rule raises), ``RuleContext`` (what it sees) and
``AlertRule`` (what a plugin registers through ``hedgewatch_register_alert_rules``).

A rule is an object with a ``name``, a ``kind`` and ``evaluate(ctx) -> list[Alert]``. Its
kind is a built-in one or one a plugin registers with ``hedgewatch_register_alert_kinds``
(``core.alerts.AlertKind``); ``Alert``, ``AlertKind`` and the severities live in
``core.alerts`` and are re-exported here for rule authors. It runs
once per watch cycle, after the engine and the strategies. It must not send anything, write
to the database directly or keep state on ``self``/in module globals: memory across cycles
goes through ``ctx.memory`` (read now, written with the cycle's alerts in one transaction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.advice import Advice, Leg
from core.alerts import SEVERITIES, Alert, AlertKind, severity_rank
from core.evaluate import EngineResult
from core.types import MarketSnapshot, finite_or_none
from i18n import Msg
from plugins.strategies.base import Decision
from settings.config import Config
from storage.rule_state import OpenTrade, RuleMemory


@dataclass(frozen=True)
class TradeInfo:
    """An open trade as rules see it: ``position_index`` is its row in ``result.positions``
    (and in ``result.risk``) and in the ``HeldHedge.position_index`` given to ``evaluate``."""

    trade: OpenTrade
    position_index: int
    strategy: str

    @property
    def trade_id(self) -> int:
        return self.trade.trade_id

    @property
    def owner_chat_id(self) -> int:
        return self.trade.owner_chat_id


@dataclass(frozen=True, eq=False)
class RuleContext:
    """What every rule sees in one cycle.

    ``result`` is None when the exchange could not be reached (``exchange_error`` says why);
    ``data_age_ms`` is the age of the latest closed bar on the exchange's clock
    (``MarketSnapshot.data_age_ms``); ``decisions`` maps trade id to its strategy's decision
    at this bar; ``funding`` the latest funding (time, rate per period) per symbol;
    ``missing`` the snapshot's symbols without data and why (``MarketSnapshot.missing``);
    ``undelivered`` the alert subjects whose latest alert expired before reaching any chat
    (Telegram was down): a rule whose condition still holds says it again. ``snapshot``
    is the cycle's market (None when the exchange could not be reached); ``thresholds``
    each owner's own liquidation thresholds (``/threshold``: ``prob``, ``distance`` in %).
    """

    result: EngineResult | None
    config: Config
    memory: RuleMemory
    now_ms: int  # our clock: when the cycle ran
    server_time_ms: int  # the exchange's clock
    data_age_ms: int
    trades: tuple[TradeInfo, ...] = ()
    decisions: Mapping[int, Decision] = field(default_factory=dict)
    funding: Mapping[str, tuple[int, float]] = field(default_factory=dict)  # (time, rate/8h)
    exchange_error: str | None = None
    advice: Mapping[int, Advice] = field(default_factory=dict)  # trade id → one action
    held: Mapping[int, tuple[Leg, ...]] = field(default_factory=dict)  # trade id → its legs
    missing: Mapping[str, str] = field(default_factory=dict)  # symbol -> why it has no data
    undelivered: frozenset[str] = frozenset()
    snapshot: MarketSnapshot | None = None  # the cycle's bars (a move over a window)
    thresholds: Mapping[int, Mapping[str, float]] = field(default_factory=dict)  # by owner

    @property
    def stale_after_ms(self) -> int:
        return self.config.alerts.stale_after * self.config.schedule.interval.ms

    @property
    def stale(self) -> bool:
        """True when there is no data or it is older than ``[alerts] stale_after`` intervals:
        then only ``data`` alerts may be raised."""
        return (self.result is None or self.exchange_error is not None
                or self.data_age_ms < 0 or self.data_age_ms > self.stale_after_ms)

    @property
    def cooldown_ms(self) -> int:
        return self.config.alerts.cooldown.ms

    @property
    def time_ms(self) -> int:
        return self.result.time_ms if self.result is not None else self.server_time_ms

    @property
    def simulated(self) -> bool:
        return bool(self.result is not None and self.result.simulated)


class AlertRule:
    """Base class: set ``name`` and ``kind``, implement ``evaluate``. ``on_stale_data``
    rules (only ``data``) also run when the data is stale or missing."""

    name: ClassVar[str]
    kind: ClassVar[str]
    on_stale_data: ClassVar[bool] = False
    plugin: str = "unknown plugin"  # set by the loader: who registered it, for the logs

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        raise NotImplementedError

    def alert(self, ctx: RuleContext, key: str, severity: str, title: str | Msg,
              body: Sequence[str | Msg], action: str | Msg,
              **extra: Any) -> Alert:
        """An alert of this rule's kind stamped with the cycle's time, age and cooldown.
        ``title``, ``body`` lines and ``action`` are ``i18n.L_`` messages: the alert is
        rendered in each reader's language when recorded."""
        extra.setdefault("cooldown_ms", ctx.cooldown_ms)
        return Alert(kind=self.kind, dedup_key=f"{self.kind}:{key}", severity=severity,
                     title=title, body=tuple(body), action=action, time_ms=ctx.time_ms,
                     data_age_ms=ctx.data_age_ms, simulated=ctx.simulated, **extra)


finite = finite_or_none  # the name the rules use


__all__ = ["SEVERITIES", "Alert", "AlertKind", "AlertRule", "RuleContext", "TradeInfo",
           "finite", "severity_rank"]
