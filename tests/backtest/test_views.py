"""The study's shared bar views are the ones ``replay_bars`` gives a strategy, field by field."""

from __future__ import annotations

import asyncio
import math
from dataclasses import astuple

import pytest

from backtest.costs import CostParams
from backtest.engine import BacktestParams
from backtest.prepared import BOOK, prepare
from backtest.views import ViewMaker
from core.types import Position
from plugins.exchanges.sim_market import SimMarket
from plugins.strategies.bars import replay_bars
from settings.config import Config
from settings.engine import engine_params

FIELDS = ("t", "time_ms", "hedge_symbol", "beta_fast", "beta_ewma", "corr_fast", "corr_slow",
          "effectiveness", "regime", "cascade_level", "cascade_score", "high_corr", "low_corr")


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


@pytest.mark.parametrize("side", ["long", "short"])
def test_views_equal_replay_bars(side):
    cfg = Config()
    ep = engine_params(cfg)
    market = SimMarket(cfg.exchange.model_copy(update={"sim_days": 35}), n_symbols=5)
    snap = asyncio.run(market.snapshot(bars=35 * 96))
    main = snap.symbols[0]
    m = prepare(snap, BacktestParams(main=main, side=side).book, ep, CostParams())
    views = ViewMaker(m.snap, m.series, ep, m.book.sign)
    start = snap.n_bars - 200
    pos = Position(main, side, 0.5, float(snap.open[start, 0]), 10.0, margin=2000.0)
    for k, ref in enumerate(replay_bars(snap, pos, ep, start)):
        ours = views.view(start + k, pos)
        for f in FIELDS:
            assert same(getattr(ours, f), getattr(ref, f)), (f, start + k)
        assert all(same(ours.prices[s], ref.prices[s]) for s in snap.symbols)
        assert ours.prices.keys() == ref.prices.keys()
        for s in snap.symbols[1:]:
            assert all(same(x, y) for x, y in zip(ours.pair(s), ref.pair(s), strict=True))
        if k % 50 == 0:
            mine, theirs = ours.counterweights(), ref.counterweights()
            assert len(mine) == len(theirs)
            for x, y in zip(mine, theirs, strict=True):
                assert all(same(u, v) for u, v in zip(astuple(x), astuple(y), strict=True))


def test_a_book_is_one_position_in_a_constant_weight_index():
    cfg = Config()
    ep = engine_params(cfg)
    market = SimMarket(cfg.exchange.model_copy(update={"sim_days": 35}), n_symbols=4)
    snap = asyncio.run(market.snapshot(bars=35 * 96))
    a, b = snap.symbols[:2]
    params = BacktestParams(main=a, weights=((a, 3.0), (b, 1.0)))
    m = prepare(snap, params.book, ep, CostParams())
    assert m.book.legs == ((a, 0.75), (b, 0.25))
    assert m.snap.symbols[-1] == BOOK and m.target == snap.n_symbols
    # each bar's index return is the weighted sum of the constituents' simple returns
    c = m.snap.close
    for t in (10, 500, 3000):
        r = 0.75 * (c[t, 0] / c[t - 1, 0] - 1) + 0.25 * (c[t, 1] / c[t - 1, 1] - 1)
        assert c[t, -1] / c[t - 1, -1] - 1 == pytest.approx(r, rel=1e-9)
    # the book's hedge candidates are the real symbols, its constituents included
    assert set(m.series.others) == set(range(snap.n_symbols))


def test_a_missing_bar_shows_the_last_close_as_live_does():
    from tests.backtest.helpers import path_market

    snap = path_market({"AAA": [100.0, 101.0, 102.0, 103.0], "BBB": [50.0, 51.0, 52.0, 53.0]})
    close = snap.close.copy()
    close[2, 1] = float("nan")
    gap = type(snap).build(source="t", timeframe_ms=snap.timeframe_ms, symbols=snap.symbols,
                           times=snap.times, open=snap.open, high=snap.high, low=snap.low,
                           close=close, volume=snap.volume, server_time_ms=snap.server_time_ms)
    ep = engine_params(Config())
    m = prepare(gap, BacktestParams(main="AAA-USDT-SWAP").book, ep, CostParams())
    pos = Position("AAA-USDT-SWAP", "long", 1.0, 100.0, 10.0)
    assert ViewMaker.of(m, ep).view(2, pos).prices["BBB-USDT-SWAP"] == 51.0
