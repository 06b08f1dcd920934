"""The trade log and chat preferences tables: per-user queries, fees, defaults, atomic writes."""

from __future__ import annotations

import pytest

from storage import chats as chat_store
from storage import open_database
from storage.trades import close_trade, closed_totals, get_trade, list_trades, open_trade


def _open(db, user, **kw):
    args = {"user_id": user, "chat_id": user, "symbol": "BTC-USDT-SWAP", "side": "long",
            "size": 0.5, "entry": 60000.0, "leverage": 10.0, "opened_at": 1, "fee_rate": 0.001}
    return open_trade(db, **{**args, **kw})


def test_open_charges_the_entry_fee_and_close_the_exit_fee(db_path):
    db = open_database(db_path)
    t = _open(db, 1)
    assert t.fees == pytest.approx(0.001 * 0.5 * 60000) and t.is_open
    c = close_trade(db, 1, t.id, 59000.0, 2, 0.001)
    assert c.fees == pytest.approx(0.001 * 0.5 * (60000 + 59000))
    assert c.realised_pnl == pytest.approx(-500 - c.fees)
    assert closed_totals(db, 1)["realised"] == pytest.approx(c.realised_pnl)
    assert close_trade(db, 1, t.id, 1.0, 3, 0.001) is None  # already closed


def test_short_pnl_sign(db_path):
    db = open_database(db_path)
    t = _open(db, 1, side="short", fee_rate=0.0)
    assert close_trade(db, 1, t.id, 59000.0, 2, 0.0).realised_pnl == pytest.approx(500)
    assert closed_totals(db, 1)["realised"] == pytest.approx(500)


def test_users_only_reach_their_own_trades(db_path):
    db = open_database(db_path)
    a, b = _open(db, 1), _open(db, 2)
    assert get_trade(db, 2, a.id) is None
    assert close_trade(db, 2, a.id, 1.0, 2, 0.0) is None and get_trade(db, 1, a.id).is_open
    assert [t.id for t in list_trades(db, 2)] == [b.id]


def test_trades_survive_reopening(db_path):
    _open(open_database(db_path), 1, note="kept")
    assert list_trades(open_database(db_path), 1)[0].note == "kept"


def test_chat_settings_default_and_update(db_path):
    db = open_database(db_path)
    s = chat_store.get_settings(db, 5)
    assert (s.subscriptions, s.min_severity, s.muted_until, s.timezone) == ((), "info", None,
                                                                             "UTC")
    chat_store.set_subscriptions(db, 5, ["liquidation", "regime", "regime"])
    chat_store.set_min_severity(db, 5, "critical")
    chat_store.set_muted_until(db, 5, 10_000)
    chat_store.set_timezone(db, 5, "Asia/Tokyo")
    s = chat_store.get_settings(open_database(db_path), 5)
    assert s.subscriptions == ("liquidation", "regime") and s.min_severity == "critical"
    assert s.is_muted(9_999) and not s.is_muted(10_000) and s.timezone == "Asia/Tokyo"
    with pytest.raises(ValueError):
        chat_store.set_min_severity(db, 5, "loud")


def test_inactive_chats_are_kept(db_path):
    db = open_database(db_path)
    chat_store.ensure_chat(db, 7, "group")
    chat_store.set_active(db, 7, False)
    s = chat_store.get_settings(db, 7)
    assert s.active is False and s.type == "group"
