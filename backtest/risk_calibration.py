"""Walk-forward calibration of the touch probabilities on real bars: the cases, the scores
and the reliability table with intervals that allow for overlapping cases.

A *case* is a position opened at the close of a bar (every ``every_h`` hours, both sides,
a few leverages drawn log-uniformly from 2× to 100×) whose liquidation price (OKX's isolated
formula, tier-1 mmr and taker fee) is either touched by a later bar's low (long) or high
(short) within each horizon, or not. Each model predicts from the window the live bot would
have had then — the ``window`` bars before the open, nothing after: the calibrated tail model
(``core.tail_risk``) and the Gaussian first passage on the engine's EWMA σ (``core.touch``).

The tail model predicts twice: as the bot reports it (through the recalibration map of
``core.tail_calibration``) and as the simulation gives it (``raw``, what the map is fitted
on). The scores and the reliability table are in ``backtest.risk_scores``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.liquidation import DEFAULT_FEE, DEFAULT_MMR, isolated_liquidation_price
from core.returns import log_returns
from core.risk import leverage_for_distance, log_distance
from core.tail_calibration import UNCALIBRATED
from core.tail_risk import (
    HORIZONS_H,
    TailFit,
    TailParams,
    fit_tails,
    raw_touch_probability,
    tail_required_distance,
    tail_touch_probability,
)
from core.touch import required_log_distance, touch_probability
from core.types import FloatArray, IntArray, MarketSnapshot
from core.volatility import ewma_vol
from plugins.exchanges.csv_files import discover_ohlcv, load_candles
from plugins.exchanges.grid import build_snapshot
from plugins.exchanges.source import Candles

HOUR_MS = 3_600_000
FITTED_ON: tuple[tuple[str, str, str], ...] = (
    ("OKX 2022 (9 perps)", "okx_swap_15m_2022", "15m"),
    ("OKX BTC 2023–2026", "okx_swap_15m_2023_2026", "15m"),
    ("OKX SOL 2025–2026", "okx_swap_15m_2025", "15m"),
    ("Binance 2024–2026 (5 perps)", "binance_usdm_15m", "15m"),
    ("OKX mark price 1h 2022–2026 (9 perps)", "okx_swap_mark_1h", "mark_1h"),
)
"""The datasets whose first halves the settings (``--tune``) and the map (``--fit-map``) were
chosen on: refits read these, so the shipped constants can be reproduced."""
BINANCE_1H: tuple[tuple[str, str, str], ...] = (
    ("Binance perps 1h 2019–2026 (32)", "binance_usdm_1h", "1h"),
    ("Binance spot 1h 2019–2026 (5)", "binance_spot_1h", "spot_1h"),
)
DATASETS = FITTED_ON + BINANCE_1H
"""Every OHLCV dataset of ``../shared/data`` (the 5m OKX bars are the 15m ones again)."""
FRESH_BEFORE_MS = 1_651_363_200_000
"""2022-05-01 00:00 UTC, the first bar of any dataset in ``FITTED_ON``: no setting or map has
seen a bar before it. ``FRESH`` cut there is the pre-registered check of
``docs/risk-model.md``."""
FRESH: tuple[tuple[str, str, str], ...] = (
    ("Binance perps 1h before 2022-05 (6)", "binance_usdm_1h", "1h"),
    ("Binance spot 1h before 2022-05 (5)", "binance_spot_1h", "spot_1h"),
)
NEW_COINS: tuple[tuple[str, str, str], ...] = (
    ("Binance perps 1h from 2022-05, new coins (24)", "binance_usdm_1h", "1h"),
    ("Binance spot 1h from 2022-05, new coins (2)", "binance_spot_1h", "spot_1h"),
)
"""The second pre-registered check (``docs/risk-model.md``): from ``FRESH_BEFORE_MS`` on, the
coins of the two Binance 1 h folders that are in no ``FITTED_ON`` dataset."""
NEW_COIN_SYMBOLS = frozenset(
    f"{base}USDT" for base in (
        "ADA", "BCH", "1000PEPE", "1000SHIB", "AAVE", "ALGO", "ARB", "AVAX", "DOT", "ENA",
        "HBAR", "KAS", "NEAR", "ONDO", "RENDER", "SUI", "TON", "TRX", "VET", "WLD", "XLM",
        "XMR", "XTZ", "ZEC"))
GAUSS_HALFLIFE_H = 6.0  # the engine's [engine] ewma_halflife default
WINDOW_DAYS = 30  # what the live bot holds: the slow window (30 days of bars) and one more


@dataclass(frozen=True, eq=False)
class Dataset:
    name: str
    snap: MarketSnapshot  # every symbol of one folder on one grid, the whole history


def load_datasets(root: Path, which: Iterable[tuple[str, str, str]] = DATASETS,
                  before_ms: int | None = None, after_ms: int | None = None,
                  symbols: Container[str] | None = None) -> list[Dataset]:
    """Every dataset of ``../shared/data`` that is present, each on its own time grid; only
    the bars that open in [``after_ms``, ``before_ms``) and the file symbols in ``symbols``
    when given (a symbol left with no bars is left out)."""
    out = []
    for name, folder, tf in which:
        path = root / folder
        if not path.is_dir():
            continue
        files = discover_ohlcv(path, tf)
        candles = {sym: _between(load_candles(p), after_ms, before_ms)
                   for sym, p in files.items() if symbols is None or sym in symbols}
        candles = {sym: c for sym, c in candles.items() if len(c)}
        if not candles:
            continue
        step = int(np.min(np.diff(next(iter(candles.values())).times)))
        first = min(int(c.times[0]) for c in candles.values())
        last = max(int(c.times[-1]) for c in candles.values())
        bars = (last - first) // step + 1
        out.append(Dataset(name, build_snapshot(candles, source=folder, timeframe_ms=step,
                                                bars=bars, server_time_ms=last + step)))
    return out


def _between(c: Candles, after_ms: int | None, before_ms: int | None) -> Candles:
    i = 0 if after_ms is None else int(np.searchsorted(c.times, after_ms, side="left"))
    n = len(c) if before_ms is None else int(np.searchsorted(c.times, before_ms, side="left"))
    return Candles(c.times[i:n], c.open[i:n], c.high[i:n], c.low[i:n], c.close[i:n],
                   c.volume[i:n])


@dataclass
class Cases:
    """One entry per case; predictions per model and horizon (hours → array)."""

    dataset: list[str] = field(default_factory=list)
    symbol: list[str] = field(default_factory=list)
    time_ms: list[int] = field(default_factory=list)
    sign: list[float] = field(default_factory=list)
    leverage: list[float] = field(default_factory=list)
    touched: dict[int, list[bool]] = field(default_factory=dict)
    fhs: dict[int, list[float]] = field(default_factory=dict)
    gauss: dict[int, list[float]] = field(default_factory=dict)
    raw: dict[int, list[float]] = field(default_factory=dict)

    def arrays(self) -> CaseArrays:
        return CaseArrays(
            np.array(self.dataset), np.array(self.symbol), np.array(self.time_ms, np.int64),
            np.array(self.sign), np.array(self.leverage),
            {h: np.array(v, dtype=bool) for h, v in self.touched.items()},
            {h: np.array(v) for h, v in self.fhs.items()},
            {h: np.array(v) for h, v in self.gauss.items()},
            {h: np.array(v) for h, v in self.raw.items()})


@dataclass(frozen=True, eq=False)
class CaseArrays:
    dataset: np.ndarray
    symbol: np.ndarray
    time_ms: IntArray
    sign: FloatArray
    leverage: FloatArray
    touched: dict[int, np.ndarray]
    fhs: dict[int, FloatArray]
    gauss: dict[int, FloatArray]
    # the simulation's own probability at each horizon alone (no map, no floor of the
    # shorter horizons): what the recalibration map is fitted on
    raw: dict[int, FloatArray] = field(default_factory=dict)

    def before_map(self) -> dict[int, FloatArray]:
        """What the tail model reported before its recalibration map: the simulation's own
        probability, never below a shorter horizon's."""
        out: dict[int, FloatArray] = {}
        floor: FloatArray | None = None
        for h in sorted(self.raw):
            floor = self.raw[h] if floor is None else np.fmax(floor, self.raw[h])
            out[h] = floor
        return out

    def held_out(self) -> np.ndarray:
        """The second half of each dataset's span of case times (the evaluation half)."""
        return later_half(self.dataset, self.time_ms)


