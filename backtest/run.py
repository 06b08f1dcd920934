"""Load the market, run the backtest, write the outputs: what the CLI and ``/backtest`` call.

The snapshot holds the backtest window plus the engine's slow window (30 days by default)
before it, so every statistic is warmed up at the first bar. Data come through the market
source of the chosen exchange (CSV files, the simulated market, a live exchange), so the
backtest sees exactly what the live bot would.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backtest.costs import CostParams
from backtest.engine import BacktestParams, BacktestResult, run_backtest
from backtest.margin import liquidation_ranges
from backtest.report import summary
from core.types import FloatArray, MarketSnapshot
from plugins.manager import PluginManager
from plugins.strategies.registry import choose, load_strategies
from settings.config import Config
from settings.engine import engine_params

DEFAULT_STRATEGIES = ("none", "static", "min_variance", "seed_regime", "counterweight")
DAY_MS = 86_400_000


class BacktestUsageError(ValueError):
    """A request that cannot be run as asked (dates outside the data, unknown strategy)."""


@dataclass(frozen=True)
class BacktestRequest:
    """What to backtest. Times are Unix ms; ``days`` counts back from ``end_ms`` (or from the
    end of the data) unless ``start_ms`` is given."""

    main: str = "BTC"
    side: str = "long"
    days: float | None = 90.0
    start_ms: int | None = None
    end_ms: int | None = None
    leverage: float = 10.0
    capital: float = 2000.0
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    symbols: tuple[str, ...] | None = None
    mark_dir: str | None = None
    rebalance_threshold: float | None = None  # None: [strategies] rebalance_threshold
    extra_assumptions: tuple[str, ...] = field(default=())


def mark_ranges(snap: MarketSnapshot, mark_dir: str | Path) -> tuple[FloatArray, FloatArray,
                                                                       list[str]]:
    """(T, N) mark-price high and low on the snapshot's grid, from ``<SYMBOL>_mark_1h.csv[.gz]``
    files: each hourly mark bar's range is placed on the last grid bar of its hour (the bar
    closing with it) and NaN elsewhere, so liquidation is checked once an hour on that
    symbol, up to one hour late. Symbols without a file keep the trade bars' range."""
    from plugins.exchanges.csv_files import load_candles

    folder = Path(mark_dir)
    hi = np.full(snap.close.shape, np.nan)
    lo = np.full(snap.close.shape, np.nan)
    notes = []
    for j, sym in enumerate(snap.symbols):
        base = sym.split("-")[0]
        files = sorted(folder.glob(f"{base}-USDT-SWAP_mark_1h.csv*")) + sorted(
            folder.glob(f"{base}USDT_mark_1h.csv*"))
        if not files:
            continue
        c = load_candles(files[0])
        bar_close = c.times + 3_600_000
        t = np.searchsorted(snap.times, bar_close - snap.timeframe_ms)
        ok = (t < snap.n_bars) & (c.times >= snap.times[0])
        ok[ok] &= snap.times[t[ok]] == bar_close[ok] - snap.timeframe_ms
        if not ok.any():
            continue
        hi[t[ok], j], lo[t[ok], j] = c.high[ok], c.low[ok]
        notes.append(base)
    if notes:
        note = [f"Liquidation of {', '.join(notes)} checked on OKX 1h mark-price candles, at "
                "the 15m bar that closes each hour (so up to 45 minutes late); other symbols "
                "on the trade bars' low/high."]
    else:
        note = [f"No mark-price candles found in {folder}: liquidation on the trade bars."]
    return hi, lo, note


async def load_snapshot(market: Any, request: BacktestRequest, config: Config
                        ) -> tuple[MarketSnapshot, int]:
    """The snapshot (window plus warm-up) and the index of the window's first bar."""
    tf = config.exchange.timeframe.ms
    await market.load_instruments()
    end = request.end_ms if request.end_ms is not None else await market.server_time()
    if request.start_ms is not None:
        start_ms = request.start_ms
    elif request.days:
        start_ms = end - int(request.days * DAY_MS)
    else:
        raise BacktestUsageError("give --days or --start")
    if start_ms >= end:
        raise BacktestUsageError("the start must be before the end")
    warm = config.engine.slow_window.bars(config.exchange.timeframe) + 1
    window = math.ceil((end - start_ms) / tf)
    symbols = list(request.symbols) if request.symbols else None
    if symbols is not None:
        main = market.resolve(request.main)
        symbols = [main, *[s for s in (market.resolve(x) for x in symbols) if s != main]]
    snap = await market.snapshot(symbols, bars=warm + window, at_ms=end)
    if not snap.n_bars:
        raise BacktestUsageError("no bars in the requested window")
    start = int(np.searchsorted(snap.times, start_ms))
    if start >= snap.n_bars - 1:
        raise BacktestUsageError("the data end before the requested start")
    return snap, start


