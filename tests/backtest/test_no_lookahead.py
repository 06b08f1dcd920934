"""Changing the data after bar t leaves every decision and fill up to t unchanged."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from backtest.engine import BacktestParams, run_backtest
from core.types import MarketSnapshot
from plugins.exchanges.sim_market import SimMarket
from plugins.manager import PluginManager
from plugins.strategies.registry import load_strategies
from settings.config import Config
from settings.engine import engine_params


@pytest.fixture(scope="module")
def sim_snapshot() -> MarketSnapshot:
    cfg = Config()
    market = SimMarket(cfg.exchange.model_copy(update={"sim_days": 40}), n_symbols=5)
    return asyncio.run(market.snapshot(bars=40 * 96))


def garbage_after(snap: MarketSnapshot, t: int, seed: int = 3) -> MarketSnapshot:
    rng = np.random.default_rng(seed)
    shape = snap.close[t + 1:].shape
    arrays = {}
    for name in ("open", "high", "low", "close", "volume"):
        a = getattr(snap, name).copy()
        a[t + 1:] = a[t + 1:] * rng.uniform(0.5, 2.0, shape)
        arrays[name] = a
    arrays["high"] = np.fmax.reduce([arrays[k] for k in ("open", "high", "low", "close")])
    arrays["low"] = np.fmin.reduce([arrays[k] for k in ("open", "high", "low", "close")])
    # the sampled inputs (depth, open interest, liquidations, ...) as they stood at t: the
    # cascade score reads them, and none from after t may reach a decision at t
    known = snap.upto(t)
    return MarketSnapshot.build(source=snap.source, timeframe_ms=snap.timeframe_ms,
                                symbols=snap.symbols, times=snap.times,
                                server_time_ms=snap.server_time_ms,
                                instruments=snap.instruments, funding=known.funding,
                                open_interest=known.open_interest, depth=known.depth,
                                liquidations=known.liquidations, taker=known.taker,
                                basis=known.basis, **arrays)


def _legs(legs):
    return [(x.symbol, x.side, x.size) for x in legs]


@pytest.mark.parametrize("margin,leverage,weights", [
    ("cross", 10.0, ()), ("isolated", 10.0, ()), ("cross", 40.0, ()),
    ("cross", 10.0, (("BTC-USDT-SWAP", 0.6), ("ETH-USDT-SWAP", 0.4)))])
def test_decisions_up_to_t_ignore_later_data(sim_snapshot, margin, leverage, weights):
    cfg = Config()
    ep = engine_params(cfg)
    strategies = load_strategies(PluginManager(entry_points=False))
    start = sim_snapshot.n_bars - 10 * 96
    cut = start + 5 * 96 + 7
    params = BacktestParams(main=sim_snapshot.symbols[0], start=start, margin=margin,
                            leverage=leverage, reentry_bars=24, weights=weights)
    a = run_backtest(sim_snapshot, strategies, params, ep)
    b = run_backtest(garbage_after(sim_snapshot, cut), strategies, params, ep)
    for name in strategies:
        ra, rb = a.runs[name], b.runs[name]
        da = [d for d in ra.decisions if d[0] <= cut]
        db = [d for d in rb.decisions if d[0] <= cut]
        assert len(da) == len(db)
        for (ta, la, xa), (tb, lb, xb) in zip(da, db, strict=True):
            assert (ta, xa) == (tb, xb)
            assert [x[:2] for x in _legs(la)] == [x[:2] for x in _legs(lb)]
            np.testing.assert_allclose([x[2] for x in _legs(la)], [x[2] for x in _legs(lb)],
                                       rtol=1e-9)
        fa = [(t.t, t.symbol, t.delta, t.price, t.fee) for t in ra.trades if t.t <= cut]
        fb = [(t.t, t.symbol, t.delta, t.price, t.fee) for t in rb.trades if t.t <= cut]
        assert [f[:2] for f in fa] == [f[:2] for f in fb]
        np.testing.assert_allclose([f[2:] for f in fa], [f[2:] for f in fb], rtol=1e-9)
        k = cut - start + 1  # the window's arrays start at ``start``
        np.testing.assert_allclose(ra.equity[:k], rb.equity[:k], rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(ra.deposits[:k], rb.deposits[:k], rtol=1e-9)
        assert [x.t for x in ra.liquidations if x.t <= cut] == \
            [x.t for x in rb.liquidations if x.t <= cut]
    # and the garbage did change what came after
    assert any(not np.allclose(a.runs[n].equity[k + 1:], b.runs[n].equity[k + 1:])
               for n in strategies)


def test_the_first_hedge_fills_after_the_first_decision(sim_snapshot):
    ep = engine_params(Config())
    strategies = load_strategies(PluginManager(entry_points=False))
    start = sim_snapshot.n_bars - 96
    res = run_backtest(sim_snapshot, strategies, BacktestParams(
        main=sim_snapshot.symbols[0], start=start), ep)
    for run in res.runs.values():
        decided = {t for t, _, traded in run.decisions if traded}
        for trade in run.trades:
            if not trade.reason.startswith("main position liquidated"):
                assert trade.t - 1 in decided and trade.t > start