def later_half(dataset: np.ndarray, time_ms: np.ndarray) -> np.ndarray:
    """Whether each case is in the later half of its dataset's span of case times."""
    out = np.zeros(time_ms.size, dtype=bool)
    for ds in np.unique(dataset):
        m = dataset == ds
        t = time_ms[m]
        out[m] = t > t.min() + (t.max() - t.min()) / 2
    return out


@dataclass(frozen=True, eq=False)
class SafeCases:
    """For each (time, symbol, side): the safe leverage each model gives for the target and
    whether a position opened at it was touched within the horizon."""

    dataset: np.ndarray
    time_ms: IntArray
    fhs_leverage: FloatArray
    fhs_touched: np.ndarray
    gauss_leverage: FloatArray
    gauss_touched: np.ndarray
    raw_leverage: FloatArray  # the tail model before its recalibration map
    raw_touched: np.ndarray


def _distance(sign: FloatArray, leverage: FloatArray) -> FloatArray:
    """Log distance to the liquidation price of a fresh isolated position at ``leverage``."""
    liq = isolated_liquidation_price(1.0, 1.0, sign, 1.0 / leverage, DEFAULT_MMR, DEFAULT_FEE)
    return log_distance(1.0, liq, sign)


def _touched(snap: MarketSnapshot, j: int, t: int, sign: FloatArray, distance: FloatArray,
             bars: int) -> np.ndarray:
    """Whether bars t … t+bars−1 reached each adverse log distance from close[t−1]."""
    entry = snap.close[t - 1, j]
    with np.errstate(invalid="ignore"):
        low = np.nanmin(snap.low[t:t + bars, j])
        high = np.nanmax(snap.high[t:t + bars, j])
        down, up = math.log(entry / low), math.log(high / entry)
    return np.where(sign > 0, down >= distance, up >= distance)


