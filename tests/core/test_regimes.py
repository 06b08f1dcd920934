"""Regimes: hysteresis, minimum time in regime, unknown on NaN, z-score spikes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.regimes import (
    HIGH,
    LOW,
    NORMAL,
    REGIME_NAMES,
    UNKNOWN,
    level_regimes,
    market_regime,
    rolling_zscore,
)


def names(codes) -> list[str]:
    return [REGIME_NAMES[c] for c in codes]


def test_enter_high_needs_min_bars_and_leaving_needs_hysteresis():
    v = [0.5, 0.72, 0.71, 0.69, 0.72, 0.73, 0.74, 0.66, 0.66, 0.64, 0.6, 0.6, 0.6]
    got = names(level_regimes(np.array(v), 0.7, 0.3, 0.05, min_bars=3))
    assert got == ["normal"] * 6 + ["high"] * 5 + ["normal"] * 2


def test_a_value_dancing_around_the_threshold_does_not_flip():
    v = np.tile([0.69, 0.71], 50)
    codes = level_regimes(v, 0.7, 0.3, 0.05, min_bars=2)
    assert (codes == NORMAL).all()
    codes = level_regimes(np.r_[0.8, v], 0.7, 0.3, 0.05, min_bars=2)
    assert (codes == HIGH).all()  # once high, 0.69 is within the hysteresis band


def test_nan_is_unknown_at_once_and_low_works_symmetrically():
    v = np.array([0.5, np.nan, 0.2, 0.34, 0.36, 0.5, 0.5])
    got = names(level_regimes(v, 0.7, 0.3, 0.05, min_bars=2))
    assert got == ["normal", "unknown", "low", "low", "low", "normal", "normal"]


def test_columns_are_independent():
    rng = np.random.default_rng(0)
    v = np.clip(0.5 + np.cumsum(rng.standard_normal((300, 3)) * 0.03, axis=0), -1, 1)
    v[rng.random((300, 3)) < 0.02] = np.nan
    both = level_regimes(v, min_bars=4)
    for k in range(3):
        np.testing.assert_array_equal(both[:, k], level_regimes(v[:, k], min_bars=4))
    assert set(np.unique(both)) <= {LOW, NORMAL, HIGH, UNKNOWN}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1, 1) | st.just(float("nan")), min_size=1, max_size=60),
       st.integers(1, 6))
def test_a_known_regime_lasts_at_least_min_bars_unless_data_go_missing(values, min_bars):
    v = np.array(values)
    codes = level_regimes(v, 0.7, 0.3, 0.05, min_bars=min_bars)
    assert ((codes == UNKNOWN) == np.isnan(v)).all()
    # any switch between known regimes was the candidate for min_bars bars, all known
    for t in np.flatnonzero((codes[1:] != codes[:-1]) & (codes[:-1] != UNKNOWN)
                            & (codes[1:] != UNKNOWN)) + 1:
        assert t + 1 >= min_bars
        assert not np.isnan(v[t + 1 - min_bars:t + 1]).any()


def test_rolling_zscore_matches_pandas():
    s = pd.Series(np.random.default_rng(1).standard_normal(800))
    s[[10, 400, 401]] = np.nan
    ref = ((s - s.rolling(300, min_periods=200).mean())
           / s.rolling(300, min_periods=200).std()).to_numpy()
    got = rolling_zscore(s.to_numpy(), 300, 200)
    np.testing.assert_allclose(got, ref, atol=1e-9, rtol=0)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))


def test_market_regime_needs_persistence_and_counts_onsets():
    z = np.r_[np.zeros(10), [2.5, 2.5, 1.8], [2.5] * 4, [1.9], [1.0] * 5, [np.nan] * 3,
              [3.0] * 3]
    mr = market_regime(z, 2.0, min_bars=3, z_hysteresis=0.5)
    assert mr.spike.tolist() == [False] * 15 + [True] * 5 + [False] * 8 + [True]
    assert mr.changes.tolist() == [15, 20, 28]
    assert mr.onsets.tolist() == [15, 28]
    assert mr.alerts_per_30d(bars_per_30d=29) == pytest.approx(2.0)


def test_market_regime_of_nan_is_normal():
    mr = market_regime(np.full(20, np.nan))
    assert not mr.spike.any() and mr.onsets.size == 0


def test_wide_inputs_take_the_vectorised_path_with_the_same_answers():
    rng = np.random.default_rng(2)
    v = np.clip(0.5 + np.cumsum(rng.standard_normal((200, 40)) * 0.05, axis=0), -1, 1)
    v[rng.random((200, 40)) < 0.03] = np.nan
    wide = level_regimes(v, min_bars=3)  # 40 columns: vectorised over columns
    for k in range(40):
        np.testing.assert_array_equal(wide[:, k], level_regimes(v[:, k], min_bars=3))
