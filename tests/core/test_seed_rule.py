"""The seed's rule: shrink above high_corr, grow below low_corr — and what it assumes."""

from __future__ import annotations

import numpy as np
import pytest

from core.hedging import pair_fit
from core.seed_rule import seed_hedge_notional, seed_multiplier


def test_thresholds_and_unknown():
    m = seed_multiplier(np.array([0.9, 0.7, 0.5, 0.3, 0.1, np.nan]), shrink=0.5, grow=1.25)
    np.testing.assert_array_equal(m[:5], [0.5, 0.5, 1.0, 1.25, 1.25])
    assert np.isnan(m[5])


def test_regime_with_hysteresis_decides_over_the_raw_value():
    # raw 0.69 would be "normal", but the hysteresis regime still says high
    assert seed_multiplier(0.69, regime=np.array(1.0)) == 0.5
    assert np.isnan(seed_multiplier(0.5, regime=np.array(np.nan)))


def test_hedge_notional_keeps_its_sign():
    assert seed_hedge_notional(-10_000.0, 0.8, shrink=0.5) == -5_000.0
    assert seed_hedge_notional(-10_000.0, 0.2, grow=1.5) == -15_000.0


def correlated_pair(rho, n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    z1, z2 = rng.normal(size=(2, n))
    return z1, rho * z1 + np.sqrt(1 - rho * rho) * z2


@pytest.mark.parametrize("low,high", [(0.2, 0.9)])
def test_offsetting_hedge_works_best_when_correlation_is_high(low, high):
    """Effectiveness ρ² of a β short rises with correlation: shrinking it then removes
    protection (why the rule assumes a diversifying leg)."""
    eff = {}
    for rho in (low, high):
        x, h = correlated_pair(rho)
        fit = pair_fit(x, h, 10)
        eff[rho] = 1 - np.var(x - fit.beta * h) / np.var(x)
    assert eff[high] > 0.7 > 0.1 > eff[low]


def test_diversifying_leg_stops_diversifying_when_correlation_is_high():
    """A long leg held for diversification cuts variance at low correlation, not at high."""
    ratio = {}
    for rho in (0.2, 0.95):
        x, h = correlated_pair(rho, seed=1)
        ratio[rho] = np.var((x + h) / 2) / np.var(x)
    assert ratio[0.2] < 0.65 and ratio[0.95] > 0.95
