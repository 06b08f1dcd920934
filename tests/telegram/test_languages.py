"""The chat's language through the real PTB Application and the fake Bot API: a private
chat follows its Telegram app's language until /lang chooses one, a group's admins choose
for the group, the command menus exist per language, and one alert reaches an English and
a Chinese chat each in its own language."""

from __future__ import annotations

import re

from chat.sender import Sender, make_bot
from core.alerts import Alert
from i18n import L_
from settings import Config
from storage import chats, open_database, outbox
from tests.alerts.sim_clock import SimClock
from tests.fakes.telegram_server import FakeTelegram
from tests.telegram.conftest import Harness

CJK = re.compile(r"[\u4e00-\u9fff]")
GROUP, OWNER, MEMBER = -700, 71, 72
T0 = 1_772_323_200_000


def chinese(text: str) -> bool:
    return bool(CJK.search(text))


async def test_a_private_chat_follows_its_telegram_app_language(bot: Harness) -> None:
    bot.tg.user_languages[5] = "zh-hans"
    [sent] = await bot.say("/lang", chat=5)
    assert sent.visible_text.startswith("语言：简体中文")
    assert chats.get_settings(bot.db, 5).language == "zh_Hans"  # remembered for alerts
    [sent] = await bot.say("/lang", chat=6)  # an English app
    assert sent.visible_text.startswith("Language: English")
    assert not chinese(sent.visible_text)


async def test_lang_switches_and_the_answer_is_already_in_the_new_language(bot: Harness
                                                                           ) -> None:
    [sent] = await bot.say("/lang zh", chat=8)
    assert sent.visible_text.startswith("从现在起我将使用简体中文回复。")
    buttons = [b["text"] for row in sent.reply_markup["inline_keyboard"] for b in row]
    assert buttons == ["English"]  # the way back, named in its own language
    [sent] = await bot.say("/lang", chat=8)
    assert sent.visible_text.startswith("语言：简体中文") and "未设置" not in sent.visible_text
    [sent] = await bot.say("/lang en", chat=8)
    assert sent.visible_text.startswith("From now on I answer in English.")
    bot.tg.user_languages[8] = "zh-hans"  # a choice beats the app's language
    [sent] = await bot.say("/lang", chat=8)
    assert sent.visible_text.startswith("Language: English")
    [sent] = await bot.say("/lang auto", chat=8)  # back to following the app
    assert sent.visible_text.startswith("从现在起我将使用简体中文回复。")


async def test_bad_language_gets_one_clear_line_in_the_chats_language(bot: Harness) -> None:
    [sent] = await bot.say("/lang fr", chat=9)
    assert "/lang en" in sent.visible_text and "/lang zh" in sent.visible_text
    assert chats.get_settings(bot.db, 9).extra.get(chats.LANG) is None


async def test_only_a_groups_admins_choose_its_language(bot: Harness) -> None:
    bot.tg.set_admins(GROUP, [OWNER], owner=OWNER)
    bot.tg.user_languages[MEMBER] = "zh-hans"  # a member's app language doesn't count
    [sent] = await bot.say("/lang", chat=GROUP, user=MEMBER)
    assert sent.visible_text.startswith("Language: English")
    [sent] = await bot.say("/lang zh", chat=GROUP, user=MEMBER)
    assert "admins" in sent.visible_text
    assert chats.get_settings(bot.db, GROUP).language == "en"
    [sent] = await bot.say("/lang zh", chat=GROUP, user=OWNER)
    assert chinese(sent.visible_text)
    assert chats.get_settings(bot.db, GROUP).language == "zh_Hans"
    [sent] = await bot.say("/lang", chat=GROUP, user=MEMBER)
    assert sent.visible_text.startswith("语言：简体中文")


async def test_command_menus_are_published_per_language(bot: Harness) -> None:
    default = bot.tg.commands[('{"type": "default"}', "")]
    chinese_menu = bot.tg.commands[('{"type": "default"}', "zh")]
    assert [c["command"] for c in default] == [c["command"] for c in chinese_menu]
    lang_en = next(c for c in default if c["command"] == "lang")
    lang_zh = next(c for c in chinese_menu if c["command"] == "lang")
    assert lang_en["description"].startswith("the language I answer in")
    assert lang_zh["description"].startswith("我回复所用的语言")


async def test_one_alert_reaches_each_chat_in_its_language(tmp_path) -> None:
    """Recorded once with its words in every language; the English chat and the Chinese
    chat each read theirs — title, body, action, labels and buttons."""
    db = open_database(tmp_path / "alerts.db")
    with db.conn:
        for chat_id in (31, 32):
            chats.set_subscriptions(db, chat_id, ["config"])
        chats.set_extra(db, 32, {chats.LANG: "zh_Hans"})
    alert = Alert("config", "config:x", "warning", L_("Alert"), (L_("SIMULATED"),),
                  L_("Details"), T0, 60_000, 3_600_000, owner_chat_id=None)
    outbox.record_alerts(db, [alert], now_ms=T0, signal_channel=-100777)
    record = outbox.load_alert(db, 1).record
    assert record["text"]["zh_Hans"]["title"] == "警报" and record["title"] == "Alert"
    async with FakeTelegram() as tg:
        tg.chat(-100777, "channel")
        config = Config().with_overrides(telegram={"api_url": tg.base_url,
                                                   "signal_channel": -100777,
                                                   "signal_language": "zh"})
        sender = Sender(db, make_bot(config, tg.token), config, per_chat_interval=0.01,
                        clock=SimClock(T0), seed=1)
        report = await sender.drain()
        await sender.bot.shutdown()
    assert report.sent == 3
    by_chat = {m.chat_id: m for m in tg.sent}
    assert by_chat[-100777].visible_text.startswith("⚠️ 警报")  # [telegram] signal_language
    english, chinese_msg = by_chat[31], by_chat[32]
    assert english.visible_text.startswith("⚠️ Alert") and "What to do: Details" in \
        english.visible_text and not chinese(english.visible_text)
    assert chinese_msg.visible_text.startswith("⚠️ 警报")
    assert "建议操作：详情" in chinese_msg.visible_text and "数据：K线收盘" in \
        chinese_msg.visible_text
    labels = [b["text"] for row in chinese_msg.reply_markup["inline_keyboard"] for b in row]
    assert labels == ["静音 1 小时", "详情"]
