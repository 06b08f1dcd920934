"""Counterweights: a leg that gains in cascades ranks first; too little stress is said."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.counterweights import (
    CARRY_FULL,
    DEPTH_FULL,
    WEIGHTS,
    _vector_corr,
    counterweight_basis,
    counterweights,
    rank_counterweights,
    rank_counterweights_many,
    stress_mask,
)
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


def _slow_rank(basis, target, sign, k):
    """Every leg scored one by one in plain Python, then sorted: the obvious version."""
    rows = []
    for j in range(len(basis.symbols)):
        if j == target:
            continue
        depth = basis.depth_usdt[j]
        liq = (min(max(math.log10(depth / 1e5) / math.log10(DEPTH_FULL / 1e5), 0), 1)
               if math.isfinite(depth) and depth > 0 else 0.0)
        best = None
        for side, name in ((1.0, "long"), (-1.0, "short")):
            sc = side * sign * basis.stress_corr[target, j]
            if not math.isfinite(sc):
                continue
            cc = side * sign * basis.calm_corr[target, j]
            vb = side * basis.vol_beta[j]
            carry = -side * basis.funding_per_day[j]
            score = (WEIGHTS["stress_corr"] * -sc + WEIGHTS["convexity"] * _finite(cc - sc)
                     + WEIGHTS["vol_beta"] * _finite(vb)
                     + WEIGHTS["carry"] * _finite(min(max(carry / CARRY_FULL, -1), 1))
                     + WEIGHTS["liquidity"] * liq)
            if best is None or score > best[0]:  # ties go to the long, as in the engine
                best = (score, name, sc, cc)
        if best is not None:
            rows.append((-best[0], j, best[1], best[2], best[3]))
    return [(basis.symbols[j], side, -neg, sc, cc) for neg, j, side, sc, cc in sorted(rows)[:k]]


def _finite(x):
    return 0.0 if math.isnan(x) else x


def test_many_keys_at_once_match_one_leg_at_a_time():
    r, syms, _ = market_with_cascades(seed=2)
    r[np.random.default_rng(2).random(r.shape) < 0.02] = np.nan
    stress = np.zeros(len(r), dtype=bool)
    stress[800:900] = True
    basis = counterweight_basis(r, syms, stress, np.random.default_rng(3).normal(size=len(r)),
                                funding_per_day={"VOLX": 0.002, "ETH": -0.0005},
                                depth_usdt={"BTC": 2e7, "VOLX": 3e5})
    targets = [0, 5, 3, 0, 6, 2]
    signs = [1, 1, -1, -1, 1, -1]
    many = rank_counterweights_many(basis, targets, signs, k=4, min_stress_bars=24)
    for res, t, s in zip(many, targets, signs, strict=True):
        want = _slow_rank(basis, t, s, 4)
        got = [(c.symbol, c.side, c.score, c.stress_corr, c.calm_corr) for c in res.legs]
        assert [g[:2] for g in got] == [w[:2] for w in want]
        np.testing.assert_allclose([g[2:] for g in got], [w[2:] for w in want], rtol=1e-12)
        one = rank_counterweights(basis, t, s, k=4, min_stress_bars=24)
        assert [(c.symbol, c.side, c.score) for c in one.legs] == [g[:3] for g in got]


def test_many_keys_say_which_have_too_little_stress():
    r, syms, _ = market_with_cascades()
    stress = np.zeros(len(r), dtype=bool)
    stress[:30] = True
    r[:30, 1] = np.nan  # ETH has no stress bars; the others have 30
    basis = counterweight_basis(r, syms, stress, np.zeros(len(r)))
    many = rank_counterweights_many(basis, [0, 1], [1, 1], min_stress_bars=24)
    assert many[0].enough_history and len(many[0].legs) == 3
    assert not many[1].enough_history and many[1].legs == () and many[1].n_stress == 0


@pytest.mark.parametrize("scattered", [False, True])
def test_vol_beta_is_each_columns_pairwise_correlation(scattered):
    rng = np.random.default_rng(4)
    xs = rng.normal(size=(800, 6))
    y = rng.normal(size=800) + xs[:, 0] - xs[:, 3]
    xs[0], xs[300:320] = np.nan, np.nan  # gaps every symbol shares
    y[:50] = np.nan
    if scattered:
        xs[rng.random(xs.shape) < 0.05] = np.nan
    got = _vector_corr(y, xs)
    for j in range(xs.shape[1]):
        ok = np.isfinite(xs[:, j]) & np.isfinite(y)
        assert got[j] == pytest.approx(np.corrcoef(xs[ok, j], y[ok])[0, 1], rel=1e-12)
