"""Every-bar hedge statistics: the EWMA filter against its recursion, and causality."""

from __future__ import annotations

import numpy as np

from core.position_series import ewma_filter, position_series
from core.views import CorrelationParams


def slow_ewma(x, halflife):
    beta = 2 ** (-1 / halflife)
    out = np.full(x.shape, np.nan)
    state = np.nan
    for t, v in enumerate(x):
        if np.isfinite(v):
            state = v if np.isnan(state) else beta * state + (1 - beta) * v
        out[t] = state
    return out


def test_ewma_filter_equals_the_recursion_with_gaps():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (3000, 3))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:40, 1] = np.nan
    got = ewma_filter(x, 24.0)
    for k in range(3):
        np.testing.assert_allclose(got[:, k], slow_ewma(x[:, k], 24.0), rtol=1e-10,
                                   equal_nan=True)


def test_series_up_to_t_ignore_what_comes_after():
    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (900, 4)), axis=0))
    p = CorrelationParams(fast=48, slow=300, halflife=12.0, min_fast=40, min_slow=240)
    a = position_series(close, 0, p)
    changed = close.copy()
    changed[700:] *= rng.uniform(0.5, 1.5, changed[700:].shape)
    b = position_series(changed, 0, p)
    for name in ("beta_fast", "beta_ewma", "corr_fast", "corr_slow", "cascade_score"):
        np.testing.assert_allclose(getattr(a, name)[:700], getattr(b, name)[:700], rtol=1e-9,
                                   atol=1e-12, equal_nan=True, err_msg=name)
    np.testing.assert_array_equal(a.hedge[:700], b.hedge[:700])
    np.testing.assert_array_equal(a.regime[:700], b.regime[:700])
