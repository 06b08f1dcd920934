"""Metric functions against numbers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backtest import metrics as M

TF = 900_000


def test_total_return_and_drawdown():
    e = np.array([100.0, 110.0, 99.0, 121.0, 60.5])
    assert M.total_return(e) == pytest.approx(-0.395)
    assert M.max_drawdown(e) == pytest.approx(-0.5)
    np.testing.assert_allclose(M.drawdown(e), [0, 0, -0.1, 0, -0.5])
    assert M.time_under_water(e) == pytest.approx(0.5)


def test_worst_windows():
    e = np.array([100.0, 90.0, 99.0, 80.0, 100.0])
    assert M.worst_window(e, 1) == pytest.approx(-0.19)  # 99 → 80 over a stake of 100
    assert M.worst_window(e, 2) == pytest.approx(-0.10)  # 90 → 80
    assert M.worst_window(e, 10) == pytest.approx(0.0)  # shorter path: its whole return
    assert math.isnan(M.worst_window(np.array([1.0]), 1))


def test_sharpe_and_sortino_annualise_for_24_7():
    r = np.array([0.01, -0.005, 0.002, 0.003])
    bpy = 365 * 96
    assert M.sharpe(r, TF) == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(bpy))
    down = math.sqrt(np.mean(np.minimum(r, 0) ** 2))
    assert M.sortino(r, TF) == pytest.approx(r.mean() / down * math.sqrt(bpy))
    assert math.isnan(M.sharpe(np.zeros(5), TF))
    assert math.isnan(M.sortino(np.full(5, 0.01), TF))


def test_returns_are_on_the_starting_capital_even_below_zero():
    e = np.array([100.0, 0.0, -5.0])
    np.testing.assert_allclose(M.bar_returns(e), [-1.0, -0.05])
    m = M.path_metrics(e, TF)
    assert m["ruined"] is True and m["total_return"] == pytest.approx(-1.05)


def test_stress_mask_pads_and_windows():
    score = np.array([0, 0, 0, 60, 0, 0, 0, 0, 80, 0], dtype=float)
    m = M.stress_mask(score, 1, 2)
    assert np.flatnonzero(m).tolist() == [2, 3, 4, 5, 7, 8, 9]
    assert M.windows(m) == [(2, 5), (7, 9)]
    assert not M.stress_mask(np.full(4, np.nan), 1, 1).any()


def test_subpath_compounds_the_masked_bars():
    e = np.array([100.0, 110.0, 99.0, 99.0])
    sub = M.subpath(e, np.array([False, True, True]))
    np.testing.assert_allclose(sub, [100.0, 89.0, 89.0])


def test_cost_totals_signs():
    c = M.cost_totals(np.array([-1.0, -2.0]), np.array([0.5, -1.5]), np.array([-0.25, 0.0]),
                      (np.array([-1.0]), np.array([0.5]), np.array([-0.25])),
                      np.array([1000.0, 3000.0]), 2000.0)
    assert c == {"fees": 3.0, "funding": 1.0, "slippage": 0.25, "hedge_cost": 0.75,
                 "turnover": 2.0}
