"""Every-bar series (market index, pairs, tensor) against pandas rolling().corr()."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.rolling import (
    iter_rolling_corr,
    market_index_series,
    rolling_corr_tensor,
    rolling_pair_series,
)

TOL = 1e-9


def _returns(seed: int, t: int = 700, n: int = 6, gaps: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((t, 1)) * 0.01
    r = common * rng.uniform(0.2, 1.5, n) + rng.standard_normal((t, n)) * 0.01 + 0.0005
    if gaps:
        r[rng.random((t, n)) < 0.03] = np.nan
        r[:130, 2] = np.nan  # listed late
        r[300:420, 4] = np.nan  # long outage on one symbol
        r[500:510] = np.nan  # exchange-wide outage
    return r


def _pandas_tensor(r: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    t, n = r.shape
    frame = pd.DataFrame(r).rolling(window, min_periods=min_periods).corr()
    return frame.to_numpy().reshape(t, n, n)


def _nanmean_pairs(tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    iu, ju = np.triu_indices(tensor.shape[1], k=1)
    p = tensor[:, iu, ju]
    ok = np.isfinite(p)
    k = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k > 0, np.where(ok, p, 0).sum(axis=1) / k, np.nan), k


CASES = [(96, 77, True), (96, 77, False), (40, 5, True), (288, 230, True)]


@pytest.mark.parametrize(("window", "min_periods", "gaps"), CASES)
def test_tensor_matches_pandas(window, min_periods, gaps):
    r = _returns(1, gaps=gaps)
    ref = _pandas_tensor(r, window, min_periods)
    got = rolling_corr_tensor(r, window, min_periods)
    np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))


def test_tiny_chunks_give_the_same_tensor():
    r = _returns(2)
    full = rolling_corr_tensor(r, 96, 77)
    chunks = list(iter_rolling_corr(r, 96, 77, chunk_elems=37))
    assert len(chunks) > 10  # memory bounded: many small pieces
    np.testing.assert_allclose(np.concatenate([c for _, c in chunks]), full, atol=1e-12)


@pytest.mark.parametrize(("window", "min_periods", "gaps"), CASES)
@pytest.mark.parametrize("chunk", [256, 37])
def test_market_index_is_mean_of_available_pandas_pairs(window, min_periods, gaps, chunk):
    r = _returns(3, gaps=gaps)
    ref, k = _nanmean_pairs(_pandas_tensor(r, window, min_periods))
    idx, count = market_index_series(r, window, min_periods, chunk=chunk)
    np.testing.assert_allclose(idx, ref, atol=TOL, rtol=0)
    np.testing.assert_array_equal(np.isnan(idx), np.isnan(ref))
    np.testing.assert_array_equal(count, k)


@pytest.mark.parametrize("chunk", [128, 37])
def test_market_index_with_only_exchange_wide_outages_matches_pandas(chunk):
    r = _returns(7, gaps=False)
    r[0] = np.nan  # the first return of a snapshot
    r[200:215] = np.nan  # every symbol missing at once: one missing-data pattern for all
    r[400:600] = np.nan  # longer than a chunk and its window: some chunks have no data
    ref, k = _nanmean_pairs(_pandas_tensor(r, 96, 77))
    idx, count = market_index_series(r, 96, 77, chunk=chunk)
    np.testing.assert_allclose(idx, ref, atol=TOL, rtol=0)
    np.testing.assert_array_equal(np.isnan(idx), np.isnan(ref))
    np.testing.assert_array_equal(count, k)
    assert np.isnan(idx[520]) and np.isfinite(idx[699])


@pytest.mark.parametrize("gaps", [False, True])
def test_pair_series_match_pandas_corr_cov_and_beta(gaps):
    r = _returns(4, gaps=gaps)
    pairs = [(0, 1), (2, 4), (4, 2), (3, 3)]
    got = rolling_pair_series(r, pairs, 96, 77)
    df = pd.DataFrame(r)
    for k, (i, j) in enumerate(pairs):
        x, h = df[i], df[j]
        roll = x.rolling(96, min_periods=77)
        ref_corr = roll.corr(h).to_numpy()
        ref_cov = roll.cov(h).to_numpy()
        var_h = h.where(x.notna()).rolling(96, min_periods=77).var().to_numpy()
        np.testing.assert_allclose(got.corr[:, k], ref_corr, atol=TOL, rtol=0)
        np.testing.assert_array_equal(np.isnan(got.corr[:, k]), np.isnan(ref_corr))
        np.testing.assert_allclose(got.cov[:, k], ref_cov, atol=TOL, rtol=0)
        np.testing.assert_allclose(got.beta[:, k], ref_cov / var_h, atol=1e-8, rtol=1e-9)


def test_large_offsets_do_not_cancel():
    r = _returns(5, gaps=True) + 3.0  # mean >> std: naive sums would lose digits
    ref = _pandas_tensor(r, 96, 77)
    np.testing.assert_allclose(rolling_corr_tensor(r, 96, 77), ref, atol=TOL, rtol=0)
    np.testing.assert_allclose(market_index_series(r, 96, 77)[0], _nanmean_pairs(ref)[0],
                               atol=TOL, rtol=0)


def test_single_symbol_has_no_market_index():
    idx, count = market_index_series(_returns(6)[:, :1], 96, 77)
    assert np.isnan(idx).all() and (count == 0).all()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 5), window=st.integers(3, 50),
       frac=st.floats(0, 0.5), min_periods=st.integers(0, 50), chunk=st.integers(1, 70))
def test_market_index_equals_the_tensor_mean(seed, n, window, frac, min_periods, chunk):
    # at least 5 rows: with 2-4 the one-pass sums of the reference are ill-conditioned
    # (two nearly equal returns) and it, not the fast path, drifts by ~1e-9
    min_periods = max(min_periods, 5)
    rng = np.random.default_rng(seed)
    r = rng.standard_normal((90, n)) * 0.01
    r[rng.random((90, n)) < frac] = np.nan
    tensor = rolling_corr_tensor(r, window, min_periods)
    ref, k = _nanmean_pairs(tensor)
    idx, count = market_index_series(r, window, min_periods, chunk=chunk)
    np.testing.assert_allclose(idx, ref, atol=1e-9, rtol=0)
    np.testing.assert_array_equal(count, k)
    finite = np.isfinite(tensor)
    assert (np.abs(tensor[finite]) <= 1).all()
    np.testing.assert_array_equal(finite, finite.transpose(0, 2, 1))
