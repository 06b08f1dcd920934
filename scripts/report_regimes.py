"""Correlation regimes on real data: the OKX 2022 9-symbol 15m set around 3AC and FTX.

Prints the market correlation index (mean pairwise 1-day correlation of 15m log returns)
and its z-score against the last 30 days next to calm months, and how often the market
"spike" alert and the per-pair level regimes would fire per 30 days. LUNA (May 9-12) falls
before the 30-day baseline has filled, so its z-score is NaN.

Usage: ``python scripts/report_regimes.py [--data ../shared/data]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from core.regimes import HIGH, LOW, level_regimes, market_regime, rolling_zscore  # noqa: E402
from core.returns import log_returns  # noqa: E402
from core.rolling import market_index_series, rolling_pair_series  # noqa: E402
from core.views import CorrelationParams  # noqa: E402

OKX_2022 = "okx_swap_15m_2022"
SYMBOLS = ("BTC", "ETH", "SOL", "DOGE", "XRP", "LINK", "LTC", "UNI", "OP")
TIMEFRAME_MS = 15 * 60 * 1000
PERIODS = (  # (label, first day, last day) inclusive, UTC
    ("LUNA   2022-05-09..12", "2022-05-09", "2022-05-12"),
    ("3AC    2022-06-13..18", "2022-06-13", "2022-06-18"),
    ("calm   2022-08", "2022-08-01", "2022-08-31"),
    ("calm   2022-10", "2022-10-01", "2022-10-31"),
    ("FTX    2022-11-08..10", "2022-11-08", "2022-11-10"),
    ("whole  2022-06..12", "2022-06-01", "2022-12-31"),
)


def load_closes(folder: Path, symbols: tuple[str, ...] = SYMBOLS,
                timeframe_ms: int = TIMEFRAME_MS) -> tuple[np.ndarray, np.ndarray]:
    """Closes of ``<SYM>-USDT-SWAP_15m.csv.gz`` on one full time grid, shape (T, N).

    Missing timestamps and zero-volume flat bars (exchange outages) become NaN, so they
    count as missing data, never as a zero return.
    """
    frames = []
    for sym in symbols:
        df = pd.read_csv(folder / f"{sym}-USDT-SWAP_15m.csv.gz")
        outage = (df["volume"].fillna(0) <= 0) & (df["high"] == df["low"])
        close = df["close"].where(~outage & (df["close"] > 0))
        frames.append(pd.Series(close.to_numpy(), index=df["ts_ms"].to_numpy(), name=sym))
    start = min(int(f.index.min()) for f in frames)
    end = max(int(f.index.max()) for f in frames)
    times = np.arange(start, end + timeframe_ms, timeframe_ms, dtype=np.int64)
    close = np.column_stack([f.reindex(times).to_numpy(dtype=np.float64) for f in frames])
    return times, close


def period_mask(times: np.ndarray, first: str, last: str) -> np.ndarray:
    lo = pd.Timestamp(first, tz="UTC").value // 1_000_000
    hi = (pd.Timestamp(last, tz="UTC") + pd.Timedelta(days=1)).value // 1_000_000
    return (times >= lo) & (times < hi)


def market_series(close: np.ndarray, p: CorrelationParams) -> tuple[np.ndarray, np.ndarray]:
    """Market index (fast window) and its z-score against the slow window, every bar."""
    idx, _ = market_index_series(log_returns(close), p.fast, p.min_fast)
    return idx, rolling_zscore(idx, p.slow, p.min_slow)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args(argv)
    folder = args.data / OKX_2022
    if not folder.is_dir():
        print(f"no data at {folder} (see shared/data/SOURCES.md)")
        return 1
    p = CorrelationParams()
    times, close = load_closes(folder)
    idx, z = market_series(close, p)
    per30 = 30 * 24 * 3_600_000 // TIMEFRAME_MS
    print(f"OKX 2022, {len(SYMBOLS)} symbols, {close.shape[0]} bars of 15m; market index = "
          f"mean pairwise {p.fast}-bar correlation, z vs the last {p.slow} bars\n")
    print(f"{'period':<24}{'index mean':>11}{'max':>7}{'min':>7}{'z mean':>8}{'z max':>7}"
          f"{'>0.7':>7}{'<0.3':>7}")
    for label, first, last in PERIODS:
        m = period_mask(times, first, last)
        i, zz = idx[m], z[m]
        fz = np.isfinite(zz)
        zmean = f"{np.nanmean(zz):8.2f}" if fz.any() else f"{'n/a':>8}"
        zmax = f"{np.nanmax(zz):7.2f}" if fz.any() else f"{'n/a':>7}"
        print(f"{label:<24}{np.nanmean(i):11.3f}{np.nanmax(i):7.3f}{np.nanmin(i):7.3f}"
              f"{zmean}{zmax}{np.mean(i[np.isfinite(i)] > 0.7):7.0%}"
              f"{np.mean(i[np.isfinite(i)] < 0.3):7.0%}")
    live = np.isfinite(z)
    n_live = int(live.sum())
    print(f"\nMarket 'spike' alert (z-score with persistence), per 30 days over the {n_live} "
          f"bars with a filled baseline:")
    print(f"{'z threshold':>12}{'min time':>10}{'alerts/30d':>12}{'% bars in spike':>17}"
          f"   onsets in 3AC / FTX")
    first_live = int(np.argmax(live))
    for thr in (2.0, 2.5, 3.0):
        for bars in (1, p.min_regime_bars, 16):
            mr = market_regime(z[first_live:], thr, bars, p.z_hysteresis)
            on = times[first_live:][mr.onsets]
            in3ac = period_mask(on, "2022-06-13", "2022-06-18").sum()
            inftx = period_mask(on, "2022-11-08", "2022-11-10").sum()
            print(f"{thr:12.1f}{bars * 15:>8}m{mr.alerts_per_30d(per30):12.1f}"
                  f"{mr.spike.mean():17.1%}   {in3ac} / {inftx}")
    r = log_returns(close)
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2)]
    ps = rolling_pair_series(r, pairs, p.fast, p.min_fast)
    print("\nPer-pair level regimes (high >= 0.7, low <= 0.3), changes per 30 days:")
    print(f"{'pair':<10}{'% high':>8}{'% low':>8}{'no debounce':>13}{'hysteresis+1h':>15}")
    for k, (a, b) in enumerate(pairs):
        raw = level_regimes(ps.corr[:, k], p.high_corr, p.low_corr, 0.0, 1)
        deb = level_regimes(ps.corr[:, k], p.high_corr, p.low_corr, p.hysteresis,
                            p.min_regime_bars)
        known = np.isfinite(ps.corr[:, k])
        scale = per30 / known.sum()
        print(f"{SYMBOLS[a] + '-' + SYMBOLS[b]:<10}{np.mean(deb[known] == HIGH):8.0%}"
              f"{np.mean(deb[known] == LOW):8.0%}"
              f"{np.count_nonzero(np.diff(raw[known])) * scale:13.1f}"
              f"{np.count_nonzero(np.diff(deb[known])) * scale:15.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
