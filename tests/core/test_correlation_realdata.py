"""Real OKX 2022 data: closes load on one grid, and correlations rise in the FTX sell-off."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from core.views import CorrelationParams, correlation_view
from scripts.report_regimes import OKX_2022, SYMBOLS, load_closes, market_series, period_mask

pytestmark = pytest.mark.realdata


@functools.cache
def _load(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    return load_closes(folder)


@pytest.fixture
def okx_2022(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    folder = shared_data / OKX_2022
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing")
    return _load(folder)


def test_closes_load_on_one_grid_with_outages_missing(okx_2022):
    times, close = okx_2022
    assert close.shape == (times.size, len(SYMBOLS))
    assert (np.diff(times) == 15 * 60 * 1000).all()
    assert times.size >= 23_499
    op = close[:, SYMBOLS.index("OP")]
    assert np.isnan(op[period_mask(times, "2022-05-01", "2022-05-31")]).all()  # listed in June
    dec18 = period_mask(times, "2022-12-18", "2022-12-18")
    assert np.isnan(close[dec18]).any()  # the zero-volume outage bars are missing, not flat
    assert (close[np.isfinite(close)] > 0).all()


def test_market_index_is_higher_during_ftx_than_in_a_calm_month(okx_2022):
    times, close = okx_2022
    idx, z = market_series(close, CorrelationParams())
    ftx = period_mask(times, "2022-11-08", "2022-11-10")
    calm = period_mask(times, "2022-10-01", "2022-10-31")
    assert np.nanmean(idx[ftx]) > np.nanmean(idx[calm]) + 0.1
    assert np.nanmax(z[ftx]) > 2.0  # a spike against the 30-day baseline
    assert np.isnan(z[period_mask(times, "2022-05-09", "2022-05-12")]).all()  # LUNA: no baseline
    assert 0.3 < np.mean(idx[np.isfinite(idx)] > 0.7) < 0.7  # "about half of all bars"


def test_live_view_at_the_ftx_low_shows_fast_above_slow(okx_2022):
    times, close = okx_2022
    end = int(np.flatnonzero(period_mask(times, "2022-11-09", "2022-11-09"))[-1]) + 1
    view = correlation_view(close[:end], CorrelationParams())
    assert view.market_index > view.market_index_slow
    assert np.isfinite(view.fast_corr).all()  # OP is listed by November: all pairs known
    assert (view.vol_ratio > 1.5).all()  # every symbol moving far more than its 30-day norm