def walk_forward(datasets: Sequence[Dataset], *, every_h: float = 4.0, per_side: int = 3,
                 params: TailParams = TailParams(), window_days: float = WINDOW_DAYS,
                 target_prob: float = 0.01, safe_horizon_h: int = 24, seed: int = 7,
                 start_after_ms: int | None = None, stride: int = 1,
                 extra_params: Sequence[TailParams] = ()) -> tuple[Cases, SafeCases,
                                                                   list[Cases]]:
    """Every case of every dataset, predicted by each model from the bars before it.

    ``start_after_ms`` keeps only case times after it (the held-out half in the tests);
    ``stride`` keeps every n-th case time; ``extra_params`` are other settings of the tail
    model scored on the same cases (their cases hold ``fhs`` only), for tuning.
    """
    rng = np.random.default_rng(seed)
    cases = Cases(touched={h: [] for h in HORIZONS_H}, fhs={h: [] for h in HORIZONS_H},
                  gauss={h: [] for h in HORIZONS_H}, raw={h: [] for h in HORIZONS_H})
    extra = [Cases(fhs={h: [] for h in HORIZONS_H}) for _ in extra_params]
    safe: dict[str, list[Any]] = {k: [] for k in ("ds", "t", "fl", "ft", "gl", "gt", "rl",
                                                  "rt")}
    horizon_bars = max(HORIZONS_H)
    for ds in datasets:
        snap = ds.snap
        bph = HOUR_MS / snap.timeframe_ms
        hb = {h: round(h * bph) for h in HORIZONS_H}
        window = round(window_days * 24 * bph) + 1
        last_start = snap.n_bars - round(horizon_bars * bph)
        starts = [t for t in range(window, last_start + 1)
                  if int(snap.times[t]) % round(every_h * HOUR_MS) == 0][::stride]
        if start_after_ms is not None:
            starts = [t for t in starts if int(snap.times[t]) > start_after_ms]
        for t in starts:
            win = slice(t - window, t)
            fit = fit_tails(snap.close[win], snap.high[win], snap.low[win], bph, params)
            fits = [fit_tails(snap.close[win], snap.high[win], snap.low[win], bph, p)
                    for p in extra_params]
            sig_g = ewma_vol(log_returns(snap.close[win]), GAUSS_HALFLIFE_H * bph, 20)
            for j, sym in enumerate(snap.symbols):
                if not fit.ok[j] or not np.isfinite(snap.close[t - 1, j]):
                    continue
                if not np.isfinite(snap.low[t:t + hb[horizon_bars], j]).any():
                    continue
                _cases_at(cases, extra, fits, fit, ds.name, sym, j, t, snap, sig_g[j], hb,
                          rng, per_side)
                _safe_at(safe, fit, ds.name, j, t, snap, sig_g[j], hb[safe_horizon_h],
                         safe_horizon_h, target_prob)
    sc = SafeCases(np.array(safe["ds"]), np.array(safe["t"], np.int64), np.array(safe["fl"]),
                   np.array(safe["ft"], dtype=bool), np.array(safe["gl"]),
                   np.array(safe["gt"], dtype=bool), np.array(safe["rl"]),
                   np.array(safe["rt"], dtype=bool))
    return cases, sc, extra


