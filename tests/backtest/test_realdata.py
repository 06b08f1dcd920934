"""The backtest on the real data in ../shared/data (skipped with a reason when absent)."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from backtest.run import BacktestRequest, backtest
from chat.cli import parse_at
from core.liquidation import binance_liquidation_price, choose_tier, isolated_liquidation_price
from plugins.exchanges.csv_market import CsvMarket
from settings.config import Config


def _run(config: Config, request: BacktestRequest):
    market = CsvMarket(config.exchange)
    return asyncio.run(backtest(market, request, config))


def _okx_2022(shared_data) -> Config:
    return Config().model_copy(update={"exchange": Config().exchange.model_copy(update={
        "name": "csv", "data_dir": str(shared_data / "okx_swap_15m_2022"),
        "tiers_file": str(shared_data / "tiers" / "okx_position_tiers_swap_BTC_ETH_2026-05.csv"),
    })})


def test_okx_2022_through_the_ftx_collapse_isolated(shared_data):
    req = BacktestRequest(start_ms=parse_at("2022-08-15"), end_ms=parse_at("2022-11-13"),
                          mark_dir=str(shared_data / "okx_swap_mark_1h"), margin="isolated")
    result, data, _ = _run(_okx_2022(shared_data), req)
    json.dumps(data, allow_nan=False)
    assert data["bars"] == 90 * 96 and len(data["symbols"]) == 9
    assert data["start"] == "2022-08-15T00:00Z" and data["end"] == "2022-11-13T00:00Z"
    # BTC is tiered by contracts on OKX: the main's liquidation price is the core formula's
    inst = result.snap.instruments["BTC-USDT-SWAP"]
    tier = choose_tier(inst, result.main_size, result.main_entry)
    assert tier is not None and tier.unit == "contracts"
    assert result.main_liq_price == pytest.approx(float(isolated_liquidation_price(
        result.main_entry, result.main_size, 1, 2000.0, tier.mmr, 0.0005)))
    (main,) = [x for x in result.runs["none"].liquidations if x.main]
    low = result.snap.low[:, result.snap.index("BTC-USDT-SWAP")]
    assert low[main.t] <= result.main_liq_price
    assert np.nanmin(low[result.start:main.t]) > result.main_liq_price
    # the cascade score finds the FTX collapse
    assert any(w["start"] <= "2022-11-09" and w["end"] >= "2022-11-08"
               for w in data["stress_windows"])
    assert any("mark-price" in a for a in data["assumptions"])


def test_okx_2022_cross_account_meets_its_maintenance_at_the_liquidation_bar(shared_data):
    req = BacktestRequest(start_ms=parse_at("2022-08-15"), end_ms=parse_at("2022-11-13"),
                          strategies=("none", "static"))
    result, data, _ = _run(_okx_2022(shared_data), req)
    json.dumps(data, allow_nan=False)
    run = result.runs["none"]
    j = result.snap.index("BTC-USDT-SWAP")
    s = result.start
    n = result.main_size
    tier = choose_tier(result.snap.instruments["BTC-USDT-SWAP"], n, result.main_entry)
    assert tier is not None
    # an independent check on the engine's own equity path: the unhedged account is
    # liquidated in the first bar whose low takes equity (the previous close's, plus that
    # bar's funding and the move to the low) to the maintenance margin at the low
    close = result.snap.close[s - 1:result.stop, j]
    low = result.snap.low[s:result.stop, j]
    before = np.concatenate([[run.equity[0] - n * (close[1] - close[0])], run.equity[:-1]])
    at_low = before + run.funding + n * (low - close[:-1])
    maintenance = n * low * (tier.mmr + 0.0005)
    (ev,) = run.liquidations
    first = int(np.flatnonzero(at_low <= maintenance)[0]) + s
    assert ev.t == first and ev.symbol == "account"
    assert run.equity[ev.t - s:] == pytest.approx(0.0, abs=1e-6)
    # the static hedge's account is not liquidated in that bar: its short leg paid for it
    assert all(x.t != ev.t for x in result.runs["static"].liquidations)


def test_binance_study_of_starts_with_intervals(shared_data):
    cfg = Config().model_copy(update={"exchange": Config().exchange.model_copy(update={
        "name": "csv", "data_dir": str(shared_data / "binance_usdm_15m"),
        "funding_dir": str(shared_data / "funding" / "binance"),
        "tiers_file": str(shared_data / "tiers" / "binance_leverage_tiers_2024-10.json.gz"),
        "symbols": ["BTC", "ETH", "SOL"],
    })})
    req = BacktestRequest(start_ms=parse_at("2024-01-01"), end_ms=parse_at("2024-05-01"),
                          days=None, rolling="10d", horizon="20d", workers=1,
                          strategies=("none", "static", "min_variance"))
    run, data, _ = _run(cfg, req)
    json.dumps(data, allow_nan=False)
    assert data["runs"] == len(run.study.starts) >= 7
    assert data["first_start"] >= "2024-01-31"  # the slow window of warm-up first
    for d in data["strategies"].values():
        assert 0.0 <= d["survival"] <= 1.0
        assert d["return"]["p5"] <= d["return"]["median"] <= d["return"]["p95"]
    assert data["baselines"]["matched"]["static"]["leverage"]["max"] < 10.0
    assert any("funding from the exchange" in a for a in data["assumptions"])


def test_binance_2025_with_funding_and_brackets(shared_data):
    cfg = Config().model_copy(update={"exchange": Config().exchange.model_copy(update={
        "name": "csv", "data_dir": str(shared_data / "binance_usdm_15m"),
        "funding_dir": str(shared_data / "funding" / "binance"),
        "tiers_file": str(shared_data / "tiers" / "binance_leverage_tiers_2026-02.json.gz"),
        "symbols": ["BTC", "ETH", "SOL"],
    })})
    req = BacktestRequest(start_ms=parse_at("2025-08-15"), end_ms=parse_at("2025-11-13"))
    result, data, _ = _run(cfg, req)
    json.dumps(data, allow_nan=False)
    assert data["bars"] == 90 * 96
    notes = [a for a in data["assumptions"] if "funding from the exchange" in a]
    assert len(notes) == 3
    inst = result.snap.instruments["BTC-USDT-SWAP"]
    assert result.main_liq_price == pytest.approx(float(binance_liquidation_price(
        result.main_entry, result.main_size, 1, 2000.0, inst.tiers)))
    # funding was paid by the unhedged long: positive rates dominated in 2025
    assert data["strategies"]["none"]["funding"] > 0
    assert any(w["start"] <= "2025-10-11" and w["end"] >= "2025-10-10"
               for w in data["stress_windows"])
