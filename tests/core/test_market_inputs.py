"""Cascade inputs from snapshot histories, checked by hand; NaN when the source lacks them."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from core.market_inputs import (
    _nanmedian,
    depth_drop,
    funding_abs,
    funding_per_day,
    liquidation_ratio,
    market_returns,
    oi_drop,
)
from core.types import DepthSeries, StatSeries

H = 3_600_000


def series(values, step=H, end=100 * H):
    v = np.asarray(values, dtype=float)
    t = end - step * np.arange(len(v) - 1, -1, -1)
    return StatSeries(t.astype(np.int64), v)


def depth(totals, end=100 * H):
    s = series(totals, end=end)
    half = np.column_stack([s.values / 4, s.values / 2, s.values]) / 2
    return DepthSeries(s.times, half, half)


def test_depth_drop_against_recent_median():
    d = {"BTC": depth([100, 100, 100, 100, 100, 35]), "ETH": depth([10, 10, 10, 10, 10, 5])}
    # depth-weighted: 1 - (35 + 5) / (100 + 10); the majors' books weigh most
    assert depth_drop(d, 100 * H) == pytest.approx(1 - 40 / 110)
    assert depth_drop(d, 100 * H, symbols=["BTC"]) == pytest.approx(0.65)
    assert math.isnan(depth_drop({}, 100 * H))
    assert math.isnan(depth_drop({"BTC": depth([1, 2])}, 100 * H))  # too few points


def test_oi_drop_is_notional_weighted_from_the_high():
    oi = {"BTC": series([100, 120, 90]), "ETH": series([50, 50, 50])}
    assert oi_drop(oi, 100 * H) == pytest.approx(1 - 140 / 170)
    assert math.isnan(oi_drop({}, 100 * H))


def test_liquidation_ratio():
    liq = {"BTC": series([1.0] * 20 + [30.0])}
    assert liquidation_ratio(liq, 100 * H) == pytest.approx(30.0)
    assert math.isnan(liquidation_ratio({}, 100 * H))


def test_funding():
    f = {"BTC": series([0.0001, -0.003]), "ETH": series([0.0002])}
    assert funding_abs(f) == pytest.approx(0.003)
    assert funding_per_day(f)["ETH"] == pytest.approx(0.0006)
    assert math.isnan(funding_abs({}))




def test_market_return_is_the_mean_of_available_symbols():
    r = np.array([[0.01, 0.03], [np.nan, 0.02], [np.nan, np.nan]])
    np.testing.assert_allclose(market_returns(r)[:2], [0.02, 0.02])
    assert math.isnan(market_returns(r)[2])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 95, 96, 672])
def test_short_median_is_numpys_nanmedian(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        v = rng.lognormal(size=n) * 1e6
        v[rng.random(n) < 0.2] = np.nan
        if n and rng.random() < 0.3:
            v[int(rng.integers(n))] = np.inf
        got = _nanmedian(v)
        with warnings.catch_warnings():  # all-NaN: numpy warns, we just say NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.nanmedian(v)
        assert got == want or (math.isnan(got) and math.isnan(want))
