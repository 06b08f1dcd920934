"""The trade log's figures on small hand-made logs: periods across DST and year ends, the
drawdown of the realised equity curve, trades with legs still open, CSV formula injection."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from chat.trade_export import safe_text, to_csv
from chat.trade_metrics import (
    by_period,
    equity_curve,
    group_trades,
    max_drawdown,
    period_bounds,
    statistics,
)
from storage.trades import Trade

UTC = ZoneInfo("UTC")


def ms(text: str, tz: ZoneInfo = UTC) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=tz).timestamp() * 1000)


def row(id: int, *, closed: str | None, exit: float = 110.0, parent: int | None = None,
        funding: float = 0.0, reason: str | None = None, side: str = "long") -> Trade:
    """size 1 @ 100, no fees: closed at ``exit`` it realises ±(exit − 100)."""
    return Trade(id=id, user_id=1, chat_id=1, exchange=None, symbol="BTC-USDT-SWAP", side=side,
                 size=1.0, entry=100.0, leverage=10.0, opened_at=0,
                 closed_at=None if closed is None else ms(closed),
                 exit_price=None if closed is None else exit, funding=funding,
                 parent_id=parent, close_reason=reason or (None if closed is None else "closed"))


def test_days_follow_local_midnight_across_a_dst_change():
    berlin = ZoneInfo("Europe/Berlin")  # clocks go forward on 29 March 2026: a 23-hour day
    days = period_bounds(ms("2026-03-30T12:00", berlin), "day", 3, berlin)
    assert [d.start.isoformat() for d in days] == ["2026-03-30", "2026-03-29", "2026-03-28"]
    assert days[1].end_ms - days[1].start_ms == 23 * 3_600_000
    assert days[1].start_ms == ms("2026-03-28T23:00")  # midnight in Berlin, UTC+1


def test_weeks_start_on_monday_and_months_cross_the_year():
    now = ms("2026-01-04T10:00")  # a Sunday
    weeks = period_bounds(now, "week", 2, UTC)
    assert [w.start.isoformat() for w in weeks] == ["2025-12-29", "2025-12-22"]
    months = period_bounds(now, "month", 3, UTC)
    assert [m.start.isoformat() for m in months] == ["2026-01-01", "2025-12-01", "2025-11-01"]
    assert months[1].end_ms == ms("2026-01-01T00:00")


def test_a_close_is_booked_in_its_period_and_nothing_later_than_now():
    trades = [row(1, closed="2026-03-04T23:59:59"), row(2, closed="2026-03-05T00:00"),
              row(3, closed="2026-03-06T01:00"), row(4, closed=None)]
    days = by_period(trades, ms("2026-03-05T12:00"), "day", 2, UTC)
    assert [(d.start.isoformat(), d.sums.trade_count, d.sums.realised) for d in days] == [
        ("2026-03-05", 1, 10.0), ("2026-03-04", 1, 10.0)]


def test_drawdown_of_the_realised_equity_curve():
    # closes: +10, −30 (curve −20), +5 (−15), +40 (25), −10 (15)
    trades = [row(1, closed="2026-03-01T00:00", exit=110.0),
              row(2, closed="2026-03-02T00:00", exit=70.0),
              row(3, closed="2026-03-03T00:00", exit=105.0),
              row(4, closed="2026-03-04T00:00", exit=140.0),
              row(5, closed="2026-03-05T00:00", exit=90.0)]
    assert [v for _, v in equity_curve(trades)] == [10.0, -20.0, -15.0, 25.0, 15.0]
    dd = max_drawdown(equity_curve(trades))
    assert (dd.amount, dd.peak, dd.pct) == (30.0, 10.0, 300.0)
    assert (dd.peak_ms, dd.trough_ms) == (ms("2026-03-01T00:00"), ms("2026-03-02T00:00"))


def test_a_log_that_starts_with_a_loss_has_no_drawdown_percentage():
    st = statistics([row(1, closed="2026-03-01T00:00", exit=80.0)])
    assert st["max_drawdown"] == 20.0 and st["max_drawdown_pct"] is None
    assert st["profit_factor"] == 0.0 and st["win_rate"] == 0.0
    assert any("never rose above zero" in w for w in st["warnings"])


def test_closes_at_the_same_moment_are_one_step():
    # a main losing 30 and its leg gaining 40, closed together: no dip to −30 in between
    trades = [row(1, closed="2026-03-01T00:00", exit=70.0),
              row(2, closed="2026-03-01T00:00", exit=60.0, side="short", parent=1)]
    assert equity_curve(trades) == [(ms("2026-03-01T00:00"), 10.0)]
    assert max_drawdown(equity_curve(trades)).amount == 0.0


def test_a_trade_counts_once_its_main_is_closed_with_the_legs_closed_so_far():
    main = row(1, closed="2026-03-01T00:00", exit=90.0)  # −10
    leg_closed = row(2, closed="2026-03-01T00:00", exit=85.0, side="short", parent=1)  # +15
    leg_open = row(3, closed=None, side="short", parent=1)
    open_main = row(4, closed=None)
    leg_of_open = row(5, closed="2026-03-02T00:00", exit=120.0, parent=4)  # +20, not a trade
    (g1, g4) = group_trades([leg_of_open, open_main, leg_open, leg_closed, main])
    assert [t.id for t in g1.rows] == [1, 2, 3] and g1.closed and g1.is_open
    assert g1.net == 5.0 and not g4.closed
    st = statistics([main, leg_closed, leg_open, open_main, leg_of_open])
    assert (st["trades"], st["wins"], st["open_trades"], st["legs"]) == (1, 1, 1, 2)
    assert st["profit_factor"] is None and "no losing trade" in st["warnings"][0]
    assert st["net"] == 25.0  # every closed row's money, the open trade's leg included


@pytest.mark.parametrize("text", ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"])
def test_a_formula_in_a_text_cell_is_defused(text):
    assert safe_text(text) == "'" + text
    assert safe_text("swing trade, " + text) == "swing trade, " + text


def test_csv_quotes_what_csv_needs_and_keeps_numbers_exact():
    out = to_csv([{"id": 1, "note": 'a "b", c\nd', "fees": 0.1 + 0.2, "funding": -0.61}])
    lines = out.decode().split("\r\n")
    assert lines[1].startswith("1,") and '"a ""b"", c\nd' in out.decode()
    assert ",0.30000000000000004,-0.61," in out.decode()
