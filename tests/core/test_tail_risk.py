"""The calibrated tail model: its kernels against slow obvious versions, its probabilities
against the truth of a fat-tailed generator, and the properties callers rely on."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.tail_calibration import REAL_MARKETS, UNCALIBRATED
from core.tail_filter import block_summaries, ewma_variance, standardise, window_extreme
from core.tail_risk import (
    TailParams,
    fit_tails,
    tail_required_distance,
    tail_touch_probability,
)
from core.touch import touch_probability

BPH = 4  # 15-minute bars
NU = 4.0  # Student-t degrees of freedom of the generator
SUB = 3  # sub-steps per bar: the intrabar low and high are the sub-steps' extremes
SIGMA = 0.004  # σ of one bar's log return


def student_bars(n: int, rng: np.random.Generator, paths: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closes, highs and lows of a log price made of Student-t sub-steps (iid, σ per bar
    ``SIGMA``); with ``paths``, that many independent paths of ``n`` bars from 1.0."""
    shape = (n * SUB,) if paths is None else (paths, n * SUB)
    scale = SIGMA / math.sqrt(SUB) / math.sqrt(NU / (NU - 2))
    x = np.cumsum(rng.standard_t(NU, size=shape) * scale, axis=-1)
    bars = x.reshape(*x.shape[:-1], n, SUB)
    start = np.concatenate([np.zeros((*x.shape[:-1], 1)), bars[..., :-1, -1]], axis=-1)
    low = np.minimum(bars.min(axis=-1), start)
    high = np.maximum(bars.max(axis=-1), start)
    return np.exp(bars[..., -1]), np.exp(high), np.exp(low)


def true_touch(d: np.ndarray, bars: int, rng: np.random.Generator, paths: int = 60_000
               ) -> dict[int, np.ndarray]:
    """The generator's touch probability of each log distance by side, by simulation."""
    _, high, low = student_bars(bars, rng, paths)
    down, up = -np.log(low.min(axis=1)), np.log(high.max(axis=1))
    return {1: (down[:, None] >= d).mean(axis=0), -1: (up[:, None] >= d).mean(axis=0)}


# per horizon: distances where the truth is 1–30 %, and one far in the tail (about 0.1–2 %)
BODY = {1: [0.01, 0.02], 4: [0.02, 0.04], 24: [0.04, 0.06]}
FAR = {1: 0.03, 4: 0.06, 24: 0.09}


@pytest.mark.parametrize("calibration", [UNCALIBRATED, REAL_MARKETS],
                         ids=["simulation", "with the real-market map"])
def test_recovers_the_true_touch_probability_of_student_t_data(calibration):
    # the simulation is what must recover a generator's truth; the map corrects what real
    # markets do differently, and is mild enough that the shipped model recovers it too
    rng = np.random.default_rng(2024)
    d = {h: np.array([*BODY[h], FAR[h]]) for h in BODY}
    truth = {h: true_touch(d[h], h * BPH, rng) for h in d}
    preds: dict[tuple[int, int], list[np.ndarray]] = {(h, s): [] for h in d for s in (1, -1)}
    for _ in range(10):  # independent 30-day histories: the fit's own sampling error
        fit = fit_tails(*student_bars(2881, rng), BPH, TailParams(calibration=calibration))
        assert fit.ok[0]
        for (h, s) in preds:
            preds[(h, s)].append(tail_touch_probability(fit, 0, s, d[h], h))
    for (h, s), got in preds.items():
        t = truth[h][s]
        p = np.array(got)
        mean = p.mean(axis=0)
        # sampling error: the fits' spread over histories and the truth's binomial error
        err = 3 * np.sqrt(p.var(axis=0, ddof=1) / len(p) + t * (1 - t) / 60_000)
        body = slice(0, len(BODY[h]))
        assert np.all(np.abs(mean[body] - t[body]) <= err[body]), ((h, s), mean, t, err)
        # far in the tail it may err high (it reads the noise of σ as volatility that could
        # last), never low — where a Gaussian, even on the true σ, is a fraction of the truth
        assert mean[-1] >= t[-1] - err[-1], ((h, s), mean, t, err)
        if h == 1:  # over longer horizons the sum of iid steps is close to Gaussian
            assert touch_probability(FAR[h], SIGMA, h * BPH) < 0.5 * t[-1]


def test_changing_bars_after_the_moment_changes_nothing():
    rng = np.random.default_rng(1)
    c, hi, lo = student_bars(4000, rng)
    before = fit_tails(c[:2881], hi[:2881], lo[:2881], BPH)
    later = c.copy()
    later[2881:] *= 3.0  # what happened afterwards is not given to the fit at all
    again = fit_tails(later[:2881], hi[:2881], lo[:2881], BPH)
    np.testing.assert_array_equal(before.keys, again.keys)
    np.testing.assert_array_equal(before.sigma_now, again.sigma_now)


