"""The CSV market: real files read exactly, replay by bar, clear errors for bad files."""

from __future__ import annotations

import gzip
import itertools
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from plugins.exchanges.csv_files import (
    CsvFormatError,
    load_candles,
    load_funding,
    read_binance_tiers,
    read_okx_tiers,
    read_tiers,
)
from plugins.exchanges.csv_market import DEFAULT_TIER, CsvMarket
from plugins.exchanges.errors import MarketError, UnknownSymbol
from settings.config import ExchangeConfig

BAR = 900_000
T0 = 1_700_000_000_000 // BAR * BAR
HEADER = "ts_ms,open,high,low,close,volume\n"


def write_bars(path: Path, n: int = 20, t0: int = T0, price: float = 100.0) -> Path:
    rows = [f"{t0 + i * BAR},{price + i},{price + i + 1},{price + i - 1},{price + i + 0.5},{10 + i}"
            for i in range(n)]
    text = HEADER + "\n".join(rows) + "\n"
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


def market(data_dir: Path, **kw) -> CsvMarket:
    symbols = kw.pop("symbols", None)
    at_ms = kw.pop("at_ms", None)
    cfg = ExchangeConfig(name="csv", data_dir=str(data_dir), **kw)
    return CsvMarket(cfg, symbols=symbols, at_ms=at_ms)


# --- real data -----------------------------------------------------------------------------


async def test_closes_equal_the_files(shared_data: Path) -> None:
    folder = shared_data / "okx_swap_15m_2022"
    m = market(folder)
    snap = await m.snapshot(bars=30_000)
    assert snap.source == "csv" and not snap.simulated
    assert not snap.missing
    for sym in snap.symbols:
        df = pd.read_csv(folder / f"{sym}_15m.csv.gz")
        col = snap.index(sym)
        rows = np.searchsorted(snap.times, df["ts_ms"].to_numpy())
        assert np.array_equal(snap.times[rows], df["ts_ms"].to_numpy())
        valid = snap.valid[rows, col]
        np.testing.assert_array_equal(snap.close[rows, col][valid], df["close"].to_numpy()[valid])
        # Bars hidden as missing are exactly the flat zero-volume outage bars.
        flat = (df["volume"] <= 0) & (df["high"] == df["low"])
        np.testing.assert_array_equal(~valid, flat.to_numpy())
    assert snap.server_time_ms == snap.last_bar_close_ms


async def test_replay_bar_by_bar_equals_loading_at_once(shared_data: Path) -> None:
    folder = shared_data / "okx_swap_15m_2022"
    full = await market(folder, symbols=["BTC", "ETH", "SOL"]).snapshot(bars=30_000)
    start = len(full.times) - 400  # replay across the last 400 bars, 64 bars of history each
    m = market(folder, symbols=["BTC", "ETH", "SOL"], at_ms=int(full.times[start]) + BAR)
    for k in range(start, len(full.times)):
        snap = await m.snapshot(bars=64)
        assert await m.server_time() == int(full.times[k]) + BAR
        np.testing.assert_array_equal(snap.times, full.times[k - 63:k + 1])
        np.testing.assert_array_equal(snap.close, full.close[k - 63:k + 1])
        np.testing.assert_array_equal(snap.volume, full.volume[k - 63:k + 1])
        m.advance()


async def test_at_ms_sees_only_bars_closed_by_then(shared_data: Path) -> None:
    m = market(shared_data / "okx_swap_15m_2022", symbols=["BTC-USDT-SWAP"])
    at = 1_655_596_800_000 + 7 * 60_000  # 2022-06-19 00:07 UTC: the 23:45 bar closed last
    snap = await m.snapshot(bars=8, at_ms=at)
    assert int(snap.times[-1]) == 1_655_596_800_000 - BAR
    assert snap.server_time_ms == at
    candles = await m.fetch_ohlcv("BTC", limit=5)
    assert int(candles.times[-1]) + BAR == await m.server_time()


