"""Calibrate the cascade score walk-forward on real 15-minute bars, and report it.

Usage: .venv/bin/python scripts/calibrate_cascade.py [--data DIR] [--write]

The data (``../shared/data``, see its SOURCES.md) is one timeline of 15-minute perp bars:
OKX 2022 (9 symbols: LUNA, 3AC, FTX), OKX BTC 2023, Binance USDT-M 2024–2026 (BTC, ETH,
SOL, from 2025-08 also XRP and DOGE, with funding: 2024-08-05, 2025-10-10); OKX BTC
2024–2026 is judged as well, as a second view of the last two crashes. For every calendar
month the candle factors and knots are fitted (``core.cascade_fit.fit_model``) on the bars
*before* it only (the last 4 hours dropped, since their labels look into the month) and the
month is scored with that fit: every number in the report is out of sample. The inputs are
computed by the bot's own code (``CsvMarket`` → ``core.cascade_series``), so the report
judges the score the bot computes.

``--write`` fits once more on every bar and writes ``core/cascade_fitted.py`` (the model),
``plugins/alert_rules/cascade_history.json`` (what each level has meant: the alert's
history line) and ``docs/cascade-calibration.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.cascade import CascadeModel, cascade_scores, gated_levels  # noqa: E402
from core.cascade_fit import (  # noqa: E402
    Training,
    alert_starts,
    calm_bars,
    fit_model,
    forward_drop,
)
from core.cascade_series import CANDLE_FACTORS, snapshot_cascade_series  # noqa: E402
from core.market_inputs import market_returns  # noqa: E402
from core.returns import log_returns  # noqa: E402
from plugins.exchanges.csv_market import CsvMarket  # noqa: E402
from scripts.cascade_report import write_outputs  # noqa: E402
from settings import Config  # noqa: E402
from settings.engine import engine_params  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
TF = 900_000
HORIZON = 16  # 4 hours of 15-minute bars
PURGE = HORIZON  # training bars whose 4-hour label reaches into the fold are dropped
PRIOR = CascadeModel.from_dict({
    # Only where a fold has under 3 days of a factor (the first month): the seed's ramps for
    # its three factors, generic ones for the new, equal weights, knots at 0.3/0.5/0.7.
    "fit_id": "prior", "knots": [0.3, 0.5, 0.7],
    "factors": {
        "corr_z": {"weight": 0.7 / 6, "lo": 1.0, "hi": 2.5,
                   "label": "market correlation index z-score"},
        "vol_ratio": {"weight": 0.7 / 6, "lo": 1.3, "hi": 3.0,
                      "label": "fast/slow volatility ratio"},
        "shock_sigma": {"weight": 0.7 / 6, "lo": 3.0, "hi": 8.0,
                        "label": "latest market return shock in σ"},
        "range_ratio": {"weight": 0.7 / 6, "lo": 2.0, "hi": 8.0,
                        "label": "bar range vs its 30-day mean"},
        "volume_ratio": {"weight": 0.7 / 6, "lo": 3.0, "hi": 20.0,
                         "label": "volume vs its 7-day mean"},
        "drawdown": {"weight": 0.7 / 6, "lo": 1.5, "hi": 5.0,
                     "label": "fall from the 1-day high in σ"},
        # evidence: set by hand (the real data has none of depth, open interest,
        # liquidations or taker flow); see docs/cascade-calibration.md
        "depth_drop": {"weight": 0.08, "lo": 0.2, "hi": 0.65, "cap": 0.5,
                       "label": "order-book depth drop vs its 1-day median"},
        "liq_ratio": {"weight": 0.07, "lo": 3.0, "hi": 20.0, "cap": 0.5,
                      "label": "liquidation volume vs its 7-day median"},
        "oi_drop": {"weight": 0.05, "lo": 0.03, "hi": 0.15, "cap": 0.4,
                    "label": "open-interest drop from its 4-hour high"},
        "taker_sell": {"weight": 0.04, "lo": 0.55, "hi": 0.75, "cap": 0.3,
                       "label": "share of taker volume selling"},
        "funding_abs": {"weight": 0.03, "lo": 0.0005, "hi": 0.002, "cap": 0.2,
                        "label": "most extreme funding rate per period"},
        "basis": {"weight": 0.03, "lo": 0.001, "hi": 0.005, "cap": 0.3,
                  "label": "perp discount to its mark price"},
    }})
SEED = {"corr_z": (0.20, 1.0, 2.5), "vol_ratio": (0.20, 1.3, 3.0), "shock_sigma": (0.20, 3.0, 8.0),
        "funding_abs": (0.05, 0.0005, 0.002)}  # main before this change: weight, lo, hi


@dataclass
class Stream:
    """One folder of bars: its inputs, market return, 4-hour drop and out-of-sample score."""

    key: str
    title: str
    folder: str
    primary: tuple[str, str]  # the part of the timeline this stream stands for
    funding: str | None = None
    mark: str | None = None
    times: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    market: np.ndarray = field(default_factory=lambda: np.zeros(0))
    drop: np.ndarray = field(default_factory=lambda: np.zeros(0))
    calm: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    symbols: tuple[str, ...] = ()
    oos: dict[str, np.ndarray] = field(default_factory=dict)  # variant → score, confidence

    def span(self, a: str, b: str) -> np.ndarray:
        return (self.times >= ms(a)) & (self.times < ms(b))


STREAMS = (
    Stream("okx2022", "OKX 2022, 9 perps (15m)", "okx_swap_15m_2022",
           ("2022-05-01", "2023-01-01"), mark="okx_swap_mark_1h"),
    Stream("okxbtc", "OKX BTC perp (15m)", "okx_swap_15m_2023_2026",
           ("2023-01-01", "2024-01-01"), mark="okx_swap_mark_1h"),
    Stream("binance", "Binance USDT-M, 3–5 perps (15m) with funding", "binance_usdm_15m",
           ("2024-01-01", "2027-01-01"), funding="funding/binance"),
)
CRASHES = (  # name, stream, window start, window end (the worst 15m bar is sought inside)
    ("LUNA", "okx2022", "2022-05-09", "2022-05-13"),
    ("3AC / Celsius", "okx2022", "2022-06-13", "2022-06-19"),
    ("FTX", "okx2022", "2022-11-08", "2022-11-11"),
    ("2024-08-05 (Binance)", "binance", "2024-08-04", "2024-08-06"),
    ("2024-08-05 (OKX BTC)", "okxbtc", "2024-08-04", "2024-08-06"),
    ("2025-10-10 (Binance)", "binance", "2025-10-10", "2025-10-12"),
    ("2025-10-10 (OKX BTC)", "okxbtc", "2025-10-10", "2025-10-12"),
)


def ms(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)


def next_month(m: int) -> int:
    d = datetime.fromtimestamp(m / 1000, UTC)
    return int(d.replace(year=d.year + d.month // 12, month=d.month % 12 + 1).timestamp() * 1000)


def month_starts(t0: int, t1: int) -> list[int]:
    d = datetime.fromtimestamp(t0 / 1000, UTC).replace(day=1, hour=0, minute=0, second=0,
                                                       microsecond=0)
    out = []
    while int(d.timestamp() * 1000) < t1:
        out.append(int(d.timestamp() * 1000))
        d = d.replace(year=d.year + d.month // 12, month=d.month % 12 + 1)
    return out


async def load(s: Stream, data: Path) -> None:
    """Inputs at every bar as the bot computes them, and the labels."""
    update: dict[str, Any] = {"name": "csv", "data_dir": str(data / s.folder)}
    if s.funding:
        update["funding_dir"] = str(data / s.funding)
    if s.mark:
        update["mark_dir"] = str(data / s.mark)
    cfg = Config()
    market = CsvMarket(cfg.exchange.model_copy(update=update))
    await market.load_instruments()
    n = max(len(market.candles(sym)) for sym in market.symbols)
    snap = await market.snapshot(bars=n)
    series = snapshot_cascade_series(snap, engine_params(cfg).corr)
    s.times, s.symbols = snap.times, snap.symbols
    s.inputs = {k: v for k, v in series.inputs.items() if k != "market_index"}
    s.market = market_returns(log_returns(snap.close))
    s.drop = forward_drop(s.market, HORIZON)
    calm = calm_bars(s.drop)
    for _, key, a, b in CRASHES:
        if key == s.key:
            calm &= ~((s.times >= ms(a) - 86_400_000) & (s.times < ms(b) + 86_400_000))
    s.calm = calm


def training(streams: tuple[Stream, ...], before: int | None) -> list[Training]:
    out = []
    for s in streams:
        keep = s.span(*s.primary)
        if before is not None:
            keep &= s.times < before - PURGE * TF
        if keep.sum() >= 96:
            out.append(Training({k: v[keep] for k, v in s.inputs.items()}, s.drop[keep],
                                s.calm[keep]))
    return out


def seed_score(inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The score as main computed it before this change: one weighted mean of whatever
    factors are present (here: its three candle factors, and funding where known)."""
    n = len(next(iter(inputs.values())))
    num, den = np.zeros(n), np.zeros(n)
    for k, (w, lo, hi) in SEED.items():
        x = inputs.get(k)
        if x is None:
            continue
        ok = np.isfinite(x)
        num += np.where(ok, w * np.clip((np.where(ok, x, 0) - lo) / (hi - lo), 0, 1), 0)
        den += np.where(ok, w, 0)
    return np.where(den > 0, 100 * num / np.where(den > 0, den, 1), 0.0)


