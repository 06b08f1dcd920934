"""Distances, safe leverage, the JSON-ready RiskReport, and risk_many against risk_report."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from core.liquidation import TierTable, isolated_liquidation_price
from core.risk import (
    RiskReport,
    distance_pct,
    ewma_sigma,
    log_distance,
    required_log_distance,
    risk_report,
    safe_leverage,
)
from core.risk_many import risk_many
from core.tail_risk import fit_tails
from core.touch import touch_probability
from core.types import Instrument, Position, Tier

TIERS = (
    Tier(1, 0, 1000, 0.004, 100),
    Tier(2, 1000.01, 5000, 0.005, 66.66),
    Tier(3, 5000.01, 20000, 0.0075, 50),
)
BTC = Instrument("BTC-USDT-SWAP", "BTC", contract_value=0.01, tiers=TIERS)
SIGMA = 0.004  # per 15m bar: about 3.9 % a day
BPH = 4


def walk(n: int = 3000, sigma: float = SIGMA, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 60_000 * np.exp(np.cumsum(rng.normal(0, sigma, n)))


def test_ten_x_long_is_about_ten_percent_away():
    pos = Position("BTC-USDT-SWAP", "long", 0.5, 60_000, 10)
    r = risk_report(pos, BTC, 60_000, SIGMA, BPH)
    assert r.distance_pct == pytest.approx(9.5932, abs=1e-4)
    assert r.tier == 1 and r.mmr == 0.004 and r.fee == 0.0005
    sigma_24h = SIGMA * math.sqrt(96)
    assert r.distance_sigma_24h == pytest.approx(math.log(60_000 / r.liquidation_price)
                                                 / sigma_24h, rel=1e-12)
    assert r.distance_sigma_1h == pytest.approx(r.distance_sigma_24h * math.sqrt(24))
    assert 0 < r.touch_prob_1h < r.touch_prob_24h < 1


def test_report_is_json_ready_without_nan():
    pos = Position("BTC-USDT-SWAP", "short", 0.5, 60_000, 10)
    r = risk_report(pos, BTC, 61_000, None, BPH)  # no σ and no closes
    d = r.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["touch_prob_24h"] is None and d["safe_leverage"] is None
    assert "not enough data for volatility" in d["warnings"]
    assert d["unrealised_pnl"] == pytest.approx(-500.0)
    assert set(d) == {f.name for f in RiskReport.__dataclass_fields__.values()}


def test_sigma_from_closes_without_a_tail_fit_is_the_gaussian_and_says_so():
    c = walk()
    pos = Position("BTC-USDT-SWAP", "long", 0.5, float(c[-1]), 10)
    r = risk_report(pos, BTC, float(c[-1]), None, BPH, closes=c)
    assert r.risk_model == "gaussian" and r.touch_prob_24h == r.touch_prob_24h_gaussian
    assert r.safe_leverage == r.safe_leverage_gaussian
    assert tuple(map(str, r.warnings)) == (
        "too little history for the calibrated tail model: Gaussian touch probabilities, "
        "which understate crypto's tails",)
    json.dumps(r.to_dict(), allow_nan=False)


def test_with_a_tail_fit_the_reported_numbers_are_the_tail_models():
    c = walk()
    fit = fit_tails(c, c * 1.001, c * 0.999, BPH)
    pos = Position("BTC-USDT-SWAP", "long", 0.5, float(c[-1]), 20)
    r = risk_report(pos, BTC, float(c[-1]), SIGMA, BPH, tails=fit)
    assert r.risk_model == "tail" and r.warnings == ()
    assert 0 < r.touch_prob_1h < r.touch_prob_4h < r.touch_prob_24h < 1
    assert r.touch_prob_24h != r.touch_prob_24h_gaussian
    # the safe leverage puts a new position exactly at the model's 24 h target
    liq = float(isolated_liquidation_price(c[-1], 1, 1, c[-1] / r.safe_leverage, 0.004, 0.0005))
    assert float(log_distance(c[-1], liq, 1)) == pytest.approx(
        -math.log1p(-r.safe_distance_pct / 100), rel=1e-9)


def test_warnings():
    past = risk_report(Position("BTC-USDT-SWAP", "long", 0.5, 60_000, 10), BTC, 50_000,
                       SIGMA, BPH)
    assert "already past liquidation price" in [str(w) for w in past.warnings]
    assert past.distance_pct < 0 and past.touch_prob_24h == 1.0
    high = risk_report(Position("BTC-USDT-SWAP", "long", 0.5, 60_000, 125), BTC, 60_000,
                       SIGMA, BPH)
    assert any("leverage above instrument maximum" in w for w in map(str, high.warnings))
    # 30 BTC = 3,000 contracts: tier 2 caps leverage at 66.66x.
    tier2 = risk_report(Position("BTC-USDT-SWAP", "long", 30, 60_000, 75), BTC, 60_000,
                        SIGMA, BPH)
    assert tier2.tier == 2 and any("66.66x" in w for w in map(str, tier2.warnings))
    assert tier2.safe_leverage <= 66.66
    spot_like = risk_report(Position("BTC-USDT-SWAP", "long", 0.5, 60_000, 1), BTC, 60_000,
                            SIGMA, BPH)
    assert spot_like.liquidation_price is None and spot_like.touch_prob_24h == 0.0
    assert any("cannot be liquidated" in w for w in map(str, spot_like.warnings))
    json.dumps(spot_like.to_dict(), allow_nan=False)


def test_safe_leverage_sits_exactly_on_the_target():
    for sign in (1, -1):
        lev = float(safe_leverage(SIGMA, 96, sign, 0.004, 0.0005, 100.0, target_prob=0.01))
        liq = isolated_liquidation_price(100.0, 1.0, sign, 100.0 / lev, 0.004, 0.0005)
        p = touch_probability(log_distance(100.0, liq, sign), SIGMA, 96)
        assert float(p) == pytest.approx(0.01, rel=1e-9)
        assert 5 < lev < 15


def test_safe_leverage_caps_and_orders():
    assert safe_leverage(1e-6, 96, 1, 0.004, 0.0005, 20.0) == 20.0
    levs = safe_leverage(np.array([0.002, 0.004, 0.008]), 96, 1, 0.004, 0.0005, 100.0)
    assert np.all(np.diff(levs) < 0)
    assert np.isnan(safe_leverage(np.nan, 96, 1, 0.004, 0.0005, 100.0))
    strict = safe_leverage(SIGMA, 96, 1, 0.004, 0.0005, 100.0, target_prob=0.001)
    assert strict < safe_leverage(SIGMA, 96, 1, 0.004, 0.0005, 100.0, target_prob=0.01)


def test_safe_leverage_with_drift():
    # Drift against a long (falling market) makes it less safe; bisection hits the target.
    down = float(safe_leverage(SIGMA, 96, 1, 0.004, 0.0005, 100.0, drift_per_bar=-2e-4))
    flat = float(safe_leverage(SIGMA, 96, 1, 0.004, 0.0005, 100.0))
    assert down < flat
    liq = isolated_liquidation_price(100.0, 1.0, 1, 100.0 / down, 0.004, 0.0005)
    p = touch_probability(log_distance(100.0, liq, 1), SIGMA, 96, drift_toward=2e-4)
    assert float(p) == pytest.approx(0.01, rel=1e-6)
    d = required_log_distance(0.01, SIGMA * math.sqrt(96), 0.0)
    assert float(touch_probability(d, SIGMA, 96)) == pytest.approx(0.01, rel=1e-12)


def test_distances_sign():
    assert distance_pct(100.0, 90.0, 1) == pytest.approx(10.0)
    assert distance_pct(100.0, 110.0, -1) == pytest.approx(10.0)
    assert distance_pct(100.0, 110.0, 1) == pytest.approx(-10.0)
    assert log_distance(100.0, 0.0, 1) == np.inf


def slow_ewma(closes, halflife):
    lam = 0.5 ** (1 / halflife)
    r = [math.log(b / a) for a, b in itertools.pairwise(closes)]
    num = den = 0.0
    for i, x in enumerate(r):
        w = lam ** (len(r) - 1 - i)
        num += w * x * x
        den += w
    return math.sqrt(num / den)


def test_ewma_sigma():
    c = walk(500)
    assert ewma_sigma(c, 96) == pytest.approx(slow_ewma(list(c), 96), rel=1e-12)
    assert ewma_sigma(walk(50_000), 2000) == pytest.approx(SIGMA, rel=0.05)
    assert np.isnan(ewma_sigma(c[:10], 96))


def test_risk_many_matches_risk_report():
    rng = np.random.default_rng(11)
    k, syms = 300, 7
    sym = rng.integers(0, syms, k)
    marks = rng.uniform(1, 80_000, syms)
    sigmas = rng.uniform(0.001, 0.01, syms)
    entry = marks[sym] * rng.uniform(0.9, 1.1, k)
    size = rng.choice([0.5, 10.0, 10.01, 30.0, 120.0], k)
    sign = rng.choice([-1.0, 1.0], k)
    lev = rng.uniform(2, 40, k)
    paths = np.column_stack([walk(1500, float(s_), seed=j) for j, s_ in enumerate(sigmas)])
    paths[:700, 3] = np.nan  # a symbol with too little history: the Gaussian stands in
    fit = fit_tails(paths, paths * 1.002, paths * 0.998, BPH)
    assert not fit.ok[3] and fit.ok.sum() == syms - 1
    out = risk_many(entry, size, sign, entry * size / lev, marks, sigmas, BPH,
                    symbol_idx=sym, tiers=TierTable.build([TIERS] * syms),
                    contract_value=np.full(syms, 0.01), max_leverage=np.full(syms, 100.0),
                    tails=fit)
    for i in range(k):
        pos = Position(f"S{sym[i]}", "long" if sign[i] > 0 else "short", float(size[i]),
                       float(entry[i]), float(lev[i]))
        inst = Instrument(f"S{sym[i]}", "X", contract_value=0.01, tiers=TIERS)
        r = risk_report(pos, inst, float(marks[sym[i]]), float(sigmas[sym[i]]), BPH,
                        tails=fit, tail_row=int(sym[i]))
        assert out.calibrated[i] == (r.risk_model == "tail") == (sym[i] != 3)
        assert out.tier[i] == r.tier and out.mmr[i] == r.mmr
        assert out.liquidation_price[i] == pytest.approx(r.liquidation_price, rel=1e-12)
        assert out.distance_pct[i] == pytest.approx(r.distance_pct, rel=1e-12)
        assert out.distance_sigma_24h[i] == pytest.approx(r.distance_sigma_24h, rel=1e-12)
        for h in (1, 4, 24):
            for key in (f"touch_prob_{h}h", f"touch_prob_{h}h_gaussian"):
                assert getattr(out, key)[i] == pytest.approx(getattr(r, key), rel=1e-12,
                                                             abs=1e-300)
        assert out.safe_leverage[i] == pytest.approx(r.safe_leverage, rel=1e-12)
        assert out.safe_leverage_gaussian[i] == pytest.approx(r.safe_leverage_gaussian,
                                                              rel=1e-12)
        assert out.safe_distance_pct[i] == pytest.approx(r.safe_distance_pct, rel=1e-12)
        assert out.unrealised_pnl[i] == pytest.approx(r.unrealised_pnl, rel=1e-12)


def test_risk_many_default_and_override_mmr():
    out = risk_many([100.0, 100.0], [1.0, 1.0], [1.0, -1.0], [10.0, 10.0], 100.0, SIGMA, BPH)
    assert np.all(out.mmr == 0.004) and np.all(out.tier == -1)
    over = risk_many([100.0], [1.0], [1.0], [10.0], 100.0, SIGMA, BPH, mmr=0.02)
    assert over.liquidation_price[0] == pytest.approx(90 / (1 - 0.0205))
