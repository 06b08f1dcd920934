"""Hedge ratios against ordinary least squares; multi-leg against a direct fit; effectiveness
against the variance reduction measured on held-out bars."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.hedging import (
    beta_matrix,
    ewma_beta_matrix,
    multi_leg,
    pair_fit,
    portfolio_hedge,
    size_leg,
)
from core.types import Instrument


def ols_slope(x, h):
    ok = np.isfinite(x) & np.isfinite(h)
    a = np.column_stack([np.ones(ok.sum()), h[ok]])
    coef, *_ = np.linalg.lstsq(a, x[ok], rcond=None)
    return coef[1]


def correlated(rng, t=2000, n=5, gaps=0.0):
    f = rng.normal(size=(t, 1))
    r = 0.01 * (f * rng.uniform(0.3, 1.0, size=n) + rng.normal(size=(t, n)) * 0.7)
    if gaps:
        r[rng.random(r.shape) < gaps] = np.nan
    return r


@pytest.mark.parametrize("gaps", [0.0, 0.1])
def test_pair_beta_equals_ols(gaps):
    r = correlated(np.random.default_rng(1), gaps=gaps)
    fit = pair_fit(r[:, 0], r[:, 1], min_periods=10)
    assert fit.beta == pytest.approx(ols_slope(r[:, 0], r[:, 1]), rel=1e-9)
    assert fit.effectiveness == pytest.approx(fit.rho ** 2)


@pytest.mark.parametrize("gaps", [0.0, 0.15])
def test_beta_matrix_equals_pairwise_ols(gaps):
    r = correlated(np.random.default_rng(2), t=500, gaps=gaps)
    beta, rho, _ = beta_matrix(r, window=300, min_periods=50)
    w = r[-300:]
    for i in range(5):
        for j in range(5):
            if i != j:
                assert beta[i, j] == pytest.approx(ols_slope(w[:, i], w[:, j]), rel=1e-9)
                assert rho[i, j] == pytest.approx(pair_fit(w[:, i], w[:, j], 50).rho, rel=1e-9)


def test_pair_below_min_periods_is_not_available():
    r = correlated(np.random.default_rng(3), t=100)
    r[:90, 1] = np.nan
    beta, rho, n = beta_matrix(r, window=100, min_periods=20)
    assert np.isnan(beta[0, 1]) and np.isnan(rho[0, 1]) and n[0, 1] == 10
    assert np.isnan(pair_fit(r[:, 0], r[:, 1], 20).beta)


def test_ewma_beta_from_covariance():
    cov = np.array([[4.0, 1.0], [1.0, 2.0]])
    assert ewma_beta_matrix(cov)[0, 1] == 0.5 and ewma_beta_matrix(cov)[1, 0] == 0.25


def test_multi_leg_equals_direct_least_squares():
    rng = np.random.default_rng(4)
    h = rng.normal(size=(5000, 3)) @ np.array([[1, 0.5, 0.2], [0, 1, 0.3], [0, 0, 1.0]])
    x = h @ np.array([0.8, -0.3, 0.5]) + rng.normal(size=5000) * 0.5
    data = np.column_stack([x, h])
    fit = multi_leg(np.cov(data, rowvar=False), 0, [1, 2, 3], ridge=0.0)
    a = np.column_stack([np.ones(len(x)), h])
    coef, *_ = np.linalg.lstsq(a, x, rcond=None)
    np.testing.assert_allclose(-fit.weights, coef[1:], rtol=1e-9)
    resid = x - a @ coef
    assert fit.effectiveness == pytest.approx(1 - resid.var() / x.var(), rel=1e-9)
    assert 1 <= fit.condition < 100


def test_multi_leg_ridge_keeps_collinear_legs_stable():
    rng = np.random.default_rng(5)
    h1 = rng.normal(size=3000)
    h2 = h1 + rng.normal(size=3000) * 1e-6  # nearly the same instrument
    x = h1 + rng.normal(size=3000) * 0.3
    cov = np.cov(np.column_stack([x, h1, h2]), rowvar=False)
    fit = multi_leg(cov, 0, [1, 2], ridge=1e-4)
    assert fit.condition > 1e8
    assert np.all(np.abs(fit.weights) < 1.0)  # split between legs is sane, not ±1e5
    assert -fit.weights.sum() == pytest.approx(1.0, rel=0.01)  # the total hedge is right


def test_effectiveness_predicts_held_out_variance_reduction():
    rng = np.random.default_rng(6)
    t = 40_000
    h = rng.standard_t(df=5, size=t) * 0.01
    x = 0.9 * h + rng.normal(size=t) * 0.006
    train, test = slice(0, t // 2), slice(t // 2, t)
    fit = pair_fit(x[train], h[train], 100)
    hedged = x[test] - fit.beta * h[test]
    measured = 1 - hedged.var() / x[test].var()
    se = 2 * np.sqrt(2 / (t // 2))  # sampling error of a variance ratio, generously
    assert abs(measured - fit.effectiveness) < 3 * se


def test_portfolio_hedge_matches_hedging_the_summed_pnl():
    rng = np.random.default_rng(7)
    r = correlated(rng, t=5000, n=4)
    exposures = np.array([10_000.0, -4_000.0, 0.0, 0.0])
    pnl = r @ exposures
    fit = portfolio_hedge(np.cov(r, rowvar=False), exposures, [2, 3], ridge=0.0)
    a = np.column_stack([np.ones(len(pnl)), r[:, [2, 3]]])
    coef, *_ = np.linalg.lstsq(a, pnl, rcond=None)
    np.testing.assert_allclose(-fit.weights, coef[1:], rtol=1e-8)


def test_leg_sizes_in_base_contracts_and_usdt():
    eth = Instrument("ETH-USDT-SWAP", "ETH", contract_value=0.1)
    leg = size_leg(eth, hedge_notional=-30_000.0, price=3000.0, beta=0.9)
    assert leg.side == "short" and leg.size == pytest.approx(10.0)
    assert leg.contracts == pytest.approx(100.0) and leg.notional == 30_000.0
    assert size_leg(eth, float("nan"), 3000.0, 0.9) is None


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000))
def test_effectiveness_is_a_share(seed):
    r = correlated(np.random.default_rng(seed), t=200, n=3, gaps=0.05)
    cov = np.cov(r[np.all(np.isfinite(r), axis=1)], rowvar=False)
    fit = multi_leg(cov, 0, [1, 2])
    assert 0.0 <= fit.effectiveness <= 1.0
