"""Run a study on a loaded snapshot and write its report: the CLI's ``--rolling`` path."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from backtest.engine import BacktestResult, run_backtest
from backtest.inputs import (
    default_resolve,
    liquidation_inputs,
    relative,
    strategies_of,
    tqdm_progress,
)
from backtest.prepared import Prepared, prepare
from backtest.report import stress_bars
from backtest.request import BacktestRequest, BacktestUsageError, duration, params_of
from backtest.study import Study, run_study, start_grid
from backtest.study_report import markdown, study_summary
from backtest.views import ViewMaker
from core.types import MarketSnapshot
from i18n import _
from plugins.manager import PluginManager
from settings.config import Config
from settings.engine import engine_params


@dataclass(eq=False)
class StudyRun:
    """A study's outcomes, the market they came from and one start run in detail."""

    study: Study
    prepared: Prepared
    example: BacktestResult | None


def example_start(m: Prepared, starts: list[int], horizon: int) -> tuple[int, str]:
    """The start whose window holds the most stress bars (the latest on a tie): the one that
    shows what the hedges do in a cascade."""
    stress = stress_bars(m.cascade_score, m.snap.timeframe_ms)
    c = np.concatenate([[0], np.cumsum(stress)])
    counts = [int(c[s + horizon] - c[s]) for s in starts]
    best = max(range(len(starts)), key=lambda k: (counts[k], k))
    hours = counts[best] * m.snap.timeframe_ms / 3_600_000
    return starts[best], (f"the start whose window holds the most stress bars ({hours:.0f} h "
                          "of cascade level high or above, padded)")


def study_on_snapshot(snap: MarketSnapshot, start: int, request: BacktestRequest,
                      config: Config, plugins: PluginManager | None = None,
                      progress: bool = False, resolve: Callable[[str], str] | None = None
                      ) -> tuple[StudyRun, dict[str, Any], float]:
    """Every start of the study, the example start in detail, and the summary."""
    pm = plugins or PluginManager(entry_points=False)
    strategies = strategies_of(request, config, pm)
    params = params_of(request, snap.symbols, 0, config, resolve or default_resolve(snap))
    tf = config.exchange.timeframe
    horizon = duration(request.horizon, "--horizon").bars(tf)
    step = duration(request.rolling or "7d", "--rolling").bars(tf)
    low, high, extra = liquidation_inputs(snap, request)
    ep = engine_params(config)
    t0 = time.perf_counter()
    m = prepare(snap, params.book, ep, params.costs, low, high)
    views = ViewMaker.of(m, ep)
    warm = config.engine.slow_window.bars(tf) + 1
    starts = start_grid(m, warm, horizon, step, lo=start)
    if not starts:
        raise BacktestUsageError(_(
            "no start fits: the data hold {bars} bars; a study needs the slow window ({warm} "
            "bars) before a start and a whole horizon ({horizon} bars) after it").format(
                bars=snap.n_bars, warm=warm, horizon=horizon))
    update, close = tqdm_progress(len(starts), progress, unit="start")
    try:
        study = run_study(m, views, strategies, params, starts, horizon, step,
                          matched=request.baseline == "matched", workers=request.workers,
                          progress=update)
    finally:
        close()
    s, why = example_start(m, starts, horizon)
    example = run_backtest(m.snap, strategies, replace(params, start=s, stop=s + horizon), ep,
                           prepared=m, views=views, pm=pm)
    seconds = time.perf_counter() - t0
    data = study_summary(study, m, params, example=example, example_why=why,
                         extra=[*request.extra_assumptions, *extra])
    return StudyRun(study, m, example), data, seconds


def write_study(run: StudyRun, data: dict[str, Any], *, chart: str | None, report: str | None,
                title: str, intro: str) -> list[Path]:
    """The study chart at ``chart``, the example's next to it (``<stem>_example.png``), and
    the Markdown report linking both."""
    from backtest.study_charts import example_chart, study_chart

    written: list[Path] = []
    charts: list[tuple[str, str]] = []
    rp = Path(report) if report else None
    if chart:
        cp = Path(chart)
        cp.parent.mkdir(parents=True, exist_ok=True)
        cp.write_bytes(study_chart(run.study, data, title))
        written.append(cp)
        charts.append(("survival and returns per start", relative(cp, rp) if rp else str(cp)))
        if run.example is not None:
            ep = cp.with_name(f"{cp.stem}_example{cp.suffix}")
            ex = data["example"]
            ep.write_bytes(example_chart(run.example, f"one start, {ex['start']} → {ex['end']}: "
                                                      "P&L per strategy on its collateral"))
            written.append(ep)
            charts.append(("one start per strategy", relative(ep, rp) if rp else str(ep)))
    if rp is not None:
        rp.parent.mkdir(parents=True, exist_ok=True)
        rp.write_text(markdown(data, title, charts, intro))
        written.append(rp)
    return written
