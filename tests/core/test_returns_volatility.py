"""Log returns, realised and EWMA volatility, checked against pandas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.returns import annualise, bars_per_year, log_returns
from core.volatility import ewma_vol, realised_vol, rolling_vol, vol_ratio

TOL = 1e-9


def _returns(seed: int, t: int = 600, n: int = 4, gaps: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = rng.standard_normal((t, n)) * 0.01 + 0.0005
    if gaps:
        r[rng.random((t, n)) < 0.07] = np.nan
        r[:80, 1] = np.nan  # listed late
        r[300:350, 2] = np.nan  # an outage
    return r


def test_bars_per_year_is_24_7():
    assert bars_per_year(15 * 60 * 1000) == 35_040
    assert bars_per_year(60 * 60 * 1000) == 8_760
    assert annualise(0.01, 3_600_000) == pytest.approx(0.01 * math.sqrt(8760))
    with pytest.raises(ValueError):
        bars_per_year(0)


def test_log_returns_are_nan_when_either_bar_is_missing():
    close = np.array([[100.0, 10.0], [110.0, np.nan], [121.0, 12.0], [0.0, 13.0]])
    r = log_returns(close)
    assert r.shape == close.shape
    assert np.isnan(r[0]).all()
    assert r[1, 0] == pytest.approx(math.log(1.1))
    assert np.isnan(r[1, 1]) and np.isnan(r[2, 1])  # both sides of the hole
    assert r[2, 0] == pytest.approx(math.log(1.1))
    assert np.isnan(r[3, 0])  # non-positive price is not a price
    assert r[3, 1] == pytest.approx(math.log(13 / 12))


def test_log_returns_of_complete_closes_are_the_log_differences():
    close = 100 * np.exp(np.cumsum(_returns(3, gaps=False), axis=0))
    r = log_returns(close)
    assert np.isnan(r[0]).all()
    np.testing.assert_array_equal(r[1:], np.diff(np.log(close), axis=0))
    assert log_returns(close[:1]).shape == (1, 4) and log_returns(close[:0]).shape == (0, 4)


@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize(("window", "min_periods"), [(96, 77), (20, 5), (288, 230)])
def test_rolling_vol_matches_pandas_rolling_std(gaps, window, min_periods):
    r = _returns(1, gaps=gaps)
    ref = pd.DataFrame(r).rolling(window, min_periods=min_periods).std().to_numpy()
    got = rolling_vol(r, window, min_periods)
    np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(realised_vol(r, window, min_periods), ref[-1], atol=TOL, rtol=0)


def test_rolling_vol_survives_a_large_mean():
    r = _returns(2, gaps=False) + 5.0  # centring keeps the sum-of-squares formula exact
    ref = pd.DataFrame(r).rolling(96, min_periods=77).std().to_numpy()
    np.testing.assert_allclose(rolling_vol(r, 96, 77), ref, atol=TOL, rtol=0)


@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize("halflife", [6.0, 24.0, 100.0])
def test_ewma_vol_matches_pandas_ewm_std(gaps, halflife):
    r = _returns(3, gaps=gaps)
    r[-1, 3] = np.nan  # a missing last bar keeps the previous estimate, as in pandas
    ref = pd.DataFrame(r).ewm(halflife=halflife, adjust=False).std().to_numpy()[-1]
    got = ewma_vol(r, halflife)
    np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)


def test_ewma_vol_min_periods_and_single_observation():
    r = np.full((50, 2), np.nan)
    r[10:, 0] = np.random.default_rng(4).standard_normal(40) * 0.01
    r[49, 1] = 0.01
    got = ewma_vol(r, 10.0, min_periods=30)
    ref = pd.DataFrame(r).ewm(halflife=10.0, adjust=False, min_periods=30).std().iloc[-1]
    np.testing.assert_allclose(got, ref.to_numpy(), atol=TOL, rtol=0)
    assert np.isnan(ewma_vol(r, 10.0)[1])  # one return is no volatility estimate


def test_vol_ratio_is_nan_not_inf_for_zero_slow_vol():
    np.testing.assert_array_equal(vol_ratio(np.array([0.02, 0.01, np.nan]),
                                            np.array([0.01, 0.0, 0.01])), [2.0, np.nan, np.nan])
