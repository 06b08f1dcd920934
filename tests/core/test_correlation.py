"""One-window Pearson and EWMA matrices against pandas, a slow recursion, and properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.correlation import (
    centred,
    ewma_beta,
    ewma_moments,
    ewma_weights,
    hedge_beta,
    window_moments,
)
from core.views import CorrelationParams, correlation_view, largest_changes, mean_pairwise

TOL = 1e-9


def _returns(seed: int, t: int = 500, n: int = 5, gaps: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((t, 1)) * 0.01
    r = common * rng.uniform(0.2, 1.5, n) + rng.standard_normal((t, n)) * 0.01 + 0.0003
    if gaps:
        r[rng.random((t, n)) < 0.06] = np.nan
        r[:120, 2] = np.nan
        r[350:420, 4] = np.nan
        r[-1, 1] = np.nan
    return r


def _last(frame: pd.DataFrame, n: int) -> np.ndarray:
    return frame.to_numpy()[-n:]


@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize(("window", "min_periods"), [(96, 77), (200, 150), (40, 2)])
def test_window_matrices_match_pandas_rolling(gaps, window, min_periods):
    r = _returns(1, gaps=gaps)
    roll = pd.DataFrame(r).rolling(window, min_periods=min_periods)
    cov, corr, n_obs = window_moments(r, window, min_periods)
    for got, ref in ((corr, _last(roll.corr(), 5)), (cov, _last(roll.cov(), 5))):
        np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    ok = np.isfinite(r[-window:]).astype(float)
    np.testing.assert_array_equal(n_obs, ok.T @ ok)


@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize(("halflife", "min_periods"), [(24.0, 0), (6.0, 77), (300.0, 10)])
def test_ewma_matrices_match_pandas_adjust_false(gaps, halflife, min_periods):
    r = _returns(2, gaps=gaps)
    ewm = pd.DataFrame(r).ewm(halflife=halflife, adjust=False, min_periods=min_periods)
    cov, corr, _ = ewma_moments(r, halflife, min_periods)
    for got, ref in ((corr, _last(ewm.corr(), 5)), (cov, _last(ewm.cov(), 5))):
        np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))


def _slow_ewma_mean_weights(observed: np.ndarray, halflife: float) -> np.ndarray:
    """pandas' adjust=False loop, written out, applied to unit vectors to read the weights."""
    beta = ewma_beta(halflife)
    alpha = 1 - beta
    t_len = observed.size
    out = np.zeros(t_len)
    for k in range(t_len):
        mean, old_wt = math.nan, 1.0
        for i in range(t_len):
            if not math.isnan(mean):
                old_wt *= beta
                if observed[i]:
                    x = float(i == k)
                    mean = (old_wt * mean + alpha * x) / (old_wt + alpha)
                    old_wt = 1.0
            elif observed[i]:
                mean = float(i == k)
        out[k] = 0.0 if math.isnan(mean) else mean
    return out


@given(st.lists(st.booleans(), min_size=1, max_size=40), st.floats(0.5, 50))
def test_ewma_weights_equal_the_recursion(observed, halflife):
    obs = np.array(observed)
    w = ewma_weights(obs, halflife)
    np.testing.assert_allclose(w, _slow_ewma_mean_weights(obs, halflife), atol=1e-12)
    if obs.any():
        assert w.sum() == pytest.approx(1.0)
    assert (w[~obs] == 0).all()


def test_a_pair_without_overlap_is_nan_never_zero():
    r = _returns(3, gaps=False)
    r[:250, 0] = np.nan
    r[250:, 1] = np.nan
    for cov, corr, _ in (window_moments(r, 500, 10), ewma_moments(r, 24.0, 10)):
        assert np.isnan(corr[0, 1]) and np.isnan(corr[1, 0]) and np.isnan(cov[0, 1])
        assert corr[0, 0] == 1.0 and corr[1, 1] == 1.0


def test_hedge_beta_is_cov_over_hedge_variance():
    r = _returns(4, gaps=False)
    cov, _, _ = window_moments(r, 200, 150)
    beta = hedge_beta(cov)
    x, h = pd.Series(r[-200:, 0]), pd.Series(r[-200:, 1])
    assert beta[0, 1] == pytest.approx(x.cov(h) / h.var(), abs=1e-12)
    np.testing.assert_allclose(np.diagonal(beta), 1.0)


masks = st.integers(0, 2**31 - 1)


@settings(max_examples=60, deadline=None)
@given(seed=masks, n=st.integers(1, 6), window=st.integers(3, 60), frac=st.floats(0, 0.6),
       min_periods=st.integers(0, 60))
