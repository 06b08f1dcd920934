"""Market statistics over time: funding, open interest, order-book depth, liquidations and
taker flow per symbol — the cascade score's samples, kept so a replay gives the live score.

Each fetch is one row keyed by (exchange, symbol, kind, ts); ``ts`` is the moment the sample
stands for (a cycle's bar close, the watch's clock), ``value`` holds the headline number and
``data`` (JSON) the rest, e.g. depth per band and side, liquidations long and short.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlite_utils import Database

from storage.writes import write

TABLE = "market_stats"
FUNDING = "funding"
OPEN_INTEREST = "open_interest"
DEPTH = "depth"
LIQUIDATIONS = "liquidations"  # USDT liquidated in the bar-long window before ``ts``
TAKER = "taker"  # share of taker volume that sold in the bar-long window before ``ts``


@dataclass(frozen=True)
class StatRow:
    exchange: str
    symbol: str
    kind: str
    ts: int
    value: float
    data: Mapping[str, Any] | None = None


def write_stats(db: Database, rows: Iterable[StatRow]) -> int:
    """Upsert statistics rows in one transaction; returns how many were written."""
    out = [{"exchange": r.exchange, "symbol": r.symbol, "kind": r.kind, "ts": int(r.ts),
            "value": float(r.value), "data": json.dumps(dict(r.data or {}))} for r in rows]
    if not out:
        return 0
    with write(db):
        db[TABLE].upsert_all(out, pk=("exchange", "symbol", "kind", "ts"))
    return len(out)


def read_series(db: Database, exchange: str, symbol: str, kind: str, *,
                since_ms: int | None = None, until_ms: int | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Times (int64, ascending) and values (float64) of one statistic."""
    rows = _rows(db, exchange, symbol, kind, since_ms, until_ms, "ts, value")
    return (np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1] for r in rows], dtype=np.float64))


def read_depth(db: Database, exchange: str, symbol: str, bands: int, *,
               since_ms: int | None = None, until_ms: int | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times (K,) and bid/ask depth (K, bands) from the ``depth`` rows' JSON."""
    rows = _rows(db, exchange, symbol, DEPTH, since_ms, until_ms, "ts, data")
    times, bid, ask = [], [], []
    for ts, data in rows:
        d = json.loads(data or "{}")
        b, a = d.get("bid", []), d.get("ask", [])
        if len(b) == bands and len(a) == bands:
            times.append(ts)
            bid.append(b)
            ask.append(a)
    return (np.array(times, dtype=np.int64), np.array(bid, dtype=np.float64).reshape(-1, bands),
            np.array(ask, dtype=np.float64).reshape(-1, bands))


def _rows(db: Database, exchange: str, symbol: str, kind: str, since_ms: int | None,
          until_ms: int | None, cols: str) -> list[tuple]:
    lo = since_ms if since_ms is not None else -(2 ** 62)
    hi = until_ms if until_ms is not None else 2 ** 62
    return db.execute(f"select {cols} from {TABLE} where exchange = ? and symbol = ? and "
                      "kind = ? and ts >= ? and ts <= ? order by ts",
                      [exchange, symbol, kind, lo, hi]).fetchall()
