"""The fake Telegram Bot API, driven by the real python-telegram-bot ``Application`` and ``Bot``:
updates in and replies out, and the rules a sent message must meet (HTML, lengths, captions,
buttons, command names). Errors, flood control and running the fake elsewhere:
``test_telegram_server``."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from chat.telegram_html import callback_data, split_html, visible_text
from tests.fakes.telegram_ptb import (
    NO_PTB_DEPRECATIONS,
    make_app,
    polling,
    reply_to_start,
    stop_polling,
)
from tests.fakes.telegram_server import FakeTelegram

pytestmark = NO_PTB_DEPRECATIONS


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a button press and edit the message."""
    query = update.callback_query
    await query.answer("done")
    await query.edit_message_text(f"<i>chose {query.data}</i>", parse_mode="HTML")


# ---------------------------------------------------------------- updates and replies
async def test_start_handler_reply_is_logged(tg: FakeTelegram) -> None:
    sent = await reply_to_start(tg, 42)
    assert (sent.chat_id, sent.parse_mode) == (42, "HTML")
    assert sent.text == "<b>Hello</b> &amp; welcome"
    assert sent.visible_text == "Hello & welcome"
    assert tg.counters[42]["delivered"] == 1


async def test_long_polling_waits_for_an_injected_update(
    tg: FakeTelegram, app: Application
) -> None:
    poll = asyncio.create_task(app.bot.get_updates(timeout=3))
    await asyncio.sleep(0.3)
    assert not poll.done()
    began = time.monotonic()
    tg.inject_message(-100500, 7, "hi all", chat_type="supergroup")
    (update,) = await poll
    assert time.monotonic() - began < 1.0
    assert update.message.text == "hi all" and update.message.chat.type == "supergroup"
    assert await app.bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert tg.pending_updates() == []


async def test_get_updates_limit_and_allowed_updates(tg: FakeTelegram, app: Application) -> None:
    for n in range(3):
        tg.inject_message(5, 5, f"m{n}")
    tg.inject_my_chat_member(-7, "member", chat_type="group")
    first = await app.bot.get_updates(limit=2, timeout=0)
    assert [u.message.text for u in first] == ["m0", "m1"]
    rest = await app.bot.get_updates(offset=first[-1].update_id + 1, timeout=0,
                                     allowed_updates=["my_chat_member"])
    assert [u.my_chat_member.new_chat_member.status for u in rest] == ["member"]


async def test_forum_thread_id_is_echoed(tg: FakeTelegram, app: Application) -> None:
    tg.inject_message(-100900, 3, "/start", chat_type="supergroup", thread_id=11, is_forum=True)
    (update,) = await app.bot.get_updates(timeout=0)
    assert update.message.message_thread_id == 11 and update.message.is_topic_message
    reply = await update.message.reply_text("in the topic")
    assert reply.message_thread_id == 11
    assert tg.sent[-1].thread_id == 11


async def test_callback_query_answer_and_edit(tg: FakeTelegram) -> None:
    application = make_app(tg)
    application.add_handler(CallbackQueryHandler(press))
    async with application:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("BTC", callback_data="pick:BTC")]])
        await application.bot.send_message(9, "pick one", reply_markup=keyboard)
        await polling(application)
        tg.inject_callback(9, user_id=9)
        deadline = time.monotonic() + 5
        while len(tg.messages) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await stop_polling(application)
    assert tg.callback_answers == [{"id": "1", "text": "done", "show_alert": False}]
    assert tg.messages[-1].method == "editMessageText"
    assert tg.messages[-1].visible_text == "chose pick:BTC"


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("html", [
    "<b>bold</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <ins>n</ins>",
    "<s>s</s> <strike>k</strike> <del>d</del> <tg-spoiler>x</tg-spoiler>",
    '<span class="tg-spoiler">x</span> <a href="https://example.com/?a=1&amp;b=2">link</a>',
    '<pre><code class="language-python">print("&lt;hi&gt;")</code></pre> <code>x</code>',
    "<blockquote>q</blockquote><blockquote expandable>long</blockquote>",
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> a > b &quot;',
    "<b>bold <i>both <u>all</u></i></b> 😀 &amp; &lt;",
])
async def test_valid_html_is_accepted(app: Application, html: str) -> None:
    msg = await app.bot.send_message(1, html, parse_mode="HTML")
    assert msg.text == visible_text(html)


