"""A new user's first minute: /start on one phone screen with the first steps as buttons, a
group's first message, /help by task, the command menus per scope, and old buttons after a
restart. The real PTB bot against the fake Bot API."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from chat.telegram.render import ButtonStore, command_of
from storage import chats
from tests.telegram.conftest import Harness

GROUP = -100880
ADMIN, MEMBER = 21, 22


def labels(message) -> list[str]:
    return [b["text"] for row in message.reply_markup["inline_keyboard"] for b in row]


async def test_start_fits_a_phone_says_alerts_are_off_and_offers_first_steps(bot) -> None:
    (welcome,) = await bot.say("/start", chat=1)
    lines = welcome.visible_text.splitlines()
    assert len(lines) <= 8 and "Alerts are off until you /subscribe." in lines
    assert labels(welcome)[0] == "🔔 Subscribe to market alerts"
    assert "📒 Log a trade" in labels(welcome) and "Try /hedge btc" in labels(welcome)
    (subscribed,) = await bot.press(1, 1, "c:subscribe", message_id=welcome.message_id)
    assert subscribed.visible_text.startswith("Subscribed to")
    assert chats.get_settings(bot.db, 1).subscriptions
    (again,) = await bot.say("/start", chat=1)
    assert "Alerts are on here for" in again.visible_text
    (hedge,) = [m for m in await bot.press(1, 1, "c:hedge btc", message_id=welcome.message_id)
                if m.visible_text]
    assert "BTC" in hedge.visible_text


async def test_a_group_hears_what_the_bot_does_once_when_added(bot: Harness) -> None:
    (welcome,) = await bot.member(GROUP, "member", chat_type="supergroup", user=ADMIN)
    assert welcome.chat_id == GROUP and len(welcome.visible_text.splitlines()) <= 8
    assert "Alerts are off until you /subscribe." in welcome.visible_text
    assert "only admins change alert settings" in welcome.visible_text
    assert "🔔 Subscribe to market alerts" in labels(welcome)
    assert await bot.member(GROUP, "administrator", chat_type="supergroup") == []  # promoted
    bot.tg.set_admins(GROUP, [ADMIN], owner=ADMIN)
    assert await bot.press(GROUP, MEMBER, "c:subscribe", message_id=welcome.message_id) == []
    assert "admins" in bot.tg.callback_answers[-1]["text"]
    assert chats.get_settings(bot.db, GROUP).subscriptions == ()


async def test_help_groups_the_commands_by_task_on_one_screen(bot: Harness) -> None:
    (shown,) = await bot.say("/help", chat=1)
    lines = shown.visible_text.splitlines()
    assert len(lines) <= 10
    assert [line.split(":")[0] for line in lines[:4]] == ["Risk & hedges", "Trades",
                                                          "Alerts", "Settings"]
    assert "/hedge" in lines[0] and "/open" in lines[1] and "/subscribe" in lines[2]
    (full,) = await bot.say("/help all", chat=1)
    assert "  /hedge — " in full.visible_text


async def test_command_menus_per_scope(bot: Harness) -> None:
    menus = {scope: [c["command"] for c in cmds] for (scope, _), cmds in bot.tg.commands.items()}
    private = next(v for k, v in menus.items() if "all_private_chats" in k)
    groups = next(v for k, v in menus.items() if "all_group_chats" in k)
    admins = next(v for k, v in menus.items() if "all_chat_administrators" in k)
    assert private[:2] == ["hedge", "risk"]  # in /help's task order, not alphabetical
    assert "positions" in private and "positions" not in groups + admins
    assert "subscribe" in admins and "subscribe" not in groups and "hedge" in groups
    assert "account" not in private  # the operator's: in no menu


async def test_an_old_button_after_a_restart_names_the_command_to_run_again(bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(
        "Log with a note", callback_data="k:open.0123456789abcdef01")]])
    await bot.app.bot.send_message(1, "from before the restart", reply_markup=markup)
    assert await bot.press(1, 1) == []
    answer = bot.tg.callback_answers[-1]
    assert answer["text"] == "This button has expired — run /open again." and \
        answer["show_alert"]


def test_which_command_an_old_buttons_data_names() -> None:
    assert command_of("k:open.0123456789abcdef01") == "open"
    assert command_of("k:0123abcd") is None  # from before names were kept: no guess
    assert command_of("c:hedge btc 0.5") == "hedge" and command_of("mute:1h") == "mute"
    assert command_of("alert:5") is None and command_of("c:<b>") is None
    key = ButtonStore().encode("/open btc long 0.5 @60000 10x note " + "x" * 60)
    assert key.startswith("k:open.") and len(key.encode()) <= 64
