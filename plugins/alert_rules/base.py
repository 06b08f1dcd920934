"""The alert rule interface: ``Alert`` (what a rule raises), ``RuleContext`` (what it sees) and
``AlertRule`` (what a plugin registers through ``hedgewatch_register_alert_rules``).

A rule is an object with a ``name``, a ``kind`` and ``evaluate(ctx) -> list[Alert]``. It runs
once per watch cycle, after the engine and the strategies. It must not send anything, write
to the database directly or keep state on ``self``/in module globals: memory across cycles
goes through ``ctx.memory`` (read now, written with the cycle's alerts in one transaction).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.evaluate import EngineResult
from core.types import finite_or_none
from plugins.strategies.base import Decision
from settings.config import Config
from storage.rule_state import OpenTrade, RuleMemory

SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")
MARKET_KINDS = frozenset({"regime", "cascade", "funding", "data"})
TRADE_KINDS = frozenset({"liquidation", "rebalance", "take_profit"})


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Alert:
    """One alert, JSON-ready: everything the sender needs to render it, with no live objects.

    ``dedup_key`` names the event ("cascade:high:<bar close ms>"): the same key is never
    recorded twice. ``cooldown_key`` names its subject ("cascade:high"): another alert on the
    same subject within ``cooldown_ms`` is not recorded. ``chart`` is a chart *spec* (kind and
    numbers) that ``chat.alert_charts`` turns into a PNG only when the alert is sent.
    """

    kind: str
    dedup_key: str
    severity: str
    title: str
    body: tuple[str, ...]  # plain-text lines with the numbers behind the alert
    action: str  # what to do
    time_ms: int  # close of the bar the alert is about
    data_age_ms: int
    cooldown_ms: int
    cooldown_key: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)
    symbol: str | None = None
    trade_id: int | None = None
    owner_chat_id: int | None = None  # trade kinds: the trader's private chat
    chart: Mapping[str, Any] | None = None
    simulated: bool = False

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")
        if self.kind in TRADE_KINDS and (self.owner_chat_id is None or self.trade_id is None):
            raise ValueError(f"a {self.kind} alert needs its trade and owner chat")
        if not self.cooldown_key:
            object.__setattr__(self, "cooldown_key", self.dedup_key.rsplit(":", 1)[0])

    @property
    def market_wide(self) -> bool:
        """For every subscriber; an alert with an owner (a trade's, the operator's) is not."""
        return self.kind not in TRADE_KINDS and self.owner_chat_id is None

    def to_record(self) -> dict[str, Any]:
        """The JSON stored with the alert: enough to render it in another process."""
        return {"title": self.title, "body": list(self.body), "action": self.action,
                "time_ms": self.time_ms, "data_age_ms": self.data_age_ms,
                "cooldown_ms": self.cooldown_ms, "numbers": dict(self.payload),
                "chart": dict(self.chart) if self.chart else None,
                "simulated": self.simulated}


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
    ``missing`` the snapshot's symbols without data and why (``MarketSnapshot.missing``).
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
    missing: Mapping[str, str] = field(default_factory=dict)  # symbol -> why it has no data

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

    def evaluate(self, ctx: RuleContext) -> list[Alert]:
        raise NotImplementedError

    def alert(self, ctx: RuleContext, key: str, severity: str, title: str,
              body: list[str] | tuple[str, ...], action: str, **extra: Any) -> Alert:
        """An alert of this rule's kind stamped with the cycle's time, age and cooldown."""
        extra.setdefault("cooldown_ms", ctx.cooldown_ms)
        return Alert(kind=self.kind, dedup_key=f"{self.kind}:{key}", severity=severity,
                     title=title, body=tuple(body), action=action, time_ms=ctx.time_ms,
                     data_age_ms=ctx.data_age_ms, simulated=ctx.simulated, **extra)


finite = finite_or_none  # the name the rules use