def test_deterministic_and_column_by_column():
    rng = np.random.default_rng(3)
    cols = [student_bars(2881, rng) for _ in range(3)]
    close = np.column_stack([x[0] for x in cols])
    high = np.column_stack([x[1] for x in cols])
    low = np.column_stack([x[2] for x in cols])
    close[:1500, 1] = np.nan  # one symbol listed late: too little history
    high[:1500, 1] = low[:1500, 1] = np.nan
    fit = fit_tails(close, high, low, BPH)
    assert fit.ok.tolist() == [True, True, True]  # 1,381 bars is still ten days and more
    alone = fit_tails(close[:, 2], high[:, 2], low[:, 2], BPH)
    d = np.array([0.01, 0.03, 0.08])
    for h in (1, 4, 24):  # the same to rounding (numpy sums a batch in another order)
        np.testing.assert_allclose(tail_touch_probability(fit, 2, 1, d, h),
                                   tail_touch_probability(alone, 0, 1, d, h), rtol=1e-12)
        np.testing.assert_allclose(tail_touch_probability(fit.select([2]), 0, -1, d, h),
                                   tail_touch_probability(alone, 0, -1, d, h), rtol=1e-12)
    np.testing.assert_array_equal(fit.keys, fit_tails(close, high, low, BPH).keys)
    short = fit_tails(close[-700:, :1], high[-700:, :1], low[-700:, :1], BPH)
    assert not short.ok[0] and np.isnan(tail_touch_probability(short, 0, 1, 0.05, 24))


def test_probabilities_fall_with_distance_and_grow_with_horizon():
    rng = np.random.default_rng(4)
    fit = fit_tails(*student_bars(2881, rng), BPH)
    d = np.geomspace(1e-4, 2.0, 200)
    for s in (1, -1):
        ps = [tail_touch_probability(fit, np.zeros(d.size, int), s, d, h) for h in (1, 4, 24)]
        for p in ps:
            assert np.all(np.diff(p) <= 0) and p[0] > 0.75 and 0 < p[-1] < 1e-6
        assert np.all(ps[0] <= ps[1]) and np.all(ps[1] <= ps[2])
    assert tail_touch_probability(fit, 0, 1, 0.0, 24) == 1.0
    assert tail_touch_probability(fit, 0, 1, -0.1, 1) == 1.0
    assert tail_touch_probability(fit, 0, 1, np.inf, 24) == 0.0
    with pytest.raises(ValueError, match="fitted for"):
        tail_touch_probability(fit, 0, 1, 0.05, 12)


@pytest.mark.parametrize("target", [0.3, 0.05, 0.01, 0.001, 1e-5])
def test_required_distance_is_the_inverse(target):
    rng = np.random.default_rng(5)
    fit = fit_tails(*student_bars(2881, rng), BPH)
    for s in (1, -1):
        d = float(tail_required_distance(fit, 0, s, target, 24))
        assert tail_touch_probability(fit, 0, s, d, 24) <= target
        assert tail_touch_probability(fit, 0, s, d * 0.995, 24) > target * 0.98


def test_fit_parameters_change_the_answer():
    rng = np.random.default_rng(6)
    bars = student_bars(2881, rng)
    a = fit_tails(*bars, BPH)
    b = fit_tails(*bars, BPH, TailParams(seed=7))
    assert not np.array_equal(a.keys, b.keys)  # other draws …
    pa = tail_touch_probability(a, 0, 1, 0.05, 24)
    pb = tail_touch_probability(b, 0, 1, 0.05, 24)
    assert pa == pytest.approx(pb, rel=0.15)  # … the same answer within simulation noise


# --------------------------------------------------------------------------- kernels


def slow_ewma(r: np.ndarray, halflife: float, warm: int) -> np.ndarray:
    lam = 0.5 ** (1 / halflife)
    first = [x * x for x in r if np.isfinite(x)][:warm]
    v = sum(first) / len(first)
    out, seen = [], False
    for x in r:
        if np.isfinite(x):
            v = lam * v + (1 - lam) * x * x
            seen = True
        out.append(v if seen else np.nan)
    return np.array(out)


def test_ewma_variance_is_the_recursion():
    rng = np.random.default_rng(7)
    r = rng.standard_t(4, (5000, 2)) * 0.01
    r[100:130, 0] = np.nan
    r[:40, 1] = np.nan
    got = ewma_variance(r, 24.0, 96)
    for j in range(2):
        np.testing.assert_allclose(got[:, j], slow_ewma(r[:, j], 24.0, 96), rtol=1e-9,
                                   equal_nan=True)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 7, 8, 16, 24])
def test_window_extreme_is_a_sliding_minimum(k):
    a = np.random.default_rng(k).standard_normal((3, 50))
    want = np.lib.stride_tricks.sliding_window_view(a, k, axis=1)
    np.testing.assert_array_equal(window_extreme(a, k, np.minimum), want.min(axis=2))
    np.testing.assert_array_equal(window_extreme(a, k, np.maximum), want.max(axis=2))


def test_block_summaries_match_a_loop_over_the_bars():
    rng = np.random.default_rng(8)
    c, hi, lo = student_bars(400, rng)
    c[200] = hi[200] = lo[200] = np.nan  # an outage
    st = standardise(c[:, None], hi[:, None], lo[:, None], 24.0)
    lam = 0.5 ** (1 / 24.0)
    summ, ok = block_summaries(st, 8, 24.0, (3,))
    z = st.z[:, 0]
    for i in range(0, 392, 7):
        for k in (3, 8):
            run = z[i:i + k]
            if not np.isfinite(run).all():
                assert k != 8 or not ok[0, i]
                continue
            s, cum, mn, mx = 1.0, 0.0, 0.0, 0.0
            for zc, zl, zh in run:
                mn, mx = min(mn, cum + s * zl), max(mx, cum + s * zh)
                cum += s * zc
                s *= math.sqrt(lam + (1 - lam) * zc * zc)
            np.testing.assert_allclose(summ[k][0, i], [cum, mn, mx, s], rtol=1e-8, atol=1e-12)
            if k == 8:
                assert ok[0, i]
