"""Liquidation closes and funding on small, hand-made markets: isolated trades alone, cross
trades as one account; numbers computed here with OKX's formula (FACTS.md)."""

from __future__ import annotations

import numpy as np
import pytest

from core.liquidation import trigger_range
from core.types import MarketSnapshot, StatSeries
from jobs.trade_truth import find_cross_liquidations, find_liquidations
from storage.rule_state import OpenTrade

BAR = 900_000
MMR, FEE = 0.004, 0.0005


def market(closes: dict[str, list[float]], lows: dict[str, list[float]] | None = None,
           highs: dict[str, list[float]] | None = None) -> MarketSnapshot:
    symbols = list(closes)
    c = np.array([closes[s] for s in symbols]).T
    lo = np.array([(lows or {}).get(s, closes[s]) for s in symbols]).T
    hi = np.array([(highs or {}).get(s, closes[s]) for s in symbols]).T
    n = c.shape[0]
    return MarketSnapshot.build(source="test", timeframe_ms=BAR, symbols=symbols,
                                times=np.arange(n) * BAR, open=c, high=np.maximum(hi, c),
                                low=np.minimum(lo, c), close=c, volume=np.ones_like(c),
                                server_time_ms=n * BAR)


def trade(k, symbol, side, size, entry, leverage, mode="isolated", owner=1, opened=0):
    return OpenTrade(k, owner, symbol, side, size, entry, leverage, None,
                     margin_mode=mode, margin=size * entry / leverage, opened_at=opened)


def okx(side, entry, size, margin):
    s = 1 if side == "long" else -1
    return (entry - s * margin / size) / (1 - s * (MMR + FEE))


def test_an_isolated_trade_is_closed_in_the_first_bar_that_reaches_its_price():
    t = trade(1, "BTC", "long", 1.0, 100.0, 10)
    liq = okx("long", 100.0, 1.0, 10.0)
    snap = market({"BTC": [100, 99, 95, 93, 97]}, lows={"BTC": [100, 98, 91.0, 89, 96]})
    (hit,) = find_liquidations([t], [liq], snap)
    assert liq == pytest.approx(90.4068, abs=1e-4)  # bar 2's low (91) stays above it
    assert hit.price == liq and hit.bar_close_ms == 4 * BAR  # bar 3 (low 89), at its close
    assert find_liquidations([trade(2, "BTC", "long", 1.0, 100.0, 10, opened=4 * BAR)],
                             [liq], snap) == []  # bars before the trade do not count


def test_a_cross_account_is_judged_as_one_with_its_hedge():
    """A 20× BTC long alone would be liquidated by a 5 % fall; with a cross ETH short that
    gains as much, the account holds — until the hedge stops gaining."""
    long_ = trade(1, "BTC", "long", 1.0, 100.0, 20, mode="cross")
    short = trade(2, "ETH", "short", 1.0, 100.0, 20, mode="cross")
    snap = market({"BTC": [100, 95, 94, 93], "ETH": [100, 95, 94, 100]})
    found = find_cross_liquidations([long_, short], [MMR, MMR], [FEE, FEE], snap)
    # the worst bar (3): collateral 5 + 5, P&L −7 + 0 = equity 3 > maintenance 0.87
    equity = 10 + (93 - 100) - (100 - 100)
    maintenance = (93 + 100) * (MMR + FEE)
    assert equity > maintenance and found == []
    crash = market({"BTC": [100, 95, 94, 90], "ETH": [100, 95, 94, 100]})
    found = find_cross_liquidations([long_, short], [MMR, MMR], [FEE, FEE], crash)
    assert {c.trade.trade_id for c in found} == {1, 2}
    assert {c.bar_close_ms for c in found} == {4 * BAR}  # bar 3: equity 10 − 10 = 0 < 0.86
    assert sorted(c.price for c in found) == [90.0, 100.0]  # the bar's closes


