"""Every command through the dispatcher (as the console and Telegram use it): success and
bad-argument paths, on real SQLite and the simulated market."""

from __future__ import annotations

import json
import logging

import pytest

from chat.commands.help import DISCLAIMER
from chat.context import LOCAL_USER_ID
from core.alerts import BUILTIN_KINDS


def one_line(reply) -> str:
    assert reply.kind == "usage", reply.text
    (line,) = reply.text
    assert "Traceback" not in line
    return line


async def test_start_and_help_list_commands_with_the_disclaimer(chat):
    for text, must in (("/start", "/subscribe"), ("/help", "/risk"), ("/help all", "/risk")):
        r = await chat(text)
        body = "\n".join(r.text)
        assert DISCLAIMER in body and must in body and "/open" in body
    r = await chat("/help risk")
    assert "usage: /risk" in r.text[1] and any("10x" in line for line in r.text)
    assert "There is no /nope" in one_line(await chat("/help nope"))


async def test_risk_for_a_position(chat):
    r = await chat("/risk btc long 0.5 @60000 10x")
    assert r.ok and r.data["symbol"] == "BTC-USDT-SWAP" and r.data["liquidation_price"] > 0
    assert r.data["position"] == {"size": 0.5, "entry": 60000.0, "leverage": 10.0}
    assert "Liquidation" in "\n".join(r.text)
    json.dumps(r.data, allow_nan=False)


async def test_risk_defaults_entry_to_mark_and_leverage_to_config(chat, services):
    r = await chat("/risk ETH short 5ct")
    snap = await services.snapshot()
    assert r.data["position"]["entry"] == snap.last_price("ETH-USDT-SWAP")
    assert r.data["position"]["leverage"] == services.config.risk.leverage
    inst = services.market.instruments["ETH-USDT-SWAP"]
    assert r.data["position"]["size"] == pytest.approx(5 * inst.contract_value)


async def test_risk_bad_arguments(chat):
    assert "leverage is a number followed by x" in one_line(await chat("/risk btc long 10xx"))
    assert "Did you mean" in one_line(await chat("/risk btcc 0.5"))


async def test_risk_without_arguments_reports_open_trades_in_private_only(chat):
    assert "no open trades" in (await chat("/risk")).text[0]
    await chat("/open btc long 0.5 @60000 10x")
    r = await chat("/risk")
    assert len(r.data["reports"]) == 1 and r.data["reports"][0]["trade_id"] == 1
    assert "private" in one_line(await chat("/risk", chat=-100, chat_type="group"))


async def test_corr_matrices_and_chart(chat):
    r = await chat("/corr btc eth sol")
    assert r.ok and r.data["symbols"] == ["BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP"]
    assert len(r.data["fast"]) == 3 and r.data["slow"][0][0] == 1.0
    assert r.data["largest_changes"] and r.more == "/corr btc eth sol full"
    assert "Largest changes" in "\n".join((await chat(r.more)).text)
    png = r.chart()
    assert png.startswith(b"\x89PNG")
    r = await chat("/corr")
    assert len(r.data["symbols"]) >= 8


async def test_corr_bad_arguments(chat):
    assert "two symbols" in one_line(await chat("/corr btc"))
    assert "I didn't understand" in one_line(await chat("/corr btc eth $$"))
    assert "Did you mean" in one_line(await chat("/corr btc ethh"))


async def test_status(chat, services):
    from storage.heartbeat import beat

    beat(services.db, "cycle", services.now_ms() - 60_000, 1234.0)
    r = await chat("/status")
    assert r.data["cycle"]["age_ms"] == 60_000 and r.data["outbox_pending"] == 0
    assert r.data["exchange"]["name"] == "sim"
    assert "Outbox" in r.text[-1]
    assert "takes no arguments" in one_line(await chat("/status now"))


async def test_status_says_what_waits_how_long_and_what_was_given_up(chat, services):
    now = services.now_ms()
    db = services.db
    with db.conn:
        for i, created in enumerate((now - 3 * 3_600_000, now - 60_000, now - 2 * 86_400_000,
                                     now - 600_000, now - 600_000)):
            db["alerts"].insert({"id": i + 1, "dedup_key": f"k{i}", "kind": "liquidation",
                                 "severity": "critical", "created_at": created})
        for i, (status, updated) in enumerate((
                ("pending", now), ("sending", now), ("failed", now - 2 * 86_400_000),
                ("failed", now - 600_000), ("unconfirmed", now - 600_000))):
            db["deliveries"].insert({"alert_id": i + 1, "chat_id": 7, "status": status,
                                     "updated_at": updated})
    r = await chat("/status")
    # pending and the one caught mid-send wait; the oldest since its alert, 3 hours ago;
    # the failure two days ago is not in the last day's count
    assert r.data["outbox"] == {"waiting": 2, "oldest_waiting_ms": 3 * 3_600_000,
                                "failed_24h": 1, "unconfirmed_24h": 1}
    line = next(t for t in r.text if t.startswith("Outbox"))
    assert "2 alert(s) waiting" in line and "3 h" in line
    assert "1 not delivered, 1 not confirmed by Telegram" in line


