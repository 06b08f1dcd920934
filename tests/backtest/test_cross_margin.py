"""Cross margin: one account for the main and its hedges, checked against hand calculations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backtest.costs import CostParams
from backtest.engine import BacktestParams, run_backtest
from backtest.margin import MaintenanceTable, maintenance
from core.evaluate import EngineParams
from core.liquidation import binance_liquidation_price, isolated_liquidation_price
from core.types import Instrument, Tier
from plugins.strategies.base import TargetLeg
from tests.backtest.helpers import OKX_TIERS, FixedHedge, path_market
from tests.backtest.test_cli import cli

FRICTIONLESS = CostParams(taker_fee=0.0, k_vol=0.0, k_size=0.0, funding=False)
MAIN, HEDGE = "AAA-USDT-SWAP", "BBB-USDT-SWAP"
BINANCE = (Tier(1, 0.0, 50_000.0, 0.004, 125.0, unit="notional"),
           Tier(2, 50_000.0, 250_000.0, 0.005, 100.0, unit="notional",
                maintenance_amount=50.0))


def run(snap, legs=(), **kw):
    params = BacktestParams(main=MAIN, costs=FRICTIONLESS, **kw)
    return run_backtest(snap, {"fixed": FixedHedge(legs)}, params, EngineParams())


def test_frictionless_static_short_hedge_equals_the_hand_calculation():
    # long 200 AAA at 100 (2,000 USDT at 10x); the hedge, short 60 BBB, is decided at bar 0's
    # close and filled at bar 1's open (50). At that fill equity is 2,000 and the exchange asks
    # for the initial margin of both, 200·100/10 + 60·50/10 = 2,300: the trader deposits 300.
    # Equity at a close = 2,300 + 200·(A − 100) − 60·(B − 50).
    snap = path_market({"AAA": [100, 100, 96, 92, 90, 89, 88, 87],
                        "BBB": [50, 50, 49, 48, 47.5, 47, 46.5, 46]},
                       lows={"AAA": {5: 87.5}, "BBB": {5: 46.8}})
    r = run(snap, [TargetLeg(HEDGE, "short", 60.0)]).runs["fixed"]
    assert [(t.t, t.delta, t.price, t.fee) for t in r.trades] == [(1, -60.0, 50.0, 0.0)]
    np.testing.assert_allclose(r.deposits, [2000, 2300, 2300, 2300, 2300, 2300, 2300, 2300])
    # bar 5 closes at 89 / 47: equity 2,300 − 2,200 + 180 = 280 above the maintenance margin
    # 0.4 % × (200·89 + 60·47) = 82.48; but with both at their lows (87.5 / 46.8) equity is
    # 2,300 − 2,500 + 192 = −8, below 0.4 % × (200·87.5 + 60·46.8) = 81.23: the account is
    # liquidated in bar 5 and what was left is lost
    np.testing.assert_allclose(r.equity, [2000, 2300, 1560, 820, 450, 0, 0, 0], atol=1e-9)
    (ev,) = r.liquidations
    assert (ev.t, ev.symbol, ev.main) == (5, "account", True)
    assert ev.margin_lost == pytest.approx(280.0)
    assert r.collateral == 2300.0 and r.pnl[-1] == -2300.0


def test_the_account_survives_bar_4_by_hand():
    # the same market to bar 4 only: 450 against 0.4 % × (200·90 + 60·47.5) = 83.4
    snap = path_market({"AAA": [100, 100, 96, 92, 90], "BBB": [50, 50, 49, 48, 47.5]})
    r = run(snap, [TargetLeg(HEDGE, "short", 60.0)]).runs["fixed"]
    assert not r.liquidations and r.equity[-1] == pytest.approx(450.0)


def _correlated():
    down = list(np.linspace(100, 85, 16))
    up = list(np.linspace(85, 115, 31))[1:]
    a = [100.0, *down, *up]
    return path_market({"AAA": a, "BBB": [x / 2 for x in a]})


def test_a_perfectly_correlated_hedge_never_liquidates_in_cross():
    snap = _correlated()
    legs = [TargetLeg(HEDGE, "short", 400.0)]  # the same notional as the main: β = 1
    cross = run(snap, legs).runs["fixed"]
    assert not cross.liquidations
    # every move of the main is offset: equity stays at the collateral, 2,000 + 2,000
    np.testing.assert_allclose(cross.equity[1:], 4000.0)
    iso = run(snap, legs, margin="isolated").runs["fixed"]
    liq = float(isolated_liquidation_price(100.0, 200.0, 1, 2000.0, 0.004, 0.0))
    (ev,) = iso.liquidations
    assert ev.main and ev.price == pytest.approx(liq)
    assert snap.low[ev.t, 0] <= liq < snap.low[ev.t - 1, 0]
    # the main's margin is gone and the hedge is closed with it: flat from then on, the
    # hedge's gain making up for the lost margin, but no position left to ride the rally
    assert not iso.holdings[ev.t + 1:].any()
    assert np.all(iso.equity[ev.t:] == iso.equity[ev.t])


@pytest.mark.parametrize("tiers,side", [(OKX_TIERS, "long"), (OKX_TIERS, "short"),
                                        (BINANCE, "long"), (BINANCE, "short")])
def test_one_position_in_cross_liquidates_where_isolated_with_the_collateral_does(tiers, side):
    sign = 1 if side == "long" else -1
    path = [100.0 - sign * 0.25 * k for k in range(60)]
    snap = path_market({"AAA": path, "BBB": [50.0] * 60}, tiers=tiers)
    if tiers is OKX_TIERS:
        liq = float(isolated_liquidation_price(100.0, 200.0, sign, 2000.0, 0.004, 0.0))
    else:
        liq = float(binance_liquidation_price(100.0, 200.0, sign, 2000.0, tiers))
    for margin in ("cross", "isolated"):
        r = run(snap, side=side, margin=margin).runs["fixed"]
        (ev,) = r.liquidations
        crossed = snap.low[:, 0] <= liq if sign > 0 else snap.high[:, 0] >= liq
        assert ev.t == int(np.flatnonzero(crossed)[0]), margin


def test_maintenance_follows_the_tiers():
    okx = MaintenanceTable.of(Instrument("X", "X", contract_value=0.01, tiers=(
        Tier(1, 0, 100, 0.004, 100), Tier(2, 100, 200, 0.006, 50))))
    # 1 X = 100 contracts (tier 1), 1.01 X = 101 contracts (tier 2); the fee adds to the rate
    assert maintenance(okx, 1.0, np.array([50.0]), 0.0005)[0] == pytest.approx(50 * 0.0045)
    assert maintenance(okx, 1.01, np.array([50.0]), 0.0)[0] == pytest.approx(50.5 * 0.006)
    bn = MaintenanceTable.of(Instrument("Y", "Y", tiers=BINANCE))
    px = np.array([40_000.0, 60_000.0])
    np.testing.assert_allclose(maintenance(bn, 1.0, px, 0.0005),
                               [40_000 * 0.004, 60_000 * 0.005 - 50])
    assert maintenance(MaintenanceTable.of(Instrument("Z", "Z")), 2.0, np.array([10.0]),
                       0.0)[0] == pytest.approx(20 * 0.004)


def test_the_frictionless_switches_turn_every_cost_off(capsys):
    assert cli(["backtest", "--exchange", "sim", "--days", "3", "--fees", "0", "--slippage",
                "0", "--funding", "off", "--json", "--no-progress"]) == 0
    data = json.loads(capsys.readouterr().out)
    for m in data["strategies"].values():
        assert m["fees"] == 0 and m["slippage"] == 0 and m["funding"] == 0
    assert data["margin"] == "cross"
    assert any(a.startswith("Funding: off") for a in data["assumptions"])
    assert any("taker 0.0000%" in a for a in data["assumptions"])


def test_a_book_is_held_by_weight_and_hedged_as_one_position():
    snap = path_market({"AAA": [100.0] * 6, "BBB": [50.0] * 6, "CCC": [10.0] * 6})
    params = BacktestParams(main=MAIN, costs=FRICTIONLESS,
                            weights=((MAIN, 0.75), (HEDGE, 0.25)))
    r = run_backtest(snap, {"fixed": FixedHedge([TargetLeg("CCC-USDT-SWAP", "short", 500.0)])},
                     params, EngineParams())
    run = r.runs["fixed"]
    # 20,000 USDT of notional: 15,000 in AAA (150 units), 5,000 in BBB (100 units)
    assert run.holdings[0, :3].tolist() == [150.0, 100.0, 0.0]
    assert run.holdings[1, :3].tolist() == [150.0, 100.0, -500.0]
    # the strategies see one position in the BOOK index, sized to the whole notional
    assert r.snap.symbols[-1] == "BOOK" and r.main_size * r.main_entry == pytest.approx(20_000)
    assert run.collateral == pytest.approx(2000 + 500)  # the hedge's 5,000 at 10x


def test_a_market_of_one_symbol_has_nothing_to_hedge_with():
    from plugins.strategies.builtin import BUILTIN_STRATEGIES

    snap = path_market({"AAA": [100.0 + (k % 7) for k in range(300)]})
    r = run_backtest(snap, {c.name: c() for c in BUILTIN_STRATEGIES},
                     BacktestParams(main=MAIN, costs=FRICTIONLESS), EngineParams())
    assert set(r.runs) == {c.name for c in BUILTIN_STRATEGIES}
    for run in r.runs.values():
        assert not run.trades and run.collateral == 2000.0
        np.testing.assert_allclose(run.equity, r.runs["none"].equity)