def test_one_cross_position_alone_is_judged_like_an_isolated_one():
    t = trade(1, "BTC", "long", 1.0, 100.0, 10, mode="cross")
    snap = market({"BTC": [100, 99, 95]}, lows={"BTC": [100, 90.3, 94]})
    (hit,) = find_cross_liquidations([t], [MMR], [FEE], snap)
    assert hit.price == pytest.approx(okx("long", 100.0, 1.0, 10.0))
    assert hit.bar_close_ms == 2 * BAR
    other = trade(2, "BTC", "long", 1.0, 100.0, 10, mode="cross", owner=2, opened=2 * BAR)
    assert find_cross_liquidations([other], [MMR], [FEE], snap) == []  # someone else's, later


def with_mark(snap: MarketSnapshot, symbol: str, bars: list[int], low: list[float],
              high: list[float]) -> MarketSnapshot:
    """``snap`` with the exchange's mark-price bars ``bars`` of ``symbol`` stored, stamped at
    each bar's close as the ccxt markets store them."""
    stamps = np.array(bars, dtype=np.int64) * BAR + BAR
    return MarketSnapshot.build(
        source=snap.source, timeframe_ms=BAR, symbols=list(snap.symbols), times=snap.times,
        open=snap.open, high=snap.high, low=snap.low, close=snap.close, volume=snap.volume,
        server_time_ms=snap.server_time_ms,
        mark_low={symbol: StatSeries(stamps, np.array(low, dtype=float))},
        mark_high={symbol: StatSeries(stamps, np.array(high, dtype=float))})


def test_a_last_price_wick_the_mark_price_did_not_make_closes_nothing():
    t = trade(1, "BTC", "long", 1.0, 100.0, 10)
    liq = okx("long", 100.0, 1.0, 10.0)  # 90.41
    last = market({"BTC": [100, 99, 95, 93, 97]}, lows={"BTC": [100, 98, 91.0, 89, 96]})
    # the mark price of bars 1-4: its bar-3 low (92) stayed above the liquidation price
    marked = with_mark(last, "BTC", [1, 2, 3, 4], [98.5, 93.0, 92.0, 96.0],
                       [99.5, 99.0, 95.0, 97.5])
    assert find_liquidations([t], [liq], marked) == []
    # where the mark price did reach it (bar 3 low 90), the close is judged on the mark
    crashed = with_mark(last, "BTC", [1, 2, 3, 4], [98.5, 93.0, 90.0, 96.0],
                        [99.5, 99.0, 95.0, 97.5])
    (hit,) = find_liquidations([t], [liq], crashed)
    assert hit.bar_close_ms == 4 * BAR and hit.on_mark
    # a bar without a stored mark bar falls back on the last price, and says so
    gap = with_mark(last, "BTC", [1, 2], [98.5, 93.0], [99.5, 99.0])
    (hit,) = find_liquidations([t], [liq], gap)
    assert hit.bar_close_ms == 4 * BAR and not hit.on_mark
    # a cross position alone is judged on the same bars
    cross = trade(2, "BTC", "long", 1.0, 100.0, 10, mode="cross")
    assert find_cross_liquidations([cross], [MMR], [FEE], marked) == []
    (hit,) = find_cross_liquidations([cross], [MMR], [FEE], crashed)
    assert hit.on_mark and hit.bar_close_ms == 4 * BAR


def test_the_mark_bars_of_a_replay_end_where_it_does():
    last = market({"BTC": [100, 99, 95, 93, 97]})
    marked = with_mark(last, "BTC", [0, 1, 2, 3, 4], [99, 98, 94, 80, 96],
                       [101, 100, 96, 94, 98])
    low, _, on_mark = trigger_range(marked.upto(2), 0)
    assert on_mark.tolist() == [True, True, True] and low.tolist() == [99, 98, 94]
    assert marked.upto(2).mark_low["BTC"].times.max() == 3 * BAR  # bar 3's 80 is not seen
