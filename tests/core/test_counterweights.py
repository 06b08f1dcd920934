"""Counterweights: a leg that gains in cascades ranks first; too little stress is said."""

from __future__ import annotations

import numpy as np

from core.counterweights import counterweights, stress_mask
from core.volatility import rolling_vol


def market_with_cascades(seed=0, t=3000):
    """Five coins on one factor, plus VOLX that jumps when the factor crashes."""
    rng = np.random.default_rng(seed)
    stress = np.zeros(t, dtype=bool)
    for start in (800, 1900, 2600):
        stress[start:start + 60] = True
    f = rng.normal(0, 0.002, t) + np.where(stress, rng.normal(-0.004, 0.01, t), 0.0)
    coins = f[:, None] * rng.uniform(0.8, 1.2, 5) + rng.normal(0, 0.0015, (t, 5))
    volx = -2.0 * np.minimum(f, 0) + rng.normal(0, 0.001, t)
    noise = rng.normal(0, 0.002, t)
    r = np.column_stack([coins, volx, noise])
    return r, ["BTC", "ETH", "SOL", "XRP", "DOGE", "VOLX", "NOISE"], stress


def test_the_leg_that_gains_in_cascades_ranks_first():
    r, syms, _ = market_with_cascades()
    mkt = np.nanmean(r[:, :5], axis=1)
    vol = rolling_vol(mkt, 96, 48)[:, 0]
    stress = stress_mask(vol)
    res = counterweights(r, syms, target=0, sign=1, stress=stress,
                         vol_change=np.diff(vol, prepend=np.nan), k=3)
    assert res.enough_history
    top = res.legs[0]
    assert top.symbol == "VOLX" and top.side == "long"
    assert top.stress_corr < -0.5 and top.vol_beta > 0
    # for a short BTC position the other coins, held long, offset stress losses... the
    # best counterweight to a short is a long in what gains when BTC rips (none here) — the
    # short is itself the crash hedge, so VOLX must not be its top leg as a long
    short = counterweights(r, syms, target=0, sign=-1, stress=stress,
                           vol_change=np.diff(vol, prepend=np.nan), k=3)
    assert not (short.legs[0].symbol == "VOLX" and short.legs[0].side == "long")


def test_carry_and_liquidity_enter_the_score():
    r, syms, _ = market_with_cascades(seed=1)
    stress = np.zeros(len(r), dtype=bool)
    stress[800:860] = True
    base = counterweights(r, syms, 0, 1, stress, np.zeros(len(r)), k=10)
    paid = counterweights(r, syms, 0, 1, stress, np.zeros(len(r)),
                          funding_per_day={"VOLX": 0.003}, depth_usdt={"VOLX": 5e6}, k=10)
    volx = {c.symbol: c for c in paid.legs}["VOLX"]
    assert volx.carry_per_day == -0.003  # a long pays positive funding
    assert volx.depth_usdt == 5e6
    assert base.notes != paid.notes


def test_too_little_stress_history_is_said():
    r, syms, _ = market_with_cascades()
    stress = np.zeros(len(r), dtype=bool)
    stress[:5] = True
    res = counterweights(r, syms, 0, 1, stress, np.zeros(len(r)), min_stress_bars=24)
    assert not res.enough_history and res.legs == ()
    assert "too little stress history" in res.notes[0]
