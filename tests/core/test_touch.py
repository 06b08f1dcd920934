"""Touch probabilities against a seeded Monte Carlo with a Brownian-bridge correction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.touch import (
    log_norm_sf,
    norm_isf,
    norm_sf,
    required_distance,
    terminal_probability,
    touch_probability,
)


def simulate_touch(d: float, sigma: float, bars: float, drift: float, steps: int,
                   paths: int, seed: int) -> tuple[float, float, float, float]:
    """Monte Carlo of X_t = drift·t + σ·W_t hitting +d before ``bars``.

    Returns (bridge estimate, its standard error, discrete-only estimate, its standard error).
    Between two simulated points x0, x1 both below the barrier b the path still crossed with
    probability exp(−2(b − x0)(b − x1)/(σ²Δt)) (Brownian bridge, independent of the drift),
    so each path contributes 1 − Π(1 − p_crossing) instead of only its discrete hits.
    """
    rng = np.random.default_rng(seed)
    dt = bars / steps
    x = np.cumsum(rng.normal(drift * dt, sigma * math.sqrt(dt), (paths, steps)), axis=1)
    x = np.concatenate([np.zeros((paths, 1)), x], axis=1)
    hit = (x[:, 1:] >= d).any(axis=1)
    gap0, gap1 = d - x[:, :-1], d - x[:, 1:]
    p_cross = np.exp(-2.0 * np.clip(gap0, 0, None) * np.clip(gap1, 0, None) / (sigma**2 * dt))
    survive = np.prod(1.0 - p_cross, axis=1) * ~hit
    touched = 1.0 - survive
    se = touched.std(ddof=1) / math.sqrt(paths)
    se_hit = hit.std(ddof=1) / math.sqrt(paths)
    return float(touched.mean()), float(se), float(hit.mean()), float(se_hit)


@pytest.mark.parametrize("d", [0.03, 0.06, 0.1])
def test_driftless_matches_bridge_monte_carlo(d):
    sigma, bars = 0.004, 96  # 15m bars, 24 h
    mc, se, _, _ = simulate_touch(d, sigma, bars, 0.0, steps=24, paths=100_000, seed=1)
    p = float(touch_probability(d, sigma, bars))
    assert abs(p - mc) < 4 * se + 1e-12, (p, mc, se)


@pytest.mark.parametrize("drift", [-0.0004, 0.0002, 0.0006])
def test_drift_matches_bridge_monte_carlo(drift):
    d, sigma, bars = 0.06, 0.004, 96
    mc, se, _, _ = simulate_touch(d, sigma, bars, drift, steps=24, paths=100_000, seed=2)
    p = float(touch_probability(d, sigma, bars, drift))
    assert abs(p - mc) < 4 * se + 1e-12, (drift, p, mc, se)


def test_discrete_simulation_undercounts_touches():
    d, sigma, bars = 0.06, 0.004, 96
    mc, se, discrete, se_d = simulate_touch(d, sigma, bars, 0.0, steps=24, paths=100_000,
                                            seed=3)
    p = float(touch_probability(d, sigma, bars))
    # Checking only at 24 points misses the crossings between them: clearly fewer touches.
    assert discrete < p - 4 * se_d
    assert discrete < mc - 4 * math.hypot(se, se_d)


def test_zero_drift_is_twice_the_terminal_probability():
    d = np.array([0.01, 0.05, 0.2])
    np.testing.assert_allclose(touch_probability(d, 0.01, 100), 2 * terminal_probability(
        d, 0.01, 100), rtol=1e-14)


def test_edge_cases():
    assert touch_probability(0.0, 0.01, 10) == 1.0
    assert touch_probability(-0.1, 0.01, 10) == 1.0
    assert touch_probability(np.inf, 0.01, 10) == 0.0
    assert np.isnan(touch_probability(0.1, np.nan, 10))
    assert touch_probability(0.1, 0.0, 10) == 0.0
    assert touch_probability(0.1, 0.0, 10, drift_toward=0.02) == 1.0
    # A strong drift towards a far barrier must not overflow exp(2νd/σ²).
    p = touch_probability(5.0, 0.001, 100, drift_toward=0.1)
    assert 0.0 <= float(p) <= 1.0
    assert float(touch_probability(5.0, 0.001, 100, drift_toward=-0.1)) == pytest.approx(0.0)


def test_norm_helpers():
    assert float(norm_sf(0.0)) == 0.5
    assert float(norm_sf(1.959963984540054)) == pytest.approx(0.025, rel=1e-12)
    assert norm_isf(0.005) == pytest.approx(2.5758293035489004, rel=1e-12)
    x = np.array([1.0, 10.0, 20.0, 24.9])
    np.testing.assert_allclose(log_norm_sf(x), np.log(norm_sf(x)), rtol=1e-12)
    for far in (26.0, 30.0, 35.0):  # asymptotic series where erfc is still representable
        exact = math.log(0.5 * math.erfc(far / math.sqrt(2)))
        assert float(log_norm_sf(far)) == pytest.approx(exact, rel=1e-9)
    assert np.isfinite(log_norm_sf(100.0))


def test_required_distance_hits_the_target():
    d = required_distance(0.01, 0.004, 96)
    assert float(touch_probability(d, 0.004, 96)) == pytest.approx(0.01, rel=1e-12)


def test_norm_sf_is_erfc_element_by_element_in_the_input_shape():
    x = np.concatenate([np.linspace(-40, 40, 401), [np.nan, np.inf, -np.inf]]).reshape(4, -1)
    want = np.array([[0.5 * math.erfc(v / math.sqrt(2)) for v in row] for row in x])
    got = norm_sf(x)
    assert got.shape == x.shape and got.dtype == np.float64
    np.testing.assert_array_equal(got, want)
    assert norm_sf(1.0).shape == () and norm_sf([]).shape == (0,)
