"""Webhook mode against the real Application and the fake Bot API: a malformed request gets
a 4xx (never a 500, which says "the bot is broken, retry"), and the server goes on taking
good updates after it."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from tests.telegram.test_lifecycle import free_port

pytest.importorskip("tornado", reason="webhook mode needs python-telegram-bot[webhooks]")

SECRET = "s3cret_token"
HELP = {"update_id": 1, "message": {
    "message_id": 1, "date": 0, "text": "/help", "chat": {"id": 9, "type": "private",
                                                          "first_name": "U"},
    "from": {"id": 9, "is_bot": False, "first_name": "U"},
    "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
JSON = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}


@pytest.mark.parametrize(("body", "headers", "status"), [
    (b'{"update_id": 1, "message": {', JSON, 400),  # cut short
    (b"\xff\xfe not utf-8", JSON, 400),
    (b"[1, 2, 3]", JSON, 400),  # JSON, but not an object
    (b'{"hello": "world"}', JSON, 400),  # an object, but not an update
    (b"", JSON, 400),
    (b'{"update_id": 1}', {**JSON, "Content-Type": "text/plain"}, 415),
    (b'{"update_id": 1}', {"Content-Type": "application/json"}, 403),  # no secret
])
async def test_a_malformed_webhook_request_gets_a_4xx_and_the_bot_goes_on(
        make_bot, caplog, body, headers, status) -> None:
    port = free_port()
    async with make_bot(mode="webhook", webhook_url="https://bot.example.com/hook",
                        webhook_listen="127.0.0.1", webhook_port=port,
                        webhook_secret=SECRET) as bot:
        url = f"http://127.0.0.1:{port}/hook"
        async with aiohttp.ClientSession() as http:
            with caplog.at_level(logging.WARNING, logger="chat.telegram.webhook"):
                async with http.post(url, data=body, headers=headers) as resp:
                    assert resp.status == status
            assert any(str(status) in r.getMessage() for r in caplog.records)
            async with http.post(url, json=HELP, headers=JSON) as resp:
                assert resp.status == 200
        await bot.handled(HELP)
        assert bot.tg.sent_to(9)  # the good update after it was answered


async def test_webhook_mode_registers_the_hook_with_its_secret(make_bot) -> None:
    port = free_port()
    async with make_bot(mode="webhook", webhook_url="https://bot.example.com/hook",
                        webhook_listen="127.0.0.1", webhook_port=port,
                        webhook_secret=SECRET) as bot:
        hook = bot.tg.webhook
        assert hook["url"] == "https://bot.example.com/hook" and hook["secret_token"] == SECRET
        assert set(hook["allowed_updates"]) == {"message", "callback_query", "my_chat_member"}