def _params(request: BacktestRequest, snap: MarketSnapshot, start: int, config: Config,
            resolve: Callable[[str], str]) -> BacktestParams:
    main = resolve(request.main)
    if main not in snap.symbols:
        raise BacktestUsageError(f"{request.main} is not in the data ({', '.join(snap.symbols)})")
    thr = (request.rebalance_threshold if request.rebalance_threshold is not None
           else config.strategies.rebalance_threshold)
    return BacktestParams(main=main, side=request.side, leverage=request.leverage,
                          capital=request.capital, start=start, rebalance_threshold=thr,
                          costs=CostParams(taker_fee=config.risk.taker_fee))


def tqdm_progress(total: int, enabled: bool) -> tuple[Callable[[int], None], Callable[[], None]]:
    """A progress callback drawing a tqdm bar on stderr, and its closer."""
    if not enabled:
        return (lambda k: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=total, unit="bar", file=sys.stderr, desc="backtest", leave=False)

    def update(k: int) -> None:
        bar.update(k - bar.n)

    return update, bar.close


def run_on_snapshot(snap: MarketSnapshot, start: int, request: BacktestRequest, config: Config,
                    plugins: PluginManager | None = None, progress: bool = False,
                    resolve: Callable[[str], str] | None = None
                    ) -> tuple[BacktestResult, dict[str, Any], float]:
    """Run the strategies on a loaded snapshot: the result, its summary and compute seconds."""
    pm = plugins or PluginManager(entry_points=False)
    loaded = load_strategies(pm, config.strategies.params)
    try:
        strategies = {name: choose(loaded, name) for name in request.strategies}
    except ValueError as e:
        raise BacktestUsageError(str(e)) from None
    resolve = resolve or (lambda s: s if s in snap.symbols else f"{s.upper()}-USDT-SWAP")
    params = _params(request, snap, start, config, resolve)
    extra = list(request.extra_assumptions)
    low = high = None
    if request.mark_dir:
        mh, ml, note = mark_ranges(snap, request.mark_dir)
        low, high = liquidation_ranges(snap, mh, ml)
        extra += note
    if start < config.engine.slow_window.bars(config.exchange.timeframe):
        extra.append(f"Only {start} bars of warm-up before the start (less than the slow "
                     "window): early statistics rest on less history.")
    update, close = tqdm_progress(snap.n_bars - start, progress)
    t0 = time.perf_counter()
    try:
        result = run_backtest(snap, strategies, params, engine_params(config),
                              liq_low=low, liq_high=high, progress=update, pm=pm)
    finally:
        close()
    seconds = time.perf_counter() - t0
    return result, summary(result, extra), seconds


async def backtest(market: Any, request: BacktestRequest, config: Config,
                   plugins: PluginManager | None = None, progress: bool = False
                   ) -> tuple[BacktestResult, dict[str, Any], float]:
    """Load through ``market`` and run (see ``run_on_snapshot``)."""
    snap, start = await load_snapshot(market, request, config)
    return run_on_snapshot(snap, start, request, config, plugins, progress, market.resolve)


def write_outputs(result: BacktestResult, data: dict[str, Any], *, chart: str | None = None,
                  report: str | None = None, title: str = "Backtest", intro: str = ""
                  ) -> list[Path]:
    """Write the PNG chart and/or the Markdown report (the report links the chart by its
    path relative to the report)."""
    from backtest.charts import save_chart
    from backtest.report import markdown

    written = []
    if chart:
        written.append(save_chart(result, chart, title))
    if report:
        rp = Path(report)
        rp.parent.mkdir(parents=True, exist_ok=True)
        link = None
        if chart:
            cp = Path(chart).resolve()
            try:
                link = str(cp.relative_to(rp.resolve().parent))
            except ValueError:
                link = str(cp)
        rp.write_text(markdown(data, title, link, intro))
        written.append(rp)
    return written


def parse_strategies(text: str | Sequence[str] | None) -> tuple[str, ...]:
    if not text:
        return DEFAULT_STRATEGIES
    items = text.split(",") if isinstance(text, str) else [x for t in text for x in t.split(",")]
    return tuple(x.strip() for x in items if x.strip())
