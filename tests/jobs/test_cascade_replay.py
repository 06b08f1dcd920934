"""The same real 15-minute bars through the live cycle and through the backtest's series give
the same cascade scores, bar by bar.

Live: OKX's real FTX bars (BTC, ETH, SOL, 2022-11-08) served by the fake OKX server, read
through ccxt and the candle cache by ``WatchCycle`` one bar at a time, with the fake's flow
(order books, liquidations, taker volume, open interest, funding, mark prices) in a sell-off
for the crash hours. Backtest: the same bars from the CSV files, with the samples the live
cycles stored, through ``core.cascade_series.snapshot_cascade_series``.
"""

from __future__ import annotations

import asyncio

import numpy as np

from core.cascade import FACTORS
from core.cascade_series import snapshot_cascade_series
from core.types import MarketSnapshot
from jobs.cycle import WatchCycle
from plugins.exchanges.ccxt_market import OkxMarket
from plugins.exchanges.csv_market import CsvMarket
from plugins.exchanges.ratelimits import EndpointLimit, EndpointLimiters
from plugins.manager import PluginManager
from runtime import build_runtime
from settings import Config
from storage import open_database
from tests.fakes.okx_market import Selloff
from tests.fakes.okx_server import FakeOkx

TF = 900_000
START = 1_667_908_800_000  # 2022-11-08 12:00 UTC: FTX's first crash day, before the worst bar
STEPS = 32  # eight hours of bars, past the worst 15 minutes (19:15)
BASES = ("BTC", "ETH", "SOL")
EVIDENCE = [k for k, r in FACTORS.items() if not r.core]


def config(url: str, data: str) -> Config:
    return Config().with_overrides(
        exchange={"name": "okx", "api_url": url, "symbols": list(BASES), "timeout": "5s",
                  "data_dir": data},
        engine={"slow_window": "10d"}, plugins={"entry_points": False})


async def live_scores(okx: FakeOkx, cfg: Config, db_path) -> tuple[dict[int, float], OkxMarket]:
    db = open_database(db_path)
    market = OkxMarket(cfg.exchange, storage=db, backoff_s=0.01)
    # the flow endpoints' limits are tested elsewhere; here 32 cycles should run at once
    market.limiters = EndpointLimiters({}, default=EndpointLimit(10_000))
    cycle = WatchCycle(build_runtime(cfg, plugins=PluginManager(entry_points=False)), db=db,
                       market=market)
    scores = {}
    for k in range(STEPS):
        close = START + k * TF
        okx.set_time(close + 5_000)  # the cycle runs 5 s after the bar closes
        summary = await cycle.run()
        assert summary.error is None, summary.error
        assert summary.cascade_score is not None
        scores[close] = summary.cascade_score
    return scores, market


def backtest_snapshot(bars: MarketSnapshot, stored: MarketSnapshot) -> MarketSnapshot:
    """The CSV bars with the samples the live cycles stored."""
    return MarketSnapshot.build(
        source="csv", timeframe_ms=TF, symbols=bars.symbols, times=bars.times, open=bars.open,
        high=bars.high, low=bars.low, close=bars.close, volume=bars.volume,
        server_time_ms=bars.server_time_ms, funding=stored.funding,
        open_interest=stored.open_interest, depth=stored.depth,
        liquidations=stored.liquidations, taker=stored.taker, basis=stored.basis)


def test_the_live_cycle_and_the_backtest_score_every_bar_alike(shared_data, tmp_path):
    folder = shared_data / "okx_swap_15m_2022"
    cfg = config("http://127.0.0.1:1", str(folder))
    csv = CsvMarket(cfg.exchange, symbols=list(BASES), at_ms=START + STEPS * TF)

    async def run() -> tuple[dict[int, float], MarketSnapshot, MarketSnapshot, int]:
        await csv.load_instruments()
        bars = await csv.snapshot(bars=1400)
        okx = FakeOkx(bases=list(BASES), start_ms=START, enforce_limits=False)
        okx.market.digits = 12  # serve the files' numbers as they are
        for b in BASES:
            c = csv.candles(b)
            okx.market.record(b, c.times, np.column_stack([c.open, c.high, c.low, c.close,
                                                           c.volume]))
            okx.market.paths[b].selloffs.append(Selloff(START + 12 * TF, 0.25, 12 * TF))
        async with okx:
            live_cfg = config(okx.url, str(folder))
            scores, market = await live_scores(okx, live_cfg, tmp_path / "hw.db")
            stored = await market.snapshot(bars=1400)  # the same bar: nothing new is sampled
            await market.close()
        return scores, bars, stored, okx.count(status=429)

    scores, bars, stored, throttled = asyncio.run(run())
    series = snapshot_cascade_series(backtest_snapshot(bars, stored), cfg_params(cfg))
    at = {int(t): i for i, t in enumerate(series.times_ms)}
    live = np.array([scores[t] for t in sorted(scores)])
    replay = np.array([series.score[at[t]] for t in sorted(scores)])
    np.testing.assert_allclose(replay, live, rtol=0, atol=1e-6)
    assert throttled == 0
    # the crash is in it: the score climbs, and the stored flow is part of it
    assert live.max() >= 70 and live[:4].max() < 50
    moved = {k for k in EVIDENCE if k in series.inputs
             and np.nanmax(FACTORS[k].score(series.inputs[k][[at[t] for t in scores]])) > 0}
    assert {"liq_ratio", "taker_sell", "basis"} <= moved
    # candles alone, from the files: the same where every evidence input was quiet
    candles = snapshot_cascade_series(bars, cfg_params(cfg))
    quiet = [t for t in sorted(scores) if not any(
        FACTORS[k].score(series.inputs[k][at[t]]) > 0 for k in EVIDENCE if k in series.inputs)]
    assert quiet
    np.testing.assert_allclose([candles.score[at[t]] for t in quiet],
                               [scores[t] for t in quiet], rtol=0, atol=1e-6)


def cfg_params(cfg: Config):
    from settings.engine import engine_params

    return engine_params(cfg).corr