async def test_binance_names_resolve_to_the_canonical_symbol(shared_data: Path) -> None:
    m = market(shared_data / "binance_usdm_15m", symbols=["BTCUSDT", "eth"])
    await m.load_instruments()
    assert m.symbols == ("BTC-USDT-SWAP", "ETH-USDT-SWAP")
    for text in ("BTC", "BTCUSDT", "BTC/USDT:USDT", "btc-usdt-swap"):
        assert m.resolve(text) == "BTC-USDT-SWAP"
    assert m.instruments["BTC-USDT-SWAP"].contract_value == 1.0  # Binance: base units


def test_a_100k_row_file_loads_in_well_under_a_second(shared_data: Path) -> None:
    path = shared_data / "okx_swap_15m_2023_2026" / "BTC-USDT-SWAP_15m.csv.gz"
    t0 = time.perf_counter()
    c = load_candles(path)
    assert len(c) > 100_000
    assert time.perf_counter() - t0 < 0.8


def test_binance_funding_jitter_is_rounded_to_the_minute(shared_data: Path) -> None:
    s = load_funding([shared_data / "funding" / "binance" / "BTCUSDT_funding.csv.gz"])
    assert len(s) > 1000 and np.all(s.times % 60_000 == 0)


def test_binance_tiers_parsed(shared_data: Path) -> None:
    tiers = read_tiers(shared_data / "tiers" / "binance_leverage_tiers_2026-02.json.gz")
    btc = tiers["BTC"]
    assert all(t.unit == "notional" for t in btc)
    assert btc[0].min_size == 0 and btc[0].maintenance_amount == 0
    assert [t.tier for t in btc] == sorted(t.tier for t in btc)
    # Binance's cum makes the maintenance margin continuous at each bracket edge.
    for a, b in itertools.pairwise(btc):
        edge = b.min_size
        assert a.mmr * edge - a.maintenance_amount == pytest.approx(
            b.mmr * edge - b.maintenance_amount, rel=1e-6, abs=1e-6)


def test_okx_tiers_parsed_in_contracts(shared_data: Path) -> None:
    tiers = read_okx_tiers(shared_data / "tiers" / "okx_position_tiers_swap_BTC_ETH_2026-05.csv")
    assert len(tiers["BTC"]) >= 84 and tiers["BTC"][0].mmr == 0.004
    assert all(t.unit == "contracts" for t in tiers["ETH"])


# --- synthetic files -----------------------------------------------------------------------


async def test_tables_override_the_stated_defaults(tmp_path: Path, shared_data: Path) -> None:
    write_bars(tmp_path / "BTC-USDT-SWAP_15m.csv")
    write_bars(tmp_path / "DOGEUSDT_15m.csv.gz")
    m = market(tmp_path)
    await m.load_instruments()
    assert m.instruments["BTC-USDT-SWAP"].contract_value == 0.01  # OKX ctVal
    assert m.instruments["DOGE-USDT-SWAP"].contract_value == 1.0
    assert m.instruments["DOGE-USDT-SWAP"].tiers == (DEFAULT_TIER,)
    tiers = shared_data / "tiers" / "binance_leverage_tiers_2024-10.json.gz"
    m2 = market(tmp_path, tiers_file=str(tiers))
    await m2.load_instruments()
    assert m2.instruments["DOGE-USDT-SWAP"].tiers[0].unit == "notional"
    assert len(m2.instruments["DOGE-USDT-SWAP"].tiers) > 1


async def test_every_file_is_served_unless_narrowed(tmp_path: Path) -> None:
    for name in ("BTC-USDT-SWAP_15m.csv", "ETHUSDT_15m.csv.gz", "SOL-USDT-SWAP_1h.csv"):
        write_bars(tmp_path / name)
    m = market(tmp_path)
    snap = await m.snapshot(bars=5)
    assert snap.symbols == ("BTC-USDT-SWAP", "ETH-USDT-SWAP")  # 1h file is another timeframe
    assert (await market(tmp_path, symbols=["ETH"]).snapshot(bars=5)).symbols == (
        "ETH-USDT-SWAP",)


async def test_configured_symbols_absent_from_the_folder_are_an_error(tmp_path: Path) -> None:
    write_bars(tmp_path / "BTC-USDT-SWAP_15m.csv")
    m = CsvMarket(ExchangeConfig(name="csv", data_dir=str(tmp_path), symbols=["BTC", "PEPE"]))
    with pytest.raises(MarketError, match=r"PEPE.*it has: BTC-USDT-SWAP"):
        await m.load_instruments()


