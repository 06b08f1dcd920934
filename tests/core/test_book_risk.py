"""A book's positions read into columns: equal to each position's own properties."""

from __future__ import annotations

import numpy as np

from core.book_risk import position_columns
from core.types import Position


def _book() -> list[Position]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(500):
        entry = float(rng.uniform(0.01, 70_000))
        size = float(rng.uniform(0.001, 1000))
        lev = float(rng.integers(1, 125))
        margin = entry * size / 3 if i % 5 == 0 else (7 if i % 11 == 0 else None)
        out.append(Position("BTC-USDT-SWAP", "long" if i % 3 else "short", size, entry, lev,
                            margin_mode="cross" if i % 7 == 0 else "isolated", margin=margin))
    out.append(Position("ETH-USDT-SWAP", "short", 2, 3000, 10))  # integers, as a user types
    return out


def test_columns_equal_each_positions_properties():
    book = _book()
    cols = position_columns(book)
    np.testing.assert_array_equal(cols.entry, [p.entry for p in book])
    np.testing.assert_array_equal(cols.size, [p.size for p in book])
    np.testing.assert_array_equal(cols.sign, [float(p.sign) for p in book])
    np.testing.assert_array_equal(cols.margin, [p.isolated_margin for p in book])
    assert all(c.dtype == np.float64 for c in (cols.entry, cols.size, cols.sign, cols.margin))


def test_no_positions_give_empty_columns():
    cols = position_columns([])
    assert cols.entry.shape == cols.margin.shape == (0,)