async def test_entities_use_utf16_offsets(app: Application) -> None:
    msg = await app.bot.send_message(1, "😀 <b>x</b>", parse_mode="HTML")
    (entity,) = msg.entities
    assert (entity.type, entity.offset, entity.length) == ("bold", 3, 1)


@pytest.mark.parametrize("html", [
    "a & b", "a < b", "<b>open", "<b>x</i>", "</b>", "<br>", "<div>x</div>",
    "<span>no class</span>", "<code><b>x</b></code>", "&nbsp;",
    "<blockquote><blockquote>x</blockquote></blockquote>", '<a href="x"><a href="y">z</a></a>',
])
async def test_bad_html_is_rejected(tg: FakeTelegram, app: Application, html: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await app.bot.send_message(1, html, parse_mode="HTML")
    assert tg.sent == [] and tg.counters[1]["rejected"] == 1


async def test_plain_text_is_not_parsed(app: Application) -> None:
    msg = await app.bot.send_message(1, "a < b & <b>c")
    assert msg.text == "a < b & <b>c"


async def test_empty_text_is_rejected(app: Application) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await app.bot.send_message(1, "<b> </b>", parse_mode="HTML")


async def test_length_counts_utf16_after_parsing(app: Application) -> None:
    await app.bot.send_message(1, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    await app.bot.send_message(1, "&lt;" * 4096, parse_mode="HTML")
    await app.bot.send_message(1, "😀" * 2048)
    for too_long in ("a" * 4097, "😀" * 2048 + "a", "&amp;" * 4097):
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await app.bot.send_message(1, too_long, parse_mode="HTML")


async def test_split_html_chunks_are_each_accepted(tg: FakeTelegram, app: Application) -> None:
    line = '<b>BTC</b> 😀 liq <a href="https://x.io/?a=1&amp;b=2">$61,000 &amp; more</a>\n'
    html = "<blockquote>" + line * 150 + "</blockquote>" + "<i>" + "word " * 2000 + "</i>"
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await app.bot.send_message(1, html, parse_mode="HTML")
    chunks = split_html(html)
    assert len(chunks) >= 3
    for chunk in chunks:
        await app.bot.send_message(1, chunk, parse_mode="HTML")
    assert "".join(m.visible_text for m in tg.sent) == visible_text(html)


async def test_caption_limit_and_photo_upload(tg: FakeTelegram, app: Application) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(2000)
    msg = await app.bot.send_photo(-100300, png, caption="<b>chart</b>", parse_mode="HTML")
    assert msg.caption == "chart" and msg.photo
    assert tg.sent[-1].photo and tg.sent[-1].caption == "<b>chart</b>"
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await app.bot.send_photo(-100300, png, caption="x" * 1025)


async def test_callback_data_over_64_bytes_is_rejected(app: Application) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="é" * 32)]])
    await app.bot.send_message(1, "fits", reply_markup=ok)
    built = callback_data("hedge", "BTC-USDT-SWAP", 0.5, 10, True)
    await app.bot.send_message(1, "built", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("go", callback_data=built)]]))
    bad = InlineKeyboardMarkup([[InlineKeyboardButton("no", callback_data="é" * 32 + "x")]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await app.bot.send_message(1, "too big", reply_markup=bad)


async def test_command_names_are_validated(tg: FakeTelegram, app: Application) -> None:
    await app.bot.set_my_commands([("start", "Start"), ("hedge_2", "Hedge a position")])
    assert [c.command for c in await app.bot.get_my_commands()] == ["start", "hedge_2"]
    for name in ("Start", "a" * 33, "with-dash", ""):
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await app.bot.set_my_commands([(name, "x")])
    await app.bot.delete_my_commands()
    assert await app.bot.get_my_commands() == ()