async def test_unknown_symbol_in_a_snapshot_is_listed_as_missing(tmp_path: Path) -> None:
    write_bars(tmp_path / "BTC-USDT-SWAP_15m.csv")
    m = market(tmp_path)
    snap = await m.snapshot(["BTC", "NOPE"], bars=5)
    assert snap.symbols == ("BTC-USDT-SWAP",) and "NOPE" in snap.missing
    with pytest.raises(UnknownSymbol):
        m.resolve("NOPE")


async def test_arrays_are_cached_per_instance(tmp_path: Path) -> None:
    write_bars(tmp_path / "BTC-USDT-SWAP_15m.csv")
    m = market(tmp_path)
    await m.load_instruments()
    assert m.candles("BTC") is m.candles("BTCUSDT")


async def test_fetch_ohlcv_since_and_limit(tmp_path: Path) -> None:
    write_bars(tmp_path / "BTC-USDT-SWAP_15m.csv", n=20)
    m = market(tmp_path, at_ms=T0 + 10 * BAR)  # ten bars have closed
    assert len(await m.fetch_ohlcv("BTC")) == 10
    c = await m.fetch_ohlcv("BTC", since_ms=T0 + 3 * BAR, limit=4)
    np.testing.assert_array_equal(c.times, T0 + BAR * np.arange(3, 7))
    assert m.advance(2) == T0 + 12 * BAR
    assert len(await m.fetch_ohlcv("BTC")) == 12


