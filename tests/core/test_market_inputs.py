"""Cascade inputs from snapshot histories, checked by hand; NaN when the source lacks them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.market_inputs import (
    depth_drop,
    funding_abs,
    funding_per_day,
    liquidation_ratio,
    market_returns,
    oi_drop,
    return_shock,
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
    # BTC: 1 - 35/100 = 0.65; ETH: 1 - 5/10 = 0.5; median of the two
    assert depth_drop(d, 100 * H) == pytest.approx(0.575)
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


def test_shock_measured_against_volatility_before_the_bar():
    rng = np.random.default_rng(0)
    r = rng.normal(0, 0.001, size=(500, 3))
    r[-1] = -0.008  # an 8σ drop in every symbol
    shock = return_shock(r, halflife=24)
    m = market_returns(r)
    expected = 0.008 / np.std(m[-200:-1], ddof=1)
    assert shock == pytest.approx(expected, rel=0.25)
    r[-1] = np.nan
    assert math.isnan(return_shock(r, 24))
