"""storage.candles and storage.market_stats: the candle cache and statistics tables."""

from __future__ import annotations

import numpy as np

from storage.candles import (
    delete_candles,
    last_candle_ts,
    missing_ranges,
    read_candles,
    write_candles,
)
from storage.database import open_database
from storage.market_stats import DEPTH, FUNDING, StatRow, read_depth, read_series, write_stats

TF = 60_000


def bars(n: int, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    t = start + TF * np.arange(n, dtype=np.int64)
    c = 100.0 + np.arange(n)
    return t, np.column_stack([c, c + 1, c - 1, c, np.ones(n)])


def test_write_then_read_round_trips(db_path):
    db = open_database(db_path)
    t, a = bars(10)
    assert write_candles(db, "okx", "BTC-USDT-SWAP", "1m", t, a) == 10
    t2, a2 = read_candles(db, "okx", "BTC-USDT-SWAP", "1m", since_ms=2 * TF, until_ms=5 * TF)
    np.testing.assert_array_equal(t2, t[2:5])
    np.testing.assert_array_equal(a2, a[2:5])
    assert last_candle_ts(db, "okx", "BTC-USDT-SWAP", "1m") == 9 * TF
    assert last_candle_ts(db, "okx", "ETH-USDT-SWAP", "1m") is None


def test_rewriting_a_bar_replaces_it(db_path):
    db = open_database(db_path)
    t, a = bars(3)
    write_candles(db, "okx", "X", "1m", t, a)
    a[1, 3] = 555.0
    write_candles(db, "okx", "X", "1m", t[1:2], a[1:2])
    _, got = read_candles(db, "okx", "X", "1m")
    assert got.shape == (3, 5) and got[1, 3] == 555.0


def test_missing_ranges_finds_runs():
    t, _ = bars(10)
    stored = np.delete(t, [3, 4, 7])
    assert missing_ranges(stored, 0, 12 * TF, TF) == [(3 * TF, 4 * TF), (7 * TF, 7 * TF),
                                                      (10 * TF, 11 * TF)]
    assert missing_ranges(t, 0, 10 * TF, TF) == []


def test_delete_candles(db_path):
    db = open_database(db_path)
    t, a = bars(5)
    write_candles(db, "okx", "X", "1m", t, a)
    delete_candles(db, "okx", "X", "1m", [int(t[2])])
    assert len(read_candles(db, "okx", "X", "1m")[0]) == 4


def test_stats_series_and_depth(db_path):
    db = open_database(db_path)
    write_stats(db, [StatRow("okx", "X", FUNDING, 2, 0.0002), StatRow("okx", "X", FUNDING, 1, 1e-4),
                     StatRow("okx", "X", DEPTH, 1, 6.0, {"bid": [1, 2, 3], "ask": [1, 2, 3]})])
    t, v = read_series(db, "okx", "X", FUNDING)
    assert list(t) == [1, 2] and list(v) == [1e-4, 2e-4]
    t, b, a = read_depth(db, "okx", "X", 3)
    assert list(t) == [1] and b.shape == (1, 3) and a[0, 2] == 3
