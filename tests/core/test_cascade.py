"""The cascade score: candle factors averaged and stretched on the fitted knots, evidence
that only adds, confidence that caps the level; never NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.cascade import (
    FACTORS,
    MODEL,
    CascadeModel,
    Ramp,
    cascade_reading,
    cascade_scores,
    gated_levels,
    level_cap,
    level_of,
)

CANDLE = {k for k, r in FACTORS.items() if r.core}
EVIDENCE = set(FACTORS) - CANDLE
TOY = CascadeModel({"a": Ramp(0.3, 0.0, 1.0, "a"), "b": Ramp(0.4, 0.0, 1.0, "b"),
                    "depth": Ramp(0.2, 0.0, 1.0, "depth", cap=0.5),
                    "liq": Ramp(0.1, 0.0, 1.0, "liq", cap=0.4)}, (0.2, 0.4, 0.6))


def test_quiet_inputs_score_zero_and_full_inputs_score_100():
    quiet = {k: r.lo for k, r in FACTORS.items()}
    full = {k: r.hi * 2 for k, r in FACTORS.items()}
    assert cascade_reading(quiet).score == 0 and cascade_reading(quiet).level == "calm"
    r = cascade_reading(full)
    assert r.score == pytest.approx(100) and r.level == "cascade" and r.confidence == 1


def test_the_candle_mean_is_stretched_through_the_knots():
    # mean 0.2 is where elevated begins, 0.4 high, 0.6 cascade; linear between
    for x, want in [(0.2, 30.0), (0.4, 50.0), (0.6, 70.0), (0.5, 60.0), (0.8, 85.0)]:
        assert cascade_reading({"a": x, "b": x}, model=TOY).score == pytest.approx(want)
    # a weighted mean: 0.3 · 0 + 0.4 · 0.7 over 0.7 = 0.4, where high begins
    assert cascade_reading({"a": 0.0, "b": 0.7}, model=TOY).score == pytest.approx(50.0)


def test_quiet_or_missing_evidence_leaves_the_candle_score_as_it_is():
    """The bug this fixes: calm books used to dilute the candle factors to ~0.6x."""
    candles = {"a": 0.9, "b": 0.8}
    alone = cascade_reading(candles, model=TOY)
    calm_books = cascade_reading({**candles, "depth": 0.0, "liq": 0.0}, model=TOY)
    assert calm_books.score == pytest.approx(alone.score)
    assert calm_books.confidence > alone.confidence
    real = {k: FACTORS[k].lo for k in EVIDENCE}
    full = {k: FACTORS[k].hi for k in CANDLE}
    assert cascade_reading({**full, **real}).score == pytest.approx(cascade_reading(full).score)


def test_evidence_adds_like_independent_evidence_and_contributions_add_up():
    r = cascade_reading({"a": 0.0, "b": 0.0, "depth": 1.0, "liq": 0.5}, model=TOY)
    assert r.score == pytest.approx(100 * (1 - (1 - 0.5) * (1 - 0.2)))
    assert r.contributions["a"] == 0 and r.contributions["depth"] > r.contributions["liq"] > 0
    assert sum(r.contributions.values()) == pytest.approx(r.score)
    both = cascade_reading({"a": 0.6, "b": 0.6, "depth": 1.0}, model=TOY)
    assert both.score == pytest.approx(100 * (1 - 0.3 * 0.5))
    assert sum(both.contributions.values()) == pytest.approx(both.score)


def test_missing_candle_factors_are_left_out_and_the_rest_reweighted():
    r = cascade_reading({"a": 0.3, "b": float("nan"), "depth": None}, model=TOY)
    assert set(r.missing) == {"b", "depth", "liq"}
    assert r.confidence == pytest.approx(0.3)
    assert r.score == pytest.approx(cascade_reading({"a": 0.3, "b": 0.3}, model=TOY).score)


def test_low_confidence_caps_the_level_and_says_why():
    one = cascade_reading({"b": 1.0}, model=TOY)  # 40 % of the weight, score 100
    assert one.score == pytest.approx(100) and one.uncapped == "cascade"
    assert one.level == "high" and one.capped
    assert "capped at high" in one.notes[0] and "40%" in one.notes[0]
    tiny = cascade_reading({"liq": 1.0, "a": 1.0}, model=TOY)  # 40 %: still high at most
    assert tiny.level == "high"
    lone = cascade_reading({"depth": 1.0}, model=TOY)  # 20 %: elevated at most
    assert lone.uncapped == "high" and lone.level == "elevated"
    assert [level_cap(c) for c in (0.0, 0.24, 0.25, 0.49, 0.5, 1.0)] == [
        "elevated", "elevated", "high", "high", "cascade", "cascade"]


def test_gated_levels_match_single_readings():
    score = np.array([10, 35, 55, 80, 80, 80, 60])
    conf = np.array([1, 1, 1, 1, 0.3, 0.1, 0.1])
    want = [0, 1, 2, 3, 2, 1, 1]
    assert gated_levels(score, conf).tolist() == want


def test_nothing_known_is_zero_with_a_note_not_nan():
    r = cascade_reading({})
    assert r.score == 0 and r.confidence == 0 and r.notes and r.level == "calm"
    hi = max(FACTORS["vol_ratio"].hi, 1) * 10
    s, c = cascade_scores({"vol_ratio": np.array([np.nan, hi])})
    assert s[0] == 0 and c[0] == 0 and s[1] == pytest.approx(100)


def test_vectorised_scores_match_single_readings():
    rng = np.random.default_rng(0)
    series = {k: rng.uniform(r.lo - (r.hi - r.lo), r.hi * 1.5, size=50)
              for k, r in FACTORS.items()}
    series["depth_drop"][::7] = np.nan
    series["corr_z"][::5] = np.nan
    scores, conf = cascade_scores(series)
    for t in range(50):
        one = cascade_reading({k: v[t] for k, v in series.items()})
        assert scores[t] == pytest.approx(one.score)
        assert conf[t] == pytest.approx(one.confidence)


def test_the_model_round_trips_and_rejects_bad_knots():
    assert CascadeModel.from_dict(MODEL.to_dict()) == MODEL
    assert sum(r.weight for r in FACTORS.values()) == pytest.approx(1.0)
    assert sum(r.weight for r in FACTORS.values() if r.core) == pytest.approx(0.7)
    with pytest.raises(ValueError, match="knots"):
        CascadeModel(TOY.factors, (0.5, 0.4, 0.6))


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
    assert sum(r.contributions.values()) == pytest.approx(r.score, abs=1e-6)
