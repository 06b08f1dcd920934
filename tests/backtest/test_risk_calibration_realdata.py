"""The tail model on real bars it was not fitted on: the walk-forward of
``scripts/calibrate_risk.py`` on each pre-registered sample of ``backtest.risk_checks`` (the
held-out halves, Binance before 2022-05, the new coins), a case every 24 h so it runs in
minutes, not the script's twenty, checked against the issue's targets."""

from __future__ import annotations

import numpy as np
import pytest

from backtest.risk_calibration import CaseArrays, SafeCases
from backtest.risk_checks import BEFORE_2022, HELD_OUT, NEW_COIN_SAMPLE, SAMPLES, sample_cases
from backtest.risk_scores import brier, log_loss, passes, reliability
from tests.conftest import SHARED_DATA

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def samples() -> dict[str, tuple[CaseArrays, SafeCases]]:
    """Every pre-registered sample (``backtest.risk_checks``) with a case a day."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (see ../shared/data/SOURCES.md)")
    found = {s.key: sample_cases(SHARED_DATA, s, 24.0) for s in SAMPLES}
    if found[HELD_OUT.key] is None:
        pytest.skip(f"the calibration datasets are not in {SHARED_DATA}")
    return {k: v for k, v in found.items() if v is not None}


@pytest.fixture(scope="module")
def held_out(samples: dict[str, tuple[CaseArrays, SafeCases]]
             ) -> tuple[CaseArrays, SafeCases]:
    return samples[HELD_OUT.key]


def test_the_tail_model_never_understates_and_scores_better_than_the_gaussian(held_out):
    c, _ = held_out
    assert c.time_ms.size > 20_000
    for h in (1, 4, 24):
        y, p, g = c.touched[h], c.fhs[h], c.gauss[h]
        assert np.isfinite(p).all() and np.isfinite(g).all()
        assert brier(p, y) < brier(g, y) and log_loss(p, y) < log_loss(g, y), h
    y, p, g = c.touched[24], c.fhs[24], c.gauss[24]
    ours, theirs = reliability(p, y, c.time_ms), reliability(g, y, c.time_ms)
    tested = [b for b in ours if b.tested]
    assert len(tested) >= 8
    # the danger the issue is about: a bin whose realised rate is above its interval (the
    # model says less than happened). None for the tail model; every one of the Gaussian's
    # tested bins under 20 %.
    assert [b.lo for b in tested if b.realised > b.ci_hi] == []
    low = [b for b in theirs if b.tested and b.hi <= 0.2]
    assert len(low) >= 3 and all(b.realised > b.ci_hi for b in low)
    assert not passes(theirs)
    # and where the tail model is off, it is off on the safe side by little: within a fifth
    # of the prediction
    for b in tested:
        assert b.realised >= b.ci_lo or b.realised > 0.8 * b.predicted, b


# The criterion in each pre-registered sample (docs/risk-model.md, the third step):
# met on the held-out halves with a case a day; not met on the other two samples, by one bin
# (2019–2022: 0.7–0.9 said 80.4 %, 82.4 % happened) and by three (the new coins: 2–10 % about
# a fifth too high, 0.9–1 said 92.3 %, 89.5 % happened). Kept as the open part of issue 22.
NOT_MET = {BEFORE_2022.key: "2019-2022, a case a day: 0.7-0.9 said 80.4 %, 82.4 % happened",
           NEW_COIN_SAMPLE.key: "new coins, a case a day: 0.02-0.1 about a fifth too high, "
                                "0.9-1 said 92.3 %, 89.5 % happened"}


@pytest.mark.parametrize("key", [s.key for s in SAMPLES])
def test_every_tested_24h_bin_is_inside_its_interval(samples, key, request):
    if key not in samples:
        pytest.skip(f"the data of {key} is not in {SHARED_DATA}")
    if key in NOT_MET:
        request.applymarker(pytest.mark.xfail(reason=NOT_MET[key], strict=False))
    c, _ = samples[key]
    assert passes(reliability(c.fhs[24], c.touched[24], c.time_ms))


@pytest.mark.parametrize("key", [s.key for s in SAMPLES])
def test_safe_leverage_is_safe_and_the_scores_beat_the_gaussian_in_every_sample(samples, key):
    if key not in samples:
        pytest.skip(f"the data of {key} is not in {SHARED_DATA}")
    c, s = samples[key]
    assert s.fhs_touched.mean() <= 1.5 * 0.01
    for h in (1, 4, 24):
        y = c.touched[h]
        assert log_loss(c.fhs[h], y) < log_loss(c.gauss[h], y), h
        assert brier(c.fhs[h], y) < brier(c.gauss[h], y), h


def test_safe_leverage_realises_at_most_one_and_a_half_times_its_target(held_out):
    _, s = held_out
    assert s.fhs_touched.size > 5_000
    assert s.fhs_touched.mean() <= 1.5 * 0.01
    assert s.gauss_touched.mean() > 3 * 0.01  # the Gaussian's, for contrast
