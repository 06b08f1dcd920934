"""Text a user typed is stored raw and escaped where it is shown: markup in an argument or a
trade note never breaks a reply, now or later."""

from __future__ import annotations

import logging

import pytest
from telegram.error import BadRequest

from chat.commands.base import Command, Reply
from chat.telegram.render import Rendered, send
from tests.telegram.conftest import Harness

SORRY = "Sorry — something went wrong"


def shown(messages) -> str:
    return "\n".join(m.visible_text for m in messages)


@pytest.mark.parametrize("word", ["</b>", "<i", "<b>", "&", "</i><b>", "<a>", "<tg-spoiler>"])
async def test_markup_in_an_argument_is_shown_as_typed(bot: Harness, word, caplog) -> None:
    sent = await bot.say(f"/risk btc {word}")
    assert shown(sent) == (f"I didn't understand '{word}' — I expected long/short, a size (0.5, "
                           "5ct, 5000usdt), an entry (@60000) or a leverage (10x), e.g. /risk "
                           "btc long 0.5 @60000 10x")
    assert bot.tg.rejected == [] and not any(r.levelno >= logging.ERROR for r in caplog.records)


async def test_a_trade_note_with_markup_never_breaks_positions_or_log(bot: Harness) -> None:
    sent = await bot.say("/open btc long 0.5 @60000 10x my </b> note <i")
    assert "— my </b> note <i." in shown(sent)
    for command in ("/positions", "/log", "/positions"):
        sent = await bot.say(command)
        assert "— my </b> note <i" in shown(sent), command
        assert SORRY not in shown(sent)
    assert bot.db["trades"].get(1)["note"] == "my </b> note <i"  # stored raw
    assert bot.tg.rejected == []


class Offer(Command):
    """A reply with a button whose command carries markup."""

    name = "offer"
    summary = "test: a button with markup in its command"
    usage = "/offer"
    examples = ("/offer",)

    async def answer(self, request: None, ctx: object) -> Reply:
        return Reply(text=["Try this"], buttons=[[("Risk", "/risk btc </b>")]])


async def test_a_button_press_toast_with_markup_is_plain_text(make_bot) -> None:
    async with make_bot(extra=[Offer()]) as bot:
        await bot.say("/offer")
        await bot.press(chat=1, user=1)
        answer = bot.tg.callback_answers[-1]
        assert answer["text"].startswith("I didn't understand '</b>' — ")
        assert answer["show_alert"] is True


async def test_html_telegram_refuses_is_sent_once_more_as_plain_text_and_logged(
        bot: Harness, caplog) -> None:
    with caplog.at_level(logging.ERROR):
        msgs = await send(bot.app.bot, 1, Rendered(["<b>unclosed & <i>"]))
    assert [m.text for m in msgs] == ["unclosed & "]
    assert len(bot.tg.rejected) == 1 and "parse entities" in bot.tg.rejected[0].description
    assert any("BUG" in r.getMessage() for r in caplog.records)


async def test_a_caption_telegram_refuses_is_sent_once_more_as_plain_text(bot: Harness) -> None:
    photo = b"\x89PNG\r\n\x1a\n" + bytes(100)
    msgs = await send(bot.app.bot, 1, Rendered([], photo=photo, caption="<b>open"))
    assert [m.caption for m in msgs] == ["open"]


async def test_plain_text_fallback_is_tried_once_only(bot: Harness) -> None:
    bot.tg.fail_next("sendMessage", times=2, status=400,
                     description="Bad Request: can't parse entities: oops")
    with pytest.raises(BadRequest):
        await send(bot.app.bot, 1, Rendered(["<b>x</b>"]))