def test_window_matrix_properties(seed, n, window, frac, min_periods):
    rng = np.random.default_rng(seed)
    r = rng.standard_normal((80, n)) * 0.01
    r[rng.random((80, n)) < frac] = np.nan
    cov, corr, n_obs = window_moments(r, window, min_periods)
    enough = n_obs >= max(min_periods, 2)
    np.testing.assert_array_equal(np.isfinite(corr), enough)  # NaN exactly where too few
    np.testing.assert_array_equal(np.isfinite(cov), enough)
    np.testing.assert_array_equal(corr, corr.T)
    assert (np.abs(corr[enough]) <= 1.0).all()
    assert (np.diagonal(corr)[np.diagonal(enough)] == 1.0).all()


@settings(max_examples=40, deadline=None)
@given(seed=masks, n=st.integers(1, 5), frac=st.floats(0, 0.6), min_periods=st.integers(0, 30))
def test_ewma_matrix_properties(seed, n, frac, min_periods):
    rng = np.random.default_rng(seed)
    r = rng.standard_normal((60, n)) * 0.01
    r[rng.random((60, n)) < frac] = np.nan
    _, corr, n_obs = ewma_moments(r, 8.0, min_periods)
    enough = n_obs >= max(min_periods, 2)
    np.testing.assert_array_equal(np.isfinite(corr), enough)
    np.testing.assert_allclose(corr, corr.T, atol=1e-15)
    assert (np.abs(corr[enough]) <= 1.0).all()


def _closes(seed: int, t: int = 3200, n: int = 4) -> np.ndarray:
    r = _returns(seed, t=t, n=n, gaps=False)
    return 100 * np.exp(np.cumsum(r, axis=0))


def test_correlation_view_matches_the_parts():
    close = _closes(5)
    close[-30:, 3] = np.nan
    p = CorrelationParams()
    v = correlation_view(close, p)
    r = np.diff(np.log(close), axis=0)
    roll = pd.DataFrame(r).rolling(96, min_periods=77)
    np.testing.assert_allclose(v.fast_corr, _last(roll.corr(), 4), atol=TOL, rtol=0)
    np.testing.assert_allclose(v.vol_fast, roll.std().to_numpy()[-1], atol=TOL, rtol=0)
    ewm = pd.DataFrame(r).ewm(halflife=24.0, adjust=False, min_periods=77)
    np.testing.assert_allclose(v.ewma_corr, _last(ewm.corr(), 4), atol=TOL, rtol=0)
    np.testing.assert_allclose(v.vol_ewma_ann, ewm.std().to_numpy()[-1] * math.sqrt(35040),
                               atol=TOL)
    assert v.market_index == pytest.approx(mean_pairwise(v.fast_corr))
    assert math.isfinite(v.market_z)
    assert math.isnan(correlation_view(close, p, with_z=False).market_z)


@pytest.mark.parametrize("gaps", [False, True])
def test_centred_is_minus_the_column_mean_with_zeros_for_gaps(gaps):
    r = _returns(8, gaps=gaps)
    x, m = centred(r)
    want = np.where(np.isfinite(r), r - np.nanmean(r, axis=0), 0.0)
    np.testing.assert_allclose(x, want, rtol=0, atol=1e-17)
    np.testing.assert_array_equal(m, np.isfinite(r).astype(float))


def test_correlation_view_from_given_returns_is_the_same_view():
    close = _closes(7)
    close[-30:, 1] = np.nan
    p = CorrelationParams()
    a = correlation_view(close, p)
    b = correlation_view(close, p, returns=np.diff(np.log(close), axis=0, prepend=np.nan))
    for name in ("fast_corr", "slow_corr", "ewma_cov", "vol_slow", "vol_ratio", "market_z"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-12)


def test_largest_changes_orders_by_absolute_change_and_skips_nan():
    close = _closes(6)
    v = correlation_view(close, CorrelationParams(), with_z=False)
    syms = ("BTC", "ETH", "SOL", "XRP")
    top = largest_changes(v, syms, k=3)
    assert len(top) == 3
    assert [abs(c.change) for c in top] == sorted((abs(c.change) for c in top), reverse=True)
    assert all(c.change == pytest.approx(c.fast - c.slow) for c in top)
    close[-60:, 0] = np.nan  # BTC missing for the fast window: its pairs are not "changes"
    v = correlation_view(close, CorrelationParams(), with_z=False)
    assert all("BTC" not in (c.a, c.b) for c in largest_changes(v, syms, k=10))
    with pytest.raises(ValueError):
        largest_changes(v, syms[:3])


def test_params_reject_inverted_windows():
    with pytest.raises(ValueError):
        CorrelationParams(fast=100, slow=50)