async def test_trade_log_open_close_pnl(chat, services):
    r = await chat("/open btc long 0.5 @60000 10x first trade")
    assert r.data["trade"]["id"] == 1 and r.data["trade"]["note"] == "first trade"
    r = await chat("/close 1 @61000")
    fee = services.config.risk.taker_fee
    expected = 0.5 * 1000 - fee * 0.5 * (60000 + 61000)
    assert r.data["trade"]["realised_pnl"] == pytest.approx(expected)
    await chat("/open eth short 1 @3000 5x")
    r = await chat("/pnl")
    assert r.data["realised"] == pytest.approx(expected)
    mark = (await services.snapshot()).last_price("ETH-USDT-SWAP")
    assert r.data["unrealised"] == pytest.approx(-(mark - 3000))
    assert [p["id"] for p in (await chat("/positions")).data["positions"]] == [2]
    assert [t["id"] for t in (await chat("/log")).data["trades"]] == [2, 1]
    assert [t["id"] for t in (await chat("/log 1")).data["trades"]] == [2]


async def test_trade_log_bad_arguments(chat):
    assert "needs a size" in one_line(await chat("/open btc long @60000"))
    assert "needs an entry" in one_line(await chat("/open btc long 0.5"))
    assert "exit price" in one_line(await chat("/close"))
    assert "no open trade #1 of yours" in one_line(await chat("/close 1"))
    assert "no open trade #7 of yours" in one_line(await chat("/close 7 @1"))
    assert "whole number" in one_line(await chat("/log many"))
    assert "private" in one_line(await chat("/positions", chat=-100, chat_type="group"))


async def test_users_never_see_each_others_trades(chat):
    await chat("/open btc long 0.5 @60000 10x", user=1)
    await chat("/open eth short 2 @3000", user=2)
    assert [t["symbol"] for t in (await chat("/log", user=1)).data["trades"]] == ["BTC-USDT-SWAP"]
    assert [t["symbol"] for t in (await chat("/log", user=2)).data["trades"]] == ["ETH-USDT-SWAP"]
    assert "no open trade #1 of yours" in one_line(await chat("/close 1 @1", user=2))
    assert (await chat("/positions", user=1)).data["positions"][0]["id"] == 1
    assert (await chat("/pnl", user=3)).data["open_trades"] == 0


async def test_alert_preferences(chat):
    r = await chat("/subscribe liquidation cascade")
    assert r.data["settings"]["subscriptions"] == ["cascade", "liquidation"]
    r = await chat("/subscribe")
    assert r.data["settings"]["subscriptions"] == [k.name for k in BUILTIN_KINDS
                                                   if k.scope not in ("operator", "personal")]
    r = await chat("/unsubscribe funding")
    assert "funding" not in r.data["settings"]["subscriptions"]
    r = await chat("/mute 1h")
    assert r.data["settings"]["muted"] is True and r.data["settings"]["mute_all"] is False
    r = await chat("/mute all 8h")
    assert r.data["settings"]["mute_all"] is True and "Muted everything for 8h" in r.text[0]
    assert (await chat("/mute 2h all")).data["settings"]["mute_all"] is True
    r = await chat("/unmute")
    assert r.data["settings"]["muted"] is False and r.data["settings"]["mute_all"] is False
    r = await chat("/settings severity warning")
    assert r.data["settings"]["min_severity"] == "warning"
    r = await chat("/settings tz Europe/Berlin")
    assert r.data["settings"]["timezone"] == "Europe/Berlin"
    assert (await chat("/settings")).data["settings"]["timezone"] == "Europe/Berlin"


async def test_alert_preferences_bad_arguments(chat):
    assert "alert kind 'moon'" in one_line(await chat("/subscribe moon"))
    assert "duration" in one_line(await chat("/mute soon"))
    assert "/mute all needs a duration too" in one_line(await chat("/mute all"))
    assert "one duration" in one_line(await chat("/mute all 1h 2h"))
    assert "At most" in one_line(await chat("/mute 90d"))
    assert "timezone 'Mars/Base'" in one_line(await chat("/settings tz Mars/Base"))
    assert "Severity" in one_line(await chat("/settings severity loud"))


async def test_group_settings_are_for_admins_only(chat):
    group = {"chat": -100, "chat_type": "group"}
    assert "admins" in one_line(await chat("/subscribe", user=5, is_admin=False, **group))
    assert (await chat("/settings", user=5, is_admin=False, **group)).ok
    r = await chat("/subscribe regime", user=6, is_admin=True, **group)
    assert r.data["settings"]["subscriptions"] == ["regime"]


async def test_dispatch_routing(chat):
    assert (await chat("/risk@hedgewatch_bot btc 0.5")).ok
    assert await chat.dispatcher.handle("/risk@other_bot btc", None) is None
    assert "Did you mean /risk" in one_line(await chat("/rsik btc"))


async def test_unexpected_errors_are_logged_not_shown(chat, services, caplog, monkeypatch):
    async def boom(*a, **k):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(services, "snapshot", boom)
    with caplog.at_level(logging.ERROR):
        r = await chat("/corr")
    assert r.kind == "failure"
    assert r.text == ["Something went wrong answering /corr; it has been logged."]
    assert "database on fire" in caplog.text and "Traceback" in caplog.text


def test_local_user_is_documented():
    assert LOCAL_USER_ID == 0


async def test_market_outage_is_said_plainly(chat, services, monkeypatch):
    from plugins.exchanges.errors import SourceUnavailable

    async def down(*a, **k):
        raise SourceUnavailable("okx: 503 after 4 retries")

    monkeypatch.setattr(services, "snapshot", down)
    r = await chat("/risk btc 0.5")
    assert r.kind == "failure" and "market data source failed" in r.text[0]
    assert "503" in r.text[0] and "\n" not in r.text[0]
