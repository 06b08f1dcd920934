"""The calibration report's text on synthetic cases: its sections, each check's verdict as
``passes`` gives it, and the diagrams written where asked."""

from __future__ import annotations

import numpy as np

from backtest.risk_calibration import SafeCases
from backtest.risk_checks import HELD_OUT, NEW_COIN_SAMPLE
from backtest.risk_report import report
from backtest.risk_scores import passes, reliability
from core.tail_calibration import IDENTITY, TouchMap
from tests.backtest.test_risk_calibration_map import synthetic_cases


def safe_cases(n: int, rng: np.random.Generator) -> SafeCases:
    t = np.sort(rng.integers(0, 400 * 86_400_000, n))
    ds = np.where(np.arange(n) % 2 == 0, "A", "B")
    return SafeCases(ds, t, np.full(n, 6.0), rng.random(n) < 0.01, np.full(n, 11.0),
                     rng.random(n) < 0.05, np.full(n, 6.0), rng.random(n) < 0.01)


def test_the_report_has_its_sections_verdicts_and_diagrams(tmp_path):
    rng = np.random.default_rng(5)
    calibrated = synthetic_cases(rng, {1: IDENTITY, 4: IDENTITY, 24: IDENTITY})
    biased = synthetic_cases(rng, {1: IDENTITY, 4: IDENTITY, 24: TouchMap(-0.5, 1.0, 1.0)})
    safe = safe_cases(2000, rng)
    lines = report(calibrated, safe, 4.0, 12.0,
                   [(HELD_OUT, calibrated, safe), (NEW_COIN_SAMPLE, biased, safe)],
                   docs=tmp_path)
    text = "\n".join(lines)
    assert [h for h in lines if h.startswith("## ")] == [
        "## Scores", "## The recalibration map", "## The pre-registered 24 h checks",
        "## 1 h, held-out half", "## 4 h, held-out half", "## 24 h, held-out half",
        "## 24 h by dataset (all cases)", "## Safe leverage at a 1 % 24 h target"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"risk-calibration-{h}h.png" for h in (1, 24, 4)]
    for sample, cases in ((HELD_OUT, calibrated), (NEW_COIN_SAMPLE, biased)):
        ok = passes(reliability(cases.fhs[24], cases.touched[24], cases.time_ms))
        said = text.split(f"### {sample.title}")[1].split("###")[0]
        assert ("**24 h: met**" in said) is ok and ("**24 h: not met**" in said) is not ok
    # outcomes drawn about 40 % below the predictions cannot pass
    assert "**24 h: not met**" in text.split(f"### {NEW_COIN_SAMPLE.title}")[1]
    assert "| 24 h | binned, 11 knots |" in text and "| 1 h | beta:" in text
