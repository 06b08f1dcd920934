"""The cascade score: ramps, renormalised weights, confidence, levels; never NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.cascade import FACTORS, cascade_reading, cascade_scores, level_of


def test_quiet_inputs_score_zero_and_full_inputs_score_100():
    quiet = {k: r.lo for k, r in FACTORS.items()}
    full = {k: r.hi * 2 for k, r in FACTORS.items()}
    assert cascade_reading(quiet).score == 0 and cascade_reading(quiet).level == "calm"
    r = cascade_reading(full)
    assert r.score == pytest.approx(100) and r.level == "cascade" and r.confidence == 1


def test_contributions_add_up_and_are_weighted():
    inputs = {"corr_z": 4.0, "vol_ratio": 1.0}  # corr maxed, vol quiet, rest missing
    r = cascade_reading(inputs)
    w = FACTORS["corr_z"].weight / (FACTORS["corr_z"].weight + FACTORS["vol_ratio"].weight)
    assert r.contributions["corr_z"] == pytest.approx(100 * w)
    assert r.contributions["vol_ratio"] == 0
    assert sum(r.contributions.values()) == pytest.approx(r.score)


def test_missing_inputs_are_renormalised_and_reported():
    ramp = FACTORS["corr_z"]
    midway = (ramp.lo + ramp.hi) / 2
    r = cascade_reading({"corr_z": midway, "vol_ratio": float("nan"), "depth_drop": None})
    assert set(r.missing) == set(FACTORS) - {"corr_z"}
    assert r.confidence == pytest.approx(FACTORS["corr_z"].weight / sum(
        f.weight for f in FACTORS.values()))
    assert r.score == pytest.approx(50.0)


def test_nothing_known_is_zero_with_a_note_not_nan():
    r = cascade_reading({})
    assert r.score == 0 and r.confidence == 0 and r.notes
    s, c = cascade_scores({"corr_z": np.array([np.nan, 4.0])})
    assert s.tolist() == [0.0, 100.0] and c[0] == 0


def test_vectorised_scores_match_single_readings():
    rng = np.random.default_rng(0)
    series = {k: rng.uniform(r.lo - (r.hi - r.lo), r.hi * 1.5, size=50)
              for k, r in FACTORS.items()}
    series["depth_drop"][::7] = np.nan
    scores, conf = cascade_scores(series)
    for t in range(50):
        one = cascade_reading({k: v[t] for k, v in series.items()})
        assert scores[t] == pytest.approx(one.score)
        assert conf[t] == pytest.approx(one.confidence)


@pytest.mark.parametrize("score,level", [(0, "calm"), (29.9, "calm"), (30, "elevated"),
                                         (50, "high"), (69.99, "high"), (70, "cascade")])
def test_levels(score, level):
    assert level_of(score) == level


@given(st.dictionaries(st.sampled_from(sorted(FACTORS)),
                       st.floats(allow_nan=True, allow_infinity=True)))
def test_any_input_gives_a_finite_score(inputs):
    r = cascade_reading(inputs)
    assert math.isfinite(r.score) and 0 <= r.score <= 100 and 0 <= r.confidence <= 1
    assert all(math.isfinite(v) for v in r.contributions.values())