def _cases_at(cases: Cases, extra: list[Cases], fits: list[TailFit], fit: TailFit, name: str,
              sym: str, j: int, t: int, snap: MarketSnapshot, sigma_g: float,
              hb: dict[int, int], rng: np.random.Generator, per_side: int) -> None:
    sign = np.repeat([1.0, -1.0], per_side)
    lev = np.exp(rng.uniform(math.log(2.0), math.log(100.0), sign.size))
    d = _distance(sign, lev)
    rows = np.full(sign.size, j)
    n = sign.size
    cases.dataset += [name] * n
    cases.symbol += [sym] * n
    cases.time_ms += [int(snap.times[t])] * n
    cases.sign += sign.tolist()
    cases.leverage += lev.tolist()
    for h in HORIZONS_H:
        cases.touched[h] += _touched(snap, j, t, sign, d, hb[h]).tolist()
        cases.fhs[h] += tail_touch_probability(fit, rows, sign, d, h).tolist()
        cases.gauss[h] += touch_probability(d, sigma_g, hb[h]).tolist()
        cases.raw[h] += raw_touch_probability(fit, rows, sign, d, h).tolist()
        for ex, f in zip(extra, fits, strict=True):
            ex.fhs[h] += tail_touch_probability(f, rows, sign, d, h).tolist()


def _safe_at(safe: dict[str, list[Any]], fit: TailFit, name: str, j: int, t: int,
             snap: MarketSnapshot, sigma_g: float, bars: int, hours: int,
             target: float) -> None:
    sign = np.array([1.0, -1.0])
    d_fhs = tail_required_distance(fit, [j, j], sign, target, hours)
    raw = dataclasses.replace(fit, params=dataclasses.replace(fit.params,
                                                              calibration=UNCALIBRATED))
    d_raw = tail_required_distance(raw, [j, j], sign, target, hours)
    d_g = np.broadcast_to(required_log_distance(target, sigma_g * math.sqrt(bars)), (2,))
    for d_req, lev_key, hit_key in ((d_fhs, "fl", "ft"), (d_g, "gl", "gt"),
                                    (d_raw, "rl", "rt")):
        lev = leverage_for_distance(d_req, sign, DEFAULT_MMR, DEFAULT_FEE, 100.0)
        hit = _touched(snap, j, t, sign, _distance(sign, lev), bars)
        safe[lev_key] += lev.tolist()
        safe[hit_key] += hit.tolist()
    safe["ds"] += [name, name]
    safe["t"] += [int(snap.times[t])] * 2
