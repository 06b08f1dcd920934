"""Groups: admin-only settings, personal data only in private chats, the allowlist, topics."""

from __future__ import annotations

import re

import pytest

from storage import chats
from storage.trades import list_trades
from tests.telegram.conftest import Harness

pytestmark = pytest.mark.filterwarnings(  # RetryAfter without PTB's deprecation warning
    "error::telegram.warnings.PTBDeprecationWarning")

GROUP = -100777
OWNER, MEMBER, STRANGER = 11, 12, 13
PERSONAL = ("/open btc long 0.5 @60000 10x", "/positions", "/pnl", "/log", "/risk",
            "/close 1 @61000", "/log 5")
# what a trade line or P&L looks like: "#1 BTC-USDT-SWAP long", "Realised +1.00 USDT"
PRIVATE_DATA = re.compile(r"#\d+ \w|BTC-USDT|Realised|Unrealised|USDT|@ ?60,?000|long 0\.5")


async def setup_group(bot: Harness) -> None:
    bot.tg.set_admins(GROUP, [OWNER], owner=OWNER)
    for user in (OWNER, MEMBER):
        await bot.say("/start", chat=user)  # both have a private chat with the bot


async def test_only_admins_change_group_settings(bot: Harness) -> None:
    await setup_group(bot)
    (sent,) = await bot.say("/subscribe cascade", chat=GROUP, user=MEMBER)
    assert "admins" in sent.visible_text
    (sent,) = await bot.say("/mute 1h", chat=GROUP, user=MEMBER)
    assert "admins" in sent.visible_text
    (sent,) = await bot.say("/settings severity critical", chat=GROUP, user=MEMBER)
    assert "admins" in sent.visible_text
    s = chats.get_settings(bot.db, GROUP)
    assert (s.subscriptions, s.muted_until, s.min_severity) == ((), None, "info")
    await bot.say("/settings", chat=GROUP, user=MEMBER)  # looking is fine
    assert bot.replies[-1].ok

    await bot.say("/subscribe cascade", chat=GROUP, user=OWNER)
    await bot.say("/mute 1h", chat=GROUP, user=OWNER)
    s = chats.get_settings(bot.db, GROUP)
    assert s.subscriptions == ("cascade",) and s.muted_until is not None
    admin_calls = [m for m, p in bot.tg.calls if m == "getChatAdministrators"]
    assert len(admin_calls) == 1  # cached per chat


async def test_bot_wide_admins_and_anonymous_admins(make_bot) -> None:
    async with make_bot(admins=[99]) as bot:
        bot.tg.set_admins(GROUP, [OWNER])
        await bot.say("/subscribe funding", chat=GROUP, user=99)
        assert chats.get_settings(bot.db, GROUP).subscriptions == ("funding",)
        # an admin posting "as the group": from GroupAnonymousBot, sender_chat = the group
        update = bot.tg.inject_message(GROUP, 1087968824, "/unsubscribe", "supergroup",
                                       sender_chat=bot.tg.chat(GROUP).json())
        await bot.handled(update)
        assert chats.get_settings(bot.db, GROUP).subscriptions == ()


async def test_personal_data_never_reaches_the_group(bot: Harness) -> None:
    await setup_group(bot)
    for line in PERSONAL:
        await bot.say(line, chat=GROUP, user=MEMBER)
        await bot.say(line.replace(" ", "@hedgewatch_test_bot ", 1) if " " in line
                      else line + "@hedgewatch_test_bot", chat=GROUP, user=MEMBER)
    group = bot.tg.sent_to(GROUP)
    assert group and all(not PRIVATE_DATA.search(m.visible_text) for m in group), \
        [m.visible_text for m in group]
    assert all("private chat" in m.visible_text for m in group)
    private = "\n".join(m.visible_text for m in bot.tg.sent_to(MEMBER))
    assert "Logged #1 BTC-USDT-SWAP long" in private and "Realised" in private
    trades = list_trades(bot.db, MEMBER)
    # its alerts go to the private chat, never the group
    assert trades and {t.chat_id for t in trades} == {MEMBER}


async def test_a_position_given_inline_is_answered_in_the_group(bot: Harness) -> None:
    await setup_group(bot)
    sent = await bot.say("/risk btc long 0.5 @60000 10x", chat=GROUP, user=MEMBER)
    # the distance gauge, then the answer: all in the group
    assert {m.chat_id for m in sent} == {GROUP}
    assert any("Liquidation" in m.visible_text for m in sent)


async def test_someone_without_a_private_chat_gets_the_hint(bot: Harness) -> None:
    await setup_group(bot)
    (sent,) = await bot.say("/positions", chat=GROUP, user=STRANGER)
    assert sent.chat_id == GROUP and "https://t.me/hedgewatch_test_bot" in sent.visible_text
    bot.tg.block(MEMBER)  # blocked us since: the answer can't be delivered privately
    sent = await bot.say("/pnl", chat=GROUP, user=MEMBER)
    assert [m.chat_id for m in sent] == [GROUP] and "Start" in sent[0].visible_text
    assert not bot.chat_row(MEMBER)["active"]
    assert bot.tg.rejected and all(r.chat_id == MEMBER for r in bot.tg.rejected)


async def test_allowlist_refuses_once(make_bot) -> None:
    async with make_bot(allowed_chats=[GROUP, 5], admins=[7]) as bot:
        assert await bot.say("/help", chat=GROUP)
        assert await bot.say("/help", chat=5)
        assert await bot.say("/help", chat=7)  # a bot-wide admin's private chat
        (refusal,) = await bot.say("/help", chat=-100999)
        assert "can't answer here" in refusal.visible_text
        assert await bot.say("/help", chat=-100999) == []
        assert await bot.say("/subscribe", chat=-100999) == []
        (refusal,) = await bot.say("/start", chat=6)
        assert "can't answer here" in refusal.visible_text
        assert bot.chat_row(-100999) is None
        (refusal,) = await bot.member(-100998, "member", chat_type="supergroup")
        assert "can't answer here" in refusal.visible_text and bot.chat_row(-100998) is None
        assert await bot.say("/help", chat=-100998) == []


async def test_forum_topic_replies_stay_in_the_topic(bot: Harness) -> None:
    forum = -100555
    sent = await bot.say("/help", chat=forum, thread_id=42, is_forum=True)
    assert sent and all(m.thread_id == 42 and m.chat_id == forum for m in sent)
    sent = await bot.say("/risk btc long 0.5 @60000 10x", chat=forum, thread_id=7)
    assert sent and all(m.thread_id == 7 for m in sent)
    sent = await bot.say("/positions", chat=forum, user=STRANGER, thread_id=7)
    assert [m.thread_id for m in sent] == [7]  # the hint, in the topic


async def test_rate_limiter_absorbs_group_flood_limits(make_bot) -> None:
    from tests.fakes.telegram_server import FloodControl

    flood = FloodControl(enabled=True, group_limit=3, group_window=1.0)
    async with make_bot(flood=flood) as bot:
        for _ in range(5):
            await bot.say("/status", chat=-100321)
        assert len(bot.tg.sent_to(-100321)) == 5
        assert {r.status for r in bot.tg.rejected} == {429}
