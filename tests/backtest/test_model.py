"""The backtest's bookkeeping on markets small enough to check by hand (isolated margin here;
cross margin in test_cross_margin.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backtest.costs import CostParams, funding_matrix, sigma_before, slippage_rate
from backtest.engine import BacktestParams, filled_prices, run_backtest
from core.evaluate import EngineParams
from core.liquidation import binance_liquidation_price, isolated_liquidation_price
from core.types import StatSeries, Tier
from plugins.strategies.base import TargetLeg
from tests.backtest.helpers import T0, TF, FixedHedge, flat_market

HOUR = 3_600_000
NO_SLIP = CostParams(k_size=0.0)
MAIN, HEDGE = "AAA-USDT-SWAP", "BBB-USDT-SWAP"


def run(snap, legs=(), **kw):
    kw.setdefault("costs", NO_SLIP)
    kw.setdefault("margin", "isolated")
    params = BacktestParams(main=MAIN, **kw)
    return run_backtest(snap, {"fixed": FixedHedge(legs)}, params, EngineParams())


def test_static_short_hedge_constant_prices_matches_by_hand():
    # 07:00 → 09:15: one funding time (08:00); BBB's rate from its history, AAA's the default
    snap = flat_market({"AAA": 100.0, "BBB": 50.0}, 9,
                       funding={"BBB": StatSeries(np.array([T0 + HOUR]), np.array([0.0003]))})
    res = run(snap, [TargetLeg(HEDGE, "short", 60.0)])
    r = res.runs["fixed"]
    # main: 2000 × 10 / 100 = 200 AAA; opening fee 20000 × 0.05 % = 10
    # hedge: short 60 BBB at the open of bar 1 (decided at bar 0's close): fee 3000 × 0.05 % = 1.5
    # funding at 08:00: the long main pays 20000 × 0.01 % = 2,
    # the short hedge gets 3000 × 0.03 % = 0.9
    assert res.main_size == 200.0
    assert [(t.t, t.delta, t.price) for t in r.trades] == [(1, -60.0, 50.0)]
    assert round(float(r.hedge_fees.sum()), 2) == -1.50
    assert round(float(r.hedge_funding.sum()), 2) == 0.90
    assert round(float(r.funding.sum()), 2) == -1.10
    assert round(float(r.fees.sum()), 2) == -11.50
    assert r.equity[0] == 1990.0  # the main's fee at the first bar
    # the hedge's margin, 3000 / 10 = 300, and its fee are deposited at its fill; the free
    # cash was −10 (the main's fee came out of the account): 300 + 1.5 + 10 = 311.5
    assert r.deposits[0] == 2000.0 and r.deposits[-1] == pytest.approx(2311.5)
    assert r.collateral == pytest.approx(2311.5)
    assert round(float(r.pnl[-1]), 2) == -12.60  # −10 − 1.5 − 2 + 0.9
    assert round(float(r.equity[-1]), 2) == 2298.90
    assert not r.liquidations


def test_main_long_liquidates_exactly_at_the_documented_price():
    entry, size, margin = 100.0, 200.0, 2000.0
    liq = float(isolated_liquidation_price(entry, size, 1, margin, 0.004, 0.0005))
    assert liq == pytest.approx(90 / 0.9955)
    t0 = T0 + 2 * HOUR  # 09:00: no funding time in the window
    near = run(flat_market({"AAA": 100.0, "BBB": 50.0}, 8, low={3: liq + 0.01}, t0=t0))
    assert near.main_liq_price == pytest.approx(liq, rel=1e-12)
    hit = run(flat_market({"AAA": 100.0, "BBB": 50.0}, 8, low={3: liq + 0.01, 5: liq}, t0=t0))
    eq = hit.runs["fixed"].equity
    assert eq[4] == pytest.approx(1990.0)
    assert eq[5] == pytest.approx(-10.0)  # the whole margin lost; the opening fee was paid too
    assert np.all(eq[5:] == eq[5])  # not re-entered
    (ev,) = hit.runs["fixed"].liquidations
    assert ev.main and ev.t == 5 and ev.margin_lost == margin
    assert not near.runs["fixed"].liquidations


def test_reentry_after_a_day_deposits_the_capital_again():
    liq = float(isolated_liquidation_price(100.0, 200.0, 1, 2000.0, 0.004, 0.0005))
    snap = flat_market({"AAA": 100.0, "BBB": 50.0}, 120, low={5: liq}, t0=T0 + 2 * HOUR)
    r = run(snap, reentry_bars=96, costs=CostParams(k_size=0.0, funding=False)).runs["fixed"]
    assert [x.t for x in r.liquidations] == [5]
    assert r.lives == 2
    assert r.deposits[100] == 2000.0  # re-entered at bar 5 + 96 = 101
    assert r.deposits[101] == pytest.approx(2000 + 2010)  # the −10 left, topped up to 2000
    assert r.equity[101] == pytest.approx(1990.0)  # the second opening fee
    assert r.first_life_collateral == 2000.0 and r.collateral == pytest.approx(4010.0)


def test_main_short_liquidates_on_the_bar_high():
    liq = float(isolated_liquidation_price(100.0, 200.0, -1, 2000.0, 0.004, 0.0005))
    res = run(flat_market({"AAA": 100.0, "BBB": 50.0}, 8, high={4: liq}, t0=T0 + 2 * HOUR),
              side="short")
    assert res.main_liq_price == pytest.approx(liq)
    assert [x.t for x in res.runs["fixed"].liquidations] == [4]


def test_binance_brackets_use_binance_formula():
    tiers = (Tier(1, 0.0, 50_000.0, 0.004, 125.0, unit="notional"),
             Tier(2, 50_000.0, 250_000.0, 0.005, 100.0, unit="notional", maintenance_amount=50.0))
    res = run(flat_market({"AAA": 100.0, "BBB": 50.0}, 4, tiers=tiers, t0=T0 + 2 * HOUR))
    assert res.main_liq_price == pytest.approx(
        float(binance_liquidation_price(100.0, 200.0, 1, 2000.0, tiers)))


def test_main_liquidation_closes_hedges_at_the_close():
    liq = float(isolated_liquidation_price(100.0, 200.0, 1, 2000.0, 0.004, 0.0005))
    snap = flat_market({"AAA": 100.0, "BBB": 50.0}, 8, low={4: liq - 1}, t0=T0 + 2 * HOUR)
    r = run(snap, [TargetLeg(HEDGE, "short", 60.0)]).runs["fixed"]
    assert [(t.t, t.delta) for t in r.trades] == [(1, -60.0), (4, 60.0)]
    assert r.holdings[5:, 1].tolist() == [0.0] * 3
    assert r.pnl[-1] == pytest.approx(-10 - 1.5 - 1.5 - 2000)


def test_hedge_leg_liquidation_loses_its_margin_and_is_reopened():
    # the hedge is short BBB at 10x: margin 300; BBB spikes through its liquidation price
    hedge_liq = float(isolated_liquidation_price(50.0, 60.0, -1, 300.0, 0.004, 0.0005))
    snap = flat_market({"BBB": 50.0, "AAA": 100.0}, 8, high={3: hedge_liq}, t0=T0 + 2 * HOUR)
    res = run_backtest(snap, {"fixed": FixedHedge([TargetLeg(HEDGE, "short", 60.0)])},
                       BacktestParams(main=MAIN, costs=NO_SLIP, margin="isolated"),
                       EngineParams())
    r = res.runs["fixed"]
    (ev,) = r.liquidations
    assert (ev.t, ev.symbol, ev.main) == (3, HEDGE, False)
    assert ev.margin_lost == pytest.approx(300.0)
    # reopened at the next open by the rebalance policy
    assert [(t.t, t.delta) for t in r.trades] == [(1, -60.0), (4, -60.0)]
    assert r.pnl[-1] == pytest.approx(-10 - 1.5 - 300 - 1.5)
    # the reopened leg's margin is deposited again: the first one is gone
    assert r.collateral == pytest.approx(2311.5 + 301.5)


@pytest.mark.parametrize("side,rate,expected_sign", [
    ("long", 0.001, -1), ("short", 0.001, +1), ("long", -0.001, +1), ("short", -0.001, -1)])
def test_funding_sign(side, rate, expected_sign):
    snap = flat_market({"AAA": 100.0, "BBB": 50.0}, 9, funding={
        "BBB": StatSeries(np.array([T0 + HOUR]), np.array([rate]))})
    r = run(snap, [TargetLeg(HEDGE, side, 60.0)]).runs["fixed"]
    assert math.copysign(1, r.hedge_funding.sum()) == expected_sign
    assert abs(r.hedge_funding.sum()) == pytest.approx(3000 * 0.001)


@pytest.mark.parametrize("side", ["long", "short"])
def test_fees_and_slippage_are_costs_both_ways(side):
    costs = CostParams(k_vol=0.0, k_size=0.1)
    snap = flat_market({"AAA": 100.0, "BBB": 50.0}, 6, volume=1000.0, t0=T0 + 2 * HOUR)
    r = run(snap, [TargetLeg(HEDGE, side, 60.0)], costs=costs).runs["fixed"]
    (trade,) = r.trades
    assert trade.fee == pytest.approx(1.5)
    # 0.1 × order notional / mean bar volume notional (50 × 1000) × order notional
    assert trade.slippage == pytest.approx(0.1 * 3000 / 50_000 * 3000)
    assert r.hedge_slippage.sum() == pytest.approx(-trade.slippage)
    assert r.hedge_fees.sum() == pytest.approx(-1.5)


def test_slippage_grows_with_volatility_and_size():
    p = CostParams(k_vol=0.1, k_size=0.1)
    assert slippage_rate(0.01, 1000, 1e6, p) > slippage_rate(0.005, 1000, 1e6, p)
    assert slippage_rate(0.01, 2000, 1e6, p) > slippage_rate(0.01, 1000, 1e6, p)
    assert slippage_rate(float("nan"), 0.0, float("nan"), p) == 0.0
    assert slippage_rate(1.0, 1e9, 1.0, p) == p.max_slippage


def test_sigma_uses_only_earlier_bars():
    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (300, 2)), axis=0))
    s = sigma_before(close, 50)
    later = close.copy()
    later[200:] *= 3
    np.testing.assert_array_equal(sigma_before(later, 50)[:201], s[:201])
    r = np.diff(np.log(close[:, 0]))
    assert s[120, 0] == pytest.approx(np.std(r[69:119]), rel=1e-9)


def test_default_funding_every_eight_hours_from_midnight():
    snap = flat_market({"AAA": 100.0}, 4 * 24, t0=T0 - 7 * HOUR)  # one day from 00:00
    f, notes = funding_matrix(snap, CostParams())
    assert np.flatnonzero(f[:, 0]).tolist() == [0, 32, 64]
    assert "assumed" in notes[0]


def test_missing_bars_do_not_move_prices():
    snap = flat_market({"AAA": 100.0}, 5)
    o, c = snap.open.copy(), snap.close.copy()
    o[2], c[2] = np.nan, np.nan
    c[1] = 101.0
    snap2 = type(snap).build(source="t", timeframe_ms=TF, symbols=snap.symbols, times=snap.times,
                             open=o, high=np.fmax(o, c), low=np.fmin(o, c), close=c,
                             volume=snap.volume, server_time_ms=snap.server_time_ms)
    po, pc = filled_prices(snap2)
    assert po[2, 0] == 101.0 and pc[2, 0] == 101.0
