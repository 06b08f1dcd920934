"""One watch cycle, one way: exchange → snapshot → engine → strategies → alert rules →
outbox → sender. Each stage is timed; a failing stage degrades the cycle, never kills it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.evaluate import EngineParams, EngineResult, evaluate
from core.types import MarketSnapshot, Position
from plugins.strategies.bars import bar_view
from plugins.strategies.base import Decision, Strategy, TargetLeg
from plugins.strategies.rebalance import rebalance
from settings.config import Config
from storage.heartbeat import beat
from storage.recommendations import Recommendation, latest_many, record_many
from storage.watchlist import WatchedTrade, open_trades

log = logging.getLogger(__name__)


@dataclass
class CycleSummary:
    """What one cycle did, for the heartbeat, ``/status``, logs and ``hedgewatch_on_cycle``."""

    started_ms: int
    duration_ms: float = 0.0
    stages_ms: dict[str, float] = field(default_factory=dict)
    bars: int = 0
    symbols: int = 0
    missing: dict[str, str] = field(default_factory=dict)
    trades: int = 0
    alerts: dict[str, int] = field(default_factory=dict)
    delivered: int = 0
    data_age_ms: int | None = None
    cascade_level: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CycleInput:
    """What the alert stage gets from the stages before it."""

    snapshot: MarketSnapshot | None
    result: EngineResult | None
    watched: list[WatchedTrade]
    decisions: dict[int, tuple[Decision, bool]]  # trade id → (decision, trade now?)
    fetch_error: str | None
    stale: bool
    now_ms: int


AlertStage = Callable[[CycleInput], Awaitable[Mapping[str, int]]]
SendStage = Callable[[], Awaitable[int]]


class WatchCycle:
    def __init__(self, *, config: Config, db: Any, market: Any, pm: Any,
                 strategies: Mapping[str, Strategy], params: EngineParams,
                 alert_stage: AlertStage | None = None, send_stage: SendStage | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config, self.db, self.market, self.pm = config, db, market, pm
        self.strategies, self.params = strategies, params
        self.alert_stage, self.send_stage, self.clock = alert_stage, send_stage, clock
        self.bars = params.corr.slow + params.corr.fast + 8
        self.last: CycleSummary | None = None

    async def run(self) -> CycleSummary:
        now_ms = int(self.clock() * 1000)
        summary = CycleSummary(started_ms=now_ms)
        t0 = time.perf_counter()
        snap = result = None
        fetch_error = None
        watched = open_trades(self.db, self.config.strategies.default)
        summary.trades = len(watched)
        with self._stage(summary, "fetch"):
            try:
                snap = await self.market.snapshot(bars=self.bars)
            except Exception as e:  # the exchange is unreachable: say so, don't crash
                fetch_error = f"{type(e).__name__}: {e}"
                log.warning("fetch failed: %s", fetch_error)
        stale = True
        if snap is not None:
            summary.bars, summary.symbols = snap.n_bars, snap.n_symbols
            summary.missing = dict(snap.missing)
            summary.data_age_ms = snap.data_age_ms
            limit = self.config.alerts.stale_after * self.config.schedule.interval.ms
            stale = snap.n_bars == 0 or snap.data_age_ms > max(limit, 2 * snap.timeframe_ms)
        decisions: dict[int, tuple[Decision, bool]] = {}
        if snap is not None and snap.n_bars:
            with self._stage(summary, "engine"):
                positions = [_position(w) for w in watched]
                result = await asyncio.get_running_loop().run_in_executor(
                    None, evaluate, snap, positions, self.params)
                summary.cascade_level = result.cascade.level
            with self._stage(summary, "strategies"):
                decisions = self._decide(result, watched, now_ms)
        with self._stage(summary, "rules"):
            if self.alert_stage is not None:
                try:
                    summary.alerts = dict(await self.alert_stage(CycleInput(
                        snap, result, watched, decisions, fetch_error, stale, now_ms)))
                except Exception as e:
                    log.exception("alert stage failed")
                    summary.error = f"alerts: {type(e).__name__}: {e}"
        with self._stage(summary, "send"):
            if self.send_stage is not None:
                try:
                    summary.delivered = await self.send_stage()
                except Exception as e:
                    log.exception("send stage failed")
                    summary.error = f"send: {type(e).__name__}: {e}"
        summary.error = summary.error or fetch_error
        summary.duration_ms = (time.perf_counter() - t0) * 1000
        beat(self.db, "cycle", int(self.clock() * 1000), summary.duration_ms,
             "ok" if summary.error is None else "degraded", summary.to_dict())
        log.info("cycle: %s", " ".join(f"{k} {v:.0f} ms" for k, v in summary.stages_ms.items()))
        self.pm.notify("hedgewatch_on_cycle", summary=summary)
        self.last = summary
        return summary

    def _decide(self, result: EngineResult, watched: list[WatchedTrade], now_ms: int
                ) -> dict[int, tuple[Decision, bool]]:
        """Every open trade's target hedge under its strategy, through the rebalance policy;
        recorded with the strategy's state so the next cycle (or a restart) continues it."""
        index = {p: i for i, p in enumerate(result.positions)}
        previous = latest_many(self.db, [w.trade.id for w in watched])
        out: dict[int, tuple[Decision, bool]] = {}
        recs = []
        for w in watched:
            i = index.get(_position(w))
            strategy = self.strategies.get(w.strategy) or self.strategies.get(
                self.config.strategies.default)
            if i is None or strategy is None:
                continue
            prev = previous.get((w.trade.id, strategy.name))
            bar = bar_view(result, i)
            try:
                decision = strategy.decide(bar, prev.state if prev else None)
            except Exception:  # one strategy's bug must not cost the other trades
                log.exception("strategy %s failed on trade %s", strategy.name, w.trade.id)
                continue
            held = tuple(TargetLeg(*leg) for leg in prev.legs) if prev else ()
            legs, trade = rebalance(held, decision.legs, bar.prices, bar.notional(),
                                    self.config.strategies.rebalance_threshold)
            out[w.trade.id] = (Decision(legs, decision.reason, decision.state), trade)
            recs.append(Recommendation(w.trade.id, strategy.name, now_ms,
                                       [(x.symbol, x.side, x.size) for x in legs],
                                       decision.reason, dict(decision.state), trade,
                                       result.time_ms))
        record_many(self.db, recs)
        return out

    class _Timer:
        def __init__(self, summary: CycleSummary, name: str) -> None:
            self.summary, self.name = summary, name

        def __enter__(self) -> None:
            self.t = time.perf_counter()

        def __exit__(self, *exc: object) -> None:
            self.summary.stages_ms[self.name] = (time.perf_counter() - self.t) * 1000

    def _stage(self, summary: CycleSummary, name: str) -> _Timer:
        return self._Timer(summary, name)


def _position(w: WatchedTrade) -> Position:
    t = w.trade
    return Position(t.symbol, t.side, t.size, t.entry, t.leverage)
