"""evaluate(): every part checked against the function that owns it, on the simulated market."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from core.evaluate import EngineParams, advance, evaluate, stream_start
from core.hedging import pair_fit
from core.recommend import HeldHedge
from core.returns import log_returns
from core.types import Position
from plugins.exchanges.sim_market import SimMarket
from settings import Config


def sim_snapshot(seed: int = 7, bars: int = 3080, **kw):
    market = SimMarket(Config().exchange.model_copy(update={"name": "sim", "seed": seed}), **kw)

    async def go():
        await market.load_instruments()
        return await market.snapshot(bars=bars)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def snap():
    return sim_snapshot()


def test_risk_and_hedges_match_the_single_position_functions(snap):
    btc, sol = "BTC-USDT-SWAP", "SOL-USDT-SWAP"
    positions = [Position(btc, "long", 0.5, snap.last_price(btc) * 1.01, 10),
                 Position(sol, "short", 40, snap.last_price(sol) * 0.99, 5)]
    res = evaluate(snap, positions)
    for i, pos in enumerate(positions):
        report = res.risk_report(i)
        assert res.risk.liquidation_price[i] == pytest.approx(report.liquidation_price, rel=1e-12)
        assert res.risk.touch_prob_24h[i] == pytest.approx(report.touch_prob_24h, rel=1e-9)
        hedge = res.hedge(i)
        r = log_returns(snap.close)[-96:]
        x, h = snap.index(pos.symbol), snap.index(hedge.hedge_symbol)
        fit = pair_fit(r[:, x], r[:, h], 77)
        assert hedge.beta_fast == pytest.approx(fit.beta, rel=1e-9)
        assert hedge.effectiveness == pytest.approx(fit.effectiveness, rel=1e-9)
        # a long is hedged by a short of β × its notional, and vice versa
        assert hedge.leg.side == ("short" if pos.side == "long" else "long")
        assert hedge.leg.notional == pytest.approx(
            abs(fit.beta) * pos.size * snap.last_price(pos.symbol), rel=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_leg_that_gains_in_cascades_ranks_first(seed):
    snap = sim_snapshot(seed)
    for sym in ("BTC-USDT-SWAP", "ETH-USDT-SWAP"):
        res = evaluate(snap, [Position(sym, "long", 1, snap.last_price(sym), 10)])
        top = res.counterweights_for(0).legs[0]
        assert (top.symbol, top.side) == ("VOLX-USDT-SWAP", "long")


def test_without_stress_history_counterweights_say_so(snap):
    calm = sim_snapshot(bars=400, counterweight=True)
    res = evaluate(calm, [Position("BTC-USDT-SWAP", "long", 1, calm.last_price(
        "BTC-USDT-SWAP"), 10)], EngineParams(min_stress_bars=200))
    cw = res.counterweights_for(0)
    assert not cw.enough_history and "too little stress history" in cw.notes[0]


def test_everything_is_json_ready(snap):
    pos = [Position("ETH-USDT-SWAP", "long", 2, snap.last_price("ETH-USDT-SWAP"), 20)]
    res = evaluate(snap, pos)
    payload = {"cascade": res.cascade.to_dict(), "hedge": res.hedge(0).to_dict(),
               "risk": res.risk_report(0).to_dict(),
               "counterweights": [c.to_dict() for c in res.counterweights_for(0).legs]}
    json.dumps(payload, allow_nan=False)


def test_unknown_symbol_is_a_warning_not_a_wrong_number(snap):
    res = evaluate(snap, [Position("PEPE-USDT-SWAP", "long", 1, 1.0, 10)])
    assert res.positions == () and any("PEPE" in w for w in res.warnings)


def test_take_profit_only_in_a_cascade_and_only_in_profit(snap):
    res = evaluate(snap, [], held_hedges=[HeldHedge(0, "BTC-USDT-SWAP", "short", 1, 1e9)])
    assert res.cascade.rank >= 0
    expected = 1 if res.cascade.rank >= 2 else 0
    assert len(res.take_profit) == expected


def test_cascade_reading_rises_in_the_simulated_cascade():
    """The sim schedules a cascade 18h after its clock: read the score before and in it."""
    market = SimMarket(Config().exchange.model_copy(update={"name": "sim"}))

    async def go():
        await market.load_instruments()
        calm = await market.snapshot(bars=3080)
        market.advance(bars=4 * 24)  # a day later: inside the scheduled cascade
        stormy = await market.snapshot(bars=3080)
        return calm, stormy

    calm, stormy = asyncio.run(go())
    a, b = evaluate(calm).cascade, evaluate(stormy).cascade
    assert b.score > a.score + 20, (a.to_dict(), b.to_dict())
    assert b.rank > a.rank


def test_incremental_advance_equals_recomputing(snap):
    state = stream_start(snap.upto(snap.n_bars - 2))
    state, fast, ewma = advance(state, snap.close[-2], snap.close[-1])
    full = evaluate(snap)
    np.testing.assert_allclose(fast, full.view.fast_corr, atol=1e-9)
    np.testing.assert_allclose(ewma, full.view.ewma_corr, atol=1e-9)


def test_binance_brackets_use_binance_formula_in_the_vectorised_path(snap):
    """Notional brackets with a maintenance amount: the engine's numbers equal the
    single-position report, which solves Binance's formula (no fee term, cum included)."""
    from dataclasses import replace as dc_replace

    from core.types import MarketSnapshot, Tier

    brackets = (Tier(1, 0, 50_000, 0.004, 125, unit="notional"),
                Tier(2, 50_000, 250_000, 0.005, 100, unit="notional", maintenance_amount=50),
                Tier(3, 250_000, 1e9, 0.01, 50, unit="notional", maintenance_amount=1300))
    btc = "BTC-USDT-SWAP"
    insts = {**snap.instruments, btc: dc_replace(snap.instruments[btc], tiers=brackets)}
    binance = MarketSnapshot(**{**snap.__dict__, "instruments": insts})
    price = binance.last_price(btc)
    positions = [Position(btc, "long", 0.3, price, 10),  # bracket 1
                 Position(btc, "short", 1.5, price, 20),  # bracket 2
                 Position(btc, "long", 4.0, price, 5)]  # bracket 3
    res = evaluate(binance, positions)
    for i in range(3):
        report = res.risk_report(i)
        assert res.risk.liquidation_price[i] == pytest.approx(report.liquidation_price,
                                                              rel=1e-12)
        assert res.risk.mmr[i] == report.mmr and res.risk.tier[i] == report.tier
    assert list(res.risk.tier) == [1, 2, 3]


def test_last_prices_are_each_symbols_last_price(snap):
    from dataclasses import replace as dc_replace

    close = snap.close.copy()
    close[-5:, 1] = np.nan  # the last bars missing: the last valid close
    close[:, 2] = np.nan  # no data at all: NaN (unless a mark is known)
    mark = {snap.symbols[3]: 123.5, snap.symbols[4]: float("nan"), snap.symbols[2]: 7.0}
    for m in ({}, mark):
        s = dc_replace(snap, close=close, mark=m)
        want = [s.last_price(sym) for sym in s.symbols]
        np.testing.assert_array_equal(s.last_prices(), want)
