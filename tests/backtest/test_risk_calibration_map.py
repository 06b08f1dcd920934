"""Fitting the tail model's recalibration map: the fit finds a map it is shown, the form is
chosen on cases the fit did not see, and the first half it is fitted on ends before any
held-out case."""

from __future__ import annotations

import numpy as np
import pytest

from backtest.risk_calibration import CaseArrays, Dataset, walk_forward
from backtest.risk_scores import EDGES
from backtest.touch_map_fit import (
    BINNED_H,
    choose_maps,
    first_halves,
    fit_binned_map,
    fit_touch_map,
    real_market_maps,
)
from core.tail_calibration import IDENTITY, BinnedMap, TouchMap
from core.types import MarketSnapshot
from tests.core.test_tail_risk import student_bars

TRUE = TouchMap(-0.3, 1.15, 0.8)


def outcomes(p: np.ndarray, m: TouchMap, rng: np.random.Generator) -> np.ndarray:
    return rng.random(p.size) < m.apply(p)


def test_the_fit_finds_the_map_the_outcomes_were_drawn_from():
    rng = np.random.default_rng(1)
    p = np.exp(rng.uniform(np.log(1e-4), np.log(0.97), 300_000))
    y = outcomes(p, TRUE, rng)
    got = fit_touch_map(p, y, "beta")
    assert got.c == pytest.approx(TRUE.c, abs=0.06)
    assert got.a == pytest.approx(TRUE.a, abs=0.03)
    assert got.b == pytest.approx(TRUE.b, abs=0.06)
    platt = fit_touch_map(p, y, "platt")
    assert platt.a == platt.b
    assert fit_touch_map(p, y, "identity") is IDENTITY
    # a probability of exactly 0 or 1 is left out: the map does not act on it
    both = fit_touch_map(np.r_[p, 0.0, 1.0], np.r_[y, True, False], "beta")
    assert both == got
    with pytest.raises(ValueError, match="unknown map form"):
        fit_touch_map(p, y, "isotonic")


def test_the_binned_fit_puts_each_bin_at_its_realised_rate():
    rng = np.random.default_rng(3)
    p = np.exp(rng.uniform(np.log(1e-4), np.log(0.97), 400_000))
    y = outcomes(p, TRUE, rng)
    m = fit_binned_map(p, y)
    assert isinstance(m, BinnedMap) and 8 <= len(m.knots) <= len(EDGES) - 1
    for (x, z), lo, hi in zip(m.knots, EDGES[-len(m.knots) - 1:-1], EDGES[-len(m.knots):],
                              strict=True):
        in_bin = (p >= lo) & (p < hi)
        pbar, rate = p[in_bin].mean(), y[in_bin].mean()
        assert x == pytest.approx(np.log(pbar / (1 - pbar)), rel=1e-9)
        assert z == pytest.approx(np.log(rate / (1 - rate)), rel=1e-9)
    # and the realised rates are those of the map the outcomes came from
    mid = np.array([0.003, 0.03, 0.15, 0.42, 0.8])
    np.testing.assert_allclose(m.apply(mid), TRUE.apply(mid), rtol=0.08)


def test_the_binned_fit_pools_bins_whose_rates_do_not_rise_and_needs_enough_of_both():
    p = np.r_[np.full(1000, 0.03), np.full(1000, 0.07), np.full(1000, 0.15)]
    y = np.r_[np.arange(1000) < 80, np.arange(1000) < 60, np.arange(1000) < 150]
    m = fit_binned_map(p, y)  # 8 % then 6 %: pooled into one knot at 7 %
    assert len(m.knots) == 2
    assert 1 / (1 + np.exp(-m.knots[0][1])) == pytest.approx(0.07)
    assert 1 / (1 + np.exp(-m.knots[0][0])) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="30 touches"):
        fit_binned_map(np.full(500, 0.01), np.arange(500) < 5)


def test_the_shipped_rule_bins_4h_and_24h_and_chooses_1h():
    rng = np.random.default_rng(4)
    cal, scores = real_market_maps(synthetic_cases(rng, {1: TRUE, 4: TRUE, 24: IDENTITY}))
    assert {s.hours for s in scores} == {1}
    assert isinstance(cal.at(1), TouchMap) and cal.at(1) != IDENTITY
    assert all(isinstance(cal.at(h), BinnedMap) for h in BINNED_H)
    p = np.array([0.01, 0.05, 0.3])
    np.testing.assert_allclose(cal.at(4).apply(p), TRUE.apply(p), rtol=0.1)
    np.testing.assert_allclose(cal.at(24).apply(p), p, rtol=0.1)


def synthetic_cases(rng: np.random.Generator, maps: dict[int, TouchMap]) -> CaseArrays:
    n = 200_000
    raw = {1: np.exp(rng.uniform(np.log(1e-4), np.log(0.6), n))}
    raw[4] = np.minimum(raw[1] * 2.5, 0.95)
    raw[24] = np.minimum(raw[1] * 6.0, 0.98)
    touched = {h: outcomes(raw[h], maps[h], rng) for h in raw}
    t = np.sort(rng.integers(0, 400 * 86_400_000, n))
    ds = np.where(np.arange(n) % 2 == 0, "A", "B")
    zeros = np.zeros(n)
    return CaseArrays(ds, ds, t, zeros + 1, zeros + 10, touched, raw, raw, raw)


def test_a_map_is_chosen_where_it_helps_on_later_cases_and_recovers_the_truth():
    rng = np.random.default_rng(2)
    cal, scores = choose_maps(synthetic_cases(rng, {1: TRUE, 4: IDENTITY, 24: IDENTITY}),
                              fitted_on="synthetic")
    assert [s.form for s in scores if s.chosen and s.hours == 1] == ["beta"]
    assert sum(s.chosen for s in scores) == 3 and len(scores) == 9
    p = np.geomspace(1e-3, 0.9, 50)
    np.testing.assert_allclose(cal.at(1).apply(p), TRUE.apply(p), rtol=0.05)
    for h in (4, 24):  # outcomes drawn from the simulated numbers: whatever the form, ~none
        np.testing.assert_allclose(cal.at(h).apply(p), p, rtol=0.05)
    assert cal.fitted_on == "synthetic"


def snapshot(days: int) -> MarketSnapshot:
    """One symbol of Student-t 15m bars (the tail model's test generator)."""
    close, high, low = (a.reshape(-1, 1) * 20_000.0
                        for a in student_bars(days * 96, np.random.default_rng(3)))
    n = close.shape[0]
    times = np.arange(n, dtype=np.int64) * 900_000 + 1_650_000_000_000 // 86_400_000 * 86_400_000
    return MarketSnapshot("synthetic", 900_000, ("BTC",), times, close, high, low, close,
                          np.ones((n, 1)), np.ones((n, 1), dtype=bool), int(times[-1]) + 900_000)


def test_the_first_half_and_the_outcomes_of_its_cases_end_before_the_held_out_half():
    ds = Dataset("synthetic", snapshot(70))
    held = walk_forward([ds], every_h=8.0)[0].arrays()
    first = first_halves([ds])[0]
    train = walk_forward([first], every_h=8.0)[0].arrays()
    assert train.time_ms.size > 20 and held.held_out().sum() > 20
    # a case's outcome reads the 24 h of bars after it: all inside the first half's bars …
    assert train.time_ms.max() + 24 * 3_600_000 <= first.snap.times[-1] + 900_000
    # … and every held-out case opens after the last bar the map's fit could read
    assert held.time_ms[held.held_out()].min() > first.snap.times[-1]