def walk_forward(streams: tuple[Stream, ...]) -> dict[int, CascadeModel]:
    """Score every month of every stream with a fit on the bars before it."""
    fits: dict[int, CascadeModel] = {}
    first = min(int(s.times[0]) for s in streams)
    for s in streams:
        for k in ("new", "candles", "seed"):
            s.oos[k] = np.full(s.times.shape, np.nan)
            s.oos[k + "_conf"] = np.full(s.times.shape, np.nan)
        for m in month_starts(int(s.times[0]), int(s.times[-1]) + TF):
            if m <= first:
                continue  # nothing before it to fit on
            if m not in fits:
                fits[m] = fit_model(training(streams, m), PRIOR,
                                    fit_id=datetime.fromtimestamp(m / 1000, UTC).strftime(
                                        "%Y-%m"))
            idx = (s.times >= m) & (s.times < next_month(m))
            rows = {k: v[idx] for k, v in s.inputs.items()}
            s.oos["new"][idx], s.oos["new_conf"][idx] = cascade_scores(rows, fits[m])
            candles = {k: v for k, v in rows.items() if k in CANDLE_FACTORS}
            s.oos["candles"][idx], s.oos["candles_conf"][idx] = cascade_scores(candles, fits[m])
            s.oos["seed"][idx], s.oos["seed_conf"][idx] = seed_score(rows), 1.0
        print(f"{s.key}: {len(s.times)} bars, {len(s.symbols)} symbols, "
              f"{np.isfinite(s.oos['new']).sum()} scored out of sample", flush=True)
    return fits


def levels_of(s: Stream, variant: str) -> np.ndarray:
    return gated_levels(s.oos[variant], s.oos[variant + "_conf"])


def starts_of(s: Stream, variant: str) -> dict[int, np.ndarray]:
    return alert_starts(s.oos[variant], s.oos[variant + "_conf"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--write", action="store_true",
                    help="write core/cascade_fitted.py, the level history and the report")
    args = ap.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no data at {args.data}: see ../shared/data/SOURCES.md")
    for s in STREAMS:
        asyncio.run(load(s, args.data))
    fits = walk_forward(STREAMS)
    final = fit_model(training(STREAMS, None), PRIOR, fit_id="all")
    summary = write_outputs(STREAMS, CRASHES, fits, final, levels_of, starts_of, ROOT,
                            write=args.write)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
