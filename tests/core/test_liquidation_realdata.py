"""Liquidation maths on the real OKX tier table, Binance brackets and OKX 2022 prices."""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import pytest

from core.liquidation import (
    binance_liquidation_price,
    choose_tier,
    liquidation,
    margin_ratio,
    tier_index,
)
from core.types import Instrument, Position, Tier
from plugins.exchanges.csv_files import read_okx_tiers

pytestmark = pytest.mark.realdata


@pytest.fixture
def okx_tiers(shared_data: Path) -> dict[str, tuple[Tier, ...]]:
    path = shared_data / "tiers" / "okx_position_tiers_swap_BTC_ETH_2026-05.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    tiers = read_okx_tiers(path)
    return {"BTC-USDT": tiers["BTC"], "ETH-USDT": tiers["ETH"]}


def test_okx_tier_boundaries_are_exact(okx_tiers):
    for fam, tiers in okx_tiers.items():
        assert [t.tier for t in tiers] == list(range(1, len(tiers) + 1)), fam
        for i, t in enumerate(tiers[:-1]):
            assert tiers[i + 1].min_size == pytest.approx(t.max_size + 0.01)
            assert tier_index(tiers, t.max_size) == i
            assert tier_index(tiers, t.max_size + 1) == i + 1
            assert tier_index(tiers, tiers[i + 1].min_size) == i + 1


@pytest.mark.parametrize("fam,ct_val", [("BTC-USDT", 0.01), ("ETH-USDT", 0.1)])
def test_okx_liquidation_across_real_tiers(okx_tiers, fam, ct_val):
    tiers = okx_tiers[fam]
    inst = Instrument(f"{fam}-SWAP", fam[:3], contract_value=ct_val, tiers=tiers)
    for t in tiers[:25:3]:
        for side in ("long", "short"):
            contracts = t.max_size
            pos = Position(inst.symbol, side, contracts * ct_val, 2_000.0, min(5, t.max_leverage))
            liq = liquidation(pos, inst)
            assert liq.tier == t.tier and liq.mmr == t.mmr
            ratio = margin_ratio(pos.entry, pos.size, pos.sign, pos.isolated_margin, liq.price,
                                 liq.mmr, liq.fee)
            assert ratio == pytest.approx(1.0, rel=1e-9)
    # One contract more than tier 1's cap moves to tier 2 and a higher liquidation price.
    one = Position(inst.symbol, "long", tiers[0].max_size * ct_val, 2_000.0, 10)
    more = Position(inst.symbol, "long", (tiers[0].max_size + 1) * ct_val, 2_000.0, 10)
    assert choose_tier(inst, one.size, 2000).tier == 1
    assert choose_tier(inst, more.size, 2000).tier == 2
    assert liquidation(more, inst).price > liquidation(one, inst).price


def test_binance_brackets_are_continuous_and_solved(shared_data: Path):
    path = shared_data / "tiers" / "binance_leverage_tiers_2026-02.json.gz"
    if not path.exists():
        pytest.skip(f"{path} not found")
    with gzip.open(path) as f:
        raw = json.load(f)["BTC/USDT:USDT"]
    tiers = tuple(Tier(int(r["tier"]), r["minNotional"], r["maxNotional"],
                       r["maintenanceMarginRate"], r["maxLeverage"], "notional",
                       r["info"]["cum"]) for r in raw)
    # cum makes maintenance = notional·mmr − cum continuous at every bracket boundary.
    for a, b in itertools.pairwise(tiers):
        at = a.max_size
        assert at * a.mmr - a.maintenance_amount == pytest.approx(
            at * b.mmr - b.maintenance_amount, rel=1e-9, abs=1e-6)
    for notional in (1e4, 5e5, 2e6, 2e7):
        for sign in (1, -1):
            entry, n = 80_000.0, notional / 80_000.0
            m = notional / 10
            px = float(binance_liquidation_price(entry, n, sign, m, tiers))
            t = tiers[min(int(tier_index(tiers, n * px)), len(tiers) - 1)]
            equity = m + sign * n * (px - entry)
            assert equity == pytest.approx(n * px * t.mmr - t.maintenance_amount, rel=1e-9)
