"""Calibrate and report the cascade score on real data (OKX 2022, 15m) and the simulator.

Usage: .venv/bin/python scripts/calibrate_cascade.py [DATA_DIR]

Prints, for the candle factors, their percentiles in calm months (July–October 2022) next to
their peaks in the 3AC (June) and FTX (November) sell-offs — the numbers the ramps in
``core/cascade.py`` are set from (``lo`` near the calm 90th percentile, ``hi`` near the
sell-off peaks) — then, with the ramps as they are, the lead time of "high" and "cascade"
before the worst 15-minute bar of each sell-off, and how many high-or-above episodes start
per 30 calm days. The order-book, open-interest, liquidation and funding factors are not in
the real data; their percentiles come from the simulator's calm and cascade regimes.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.cascade import FACTORS, level_of  # noqa: E402
from core.cascade_series import cascade_series  # noqa: E402
from core.market_inputs import market_returns  # noqa: E402
from core.returns import log_returns  # noqa: E402
from core.types import MarketSnapshot  # noqa: E402
from core.views import CorrelationParams  # noqa: E402
from plugins.exchanges.csv_market import CsvMarket  # noqa: E402
from settings import Config  # noqa: E402

DEFAULT_DIR = ROOT.parent / "shared" / "data" / "okx_swap_15m_2022"
EVENTS = {"3AC": ("2022-06-10", "2022-06-20"), "FTX": ("2022-11-06", "2022-11-12")}
CALM = ("2022-07-01", "2022-11-01")


def ms(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)


def when(t: int) -> str:
    return datetime.fromtimestamp(t / 1000, UTC).strftime("%Y-%m-%d %H:%M")


async def load(data_dir: Path) -> MarketSnapshot:
    cfg = Config().exchange.model_copy(update={"name": "csv", "data_dir": str(data_dir)})
    market = CsvMarket(cfg)
    await market.load_instruments()
    n = len(await market.fetch_ohlcv(market.resolve("BTC")))
    return await market.snapshot(bars=n)


def episodes(mask: np.ndarray) -> np.ndarray:
    """Start indices of runs of True."""
    prev = np.concatenate([[False], mask[:-1]])
    return np.flatnonzero(mask & ~prev)


def report(data_dir: Path) -> dict[tuple[str, str] | str, float]:
    snap = asyncio.run(load(data_dir))
    r = log_returns(snap.close)
    params = CorrelationParams()
    score, _, inputs = cascade_series(r, params)
    t = snap.times
    calm = (t >= ms(CALM[0])) & (t < ms(CALM[1]))
    print(f"OKX 2022, {snap.n_symbols} symbols, {snap.n_bars} bars of 15m")
    print(f"\n{'factor':<12} {'calm p50':>9} {'p90':>8} {'p99':>8} {'p99.9':>8}   "
          + "   ".join(f"{k} peak" for k in EVENTS) + "   ramp lo..hi")
    for k in ("corr_z", "vol_ratio", "shock_sigma"):
        v = inputs[k][calm]
        v = v[np.isfinite(v)]
        q = np.percentile(v, [50, 90, 99, 99.9])
        peaks = []
        for a, b in EVENTS.values():
            in_event = (t >= ms(a)) & (t < ms(b))
            peaks.append(np.nanmax(inputs[k][in_event]))
        ramp = FACTORS[k]
        print(f"{k:<12} " + " ".join(f"{x:8.2f}" for x in q) + "   "
              + "   ".join(f"{p:8.2f}" for p in peaks) + f"   {ramp.lo}..{ramp.hi}")
    out: dict[tuple[str, str] | str, float] = {}
    market = market_returns(r)
    print("\nlead time before the worst 15-minute bar of each sell-off:")
    for name, (a, b) in EVENTS.items():
        w = np.flatnonzero((t >= ms(a)) & (t < ms(b)))
        worst = w[np.nanargmin(market[w])]
        line = [f"{name}: worst bar {when(t[worst])} ({market[worst] * 100:+.1f}%)"]
        for level, cut in (("high", 50.0), ("cascade", 70.0)):
            hit = w[(w <= worst) & (score[w] >= cut)]
            if hit.size:
                lead_h = (t[worst] - t[hit[0]]) / 3_600_000
                line.append(f"first {level} {when(t[hit[0]])} (lead {lead_h:.1f} h)")
                out[(name, level)] = lead_h
            else:
                line.append(f"no {level} before it (peak score {np.nanmax(score[w]):.0f})")
        print("  " + "; ".join(line))
    hi = score >= 50
    starts = episodes(hi)
    calm_starts = starts[calm[starts]]
    per30 = calm_starts.size * 2880 / calm.sum()
    print(f"\nhigh-or-above episodes starting in calm months: {calm_starts.size} "
          f"({per30:.2f} per 30 days); in the whole year: {starts.size}")
    levels = [level_of(s) for s in score[calm]]
    print("share of calm bars by level: " + ", ".join(
        f"{lv} {levels.count(lv) / len(levels):.1%}" for lv in ("calm", "elevated", "high",
                                                               "cascade")))
    out["calm_episodes_per_30d"] = per30
    return out


def simulator_report() -> None:
    from plugins.exchanges.sim_market import SimMarket

    market = SimMarket(Config().exchange.model_copy(update={"name": "sim"}))
    paths, regimes = market.paths, market.regimes
    print("\nsimulator (default seed): factor levels in calm vs cascade bars")
    series = {"depth ±1%": paths.depth_bid[:, :, 1] + paths.depth_ask[:, :, 1],
              "liquidations": paths.liquidations, "open_interest": paths.open_interest}
    for key, arr in series.items():
        total = arr.reshape(arr.shape[0], -1).sum(axis=1)
        print(f"  {key:<14} calm median {np.median(total[regimes == 0]):.3g}, "
              f"cascade median {np.median(total[regimes == 2]):.3g}")


if __name__ == "__main__":
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    if not data.is_dir():
        sys.exit(f"no data at {data}: see ../shared/data/SOURCES.md")
    report(data)
    simulator_report()
