"""The incremental state equals the batch path after hundreds of appended bars."""

from __future__ import annotations

import numpy as np
import pytest

from core.correlation import ewma_moments, window_moments
from core.streaming import stream_init, stream_matrices, stream_update
from core.volatility import ewma_vol, realised_vol

TOL = 1e-9
FAST, SLOW, HALF, MIN_F, MIN_S, MIN_E = 96, 288, 24.0, 77, 230, 5


def _returns(seed: int, t: int = 900, n: int = 5, gaps: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((t, 1)) * 0.01
    r = common * rng.uniform(0.2, 1.5, n) + rng.standard_normal((t, n)) * 0.01 + 0.002
    if gaps:
        r[rng.random((t, n)) < 0.04] = np.nan
        r[:500, 3] = np.nan  # listed while streaming
        r[600:700, 1] = np.nan  # outage while streaming
        r[750:760] = np.nan  # exchange-wide outage
    return r


def _assert_equals_batch(state, r: np.ndarray) -> None:
    mm = stream_matrices(state)
    f_cov, f_corr, f_n = window_moments(r, FAST, MIN_F)
    s_cov, s_corr, s_n = window_moments(r, SLOW, MIN_S)
    e_cov, e_corr, _ = ewma_moments(r, HALF, MIN_E)
    for got, ref in ((mm.fast_corr, f_corr), (mm.fast_cov, f_cov), (mm.slow_corr, s_corr),
                     (mm.slow_cov, s_cov), (mm.ewma_corr, e_corr), (mm.ewma_cov, e_cov)):
        np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(mm.n_fast, f_n)
    np.testing.assert_array_equal(mm.n_slow, s_n)
    for got, ref in ((mm.vol_fast, realised_vol(r, FAST, MIN_F)),
                     (mm.vol_slow, realised_vol(r, SLOW, MIN_S)),
                     (mm.vol_ewma, ewma_vol(r, HALF, MIN_E))):
        np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))


@pytest.mark.parametrize("gaps", [True, False])
@pytest.mark.parametrize("history", [0, 50, 400])
def test_after_500_bars_the_state_equals_the_batch_path(gaps, history):
    r = _returns(1, gaps=gaps)
    t_end = history + 500
    state = stream_init(r[:history], FAST, SLOW, HALF, MIN_F, MIN_S, MIN_E)
    for t in range(history, t_end):
        state = stream_update(state, r[t])
    assert state.t == t_end
    _assert_equals_batch(state, r[:t_end])


def test_periodic_resync_and_tape_refill_keep_it_exact():
    r = _returns(2)
    state = stream_init(r[:300], FAST, SLOW, HALF, MIN_F, MIN_S, MIN_E, resync_every=77)
    for t in range(300, 900):
        state = stream_update(state, r[t])
    _assert_equals_batch(state, r)


def test_update_is_pure_even_when_an_old_state_is_updated_twice():
    r = _returns(3)
    base = stream_init(r[:400], FAST, SLOW, HALF, MIN_F, MIN_S, MIN_E)
    before = stream_matrices(base)
    a = stream_update(base, r[400])
    b = stream_update(base, r[401])  # a fork from the same parent
    a2 = stream_update(a, r[401])
    _assert_equals_batch(a2, r[:402])
    _assert_equals_batch(b, np.vstack([r[:400], r[401:402]]))
    _assert_equals_batch(base, r[:400])
    np.testing.assert_array_equal(stream_matrices(base).fast_corr, before.fast_corr)


def test_rejects_slow_window_shorter_than_fast():
    with pytest.raises(ValueError):
        stream_init(np.zeros((0, 2)), 100, 50, HALF, 10, 10)
