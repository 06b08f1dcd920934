"""Liquidation maths on the real OKX tier table, Binance brackets and OKX 2022 prices."""

from __future__ import annotations

import gzip
import importlib.util
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from core.liquidation import (
    binance_liquidation_price,
    choose_tier,
    isolated_liquidation_price,
    liquidation,
    margin_ratio,
    tier_index,
)
from core.types import Instrument, Position, Tier

pytestmark = pytest.mark.realdata
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "report_liquidation_calibration.py"


def _script():
    spec = importlib.util.spec_from_file_location("report_liquidation_calibration", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def okx_tiers(shared_data: Path) -> dict[str, tuple[Tier, ...]]:
    path = shared_data / "tiers" / "okx_position_tiers_swap_BTC_ETH_2026-05.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    mod = _script()
    return {fam: mod.load_okx_tiers(path, fam) for fam in ("BTC-USDT", "ETH-USDT")}


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


def test_calibration_on_okx_2022(shared_data: Path):
    mod = _script()
    path = shared_data / mod.OHLCV
    if not path.exists():
        pytest.skip(f"{path} not found")
    tiers_path = shared_data / mod.TIERS
    tiers = mod.load_okx_tiers(tiers_path) if tiers_path.exists() else ()
    inst = Instrument("BTC-USDT-SWAP", "BTC", contract_value=0.01, tiers=tiers)
    cal = mod.calibrate(mod.load_ohlcv(path), inst, side="long", leverage=10.0)
    assert cal.touched.size > 150  # a position a day, May–Dec 2022, after a 30-day lookback
    np.testing.assert_allclose(cal.liquidation / cal.entry, 0.9 / 0.9955, rtol=1e-12)
    for pred in (cal.p_first_passage, cal.p_empirical):
        table = mod.calibration_table(pred, cal.touched)
        assert sum(r["n"] for r in table) == np.isfinite(pred).sum()
        assert sum(r["touched"] for r in table) == cal.touched[np.isfinite(pred)].sum()
        mean = float(np.nanmean(pred))
        observed = float(cal.touched.mean())
        # 2022 had LUNA, 3AC and FTX: some 10x longs were liquidated, but few.
        assert 0 < observed < 0.15
        assert observed / 10 < mean < observed * 10, (mean, observed)
    assert isolated_liquidation_price(100.0, 1, 1, 10.0, 0.004, 0.0005) == pytest.approx(
        90 / 0.9955)
