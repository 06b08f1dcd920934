"""One call per watch cycle: build the rules' context, evaluate every registered rule (a rule
that raises is reported by name and skipped), record the alerts in the outbox, notify
``hedgewatch_on_alert``. Sending is the sender's job (``chat.sender.Sender.drain``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from sqlite_utils import Database

from core.evaluate import EngineResult
from core.types import MarketSnapshot, Position
from plugins.alert_rules.base import Alert, RuleContext, TradeInfo
from plugins.manager import PluginFailure, PluginManager
from plugins.strategies.bars import bar_view
from plugins.strategies.base import Decision, Strategy
from settings.config import Config
from storage.outbox import record_alerts
from storage.rule_state import OpenTrade, RuleMemory, open_trades

log = logging.getLogger(__name__)
STRATEGY_STATE = "strategy_state"


def load_rules(pm: PluginManager) -> list:
    """Every registered rule; objects without ``name``/``kind``/``evaluate`` are reported."""
    rules, names = [], set()
    for rule in pm.collect("hedgewatch_register_alert_rules"):
        name = getattr(rule, "name", None)
        if not name or not getattr(rule, "kind", None) or not callable(
                getattr(rule, "evaluate", None)):
            pm.failures.append(PluginFailure(str(name or rule), "alert_rule",
                                             "needs name, kind and evaluate(ctx)"))
            continue
        if name in names:
            pm.failures.append(PluginFailure(name, "alert_rule", "duplicate rule name"))
            continue
        names.add(name)
        rules.append(rule)
    return rules


def trade_positions(trades: Sequence[OpenTrade]) -> list[Position]:
    """The positions to give ``evaluate`` for the open trades, in the same order."""
    return [Position(t.symbol, t.side, t.size, t.entry, t.leverage) for t in trades]


def build_context(db: Database, config: Config, result: EngineResult | None,
                  snapshot: MarketSnapshot | None, *, now_ms: int,
                  strategies: Mapping[str, Strategy] | None = None,
                  trades: Sequence[OpenTrade] | None = None,
                  exchange_error: str | None = None) -> RuleContext:
    """The context for one cycle. ``trades`` defaults to every open trade; they must be the
    trades whose positions were given to ``evaluate`` (``trade_positions``), in that order.
    Strategy decisions are taken here with each strategy's state from the last cycle."""
    memory = RuleMemory(db)
    trades = open_trades(db) if trades is None else list(trades)
    infos: list[TradeInfo] = []
    decisions: dict[int, Decision] = {}
    strategies = strategies or {}
    default = config.strategies.default
    if result is not None:
        kept = [t for t in trades if t.symbol in result.symbols]  # evaluate drops the rest
        for i, t in enumerate(kept):
            name = t.strategy if t.strategy in strategies else default
            infos.append(TradeInfo(t, i, name))
            strategy = strategies.get(name)
            if strategy is None:
                continue
            key = f"{t.trade_id}:{name}"
            try:
                d = strategy.decide(bar_view(result, i), memory.get(STRATEGY_STATE, key))
            except Exception as e:  # one strategy's bug must not silence the others' alerts
                log.error("strategy %s failed on trade %s: %s", name, t.trade_id, e,
                          exc_info=True)
                continue
            decisions[t.trade_id] = d
            memory.set(STRATEGY_STATE, key, dict(d.state), now_ms=now_ms)
    funding = {}
    if snapshot is not None:
        funding = {s: (int(v.times[-1]), float(v.values[-1]))
                   for s, v in snapshot.funding.items() if len(v)}
    server = snapshot.server_time_ms if snapshot is not None else now_ms
    age = snapshot.data_age_ms if snapshot is not None else -1
    return RuleContext(result, config, memory, now_ms, server, age, tuple(infos), decisions,
                       funding, exchange_error,
                       dict(snapshot.missing) if snapshot is not None else {})


def evaluate_rules(ctx: RuleContext, rules: Sequence, pm: PluginManager | None = None
                   ) -> list[Alert]:
    """Every rule's alerts; on stale data only rules marked ``on_stale_data`` run."""
    out: list[Alert] = []
    for rule in rules:
        if ctx.stale and not getattr(rule, "on_stale_data", False):
            continue
        mark = len(ctx.memory.writes)
        try:
            got = list(rule.evaluate(ctx) or [])
            bad = [a for a in got if not isinstance(a, Alert)]
            if bad:
                raise TypeError(f"returned {type(bad[0]).__name__}, expected Alert")
        except Exception as e:
            del ctx.memory.writes[mark:]  # a half-run rule must not move its memory
            log.error("alert rule %s raised: %s", rule.name, e, exc_info=True)
            if pm is not None:
                pm.failures.append(PluginFailure(rule.name, "alert_rule",
                                                 f"{type(e).__name__}: {e}"))
            continue
        out.extend(got)
    return out


def select_rules(pm: PluginManager, only: Sequence[str] | None = None) -> list:
    """The rules to run: those named in ``only`` (the cascade watch), else every registered
    rule not marked ``watch_only``."""
    return [r for r in load_rules(pm) if (r.name in only if only is not None
                                          else not getattr(r, "watch_only", False))]


async def run_alerts(ctx: RuleContext, db: Database, pm: PluginManager,
                     only: Sequence[str] | None = None) -> list[Alert]:
    """Evaluate the rules and record the alerts; returns the newly recorded ones
    (duplicates and alerts within their cooldown are left out)."""
    return record(ctx, db, pm, evaluate_rules(ctx, select_rules(pm, only), pm))


def record(ctx: RuleContext, db: Database, pm: PluginManager, alerts: list[Alert]
           ) -> list[Alert]:
    """Write alerts and their deliveries to the outbox in one transaction, then notify
    ``hedgewatch_on_alert`` for each new one."""
    signal = ctx.config.telegram.signal_channel
    new = record_alerts(db, alerts, now_ms=ctx.now_ms, memory=ctx.memory,
                        signal_channel=signal, min_severity=ctx.config.alerts.min_severity)
    for alert in new:
        pm.notify("hedgewatch_on_alert", alert=alert)
    return new