BAD_FILES = {
    "missing column": ("ts_ms,open,high,low,close\n1,2,3,1,2\n", None, "missing column"),
    "unsorted": (HEADER + f"{T0 + BAR},1,1,1,1,1\n{T0},1,1,1,1,1\n", 2, "out of order"),
    "duplicate": (HEADER + f"{T0},1,1,1,1,1\n{T0 + BAR},1,1,1,1,1\n{T0 + BAR},1,1,1,1,1\n",
                  3, "duplicate"),
    "non-numeric": (HEADER + f"{T0},1,1,1,1,1\n{T0 + BAR},1,1,abc,1,1\n", 2, "'abc'"),
    "short row": (HEADER + f"{T0},1,1,1,1,1\n{T0 + BAR},1,1,1\n", 2, "fields"),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_files_name_the_file_and_row(tmp_path: Path, kind: str) -> None:
    text, row, what = BAD_FILES[kind]
    path = tmp_path / "BTC-USDT-SWAP_15m.csv"
    path.write_text(text)
    with pytest.raises(CsvFormatError, match=what) as err:
        load_candles(path)
    assert "BTC-USDT-SWAP_15m.csv" in str(err.value)
    assert err.value.row == row
    if row is not None:
        assert f"row {row}" in str(err.value)


async def test_bad_file_fails_the_market_loudly(tmp_path: Path) -> None:
    (tmp_path / "BTC-USDT-SWAP_15m.csv").write_text(HEADER + "1,x,1,1,1,1\n")
    with pytest.raises(CsvFormatError, match=r"BTC-USDT-SWAP_15m.csv, row 1"):
        await market(tmp_path).snapshot(bars=5)


def test_funding_jitter_rounded_and_files_merged(tmp_path: Path) -> None:
    h = 3_600_000
    a = tmp_path / "BTCUSDT_funding.csv"
    a.write_text(f"ts_ms,funding_rate\n{T0 + 5},0.0001\n{T0 + 8 * h - 3},0.0002\n")
    b = tmp_path / "BTCUSDT_funding_2.csv"
    b.write_text(f"ts_ms,funding_rate\n{T0 + 8 * h + 7},0.0003\n{T0 + 16 * h},0.0004\n")
    s = load_funding([a, b])
    np.testing.assert_array_equal(s.times, T0 + np.array([0, 8, 16]) * h)
    np.testing.assert_array_equal(s.values, [0.0001, 0.0003, 0.0004])


async def test_funding_history_stops_at_the_clock(tmp_path: Path) -> None:
    data, fund = tmp_path / "d", tmp_path / "f"
    data.mkdir()
    fund.mkdir()
    write_bars(data / "BTCUSDT_15m.csv", n=96)
    h = 3_600_000
    (fund / "BTCUSDT_funding.csv").write_text(
        "ts_ms,funding_rate\n" + "".join(f"{T0 + k * 8 * h + 4},{k * 1e-4}\n" for k in range(3)))
    m = market(data, funding_dir=str(fund), at_ms=T0 + 12 * h)
    info = await m.fetch_funding("BTC")
    assert info.time_ms == T0 + 8 * h and info.rate == pytest.approx(1e-4)
    snap = await m.snapshot(bars=96)
    np.testing.assert_array_equal(snap.funding["BTC-USDT-SWAP"].times, T0 + np.array([0, 8]) * h)


def test_binance_bracket_json(tmp_path: Path) -> None:
    data = {"ABC/USDT:USDT": [
        {"tier": 2.0, "minNotional": 5e4, "maxNotional": 1e5, "maintenanceMarginRate": 0.01,
         "maxLeverage": 50.0, "info": {"cum": 250.0}},
        {"tier": 1.0, "minNotional": 0.0, "maxNotional": 5e4, "maintenanceMarginRate": 0.005,
         "maxLeverage": 100.0, "info": {"cum": 0.0}}],
        "ABC/USDT": []}
    p = tmp_path / "tiers.json.gz"
    with gzip.open(p, "wt") as f:
        json.dump(data, f)
    t = read_binance_tiers(p)["ABC"]
    assert [x.tier for x in t] == [1, 2] and t[1].maintenance_amount == 250.0


async def test_missing_folder_and_empty_folder_are_clear(tmp_path: Path) -> None:
    with pytest.raises(MarketError, match="data_dir"):
        CsvMarket(ExchangeConfig(name="csv"))
    with pytest.raises(MarketError, match="no <SYMBOL>_15m"):
        await market(tmp_path).load_instruments()
    with pytest.raises(MarketError, match="does not exist"):
        await market(tmp_path / "nope").load_instruments()


async def test_what_a_csv_folder_does_not_know_is_said_not_guessed(tmp_path: Path) -> None:
    write_bars(tmp_path / "BTC-USDT-SWAP_15m.csv")
    write_bars(tmp_path / "ETH-USDT-SWAP_15m.csv")
    tiers = tmp_path / "tiers.csv"
    tiers.write_text("inst_family,tier,min_sz_contracts,max_sz_contracts,mmr,imr,max_lever\n"
                     "BTC-USDT,1,0,1000,0.004,0.01,100\n")
    m = market(tmp_path, tiers_file=str(tiers))
    await m.load_instruments()
    said = m.assumptions(["BTC-USDT-SWAP", "ETH-USDT-SWAP"])
    assert said[0] == ("fees: a CSV folder has no fee schedule; a taker fee of 0.050% is "
                       "assumed")
    assert said[1] == ("tiers: no tier table for ETH-USDT-SWAP; one tier at 0.5% maintenance "
                       "margin, up to 100x, is assumed")
    assert m.assumptions(["BTC-USDT-SWAP"]) == said[:1]


async def test_spot_files_serve_the_base_and_say_so(tmp_path: Path) -> None:
    write_bars(tmp_path / "AVAXUSDT_spot_15m.csv", price=20.0)
    write_bars(tmp_path / "SOLUSDT_spot_15m.csv", price=100.0)
    write_bars(tmp_path / "SOLUSDT_15m.csv", price=101.0)  # a swap file beats spot
    m = market(tmp_path)
    await m.load_instruments()
    assert m.symbols == ("AVAX-USDT-SWAP", "SOL-USDT-SWAP")
    assert m.resolve("AVAX") == "AVAX-USDT-SWAP"
    snap = await m.snapshot(bars=5)
    assert snap.close[-1, 1] == 101.0 + 19 + 0.5
    said = m.assumptions(["AVAX-USDT-SWAP", "SOL-USDT-SWAP"])
    assert said[-1] == ("prices: AVAX-USDT-SWAP come from spot candles (…_spot_<timeframe> "
                        "files), standing in for the perpetual's")
