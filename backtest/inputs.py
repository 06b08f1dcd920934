"""What a backtest needs besides the engine, shared by a single window and a study: the
strategies asked for, mark-price liquidation ranges, symbol resolution, a progress bar and
report links."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from backtest.margin import liquidation_ranges
from backtest.request import BacktestRequest, BacktestUsageError
from core.types import FloatArray, MarketSnapshot
from plugins.manager import PluginManager
from plugins.strategies.base import Strategy
from plugins.strategies.registry import choose, load_strategies
from settings.config import Config
from settings.durations import format_duration


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
        bar = format_duration(snap.timeframe_ms / 1000)
        late = format_duration((3_600_000 - snap.timeframe_ms) / 1000) \
            if snap.timeframe_ms < 3_600_000 else "0m"
        note = [f"Liquidation of {', '.join(notes)} checked on OKX 1h mark-price candles, at "
                f"the {bar} bar that closes each hour (so up to {late} late; in cross margin "
                "the other bars use the close); other symbols on the trade bars' low/high."]
    else:
        note = [f"No mark-price candles found in {folder}: liquidation on the trade bars."]
    return hi, lo, note


def tqdm_progress(total: int, enabled: bool, unit: str = "bar"
                  ) -> tuple[Callable[[int], None], Callable[[], None]]:
    """A progress callback drawing a tqdm bar on stderr, and its closer."""
    if not enabled:
        return (lambda k: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=total, unit=unit, file=sys.stderr, desc="backtest", leave=False)

    def update(k: int) -> None:
        bar.update(k - bar.n)

    return update, bar.close


def strategies_of(request: BacktestRequest, config: Config, pm: PluginManager
                  ) -> dict[str, Strategy]:
    loaded = load_strategies(pm, config.strategies.params)
    try:
        return {name: choose(loaded, name) for name in request.strategies}
    except ValueError as e:
        raise BacktestUsageError(str(e)) from None


def liquidation_inputs(snap: MarketSnapshot, request: BacktestRequest
                       ) -> tuple[FloatArray | None, FloatArray | None, list[str]]:
    if not request.mark_dir:
        return None, None, []
    mh, ml, note = mark_ranges(snap, request.mark_dir)
    low, high = liquidation_ranges(snap, mh, ml)
    return low, high, note


def default_resolve(snap: MarketSnapshot) -> Callable[[str], str]:
    return lambda s: s if s in snap.symbols else f"{s.upper()}-USDT-SWAP"


def relative(path: str | Path, report: Path) -> str:
    """``path`` as the report links it: relative to the report's folder when inside it."""
    cp = Path(path).resolve()
    try:
        return str(cp.relative_to(report.resolve().parent))
    except ValueError:
        return str(cp)
