"""Loading one real 100k-row candle file (../shared/data), ours against pandas in the same run.

Figures: ``load_candles`` (validated: columns, order, duplicates) on OKX BTC 15m 2023–2026,
next to ``pandas.read_csv`` of the same gzip file (no validation); target: under a second.
Skipped with a reason when the data is absent.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from bench.timing import row

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("HEDGEWATCH_SHARED_DATA", ROOT.parent / "shared" / "data"))
FILE = DATA / "okx_swap_15m_2023_2026" / "BTC-USDT-SWAP_15m.csv.gz"


def best_of(fn: Callable[[], object], n: int = 3) -> float:
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    if not FILE.exists():
        print(f"skipped: {FILE} not found (see ../shared/data/SOURCES.md)")
        return
    import pandas as pd

    from plugins.exchanges.csv_files import load_candles

    rows = len(load_candles(FILE).times)
    ours = best_of(lambda: load_candles(FILE))
    theirs = best_of(lambda: pd.read_csv(FILE))
    row(f"load_candles, {rows:,} rows (pandas.read_csv as baseline)", ours, theirs,
        target="< 1000 ms")


if __name__ == "__main__":
    main()
