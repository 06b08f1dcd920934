"""Load the market, run the backtest, write the outputs: what the CLI and ``/backtest`` call.

A single window's snapshot holds the window plus the engine's slow window (30 days by
default) before it, so every statistic is warmed up at the first bar; a study's holds the
whole range (all the data by default) and its starts begin once that warm-up exists. Data
come through the market source of the chosen exchange (CSV files, the simulated market, a
live exchange), so the backtest sees exactly what the live bot would.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from backtest.engine import BacktestResult, NoPriceAtStart, run_backtest
from backtest.inputs import (
    default_resolve,
    liquidation_inputs,
    mark_ranges,
    relative,
    strategies_of,
    tqdm_progress,
)
from backtest.report import summary
from backtest.request import (
    DEFAULT_STRATEGIES,
    BacktestRequest,
    BacktestUsageError,
    params_of,
)
from core.types import MarketSnapshot
from i18n import _
from plugins.manager import PluginManager
from settings.config import Config
from settings.engine import engine_params

DAY_MS = 86_400_000
MAX_STUDY_DAYS = 1500  # a study without --start/--days reads at most this much history

__all__ = ["DEFAULT_STRATEGIES", "BacktestRequest", "BacktestUsageError", "backtest",
           "load_snapshot", "mark_ranges", "parse_strategies", "run_on_snapshot",
           "tqdm_progress", "write_outputs"]


def _symbols(market: Any, request: BacktestRequest) -> list[str] | None:
    if not request.symbols:
        return None
    mains = [market.resolve(s) for s in request.main_symbols]
    return [*mains, *[s for s in (market.resolve(x) for x in request.symbols)
                      if s not in mains]]


def trim(snap: MarketSnapshot, first: int) -> MarketSnapshot:
    """``snap`` from bar ``first`` on (a study's range starts where the data does)."""
    if first <= 0:
        return snap
    return MarketSnapshot.build(
        source=snap.source, timeframe_ms=snap.timeframe_ms, symbols=snap.symbols,
        times=snap.times[first:], open=snap.open[first:], high=snap.high[first:],
        low=snap.low[first:], close=snap.close[first:], volume=snap.volume[first:],
        server_time_ms=snap.server_time_ms, valid=snap.valid[first:], simulated=snap.simulated,
        instruments=snap.instruments, funding=snap.funding, missing=snap.missing)


async def load_snapshot(market: Any, request: BacktestRequest, config: Config
                        ) -> tuple[MarketSnapshot, int]:
    """The snapshot (window plus warm-up) and the index of the window's first bar; for a
    study, the whole range from its first bar with data (the start index is where the
    requested range begins, 0 when it is the data's)."""
    tf = config.exchange.timeframe.ms
    await market.load_instruments()
    end = request.end_ms if request.end_ms is not None else await market.server_time()
    if request.start_ms is not None:
        start_ms = request.start_ms
    elif request.days:
        start_ms = end - int(request.days * DAY_MS)
    elif request.study:
        start_ms = end - MAX_STUDY_DAYS * DAY_MS
    else:
        raise BacktestUsageError(_("give --days or --start"))
    if start_ms >= end:
        raise BacktestUsageError(_("the start must be before the end"))
    warm = config.engine.slow_window.bars(config.exchange.timeframe) + 1
    window = math.ceil((end - start_ms) / tf)
    snap = await market.snapshot(_symbols(market, request), bars=warm + window, at_ms=end)
    if request.study:
        has = np.flatnonzero(np.isfinite(snap.close).any(axis=1))
        snap = trim(snap, int(has[0]) if has.size else 0)
    if not snap.n_bars:
        raise BacktestUsageError(_("no bars in the requested window"))
    start = int(np.searchsorted(snap.times, start_ms))
    if start >= snap.n_bars - 1:
        raise BacktestUsageError(_("the data end before the requested start"))
    return snap, start


def run_on_snapshot(snap: MarketSnapshot, start: int, request: BacktestRequest, config: Config,
                    plugins: PluginManager | None = None, progress: bool = False,
                    resolve: Callable[[str], str] | None = None
                    ) -> tuple[BacktestResult, dict[str, Any], float]:
    """Run the strategies on a loaded snapshot: the result, its summary and compute seconds."""
    pm = plugins or PluginManager(entry_points=False)
    strategies = strategies_of(request, config, pm)
    params = params_of(request, snap.symbols, start, config, resolve or default_resolve(snap))
    low, high, extra = liquidation_inputs(snap, request)
    extra = list(request.extra_assumptions) + extra
    if start < config.engine.slow_window.bars(config.exchange.timeframe):
        extra.append(f"Only {start} bars of warm-up before the start (less than the slow "
                     "window): early statistics rest on less history.")
    update, close = tqdm_progress(snap.n_bars - start, progress)
    t0 = time.perf_counter()
    try:
        result = run_backtest(snap, strategies, params, engine_params(config),
                              liq_low=low, liq_high=high, progress=update, pm=pm)
    except NoPriceAtStart as e:
        raise BacktestUsageError(str(e)) from None
    finally:
        close()
    seconds = time.perf_counter() - t0
    return result, summary(result, extra), seconds


async def backtest(market: Any, request: BacktestRequest, config: Config,
                   plugins: PluginManager | None = None, progress: bool = False
                   ) -> tuple[Any, dict[str, Any], float]:
    """Load through ``market`` and run: one window (a ``BacktestResult``) or, with
    ``request.rolling``, a study (a ``backtest.study_run.StudyRun``)."""
    snap, start = await load_snapshot(market, request, config)
    # what the source itself assumes (default tiers, spot prices); its fee line is left to
    # the backtest's own, which knows about --fees
    said = [a for a in market.assumptions(list(snap.symbols)) if not a.startswith("fees:")]
    request = replace(request, extra_assumptions=(*request.extra_assumptions, *said))
    if request.study:
        from backtest.study_run import study_on_snapshot

        return study_on_snapshot(snap, start, request, config, plugins, progress,
                                 market.resolve)
    return run_on_snapshot(snap, start, request, config, plugins, progress, market.resolve)


def write_outputs(result: Any, data: dict[str, Any], *, chart: str | None = None,
                  report: str | None = None, title: str = "Backtest", intro: str = ""
                  ) -> list[Path]:
    """Write the PNG chart(s) and/or the Markdown report (which links the charts by their
    paths relative to the report). A study writes ``chart`` and ``<chart>_example.png``."""
    if data.get("kind") == "study":
        from backtest.study_run import write_study

        return write_study(result, data, chart=chart, report=report, title=title, intro=intro)
    from backtest.charts import save_chart
    from backtest.report import markdown

    written = []
    if chart:
        written.append(save_chart(result, chart, title))
    if report:
        rp = Path(report)
        rp.parent.mkdir(parents=True, exist_ok=True)
        rp.write_text(markdown(data, title, relative(chart, rp) if chart else None, intro))
        written.append(rp)
    return written


def parse_strategies(text: str | Sequence[str] | None) -> tuple[str, ...]:
    if not text:
        return DEFAULT_STRATEGIES
    items = text.split(",") if isinstance(text, str) else [x for t in text for x in t.split(",")]
    return tuple(x.strip() for x in items if x.strip())
