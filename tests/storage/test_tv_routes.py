"""TradingView routes and the intake log: migration m011 on an older file, the passphrase kept
only as a hash and checked whatever its length, revocation, the log's retention."""

from __future__ import annotations

from sqlite_utils import Database

from storage import open_database, tv_routes
from storage.migrations import migrations
from storage.tv_routes import Intake


def test_an_older_database_gains_the_tradingview_tables(db_path):
    old = Database(db_path)
    migrations.apply(old, stop_before="m011_tradingview")
    assert "tv_routes" not in old.table_names()
    old["chats"].insert({"id": 42, "type": "private", "active": 1})
    old.close()
    db = open_database(db_path)
    assert {"tv_routes", "tv_intake"} <= set(db.table_names())
    assert db["chats"].get(42)["type"] == "private"


def test_a_route_keeps_only_the_hash_of_its_passphrase(db_path):
    db = open_database(db_path)
    route, passphrase = tv_routes.create_route(db, chat_id=-100, owner_id=9, now_ms=1)
    row = db["tv_routes"].get(route.id)
    assert passphrase not in str(row)
    assert route.passphrase_ok(passphrase)
    assert not route.passphrase_ok(passphrase[:-1]) and not route.passphrase_ok("")
    assert not route.passphrase_ok(passphrase + "x" * 1000)
    assert tv_routes.route_by_token(db, route.token) == route


def test_a_revoked_route_is_kept_but_inactive(db_path):
    db = open_database(db_path)
    route, _ = tv_routes.create_route(db, chat_id=-100, owner_id=9, now_ms=1)
    assert tv_routes.revoke_route(db, route.id, 5)
    assert not tv_routes.revoke_route(db, route.id, 6)
    found = tv_routes.route_by_token(db, route.token)
    assert found is not None and not found.active
    assert tv_routes.list_routes(db) == []


def test_the_intake_log_keeps_thirty_days_newest_first(db_path):
    db = open_database(db_path)
    day = 86_400_000
    for t in (0, 10 * day, 40 * day):
        tv_routes.log_intake(db, Intake(t, 1, "1.2.3.4", 200, "relayed", digest=str(t)))
    assert [r.received_at for r in tv_routes.recent_intake(db)] == [40 * day, 10 * day]
    assert tv_routes.seen_within(db, 1, str(10 * day), 0)
    assert not tv_routes.seen_within(db, 2, str(10 * day), 0)


def test_the_intake_log_keeps_at_most_its_newest_rows(db_path, monkeypatch):
    monkeypatch.setattr(tv_routes, "KEEP_ROWS", 5)
    db = open_database(db_path)
    for t in range(12):
        tv_routes.log_intake(db, Intake(t, None, "6.6.6.6", 404, "refused"))
    assert [r.received_at for r in tv_routes.recent_intake(db)] == [11, 10, 9, 8, 7]

