"""Chat lifecycle: joined, blocked, kicked, migrated; the error handler; start-up checks;
webhook mode."""

from __future__ import annotations

import logging
import socket

import aiohttp
import pytest

from chat.context import Services
from chat.telegram import build_application
from chat.telegram.app import check_signal_channel
from chat.telegram.handlers import SORRY
from settings import Config
from storage import chats, outbox
from storage.trades import list_trades

NOW_MS = 1_772_323_200_000


def pending_alert(bot, chat_id: int, n: int = 1) -> None:
    """A recorded alert with a pending delivery to ``chat_id``."""
    bot.db.conn.execute("insert into alerts (dedup_key, kind, severity, payload, created_at) "
                        "values (?, 'cascade', 'warning', '{}', ?)", [f"k{n}", NOW_MS])
    alert_id = bot.db.conn.execute("select max(id) from alerts").fetchone()[0]
    bot.db.conn.execute("insert into deliveries (alert_id, chat_id, status, attempts, "
                        "updated_at) values (?, ?, 'pending', 0, ?)", [alert_id, chat_id, NOW_MS])
    bot.db.conn.commit()


async def test_joining_and_leaving_groups(bot) -> None:
    await bot.member(-100600, "member", chat_type="supergroup")
    row = bot.chat_row(-100600)
    assert row["active"] == 1 and row["type"] == "supergroup" and row["title"]
    await bot.member(-100600, "kicked")
    assert bot.chat_row(-100600)["active"] == 0
    await bot.member(-100600, "administrator")
    assert bot.chat_row(-100600)["active"] == 1


async def test_a_user_who_blocks_the_bot_keeps_their_trade_log(bot) -> None:
    await bot.say("/open btc long 0.5 @60000 10x", chat=3)
    await bot.member(3, "kicked", chat_type="private")  # "kicked" in a private chat: blocked
    assert bot.chat_row(3)["active"] == 0 and len(list_trades(bot.db, 3)) == 1
    await bot.member(3, "member", chat_type="private")
    assert bot.chat_row(3)["active"] == 1


async def test_forbidden_on_reply_marks_the_chat_inactive(bot) -> None:
    await bot.say("/start", chat=4)
    pending_alert(bot, 4)
    bot.tg.block(4)
    assert await bot.say("/help", chat=4) == []
    assert bot.chat_row(4)["active"] == 0
    assert outbox.delivery_counts(bot.db) == {"failed": 1}
    assert [r.status for r in bot.tg.rejected] == [403]
    bot.tg.unblock(4)
    assert await bot.say("/help", chat=4)  # they came back: reachable again
    assert bot.chat_row(4)["active"] == 1


async def test_chat_migrated_moves_the_chat_and_answers_there(bot) -> None:
    old, new = -4001, -1004001
    bot.tg.set_admins(old, [5], owner=5)
    await bot.say("/subscribe cascade", chat=old, user=5, chat_type="group")
    pending_alert(bot, old)
    bot.tg.migrate(old, new)
    sent = await bot.say("/settings", chat=old, user=5, chat_type="group")
    assert [m.chat_id for m in sent] == [new] and "cascade" in sent[0].visible_text
    assert chats.get_settings(bot.db, new).subscriptions == ("cascade",)
    assert bot.chat_row(old)["active"] == 0
    assert [r["chat_id"] for r in bot.db["deliveries"].rows] == [new]
    await bot.say("/mute 1h", chat=new, user=5)  # admins carried over; the new id works
    assert chats.get_settings(bot.db, new).muted_until


async def test_migration_service_message_moves_the_chat(bot) -> None:
    old, new = -4002, -1004002
    bot.tg.set_admins(old, [5])
    await bot.say("/subscribe funding", chat=old, user=5, chat_type="group")
    update = bot.tg.inject_message(old, 5, "", "group", migrate_to_chat_id=new)
    await bot.handled(update)
    assert chats.get_settings(bot.db, new).subscriptions == ("funding",)
    assert bot.chat_row(old)["active"] == 0


async def test_error_handler_logs_and_tells_the_user(bot, caplog) -> None:
    bot.tg.fail_next("sendMessage", status=400, description="Bad Request: thread not found")
    with caplog.at_level(logging.ERROR, logger="chat.telegram.handlers"):
        (sent,) = await bot.say("/help", chat=8)
    assert sent.text == SORRY
    (record,) = [r for r in caplog.records if r.name == "chat.telegram.handlers"]
    assert record.exc_info and "thread not found" in str(record.exc_info[1]).lower()


async def test_signal_channel_start_up_check(make_bot, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="chat.telegram.app"):
        async with make_bot(signal_channel="@hw_signals") as bot:
            assert bot.front.signal_ok is False
            assert "can't reach it" in caplog.text
            channel = bot.tg.chat(-100424242, "channel")
            assert await check_signal_channel(bot.app.bot, channel.id) is False
            assert "is 'member' there" in caplog.text
            bot.tg.set_admins(channel.id, [bot.tg.bot_id])
            assert await check_signal_channel(bot.app.bot, channel.id) is True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_mode_checks_the_secret(make_bot) -> None:
    pytest.importorskip("tornado", reason="webhook mode needs python-telegram-bot[webhooks]")
    port = free_port()
    async with make_bot(mode="webhook", webhook_url="https://bot.example.com/hook",
                        webhook_listen="127.0.0.1", webhook_port=port,
                        webhook_secret="s3cret_token") as bot:
        assert bot.tg.webhook["secret_token"] == "s3cret_token"
        update = {"update_id": 1, "message": {
            "message_id": 1, "date": 0, "text": "/help", "chat": {"id": 9, "type": "private",
                                                                   "first_name": "U"},
            "from": {"id": 9, "is_bot": False, "first_name": "U"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
        url = f"http://127.0.0.1:{port}/hook"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update) as resp:
                assert resp.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret_token"}
            async with http.post(url, json=update, headers=headers) as resp:
                assert resp.status == 200
        await bot.handled(update)
        assert bot.tg.sent_to(9)


def test_webhook_mode_needs_a_secret(tmp_path) -> None:
    config = Config().with_overrides(telegram={"mode": "webhook",
                                               "webhook_url": "https://x.example/h"})
    services = Services(config, None, None)
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        build_application(config, "1:abc", services)
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        build_application(config, "1:abc", services, webhook_secret="bad secret!")
