"""The fake Telegram Bot API, driven by the real python-telegram-bot ``Application`` and ``Bot``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
import urllib.error
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)
from telegram.request import HTTPXRequest

from chat.telegram_html import callback_data, split_html, visible_text
from tests.fakes.telegram_server import FakeTelegram, FloodControl, control, read_log

ROOT = Path(__file__).resolve().parents[2]
# PTB 22 warns inside RetryAfter.__init__ that retry_after will become a timedelta, unless
# PTB_TIMEDELTA opts in (tests/conftest.py, chat.bot_client): no such warning may come back
pytestmark = pytest.mark.filterwarnings("error::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    """A fake with flood control off; flood tests switch it on with ``set_flood``."""
    async with FakeTelegram(flood=FloodControl(enabled=False)) as server:
        yield server


def make_app(tg: FakeTelegram, **builder: object) -> Application:
    builder.setdefault("token", tg.token)
    b = Application.builder().base_url(tg.base_url).base_file_url(tg.base_file_url)
    for name, value in builder.items():
        b = getattr(b, name)(value)
    return b.build()


@pytest.fixture
async def app(tg: FakeTelegram) -> AsyncIterator[Application]:
    application = make_app(tg)
    async with application:
        yield application


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply to /start in HTML."""
    await update.effective_message.reply_html("<b>Hello</b> &amp; welcome")


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a button press and edit the message."""
    query = update.callback_query
    await query.answer("done")
    await query.edit_message_text(f"<i>chose {query.data}</i>", parse_mode="HTML")


async def polling(application: Application) -> None:
    await application.start()
    await application.updater.start_polling(poll_interval=0, timeout=1)


async def stop_polling(application: Application) -> None:
    await application.updater.stop()
    await application.stop()


# ---------------------------------------------------------------- updates and replies
async def test_start_handler_reply_is_logged(tg: FakeTelegram) -> None:
    application = make_app(tg)
    application.add_handler(CommandHandler("start", start))
    async with application:
        await polling(application)
        tg.inject_message(42, 42, "/start")
        (sent,) = await tg.wait_for_messages(1, timeout=5)
        await stop_polling(application)
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


# ---------------------------------------------------------------- errors PTB maps
async def test_blocked_chat_is_forbidden(tg: FakeTelegram, app: Application) -> None:
    tg.block(77)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await app.bot.send_message(77, "hi")
    tg.inject_my_chat_member(-300, "kicked", user_id=5, chat_type="group")
    with pytest.raises(Forbidden, match="kicked"):
        await app.bot.send_message(-300, "hi")
    (update,) = await app.bot.get_updates(timeout=0)
    assert update.my_chat_member.new_chat_member.status == "kicked"


async def test_migrated_group_raises_chat_migrated(tg: FakeTelegram, app: Application) -> None:
    tg.migrate(-4001, -1004001)
    with pytest.raises(ChatMigrated) as err:
        await app.bot.send_message(-4001, "hi")
    assert err.value.new_chat_id == -1004001
    msg = await app.bot.send_message(err.value.new_chat_id, "hi again")
    assert msg.chat.type == "supergroup"


async def test_admins_and_members(tg: FakeTelegram, app: Application) -> None:
    tg.set_admins(-100800, [11, 12], owner=11)
    admins = await app.bot.get_chat_administrators(-100800)
    assert [(a.user.id, a.status) for a in admins] == [(11, "creator"), (12, "administrator")]
    assert (await app.bot.get_chat_member(-100800, 13)).status == "member"
    assert (await app.bot.get_chat(-100800)).type == "supergroup"
    with pytest.raises(BadRequest, match=r"(?i)no administrators"):
        await app.bot.get_chat_administrators(5)


async def test_injected_faults(tg: FakeTelegram, app: Application) -> None:
    tg.fail_next("sendMessage")
    with pytest.raises(NetworkError, match="Bad Gateway") as err:
        await app.bot.send_message(1, "a")
    assert not isinstance(err.value, BadRequest)
    tg.fail_next("sendMessage", kind="drop")
    with pytest.raises(NetworkError):
        await app.bot.send_message(1, "b")
    tg.fail_next("sendMessage", kind="timeout", delay=0.6)
    with pytest.raises(TimedOut):
        await app.bot.send_message(1, "c", read_timeout=0.2)
    await tg.wait_for_messages(1, timeout=3)  # the timed-out call was still delivered
    assert [m.text for m in tg.sent] == ["c"]


async def test_lasting_outage_latency_and_a_flooded_chat(tg: FakeTelegram,
                                                         app: Application) -> None:
    tg.set_outage(502)
    for text in ("a", "b"):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await app.bot.send_message(1, text)
    assert (await app.bot.get_me()).is_bot  # only the send methods are down
    tg.set_outage(None)
    tg.set_latency(0.6)
    with pytest.raises(TimedOut):
        await app.bot.send_message(1, "slow", read_timeout=0.2)
    assert tg.in_flight == 1
    await tg.settle()
    assert [m.text for m in tg.sent] == ["slow"]  # it arrived although the client gave up
    tg.set_latency(None)
    now = [1000.0]
    tg.clock = lambda: now[0]
    tg.flood_chat(2, 30)
    for _ in range(2):
        with pytest.raises(RetryAfter) as err:
            await app.bot.send_message(2, "x")
    assert err.value.retry_after == dt.timedelta(seconds=30)
    assert tg.early_retries == {2: 1}  # the second call came before the 30 s had passed
    now[0] += 30
    await app.bot.send_message(2, "y")
    assert [m.text for m in tg.sent_to(2)] == ["y"] and tg.sent_to(2)[0].at == 1030.0


async def test_unknown_control_helper_is_a_404(tg: FakeTelegram) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        await asyncio.to_thread(control, tg.url, "no_such_helper")
    assert err.value.code == 404
    assert json.loads(err.value.read())["description"] == "no helper no_such_helper"


async def test_webhook_blocks_polling_and_bad_token_is_invalid(tg: FakeTelegram,
                                                                app: Application) -> None:
    await app.bot.set_webhook("https://bot.example.com/hook", secret_token="s3cret")
    assert tg.webhook["secret_token"] == "s3cret"
    with pytest.raises(Conflict):
        await app.bot.get_updates(timeout=0)
    await app.bot.delete_webhook()
    assert await app.bot.get_updates(timeout=0) == ()
    requests = [HTTPXRequest(), HTTPXRequest()]
    wrong = make_app(tg, token="1:wrong", request=requests[0], get_updates_request=requests[1])
    try:
        with pytest.raises(InvalidToken):
            await wrong.initialize()
    finally:  # a failed initialize() leaves the HTTP clients open
        for request in requests:
            await request.shutdown()


# ---------------------------------------------------------------- flood control
async def test_retry_after_surfaces_without_a_rate_limiter(tg: FakeTelegram,
                                                           app: Application) -> None:
    tg.set_flood(enabled=True, private_rate=1.0, private_burst=1)
    await app.bot.send_message(3, "one")
    with pytest.raises(RetryAfter) as err:
        await app.bot.send_message(3, "two")
    assert err.value.retry_after == dt.timedelta(seconds=1)
    assert tg.rejected[-1].status == 429 and tg.counters[3]["429"] == 1


async def test_aioratelimiter_with_retries_absorbs_429(tg: FakeTelegram) -> None:
    tg.set_flood(enabled=True, private_rate=2.0, private_burst=1)
    application = make_app(tg, rate_limiter=AIORateLimiter(max_retries=3))
    async with application:
        await application.bot.send_message(3, "one")
        await application.bot.send_message(3, "two")
    assert [m.text for m in tg.sent] == ["one", "two"]
    assert [r.status for r in tg.rejected] == [429]


async def test_group_limit_per_window(tg: FakeTelegram, app: Application) -> None:
    tg.set_flood(enabled=True, group_limit=3, group_window=0.4)
    for n in range(3):
        await app.bot.send_message(-100, f"g{n}")
    with pytest.raises(RetryAfter):
        await app.bot.send_message(-100, "g3")
    await app.bot.send_message(-200, "another group is fine")
    await asyncio.sleep(0.45)
    await app.bot.send_message(-100, "next window")


async def test_global_and_private_burst_limits(tg: FakeTelegram, app: Application) -> None:
    tg.set_flood(enabled=True, global_limit=4, global_window=0.3, private_burst=2,
                 private_rate=10.0)
    await app.bot.send_message(1, "a")
    await app.bot.send_message(1, "b")
    with pytest.raises(RetryAfter):
        await app.bot.send_message(1, "c")  # burst of 2 used up
    await app.bot.send_message(2, "d")
    await app.bot.send_message(3, "e")
    with pytest.raises(RetryAfter):
        await app.bot.send_message(4, "f")  # 4 per 0.3 s overall
    await asyncio.sleep(0.35)
    await app.bot.send_message(1, "g")
    assert len(tg.sent) == 5 and len(tg.rejected) == 2


# ---------------------------------------------------------------- other ways to run it
async def test_server_in_a_thread() -> None:
    server = FakeTelegram(flood=FloodControl(enabled=False)).start_in_thread()
    try:
        application = make_app(server)
        application.add_handler(CommandHandler("start", start))
        async with application:
            await polling(application)
            server.inject_message(8, 8, "/start")
            (sent,) = await server.wait_for_messages(1, timeout=5)
            await stop_polling(application)
        assert sent.visible_text == "Hello & welcome"
    finally:
        server.stop_thread()


async def test_server_in_another_process(tmp_path: Path) -> None:
    log, ready = tmp_path / "tg.json", tmp_path / "port"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.telegram_server", "--port", "0", "--log", str(log),
         "--ready-file", str(ready), "--no-flood"], cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not ready.exists() or not ready.read_text():
            assert proc.poll() is None and time.monotonic() < deadline
            await asyncio.sleep(0.05)
        server = FakeTelegram(port=int(ready.read_text()))  # only for its URLs
        await asyncio.to_thread(control, server.url, "inject_message", chat_id=6, user_id=6,
                                text="/start")
        application = make_app(server)
        async with application:
            (update,) = await application.bot.get_updates(timeout=1)
            await update.message.reply_text("pong")
        snap = await asyncio.to_thread(read_log, server.url)
        assert [m["text"] for m in snap["messages"]] == ["pong"]
    finally:
        proc.terminate()
        proc.wait(10)
    assert json.loads(log.read_text())["messages"][0]["chat_id"] == 6
