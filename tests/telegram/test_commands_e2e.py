"""Every registered command, through the real PTB application and the fake Bot API."""

from __future__ import annotations

import time

import pytest

from chat.telegram_html import visible_text
from tests.telegram.conftest import Boom, Echo, Harness, registered_commands

# /account needs the operator's exchange keys (tests/telegram/test_account.py drives it), and
# /connect, /disconnect, /sync, /balance a connected exchange account (tests/telegram/
# test_connect.py and tests/accounts/test_account_commands.py drive them)
NEEDS_AN_EXCHANGE = {"account", "connect", "disconnect", "sync", "balance"}
# operator-only ones (/tvroute, /tvlog) by tests/tradingview/test_tvroute.py
COMMANDS = [c for c in registered_commands()
            if c.name not in NEEDS_AN_EXCHANGE and not c.operator_only]
BAD_ARGS = "%%nonsense 999999999999999 @@ -5x"
FAILURE_WORDS = ("Something went wrong", "can't answer", "Sorry")


def words(messages) -> str:
    return "\n".join(m.visible_text for m in messages)


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
async def test_every_example_and_a_bad_argument(bot: Harness, command) -> None:
    for line in ("/start", "/open btc long 0.5 @60000 10x", "/open eth short 2 @3000 5x",
                 "/open sol long 10 @150 3x"):  # trades #1-#3 for /close, /pnl, /risk ...
        await bot.say(line)
    bot.replies.clear()
    for example in command.examples:
        sent = await bot.say(example)
        assert sent and all(m.chat_id == 1 for m in sent), example
        assert bot.replies[-1].ok, (example, bot.replies[-1].text)
        assert not any(w in words(sent) for w in FAILURE_WORDS), words(sent)
    sent = await bot.say(f"/{command.name} {BAD_ARGS}")
    reply = bot.replies[-1]
    assert reply.kind == "usage", (command.name, reply.kind, reply.text)
    assert visible_text(sent[-1].text or "").startswith(reply.text[0][:40])
    assert bot.tg.rejected == []


async def test_commands_are_published_for_private_chats_and_groups(bot: Harness) -> None:
    menus = {scope: [c["command"] for c in cmds] for (scope, _), cmds in bot.tg.commands.items()}
    default = next(v for k, v in menus.items() if "default" in k)
    groups = next(v for k, v in menus.items() if "all_group_chats" in k)
    assert sorted(default) == sorted(c.name for c in registered_commands()
                                     if not c.operator_only)
    assert "positions" in default and "positions" not in groups and "risk" in groups


async def test_reply_is_html_with_every_value_escaped(bot: Harness) -> None:
    (sent,) = await bot.say("/help <b>&amp;")
    assert sent.parse_mode == "HTML" and "&lt;b&gt;&amp;amp;" in (sent.text or "")
    assert "<b>&amp;" in sent.visible_text


async def test_command_addressed_to_this_bot_or_another(bot: Harness) -> None:
    assert await bot.say("/help@hedgewatch_test_bot", chat=-100200)
    assert await bot.say("/help@some_other_bot", chat=-100200) == []
    assert await bot.say("/nosuchcommand", chat=-100200) == []  # maybe another bot's
    (sent,) = await bot.say("/nosuchcommand@hedgewatch_test_bot", chat=-100200)
    assert "I don't know /nosuchcommand" in sent.visible_text
    (sent,) = await bot.say("/hlep")
    assert "Did you mean /help?" in sent.visible_text


async def test_long_reply_is_split_under_4096(make_bot) -> None:
    async with make_bot(extra=[Echo()]) as bot:
        sent = await bot.say("/echo 3000 3")
        assert len(sent) >= 3 and all(len(m.visible_text) <= 4096 for m in sent)
        assert bot.tg.rejected == []


async def test_chart_goes_as_a_photo_with_a_short_caption(bot: Harness) -> None:
    sent = await bot.say("/corr btc eth sol")
    photos = [m for m in sent if m.photo]
    assert photos, [m.method for m in sent]
    assert all(len(m.visible_text) <= 1024 for m in photos)
    assert bot.tg.rejected == []


async def test_round_trip_is_fast_enough(bot: Harness) -> None:
    await bot.say("/risk btc long 0.5 @60000 10x")
    t = time.perf_counter()
    for _ in range(10):
        await bot.say("/risk btc long 0.5 @60000 10x")
    assert (time.perf_counter() - t) / 10 < 0.5


async def test_a_broken_chart_still_sends_the_text(make_bot) -> None:
    async with make_bot(extra=[Boom()]) as bot:
        (sent,) = await bot.say("/boom")
        assert sent.visible_text == "the words survive" and not sent.photo
