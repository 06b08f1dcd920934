"""The fake Telegram Bot API, driven by the real python-telegram-bot ``Application`` and ``Bot``:
the errors PTB maps (blocked, migrated, faults, outages, webhooks, bad tokens), flood control,
and the fake served from a thread or another process. Updates, replies and the rules a message
must meet: ``test_telegram_messages``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import pytest
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
from telegram.ext import AIORateLimiter, Application
from telegram.request import HTTPXRequest

from tests.fakes.telegram_ptb import NO_PTB_DEPRECATIONS, make_app, reply_to_start
from tests.fakes.telegram_server import FakeTelegram, FloodControl, control, read_log

ROOT = Path(__file__).resolve().parents[2]
pytestmark = NO_PTB_DEPRECATIONS


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


async def test_settle_waits_for_slow_calls_not_for_an_open_long_poll(tg: FakeTelegram,
                                                                     app: Application) -> None:
    poll = asyncio.create_task(app.bot.get_updates(timeout=3, read_timeout=5))
    await asyncio.sleep(0.2)
    assert tg.in_flight == 0 and not poll.done()  # the poll is open, nothing is slow
    tg.set_latency(0.5)
    slow = asyncio.create_task(app.bot.send_message(1, "slow"))
    await asyncio.sleep(0.2)
    assert tg.in_flight == 1
    await tg.settle(timeout=2)  # the slow call ends at 0.5 s; the poll would hold it to 3 s
    assert not poll.done()
    await slow
    tg.inject_message(1, 1, "wake up")
    assert len(await poll) == 1


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
        assert (await reply_to_start(server, 8)).visible_text == "Hello & welcome"
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
