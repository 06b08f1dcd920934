"""Each built-in behaves as its definition says, and none can see the future."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.types import MarketSnapshot
from plugins.manager import PluginManager
from plugins.strategies.bars import replay_bars
from plugins.strategies.registry import load_strategies
from tests.strategies.conftest import PARAMS

START = 1000


@pytest.fixture(scope="module")
def strategies():
    return load_strategies(PluginManager(entry_points=False))


def run(strategy, market, position, start=START, stop=None):
    state, out = None, []
    for bar in replay_bars(market, position, PARAMS, start=start):
        if stop is not None and bar.t > stop:
            break
        d = strategy.decide(bar, state)
        state = d.state
        out.append((bar, d))
    return out


def garbage_after(snap: MarketSnapshot, t: int, seed: int = 0) -> MarketSnapshot:
    rng = np.random.default_rng(seed)
    close = snap.close.copy()
    close[t + 1:] *= np.exp(rng.normal(0, 0.2, close[t + 1:].shape))
    return MarketSnapshot.build(
        source=snap.source, timeframe_ms=snap.timeframe_ms, symbols=snap.symbols,
        times=snap.times, open=close, high=close * 1.01, low=close * 0.99, close=close,
        volume=snap.volume, server_time_ms=snap.server_time_ms, instruments=snap.instruments)


def test_all_five_are_registered(strategies):
    assert {"none", "static", "min_variance", "seed_regime", "counterweight"} <= set(strategies)


@pytest.mark.parametrize("name", ["none", "static", "min_variance", "seed_regime",
                                  "counterweight"])
def test_no_look_ahead(strategies, market, position, name):
    cut = START + 250
    clean = garbage_after(market, market.n_bars)  # same construction, nothing replaced
    dirty = garbage_after(market, cut)
    a = run(strategies[name], clean, position, stop=cut)
    b = run(strategies[name], dirty, position, stop=cut)
    assert len(a) == len(b) == cut - START + 1
    for (_, da), (_, db) in zip(a, b, strict=True):
        assert [(x.symbol, x.side) for x in da.legs] == [(x.symbol, x.side) for x in db.legs]
        # sizes agree to rounding: the kernels centre data by a constant, which the
        # garbage shifts, so the last bits may differ but nothing of the future gets in
        for x, y in zip(da.legs, db.legs, strict=True):
            assert x.size == pytest.approx(y.size, rel=1e-9)


def test_none_never_hedges(strategies, market, position):
    assert all(d.legs == () for _, d in run(strategies["none"], market, position))


def test_static_never_trades_after_the_open(strategies, market, position):
    decisions = [d.legs for _, d in run(strategies["static"], market, position)]
    assert decisions[0] and all(legs == decisions[0] for legs in decisions)


def test_min_variance_follows_beta_every_bar(strategies, market, position):
    out = run(strategies["min_variance"], market, position)
    sizes = {round(d.legs[0].size, 9) for _, d in out if d.legs}
    assert len(sizes) > len(out) // 2  # re-set every bar
    for bar, d in out[::50]:
        leg = d.legs[0]
        assert leg.side == "short"  # a long is hedged by a short
        notional = leg.size * bar.prices[leg.symbol]
        assert notional == pytest.approx(bar.pair(leg.symbol)[0] * bar.notional(), rel=1e-12)


def test_the_hedge_instrument_changes_only_for_a_clearly_better_one(strategies, market,
                                                                     position):
    out = run(strategies["min_variance"], market, position)
    switches = 0
    for (_, prev), (bar, d) in itertools.pairwise(out):
        if not (prev.legs and d.legs) or prev.legs[0].symbol == d.legs[0].symbol:
            continue
        switches += 1
        held, best = prev.legs[0].symbol, d.legs[0].symbol
        assert best == bar.hedge_symbol
        assert bar.corr_fast ** 2 > bar.pair(held)[1] ** 2 + 0.1
    engine_switches = sum(1 for (a, _), (b, _) in itertools.pairwise(out)
                          if a.hedge_symbol != b.hedge_symbol)
    assert switches < engine_switches  # the engine's best flips more often than the hedge


def test_seed_regime_is_smaller_whenever_correlation_is_high(strategies, market, position):
    mv = run(strategies["min_variance"], market, position)
    sr = run(strategies["seed_regime"], market, position)
    high = grown = 0
    for (bar, dm), (_, ds) in zip(mv, sr, strict=True):
        if not dm.legs:
            continue
        if bar.regime == "high":
            high += 1
            assert ds.legs[0].size < dm.legs[0].size
        elif bar.regime == "low":
            grown += 1
            assert ds.legs[0].size > dm.legs[0].size
        elif bar.regime == "normal":
            assert ds.legs[0].size == pytest.approx(dm.legs[0].size)
    assert high > 0, "the simulated market never reached the high-correlation regime"
    above = sum(1 for bar, _ in mv if bar.corr_fast >= 0.7)
    assert high >= 0.8 * above  # hysteresis and min-time only delay the switch briefly


def test_counterweight_rechooses_only_when_the_level_changes(strategies, market, position):
    out = run(strategies["counterweight"], market, position)
    for (prev_bar, prev), (bar, d) in itertools.pairwise(out):
        if bar.cascade_level == prev_bar.cascade_level:
            assert d.legs == prev.legs


def test_unknown_parameter_is_refused():
    from plugins.strategies.builtin import SeedRegime

    with pytest.raises(ValueError, match=r"unknown parameter.*shrnk"):
        SeedRegime({"shrnk": 0.4})
