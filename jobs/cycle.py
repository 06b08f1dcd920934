"""One watch cycle, one way: exchange → snapshot → engine → strategies → alert rules →
outbox → sender. Each stage is timed; a failing stage degrades the cycle, never kills it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.evaluate import EngineParams, evaluate
from core.recommend import HeldHedge
from core.types import MarketSnapshot
from jobs.held_alerts import HeldAlerts
from jobs.trade_truth import (
    accrue_funding,
    close_liquidated,
    find_cross_liquidations,
    find_liquidations,
)
from plugins.alert_rules.runner import (
    build_context,
    evaluate_rules,
    record,
    select_rules,
    trade_positions,
)
from plugins.strategies.base import Strategy
from runtime import Runtime
from storage.heartbeat import beat, last_beat
from storage.rule_state import OpenTrade, open_trades
from storage.writes import describe_fault, fault_kind

log = logging.getLogger(__name__)

SendStage = Callable[[], Awaitable[int]]


@dataclass
class CycleSummary:
    """What one cycle did, for the heartbeat, ``/status``, logs and ``hedgewatch_on_cycle``.

    When the exchange gives nothing, ``data_age_ms`` and ``newest_bar_ms`` are carried over
    from the last cycle that had data (aged by the time since), so the heartbeat always says
    how old the newest bar is — ``bot.py health`` turns it degraded past two intervals.
    """

    started_ms: int
    duration_ms: float = 0.0
    stages_ms: dict[str, float] = field(default_factory=dict)
    bars: int = 0
    symbols: int = 0
    missing: dict[str, str] = field(default_factory=dict)
    trades: int = 0
    alerts: dict[str, int] = field(default_factory=dict)
    delivered: int = 0
    data_age_ms: int | None = None  # of the newest bar, on the exchange's clock, at the start
    newest_bar_ms: int | None = None  # when the newest bar closed (carried when none came)
    cascade_level: str | None = None
    cascade_score: float | None = None
    cascade_confidence: float | None = None
    funding_payments: int = 0
    accounts_synced: int = 0
    accounts_failed: int = 0
    fetch_error: str | None = None  # the exchange failed (or gave no bars)
    storage_error: str | None = None  # the outbox or the heartbeat could not be written
    held_alerts: int = 0  # alerts kept in memory until the outbox can be written again
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Stage:
    """Times one stage into ``summary.stages_ms``."""

    def __init__(self, summary: CycleSummary, name: str) -> None:
        self.summary, self.name = summary, name

    def __enter__(self) -> None:
        self.t = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.summary.stages_ms[self.name] = (time.perf_counter() - self.t) * 1000


class WatchCycle:
    """``await cycle.run()`` once per interval, with the plugins, strategies and alert rules
    of ``rt`` (``runtime.build_runtime``). ``symbols`` narrows the fetch and ``rules`` names
    the alert rules to run: the one-minute cascade watch is this cycle on the main symbols
    with only the ``cascade_watch`` rule (and no trades), fetching with ``watch=True`` only
    what moves between bars (``MarketSource.watch_snapshot``)."""

    def __init__(self, rt: Runtime, *, db: Any, market: Any,
                 send_stage: SendStage | None = None, symbols: list[str] | None = None,
                 name: str = "cycle", rules: list[str] | None = None,
                 clock: Callable[[], float] = time.time,
                 before_fetch: Callable[[], None] | None = None, watch: bool = False,
                 accounts: Any = None) -> None:
        self.config, self.db, self.market, self.pm = rt.config, db, market, rt.plugins
        self.strategies: Mapping[str, Strategy] = rt.strategies
        self.params: EngineParams = rt.engine_params
        self.kinds = rt.extensions.alert_kinds
        self.rules = select_rules(rt.extensions.alert_rules, rules)
        self.send_stage, self.symbols, self.name = send_stage, symbols, name
        self.clock, self.before_fetch, self.watch = clock, before_fetch, watch
        self.accounts = accounts  # plugins.accounts.service.Accounts: synced first each cycle
        self.bars = self.params.corr.slow + self.params.corr.fast + 8
        self.last: CycleSummary | None = None
        self.last_result: Any = None  # the last cycle's EngineResult (the signal board's)
        self.held = HeldAlerts(db, name)
        self._tiers_loaded: set[str] = set()

    async def run(self) -> CycleSummary:
        now_ms = int(self.clock() * 1000)
        summary = CycleSummary(started_ms=now_ms)
        self.last_result = None
        t0 = time.perf_counter()
        snap: MarketSnapshot | None = None
        result = None
        fetch_error = None
        if self.accounts is not None and self.symbols is None:
            with _Stage(summary, "accounts"):
                await self._sync_accounts(summary)
        try:
            trades = open_trades(self.db) if self.symbols is None else []
        except Exception as e:  # an unreadable database: market alerts still come
            log.error("%s: open trades not read: %s", self.name, describe_fault(e))
            summary.storage_error = f"trades: {describe_fault(e)}"
            trades = []
        summary.trades = len(trades)
        with _Stage(summary, "fetch"):
            if self.before_fetch is not None:
                self.before_fetch()
            await self._load_tiers(trades)
            try:
                snap = await (self.market.watch_snapshot(self.symbols, bars=self.bars)
                              if self.watch and self.symbols else
                              self.market.snapshot(self.symbols, bars=self.bars))
                if snap.n_bars == 0:
                    fetch_error = "the exchange returned no bars"
            except Exception as e:  # the exchange is unreachable: say so, don't crash
                fetch_error = f"{type(e).__name__}: {e}"
                log.warning("%s: fetch failed: %s", self.name, fetch_error)
        if snap is not None:
            summary.bars, summary.symbols = snap.n_bars, snap.n_symbols
            summary.missing = dict(snap.missing)
        self._data_age(summary, snap)
        summary.fetch_error = fetch_error
        if snap is not None and snap.n_bars:
            with _Stage(summary, "engine"):
                held = held_hedges(trades, snap)
                result = await asyncio.get_running_loop().run_in_executor(
                    None, evaluate, snap, trade_positions(trades), self.params, held)
                c = result.cascade
                summary.cascade_level, summary.cascade_score = c.level, c.score
                summary.cascade_confidence = c.confidence
                self.last_result = result
        closed: set[int] = set()
        if result is not None and snap is not None and trades:
            with _Stage(summary, "trades"):
                closed = await self._trade_truth(result, snap, trades, now_ms, summary)
        with _Stage(summary, "strategies"):
            ctx = build_context(self.db, self.config, result, snap, now_ms=now_ms,
                                strategies=self.strategies, trades=trades,
                                exchange_error=fetch_error, pm=self.pm, closed=closed)
        alerts = []
        with _Stage(summary, "rules"):
            alerts = evaluate_rules(ctx, self.rules, self.pm, self.kinds)
        with _Stage(summary, "outbox"):
            try:
                written = self.held.record(
                    ctx, alerts, lambda c, a: record(c, self.db, self.pm, a))
                for alert in written:
                    summary.alerts[alert.kind] = summary.alerts.get(alert.kind, 0) + 1
            except Exception as e:  # e.g. the disk is full: alerts held, the cycle goes on
                log.error("%s: outbox write failed, %d alert(s) kept in memory: %s",
                          self.name, len(self.held), describe_fault(e),
                          exc_info=fault_kind(e) is None)
                summary.storage_error = f"outbox: {describe_fault(e)}"
                summary.error = summary.storage_error
            summary.held_alerts = len(self.held)
        with _Stage(summary, "send"):
            if self.send_stage is not None:
                try:
                    summary.delivered = await self.send_stage()
                except Exception as e:
                    log.exception("%s: send stage failed", self.name)
                    summary.error = f"send: {type(e).__name__}: {e}"
        summary.error = summary.error or fetch_error
        summary.duration_ms = (time.perf_counter() - t0) * 1000
        try:
            beat(self.db, self.name, int(self.clock() * 1000), summary.duration_ms,
                 "ok" if summary.error is None else "degraded", summary.to_dict())
        except Exception as e:  # the heartbeat goes stale; /status and health say why
            log.error("%s: heartbeat not written: %s", self.name, describe_fault(e),
                      exc_info=fault_kind(e) is None)
            summary.storage_error = summary.storage_error or f"heartbeat: {describe_fault(e)}"
            summary.error = summary.error or summary.storage_error
        log.info("%s: %s; alerts %s; %s", self.name,
                 " ".join(f"{k} {v:.0f} ms" for k, v in summary.stages_ms.items()),
                 summary.alerts or "none", summary.error or "ok")
        self.pm.notify("hedgewatch_on_cycle", summary=summary)
        self.last = summary
        return summary

    async def _trade_truth(self, result: Any, snap: MarketSnapshot, trades: list[OpenTrade],
                           now_ms: int, summary: CycleSummary) -> set[int]:
        """Funding paid and liquidated trades closed (``jobs.trade_truth``); returns the ids
        closed now, which no rule may advise on. A failure here degrades the cycle only."""
        try:
            kept = [t for t in trades if t.symbol in result.symbols]  # evaluate's order
            liq = (result.risk.liquidation_price.tolist() if result.risk is not None
                   else [float("nan")] * len(kept))
            found = find_liquidations(kept, liq, snap)
            if result.risk is not None:
                fees = [result.instruments[t.symbol].taker_fee
                        if t.symbol in result.instruments else self.config.risk.taker_fee
                        for t in kept]
                found += find_cross_liquidations(kept, result.risk.mmr.tolist(), fees, snap)
            summary.funding_payments = await accrue_funding(
                self.db, self.market, trades, snap, snap.server_time_ms,
                {c.trade.trade_id: c.bar_close_ms for c in found})
            done = close_liquidated(self.db, found, snap, now_ms=now_ms,
                                    min_severity=self.config.alerts.min_severity)
        except Exception as e:
            log.exception("%s: trade log update failed", self.name)
            summary.error = f"trades: {type(e).__name__}: {e}"
            return set()
        if done:
            summary.alerts["liquidation"] = summary.alerts.get("liquidation", 0) + len(done)
        return {d.trade.id for d in done}

    async def _sync_accounts(self, summary: CycleSummary) -> None:
        """Every connected exchange account into the log first (``plugins.accounts``), so
        this cycle judges what the exchanges hold. An account that fails is told to its owner
        by the sync; the cycle goes on."""
        try:
            results = await self.accounts.sync_all()
        except Exception as e:
            log.exception("%s: account sync failed", self.name)
            summary.error = f"accounts: {type(e).__name__}: {e}"
            return
        summary.accounts_synced = sum(1 for r in results if r.ok)
        summary.accounts_failed = sum(1 for r in results if not r.ok)
        for r in results:
            for t in r.changes.closed:
                if t.close_reason in ("liquidated", "adl"):
                    summary.alerts["liquidation"] = summary.alerts.get("liquidation", 0) + 1

    def _data_age(self, summary: CycleSummary, snap: MarketSnapshot | None) -> None:
        """The newest bar's age: this cycle's snapshot's, else the last one's, aged."""
        if snap is not None and snap.n_bars:
            summary.data_age_ms, summary.newest_bar_ms = snap.data_age_ms, snap.last_bar_close_ms
            return
        prev = self.last.to_dict() if self.last is not None else None
        if prev is None:
            try:
                stored = last_beat(self.db, self.name)
            except Exception:  # a locked or broken database: nothing to carry over
                stored = None
            prev = stored.detail if stored is not None else None
        if prev and prev.get("data_age_ms") is not None and prev.get("started_ms"):
            summary.data_age_ms = (int(prev["data_age_ms"])
                                   + max(0, summary.started_ms - int(prev["started_ms"])))
            summary.newest_bar_ms = prev.get("newest_bar_ms")

    async def _load_tiers(self, trades: list[OpenTrade]) -> None:
        """The maintenance-margin tiers of every symbol a trade is in, fetched once each: a
        position past the first tier is liquidated at a higher mmr than the default."""
        for symbol in sorted({t.symbol for t in trades} - self._tiers_loaded):
            try:
                await self.market.fetch_tiers(symbol)
                self._tiers_loaded.add(symbol)
            except Exception as e:  # the snapshot still comes; the default mmr is used
                log.warning("%s: tiers for %s not loaded yet (%s); tier-1 mmr used",
                            self.name, symbol, e)


def held_hedges(trades: list[OpenTrade], snap: MarketSnapshot) -> list[HeldHedge]:
    """The hedge legs the traders logged (``/open ... hedge N`` or "I put this on"), each
    under its main trade's position index in ``evaluate``'s order — what the take-profit
    signal measures against. A hedge the bot only advised is not a hedge held."""
    kept = [t for t in trades if t.symbol in snap.symbols]  # evaluate's position order
    index = {t.trade_id: i for i, t in enumerate(kept)}
    return [HeldHedge(index[t.parent_id], t.symbol, t.side, t.size, t.entry)
            for t in kept if t.parent_id is not None and t.parent_id in index]
