"""Every-bar cascade factors against pandas, and the live reading equals the series' last bar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.cascade_series import candle_factors, cascade_series, ewma_variance_series
from core.views import CorrelationParams

P = CorrelationParams(fast=48, slow=400, halflife=12.0, min_fast=40, min_slow=300)


def returns(seed=0, t=1200, n=5):
    rng = np.random.default_rng(seed)
    f = rng.normal(0, 0.003, (t, 1))
    r = f + rng.normal(0, 0.002, (t, n))
    r[1000:1010] -= 0.02  # a sell-off
    r[rng.random(r.shape) < 0.02] = np.nan
    return r


def test_ewma_variance_is_the_riskmetrics_recursion():
    x = np.random.default_rng(1).normal(0, 0.01, 500)
    x[[10, 11, 200]] = np.nan
    got = ewma_variance_series(x, 12.0)
    beta = 2 ** (-1 / 12)
    v = np.mean(x[np.isfinite(x)][:12] ** 2)
    for t in range(500):
        if np.isfinite(x[t]):
            v = beta * v + (1 - beta) * x[t] ** 2
        assert got[t] == pytest.approx(v, rel=1e-12)


def test_factors_against_pandas():
    r = returns()
    f = candle_factors(r, P)
    m = pd.DataFrame(r).mean(axis=1, skipna=True)
    sigma = np.sqrt(ewma_variance_series(m.to_numpy(), P.halflife))
    slow = m.rolling(P.slow, min_periods=P.min_slow).std().to_numpy()
    np.testing.assert_allclose(f["vol_ratio"], sigma / slow, rtol=1e-9, equal_nan=True)
    corr = pd.DataFrame(r).rolling(P.fast, min_periods=P.min_fast).corr()
    iu = np.triu_indices(r.shape[1], 1)
    index = np.array([np.nanmean(corr.loc[t].to_numpy()[iu]) if np.isfinite(
        corr.loc[t].to_numpy()[iu]).any() else np.nan for t in range(len(r))])
    np.testing.assert_allclose(f["market_index"], index, atol=1e-9, equal_nan=True)
    s = pd.Series(index)
    roll = s.rolling(P.slow, min_periods=P.min_slow)
    np.testing.assert_allclose(f["corr_z"], ((s - roll.mean()) / roll.std()).to_numpy(),
                               atol=1e-7, equal_nan=True)


def test_the_sell_off_scores_higher_than_calm_bars():
    score, conf, _ = cascade_series(returns(), P)
    assert np.nanmax(score[1000:1012]) > np.nanpercentile(score[500:990], 99)
    assert np.all(np.isfinite(score)) and np.all((conf >= 0) & (conf <= 1))
