"""A RiskReport at a given liquidation price (a cross-margin position's, from the whole
account): distances and touch probabilities follow that price, checked by hand and against the
first-passage formula; an account already below maintenance reads as being liquidated now."""

from __future__ import annotations

import math

import pytest

from core.liquidation import cross_liquidation_price
from core.risk import risk_report
from core.touch import touch_probability
from core.types import Instrument, Position, Tier

BTC = Instrument("BTC-USDT-SWAP", "BTC", contract_value=0.01,
                 tiers=(Tier(1, 0, 1000, 0.004, 100),))
SIGMA, BPH = 0.004, 4


def test_the_report_follows_the_given_liquidation_price():
    pos = Position("BTC-USDT-SWAP", "long", 0.5, 60_000, 10, margin_mode="cross")
    (liq,) = cross_liquidation_price(20_000, [62_000], [0.5], [1], [0.004], [0.0005])
    r = risk_report(pos, BTC, 62_000, SIGMA, BPH, liquidation_price=float(liq))
    assert r.liquidation_price == pytest.approx(float(liq), rel=1e-15)
    assert r.distance_pct == pytest.approx((62_000 - liq) / 62_000 * 100, rel=1e-12)
    d = math.log(62_000 / liq)
    assert r.distance_sigma_24h == pytest.approx(d / (SIGMA * math.sqrt(96)), rel=1e-12)
    assert r.touch_prob_24h == pytest.approx(float(touch_probability(d, SIGMA, 96)), rel=1e-12)
    assert r.unrealised_pnl == pytest.approx(1_000.0)  # from the entry, not the override
    assert any("account's equity" in w for w in map(str, r.warnings))
    assert not any("as if isolated" in w for w in map(str, r.warnings))
    # without the override the isolated estimate (and its caveat) is what comes back
    iso = risk_report(pos, BTC, 62_000, SIGMA, BPH)
    assert iso.liquidation_price != pytest.approx(float(liq))
    assert any("as if isolated" in w for w in map(str, iso.warnings))


def test_an_account_below_maintenance_is_being_liquidated_now():
    (liq,) = cross_liquidation_price(10.0, [60_000.0], [1.0], [-1.0], [0.004])
    assert math.isnan(liq)
    pos = Position("BTC-USDT-SWAP", "short", 1.0, 60_000, 20, margin_mode="cross")
    r = risk_report(pos, BTC, 60_000, SIGMA, BPH, liquidation_price=float(liq))
    assert r.distance_pct == 0 and r.touch_prob_1h == 1 and r.touch_prob_24h == 1
    assert any("below its total maintenance margin" in w for w in map(str, r.warnings))
