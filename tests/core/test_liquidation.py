"""Liquidation prices against hand-worked examples and an independent brute-force search."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.liquidation import (
    DEFAULT_FEE,
    DEFAULT_MMR,
    TierTable,
    binance_liquidation_price,
    choose_tier,
    cross_liquidation_price,
    isolated_liquidation_price,
    liquidation,
    margin_ratio,
    tier_index,
)
from core.types import Instrument, Position, Tier

# The first OKX BTC-USDT tiers (contracts of 0.01 BTC), as in the 2026-05 tier CSV.
OKX_BTC = (
    Tier(1, 0, 1000, 0.004, 100),
    Tier(2, 1000.01, 5000, 0.005, 66.66),
    Tier(3, 5000.01, 20000, 0.0075, 50),
    Tier(4, 20000.01, 40000, 0.0125, 40),
)
BTC = Instrument("BTC-USDT-SWAP", "BTC", contract_value=0.01, tiers=OKX_BTC)
# Binance BTCUSDT brackets (notional, cum), from the 2026-02 freqtrade bundle.
BINANCE_BTC = (
    Tier(1, 0, 300_000, 0.004, 150, "notional", 0.0),
    Tier(2, 300_000, 800_000, 0.005, 100, "notional", 300.0),
    Tier(3, 800_000, 3_000_000, 0.0065, 75, "notional", 1500.0),
    Tier(4, 3_000_000, 12_000_000, 0.01, 50, "notional", 12000.0),
)


def brute_isolated(entry: float, n: float, sign: int, margin: float, mmr: float,
                   fee: float) -> float:
    """Slow, obvious: bisect the mark at which the OKX margin ratio is exactly 100 %."""

    def ratio(mark: float) -> float:
        upl = sign * n * (mark - entry)
        return (margin + upl) / (abs(n) * mark * (mmr + fee))

    lo, hi = 1e-9, entry * 100  # the ratio is monotone in the mark on all of (0, ∞)
    for _ in range(300):
        mid = (lo + hi) / 2
        safe = ratio(mid) > 1
        if (sign > 0) == safe:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def brute_binance(entry: float, n: float, sign: int, margin: float, tiers) -> float:
    """Bisect equity − maintenance, the bracket picked by the notional at that price."""

    def excess(p: float) -> float:
        notional = n * p
        t = next((t for t in tiers if notional <= t.max_size), tiers[-1])
        return margin + sign * n * (p - entry) - (notional * t.mmr - t.maintenance_amount)

    lo, hi = (1e-9, entry) if sign > 0 else (entry, entry * 100)
    for _ in range(300):
        mid = (lo + hi) / 2
        if (excess(mid) > 0) == (sign > 0):
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def test_hand_worked_long_and_short():
    # 1 BTC at 60,000, 10x: margin 6,000, tier-1 mmr 0.4 %, taker fee 0.05 %.
    assert isolated_liquidation_price(60_000, 1, 1, 6_000, 0.004, 0.0005) == pytest.approx(
        54_000 / 0.9955, rel=1e-12)
    assert isolated_liquidation_price(60_000, 1, -1, 6_000, 0.004, 0.0005) == pytest.approx(
        66_000 / 1.0045, rel=1e-12)
    # 10x long liquidates about 9.6 % below entry: the FAQ's "a ~10 % move".
    px = float(isolated_liquidation_price(100.0, 1, 1, 10.0, DEFAULT_MMR, DEFAULT_FEE))
    assert (100 - px) == pytest.approx(9.5932, abs=1e-4)


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("contracts", [1, 1000, 1000.01, 4000, 15000, 33000])
@pytest.mark.parametrize("lev", [3, 10, 25, 60])
def test_matches_brute_force_across_tiers(sign, contracts, lev):
    n = contracts * BTC.contract_value
    entry = 61_234.5
    pos = Position("BTC-USDT-SWAP", "long" if sign > 0 else "short", n, entry, lev)
    liq = liquidation(pos, BTC)
    tier = choose_tier(BTC, n, entry)
    expected = brute_isolated(entry, n, sign, entry * n / lev, tier.mmr, BTC.taker_fee)
    assert liq.price == pytest.approx(expected, rel=1e-9)
    assert liq.mmr == tier.mmr
    ratio = margin_ratio(entry, n, sign, pos.isolated_margin, liq.price, liq.mmr, liq.fee)
    assert ratio == pytest.approx(1.0, rel=1e-9)


def test_tier_boundaries_exact():
    caps = [t.max_size for t in OKX_BTC]
    assert caps == sorted(caps)
    for i, t in enumerate(OKX_BTC[:-1]):
        assert tier_index(OKX_BTC, t.max_size) == i  # exactly max_sz: this tier
        assert tier_index(OKX_BTC, t.max_size + 1) == i + 1  # one contract more: the next
        assert tier_index(OKX_BTC, t.max_size + 0.01) == i + 1  # one lot more
    # In base units: 10 BTC = 1,000 contracts is tier 1; 10.01 BTC is tier 2.
    assert choose_tier(BTC, 10.0, 60_000).tier == 1
    assert choose_tier(BTC, 10.01, 60_000).tier == 2
    # Floating point: 500.1 ETH / 0.1 = 5000.999…, still 5,001 contracts.
    eth = Instrument("ETH-USDT-SWAP", "ETH", contract_value=0.1,
                     tiers=(Tier(1, 0, 5000, 0.004, 100), Tier(2, 5000.01, 30000, 0.005, 66)))
    assert choose_tier(eth, 500.0, 3000).tier == 1
    assert choose_tier(eth, 500.1, 3000).tier == 2
    assert choose_tier(eth, 0.3, 3000).tier == 1


def test_above_last_tier_uses_last():
    assert tier_index(OKX_BTC, 1e9) == len(OKX_BTC) - 1


def test_mmr_override_and_default():
    pos = Position("BTC-USDT-SWAP", "long", 1.0, 50_000, 10)
    assert liquidation(pos, BTC, mmr=0.02).mmr == 0.02
    assert liquidation(pos, BTC, mmr=0.02).tier is None
    bare = Instrument("X-USDT-SWAP", "X")
    assert liquidation(pos, bare).mmr == DEFAULT_MMR


@settings(max_examples=200, deadline=None)
@given(
    entry=st.floats(1e-3, 1e6),
    n=st.floats(1e-3, 1e4),
    lev=st.floats(1.5, 99),
    bump=st.floats(1.01, 3),
    sign=st.sampled_from([1, -1]),
    mmr=st.floats(0.0, 0.1),
)
def test_higher_leverage_is_closer_to_entry(entry, n, lev, bump, sign, mmr):
    lo = isolated_liquidation_price(entry, n, sign, entry * n / lev, mmr, 0.0005)
    hi = isolated_liquidation_price(entry, n, sign, entry * n / (lev * bump), mmr, 0.0005)
    # The liquidation price moves towards the entry (and past it once the margin is below
    # the maintenance requirement, which the exchange would refuse to open).
    assert sign * (hi - lo) > 0
    if 1 / (lev * bump) > mmr + 0.0005:
        assert abs(hi - entry) < abs(lo - entry)


def test_long_without_leverage_cannot_be_liquidated():
    assert isolated_liquidation_price(100.0, 1.0, 1, 100.0, 0.004, 0.0005) == 0.0
    assert isolated_liquidation_price(100.0, 1.0, 1, 150.0, 0.004, 0.0005) == 0.0


def test_vectorised_matches_scalar():
    rng = np.random.default_rng(7)
    k = 500
    entry = rng.uniform(1, 1e5, k)
    n = rng.uniform(0.01, 100, k)
    sign = rng.choice([-1.0, 1.0], k)
    margin = entry * n / rng.uniform(2, 50, k)
    mmr = rng.uniform(0.004, 0.05, k)
    vec = isolated_liquidation_price(entry, n, sign, margin, mmr, 0.0005)
    one = [float(isolated_liquidation_price(*a, 0.0005))
           for a in zip(entry, n, sign, margin, mmr, strict=True)]
    np.testing.assert_allclose(vec, one, rtol=1e-15)
    brute = [brute_isolated(*a, 0.0005) for a in zip(entry[:50], n[:50], sign[:50],
                                                      margin[:50], mmr[:50], strict=True)]
    np.testing.assert_allclose(vec[:50], brute, rtol=1e-9)


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("notional", [10_000, 299_000, 500_000, 790_000, 2_500_000])
@pytest.mark.parametrize("lev", [5, 10, 40])
def test_binance_matches_brute_force(sign, notional, lev):
    entry = 80_000.0
    n = notional / entry
    got = binance_liquidation_price(entry, n, sign, notional / lev, BINANCE_BTC)
    expected = brute_binance(entry, n, sign, notional / lev, BINANCE_BTC)
    assert got == pytest.approx(expected, rel=1e-9)


def test_binance_bracket_by_liquidation_notional():
    # 790k notional short at 10x liquidates ~9.5 % higher: notional ~865k, bracket 3 not 2.
    entry, n = 80_000.0, 790_000 / 80_000
    px = float(binance_liquidation_price(entry, n, -1, 79_000, BINANCE_BTC))
    assert n * px > 800_000
    t = BINANCE_BTC[2]
    assert px == pytest.approx((79_000 + t.maintenance_amount + n * entry) / (n * t.mmr + n),
                               rel=1e-12)


def test_binance_scalar_entry_point():
    inst = Instrument("BTCUSDT", "BTC", tiers=BINANCE_BTC, max_leverage=150)
    pos = Position("BTCUSDT", "long", 2.0, 80_000, 10)
    liq = liquidation(pos, inst)
    assert liq.price == pytest.approx(brute_binance(80_000, 2.0, 1, 16_000, BINANCE_BTC),
                                      rel=1e-9)
    assert liq.tier == 1


def brute_cross(equity, marks, n, sign, mmr, fee, i):
    k = np.asarray(mmr) + fee

    def excess(p):
        m = np.array(marks, dtype=float)
        eq = equity + sign[i] * n[i] * (p - m[i])
        m[i] = p
        return eq - np.sum(np.abs(n) * m * k)

    lo, hi = (1e-9, marks[i]) if sign[i] > 0 else (marks[i], marks[i] * 100)
    for _ in range(300):
        mid = (lo + hi) / 2
        if (excess(mid) > 0) == (sign[i] > 0):
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def test_cross_matches_brute_force():
    marks = np.array([60_000.0, 3_000.0, 150.0])
    n = np.array([1.0, 10.0, 100.0])
    sign = np.array([1.0, -1.0, 1.0])
    mmr = np.array([0.004, 0.004, 0.01])
    equity = 8_000.0
    got = cross_liquidation_price(equity, marks, n, sign, mmr, 0.0005)
    for i in range(3):
        assert got[i] == pytest.approx(brute_cross(equity, marks, n, sign, mmr, 0.0005, i),
                                       rel=1e-9)


def test_cross_account_below_maintenance_is_nan():
    got = cross_liquidation_price(10.0, [60_000.0], [1.0], [1.0], [0.004])
    assert np.isnan(got[0])


def test_tier_table_lookup_matches_choose_tier():
    table = TierTable.build([OKX_BTC, OKX_BTC[:2]])
    amounts = np.array([0, 1000, 1000.01, 5000, 5001, 40000, 1e9])
    for row, tiers in enumerate([OKX_BTC, OKX_BTC[:2]]):
        cols = table.lookup(np.full(amounts.shape, row), amounts)
        np.testing.assert_array_equal(cols, [min(tier_index(tiers, a), len(tiers) - 1)
                                             for a in amounts])


def test_core_modules_are_pure():
    allowed = {"numpy", "math", "dataclasses", "functools", "collections", "typing",
               "__future__", "types", "core", "i18n"}  # i18n: message values, no I/O
    for name in ("liquidation", "touch", "risk"):
        tree = ast.parse((Path(__file__).parents[2] / "core" / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            for m in mods:
                assert m.split(".")[0] in allowed, f"core/{name}.py imports {m}"
