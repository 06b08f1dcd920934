"""The candle cache: closed OHLCV bars per exchange, symbol and timeframe.

Only closed bars are written (the caller drops the still-open one), so a stored bar is final
and never needs rewriting; a re-fetched bar simply replaces the same row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlite_utils import Database

from storage.writes import write

TABLE = "candles"
FIELDS = ("open", "high", "low", "close", "volume")


def write_candles(db: Database, exchange: str, symbol: str, timeframe: str,
                  times: Sequence[int] | np.ndarray, ohlcv: np.ndarray) -> int:
    """Upsert bars (``ohlcv`` is (n, 5)); returns how many rows were written."""
    ohlcv = np.asarray(ohlcv, dtype=np.float64).reshape(-1, 5)
    rows = [
        {"exchange": exchange, "symbol": symbol, "timeframe": timeframe, "ts": int(t),
         **dict(zip(FIELDS, map(float, vals), strict=True))}
        for t, vals in zip(times, ohlcv, strict=True)
    ]
    if not rows:
        return 0
    with write(db):
        db[TABLE].upsert_all(rows, pk=("exchange", "symbol", "timeframe", "ts"))
    return len(rows)


def read_candles(db: Database, exchange: str, symbol: str, timeframe: str, *,
                 since_ms: int | None = None, until_ms: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Open times (int64, ascending) and an (n, 5) float64 OHLCV array for
    ``since_ms <= ts < until_ms``."""
    sql = (f"select ts, open, high, low, close, volume from {TABLE} "
           "where exchange = ? and symbol = ? and timeframe = ? and ts >= ? and ts < ? "
           "order by ts")
    lo = since_ms if since_ms is not None else -(2 ** 62)
    hi = until_ms if until_ms is not None else 2 ** 62
    rows = db.execute(sql, [exchange, symbol, timeframe, lo, hi]).fetchall()
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, 5))
    arr = np.array(rows, dtype=np.float64)
    return np.array([r[0] for r in rows], dtype=np.int64), arr[:, 1:]


def last_candle_ts(db: Database, exchange: str, symbol: str, timeframe: str) -> int | None:
    """Open time of the newest stored bar, None when nothing is cached."""
    row = db.execute(f"select max(ts) from {TABLE} where exchange = ? and symbol = ? "
                     "and timeframe = ?", [exchange, symbol, timeframe]).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def missing_ranges(stored: np.ndarray, start_ms: int, end_ms: int, step_ms: int
                   ) -> list[tuple[int, int]]:
    """Runs of bar open times in ``[start_ms, end_ms)`` (on the ``step_ms`` grid) that are not
    in ``stored``, as (first, last) inclusive pairs, oldest first."""
    grid = np.arange(start_ms, end_ms, step_ms, dtype=np.int64)
    if grid.size == 0:
        return []
    absent = grid[~np.isin(grid, stored)]
    if absent.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(absent) != step_ms)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [absent.size - 1]])
    return [(int(absent[s]), int(absent[e])) for s, e in zip(starts, ends, strict=True)]


def delete_candles(db: Database, exchange: str, symbol: str, timeframe: str,
                   times: Sequence[int]) -> None:
    """Remove bars (used by tests and by repair tools)."""
    with write(db):
        for t in times:
            db.execute(f"delete from {TABLE} where exchange = ? and symbol = ? and "
                       "timeframe = ? and ts = ?", [exchange, symbol, timeframe, int(t)])
