"""One call per watch cycle: build the rules' context, evaluate every registered rule (a rule
that raises is reported by name and skipped), record the alerts in the outbox, notify
``hedgewatch_on_alert``. Sending is the sender's job (``chat.sender.Sender.drain``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

from sqlite_utils import Database

from core.alerts import OPERATOR, PERSONAL, TRADE, AlertKinds
from core.evaluate import EngineResult
from core.types import MarketSnapshot, Position
from plugins.alert_rules.advising import trade_advice
from plugins.alert_rules.base import Alert, RuleContext, TradeInfo
from plugins.alert_rules.registry import load_alert_kinds, load_rules
from plugins.manager import PluginManager
from plugins.strategies.asking import ask
from plugins.strategies.bars import bar_view
from plugins.strategies.base import Decision, Strategy
from settings.config import Config
from storage.delivery_backlog import expired_subjects
from storage.outbox import record_alerts
from storage.rule_state import OpenTrade, RuleMemory, open_trades
from storage.thresholds import liquidation_thresholds

log = logging.getLogger(__name__)
STRATEGY_STATE = "strategy_state"
UNDELIVERED_LOOKBACK_MS = 24 * 3_600_000  # an alert expired longer ago is not said again


def trade_positions(trades: Sequence[OpenTrade]) -> list[Position]:
    """The positions to give ``evaluate`` for the open trades and legs, in the same order
    (each with its own margin: a hedge leg is an isolated position of its own). A synced
    trade carries the liquidation price its account's last sync judged by its exchange's
    rules (its cross margin on the whole account, its exchange's tiers)."""
    return [Position(t.symbol, t.side, t.size, t.entry, t.leverage, t.margin_mode, t.margin,
                     liquidation_price=t.liq_price if t.synced else None)
            for t in trades]


def build_context(db: Database, config: Config, result: EngineResult | None,
                  snapshot: MarketSnapshot | None, *, now_ms: int,
                  strategies: Mapping[str, Strategy] | None = None,
                  trades: Sequence[OpenTrade] | None = None,
                  exchange_error: str | None = None,
                  pm: PluginManager | None = None,
                  closed: AbstractSet[int] = frozenset()) -> RuleContext:
    """The context for one cycle. ``trades`` defaults to every open trade; they must be the
    trades whose positions were given to ``evaluate`` (``trade_positions``), in that order.
    Trades in ``closed`` (liquidated this cycle) keep their place but are left out: no rule
    advises on them. Strategy decisions are taken here, for main trades (not hedge legs),
    with each strategy's state from the last cycle."""
    memory = RuleMemory(db)
    trades = open_trades(db) if trades is None else list(trades)
    infos: list[TradeInfo] = []
    decisions: dict[int, Decision] = {}
    strategies = strategies or {}
    default = config.strategies.default
    if result is not None:
        kept = [t for t in trades if t.symbol in result.symbols]  # evaluate drops the rest
        for i, t in enumerate(kept):
            if t.trade_id in closed:
                continue
            if t.is_leg:
                infos.append(TradeInfo(t, i, ""))
                continue
            name = t.strategy if t.strategy in strategies else default
            infos.append(TradeInfo(t, i, name))
            strategy = strategies.get(name)
            if strategy is None:
                continue
            key = f"{t.trade_id}:{name}"
            answer = ask(strategy, bar_view(result, i), memory.get(STRATEGY_STATE, key), pm,
                         where=f"trade {t.trade_id}")
            if answer.decision is None:  # one strategy's bug must not silence other alerts
                continue
            decisions[t.trade_id] = answer.decision
            memory.set(STRATEGY_STATE, key, dict(answer.decision.state), now_ms=now_ms)
    funding = {}
    if snapshot is not None:
        funding = {s: (int(v.times[-1]), float(v.values[-1]))
                   for s, v in snapshot.funding.items() if len(v)}
    server = snapshot.server_time_ms if snapshot is not None else now_ms
    age = snapshot.data_age_ms if snapshot is not None else -1
    own = liquidation_thresholds(db)
    advice, held = trade_advice(result, infos, decisions, config, own) \
        if result is not None else ({}, {})
    undelivered = expired_subjects(db, now_ms - UNDELIVERED_LOOKBACK_MS)
    return RuleContext(result, config, memory, now_ms, server, age, tuple(infos), decisions,
                       funding, exchange_error, advice, held,
                       dict(snapshot.missing) if snapshot is not None else {},
                       undelivered=undelivered, snapshot=snapshot, thresholds=own)


def check_alert(alert: object, kinds: AlertKinds) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``alert`` is an ``Alert`` of a known kind,
    addressed to its trade's owner when its kind is about trades."""
    if not isinstance(alert, Alert):
        raise TypeError(f"returned {type(alert).__name__}, expected Alert")
    if alert.kind not in kinds:
        raise ValueError(f"raised an alert of unknown kind {alert.kind!r}")
    if kinds[alert.kind].scope == TRADE and (alert.owner_chat_id is None
                                             or alert.trade_id is None):
        raise ValueError(f"a {alert.kind} alert needs its trade and owner chat")
    if kinds[alert.kind].scope == OPERATOR and alert.owner_chat_id is None:
        raise ValueError(f"a {alert.kind} alert needs the operator's chat")
    if kinds[alert.kind].scope == PERSONAL and alert.owner_chat_id is None:
        raise ValueError(f"a {alert.kind} alert needs the chat of the user who set it")


def evaluate_rules(ctx: RuleContext, rules: Sequence, pm: PluginManager | None = None,
                   kinds: AlertKinds | None = None) -> list[Alert]:
    """Every rule's alerts; on stale data only rules marked ``on_stale_data`` run. A rule
    that raises, or returns anything but valid alerts of known ``kinds``, contributes nothing
    this cycle (and its memory writes are undone)."""
    kinds = kinds if kinds is not None else AlertKinds()
    out: list[Alert] = []
    for rule in rules:
        if ctx.stale and not getattr(rule, "on_stale_data", False):
            continue
        mark = len(ctx.memory.writes)
        try:
            got = list(rule.evaluate(ctx) or [])
            for alert in got:
                check_alert(alert, kinds)
        except Exception as e:
            del ctx.memory.writes[mark:]  # a half-run rule must not move its memory
            where = f"alert rule {rule.name}"
            plugin = getattr(rule, "plugin", rule.name)
            if pm is not None:
                pm.failed(plugin, where, e)
            else:
                log.error("%s (plugin %s) raised: %s", where, plugin, e, exc_info=True)
            continue
        out.extend(got)
    return out


def select_rules(rules: Sequence, only: Sequence[str] | None = None) -> list:
    """The rules to run: those named in ``only`` (the cascade watch), else every rule not
    marked ``watch_only``."""
    return [r for r in rules if (r.name in only if only is not None
                                 else not getattr(r, "watch_only", False))]


async def run_alerts(ctx: RuleContext, db: Database, pm: PluginManager,
                     only: Sequence[str] | None = None) -> list[Alert]:
    """Load the rules, evaluate them and record the alerts; returns the newly recorded ones
    (duplicates and alerts within their cooldown are left out). The cycle loads the rules
    once instead (``jobs.cycle``); this is the one-call form for tests and tools."""
    kinds = load_alert_kinds(pm)
    rules = select_rules(load_rules(pm, kinds), only)
    return record(ctx, db, pm, evaluate_rules(ctx, rules, pm, kinds))


def record(ctx: RuleContext, db: Database, pm: PluginManager, alerts: list[Alert]
           ) -> list[Alert]:
    """Write alerts and their deliveries to the outbox in one transaction, then notify
    ``hedgewatch_on_alert`` for each new one."""
    tg = ctx.config.telegram
    signal = None if tg.signal_board else tg.signal_channel  # the board posts there instead
    new = record_alerts(db, alerts, now_ms=ctx.now_ms, memory=ctx.memory,
                        signal_channel=signal, min_severity=ctx.config.alerts.min_severity)
    for alert in new:
        pm.notify("hedgewatch_on_alert", alert=alert)
    return new
