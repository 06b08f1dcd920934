"""The recalibration map of the tail model: a monotone map that keeps certainty and
impossibility, inverts exactly enough for "distance for a target", and reaches every
consumer of the touch probabilities the same way."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.risk_models import touch_numbers
from core.tail_calibration import (
    REAL_MARKETS,
    UNCALIBRATED,
    BinnedMap,
    TouchCalibration,
    TouchMap,
)
from core.tail_risk import (
    TailParams,
    fit_tails,
    raw_touch_probability,
    tail_required_distance,
    tail_touch_probability,
)
from settings.config import Config
from settings.engine import engine_params
from tests.core.test_tail_risk import BPH, student_bars

# a strong map, far from the identity, so a consumer that skipped it would show
STRONG = TouchCalibration(((1, TouchMap(-0.6, 1.3, 0.7)), (4, TouchMap(0.4, 0.8, 1.4)),
                           (24, TouchMap(-0.3, 1.1, 0.9))), "a test")

maps = st.builds(TouchMap, st.floats(-3, 3), st.floats(0.2, 5), st.floats(0.2, 5))
# the maps a fit could give: with b far below 1 a target near 1 needs p within 1e-10 of 1,
# finer than a float holds there
plausible = st.builds(TouchMap, st.floats(-1, 1), st.floats(0.5, 2), st.floats(0.5, 2))


@st.composite
def binned(draw: st.DrawFn) -> BinnedMap:
    """Knots as a fit gives them: strictly increasing logits, the realised rate near the
    predicted one."""
    xs = sorted(set(draw(st.lists(st.floats(-8, 4), min_size=1, max_size=12))))
    ys = [x + draw(st.floats(-0.4, 0.4)) for x in xs]
    for i in range(1, len(ys)):  # strictly increasing, as the fit pools them
        ys[i] = max(ys[i], ys[i - 1] + 1e-3)
    return BinnedMap(tuple(zip(xs, ys, strict=True)))


@given(st.one_of(maps, binned()),
       st.lists(st.floats(1e-12, 1 - 1e-12), min_size=2, max_size=20))
def test_a_map_is_increasing_and_keeps_impossible_and_certain(m, ps):
    p = np.sort(np.array(ps))
    q = m.apply(p)
    assert np.all(np.diff(q) >= 0) and np.all((q >= 0) & (q <= 1))
    assert m.apply(np.array([0.0, 1.0])).tolist() == [0.0, 1.0]
    assert np.isnan(m.apply(np.nan))


@given(st.one_of(plausible, binned()), st.floats(1e-9, 0.999))
def test_invert_is_the_inverse_and_never_above_the_target(m, q):
    p = m.invert(q)
    got = float(m.apply(p))
    assert got <= q  # a distance solved for p is safe for q …
    assert got == pytest.approx(q, rel=1e-9)  # … and not needlessly far


def test_a_binned_map_goes_through_its_knots_and_keeps_their_offsets_beyond():
    m = BinnedMap(((-4.0, -4.5), (-2.0, -2.2), (1.0, 1.3)))

    def expit(x: float) -> float:
        return 1 / (1 + math.exp(-x))

    for x, y in m.knots:
        assert float(m.apply(expit(x))) == pytest.approx(expit(y), rel=1e-12)
    # halfway in logit between two knots, halfway between their targets
    assert float(m.apply(expit(-3.0))) == pytest.approx(expit(-3.35), rel=1e-12)
    # beyond the ends: the end knot's offset, −0.5 below and +0.3 above
    assert float(m.apply(expit(-12.0))) == pytest.approx(expit(-12.5), rel=1e-12)
    assert float(m.apply(expit(5.0))) == pytest.approx(expit(5.3), rel=1e-12)
    for knots in ((), ((0.0, 1.0), (0.0, 2.0)), ((0.0, 1.0), (1.0, 1.0)),
                  ((math.nan, 0.0),)):
        with pytest.raises(ValueError, match="strictly increasing"):
            BinnedMap(knots)


def test_the_map_extrapolates_as_power_laws_at_both_ends():
    m = TouchMap(-0.4, 1.2, 0.8)
    tiny = np.array([1e-8, 1e-10, 1e-12])
    np.testing.assert_allclose(m.apply(tiny) / tiny ** 1.2, math.exp(-0.4), rtol=1e-6)
    near = 1 - np.array([1e-8, 1e-10])
    np.testing.assert_allclose((1 - m.apply(near)) / (1 - near) ** 0.8, math.exp(0.4),
                               rtol=1e-4)


def test_the_identity_is_exact_and_a_map_that_is_not_increasing_is_refused():
    p = np.array([0.05, 0.3, 1e-7])
    np.testing.assert_array_equal(UNCALIBRATED.at(24).apply(p), p)
    assert UNCALIBRATED.at(24).invert(0.05) == 0.05
    for a, b in ((0.0, 1.0), (1.0, -0.5), (math.nan, 1.0)):
        with pytest.raises(ValueError, match="a, b > 0"):
            TouchMap(0.0, a, b)


def test_reported_probability_is_the_map_of_the_simulation_floored_by_shorter_horizons():
    bars = student_bars(2881, np.random.default_rng(11))
    fit = fit_tails(*bars, BPH, TailParams(calibration=STRONG))
    raw = fit_tails(*bars, BPH, TailParams(calibration=UNCALIBRATED))
    d = np.geomspace(0.002, 0.3, 40)
    floor = np.zeros_like(d)
    for h in (1, 4, 24):
        for s in (1, -1):
            sim = raw_touch_probability(fit, np.zeros(d.size, int), s, d, h)
            np.testing.assert_array_equal(sim, raw_touch_probability(raw, 0, s, d, h))
            if s == 1:
                floor = np.fmax(floor, STRONG.at(h).apply(sim))
                np.testing.assert_allclose(tail_touch_probability(fit, 0, s, d, h), floor,
                                           rtol=1e-14)
        assert not np.allclose(tail_touch_probability(fit, 0, 1, d, h),
                               tail_touch_probability(raw, 0, 1, d, h))


@pytest.mark.parametrize("hours", [1, 4, 24])
@pytest.mark.parametrize("calibration", [STRONG, REAL_MARKETS], ids=["strong", "shipped"])
def test_required_distance_is_the_inverse_through_the_map(hours, calibration):
    fit = fit_tails(*student_bars(2881, np.random.default_rng(12)), BPH,
                    TailParams(calibration=calibration))
    for target in (0.3, 0.05, 0.01, 0.001, 1e-5):
        for s in (1, -1):
            d = float(tail_required_distance(fit, 0, s, target, hours))
            assert tail_touch_probability(fit, 0, s, d, hours) <= target
            assert tail_touch_probability(fit, 0, s, d * 0.995, hours) > target * 0.98


def test_risk_reports_safe_leverage_and_add_margin_use_the_mapped_numbers():
    # touch_numbers feeds /risk, the alerts, safe leverage and the add-margin distance
    bars = student_bars(2881, np.random.default_rng(13))
    fit = fit_tails(*bars, BPH, TailParams(calibration=STRONG))
    d = np.array([0.004, 0.02, 0.05])
    s = np.array([1.0, -1.0, 1.0])
    tn = touch_numbers(d, s, 0.004, BPH, tails=fit, target_prob=0.01)
    for h in (1, 4, 24):
        np.testing.assert_array_equal(tn.touch[h], tail_touch_probability(fit, 0, s, d, h))
    np.testing.assert_array_equal(tn.safe_distance,
                                  tail_required_distance(fit, np.zeros(3, int), s, 0.01, 24))
    unmapped = dataclasses.replace(fit, params=TailParams(calibration=UNCALIBRATED))
    assert not np.allclose(tn.safe_distance,
                           tail_required_distance(unmapped, np.zeros(3, int), s, 0.01, 24))


def test_the_live_bot_and_the_replays_use_the_shipped_map():
    assert TailParams().calibration is REAL_MARKETS
    assert engine_params(Config()).tail.calibration is REAL_MARKETS
    assert "first half" in REAL_MARKETS.fitted_on
    assert {h for h, _ in REAL_MARKETS.maps} == {1, 4, 24}
