"""The trade log's truth: hedge legs under their trade, a button pressed twice logs once,
isolated losses capped at the margin, liquidation realises −margin − fees, funding once per
funding time."""

from __future__ import annotations

import pytest

from storage import open_database
from storage import trades as store


@pytest.fixture
def db(db_path):
    return open_database(db_path)


def trade(db, **kw):
    args = {"user_id": 1, "chat_id": 1, "symbol": "BTC-USDT-SWAP", "side": "long", "size": 0.5,
            "entry": 60_000.0, "leverage": 10.0, "opened_at": 0, "fee_rate": 0.0005, **kw}
    return store.open_trade(db, **args)


def test_a_leg_belongs_to_an_open_trade_of_the_same_user(db):
    main = trade(db)
    leg = trade(db, symbol="ETH-USDT-SWAP", side="short", size=4.0, entry=3000.0,
                parent_id=main.id)
    assert leg.is_leg and store.legs_of(db, 1, main.id) == [leg]
    with pytest.raises(ValueError, match=f"no open trade #{main.id} of yours"):
        trade(db, user_id=2, parent_id=main.id)
    with pytest.raises(ValueError, match=f"no open trade #{leg.id} of yours"):
        trade(db, parent_id=leg.id)  # a leg of a leg is not a thing


def test_the_same_client_key_logs_once(db):
    first = trade(db, client_key="hedge:abc")
    again = trade(db, client_key="hedge:abc", size=99.0)
    assert again == first and len(store.list_trades(db, 1)) == 1
    other_user = trade(db, user_id=2, client_key="hedge:abc")
    assert other_user.id != first.id


def test_isolated_losses_stop_at_the_margin(db):
    t = trade(db)  # margin 3,000 USDT
    assert t.isolated_margin == pytest.approx(3000.0)
    assert t.unrealised_pnl(55_000.0) == pytest.approx(-2500.0)
    assert t.unrealised_pnl(40_000.0) == pytest.approx(-3000.0)
    cross = trade(db, margin_mode="cross")
    assert cross.unrealised_pnl(40_000.0) == pytest.approx(-10_000.0)


def test_a_liquidated_trade_realises_minus_margin_minus_fees(db):
    t = trade(db)
    closed = store.close_trade(db, 1, t.id, 54_300.0, 10, reason="liquidated")
    fees = 0.0005 * 0.5 * 60_000 + 0.0005 * 0.5 * 54_300
    assert closed.close_reason == "liquidated" and closed.fees == pytest.approx(fees)
    assert closed.realised_pnl == pytest.approx(-3000.0 - fees)


def test_funding_is_recorded_once_per_time_and_summed(db):
    t = trade(db)
    amount = store.funding_amount("long", 0.5, 61_000.0, 0.0001)
    assert amount == pytest.approx(-3.05)
    assert store.add_funding(db, t.id, 28_800_000, 0.0001, 61_000.0, amount)
    assert not store.add_funding(db, t.id, 28_800_000, 0.0001, 61_000.0, amount)
    assert store.add_funding(db, t.id, 57_600_000, -0.0002, 60_000.0,
                             store.funding_amount("long", 0.5, 60_000.0, -0.0002))
    assert store.get_trade(db, 1, t.id).funding == pytest.approx(-3.05 + 6.0)
    assert store.last_funding_time(db, t.id) == 57_600_000


@pytest.mark.parametrize("bad", [{"size": float("inf")}, {"entry": float("nan")},
                                 {"leverage": 0.0}, {"fee_rate": float("inf")},
                                 {"side": "sideways"}, {"margin": -1.0}])
def test_nothing_non_finite_or_nonsensical_is_stored(db, bad):
    with pytest.raises(ValueError):
        trade(db, **bad)
    assert store.list_trades(db, 1) == []


def test_older_databases_get_margins_and_close_reasons(tmp_path):
    """The migration fills what the new columns mean for trades logged before them."""
    from sqlite_utils import Database

    from storage.migrations import migrations

    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m005_trade_legs_liquidation_funding")
    old["trades"].insert({"user_id": 1, "symbol": "BTC-USDT-SWAP", "side": "long",
                          "size": 1.0, "entry": 50_000.0, "leverage": 5.0, "opened_at": 0,
                          "closed_at": 5, "exit_price": 51_000.0})
    old.close()
    t = store.list_trades(open_database(path), 1)[0]
    assert t.isolated_margin == pytest.approx(10_000.0) and t.close_reason == "closed"
