"""The Telegram handlers: commands (through the Dispatcher, so plugin commands work too),
button presses, the bot's own membership changes, group migrations, and one error handler.

Every handler reads the front end's state, ``TelegramFront``, from ``bot_data[FRONT]``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Message, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from chat.commands.base import Command, Reply
from chat.commands.help import start_buttons, start_lines
from chat.context import CommandContext, Services
from chat.dispatch import Dispatcher, split_command
from chat.language import language_for
from chat.telegram import expand, groups, lifecycle
from chat.telegram.language import in_language
from chat.telegram.render import (
    ALERT,
    MORE,
    MORE_KEYED,
    MUTE,
    ButtonStore,
    Rendered,
    alert_details_html,
    command_of,
    load_details,
    render,
)
from chat.telegram_html import split_html, visible_text
from i18n import N_, _, use
from storage import chats

log = logging.getLogger(__name__)

FRONT = "hedgewatch"
SORRY = N_("Sorry — something went wrong on my side; it has been logged. Please try again.")
EXPIRED = N_("This button has expired — please send the command instead.")
TOAST_MAX = 200  # answerCallbackQuery text limit


def expired(data: str | None) -> str:
    """What an old button says (its command text was kept in memory before a restart):
    "expired, run /hedge again" when its data still names the command."""
    name = command_of(data or "")
    return (_("This button has expired — run /{name} again.").format(name=name) if name
            else _(EXPIRED))


@dataclass
class TelegramFront:
    """The Telegram front end's state, shared by every handler."""

    services: Services
    dispatcher: Dispatcher
    admins: groups.AdminCache
    allowlist: groups.Allowlist
    buttons: ButtonStore = field(default_factory=ButtonStore)
    signal_ok: bool | None = None  # the start-up check of [telegram] signal_channel
    observer: Callable[[Reply], None] | None = None  # tests: sees every reply produced
    # a command message that holds a secret is handled here first (``chat.telegram.keys``)
    intercept: Callable[[TelegramFront, Bot, Where, Message], Awaitable[bool]] | None = None


@dataclass(frozen=True)
class Where:
    """Where an update came from and who sent it."""

    chat_id: int
    chat_type: str
    user_id: int | None
    first_name: str | None = None
    thread_id: int | None = None
    sender_chat_id: int | None = None  # set when an anonymous admin posts as the group
    title: str | None = None
    language_code: str | None = None  # the user's Telegram app language

    @classmethod
    def of(cls, update: Update) -> Where | None:
        chat, user, msg = update.effective_chat, update.effective_user, update.effective_message
        if chat is None:
            return None
        thread = msg.message_thread_id if isinstance(msg, Message) and msg.is_topic_message \
            else None
        sender = update.message.sender_chat if update.message else None
        return cls(chat.id, chat.type, user.id if user else None,
                   user.first_name if user else None, thread, sender.id if sender else None,
                   chat.title, user.language_code if user else None)


@dataclass
class Outcome:
    reply: Reply | None = None
    note: str | None = None  # a short line for a button press's toast
    alert: bool = False  # show the note as an alert (a refusal, an error)


def front_of(context: ContextTypes.DEFAULT_TYPE) -> TelegramFront:
    return context.bot_data[FRONT]


def _known_private(front: TelegramFront, user_id: int | None) -> bool:
    """Has this user a private chat with the bot (Telegram lets bots write only there)?"""
    if user_id is None:
        return False
    rows = list(front.services.db["chats"].rows_where("id = ? and active = 1", [user_id]))
    return bool(rows)


async def post(front: TelegramFront, bot: Bot, where: Where, rendered: Rendered,
                chat_id: int | None = None) -> list[Message] | None:
    target = where.chat_id if chat_id is None else chat_id
    private = target != where.chat_id
    return await lifecycle.deliver(
        bot, front.services.db, target, "private" if private else where.chat_type, rendered,
        front.services.now_ms(), None if private else where.thread_id, _on_migrate(front))


def _on_migrate(front: TelegramFront) -> Callable[[int, int], None]:
    def moved(old: int, new: int) -> None:
        front.admins.forget(old)
        if old in front.allowlist.allowed:
            front.allowlist.allowed = front.allowlist.allowed | {new}
            log.warning("allowed chat %s is now %s: update [telegram] allowed_chats", old, new)
    return moved


async def _answer(front: TelegramFront, command: Command, args: list[str],
                  ctx: CommandContext) -> Reply:
    reply = await front.dispatcher.run(command, args, ctx)
    if front.observer is not None:
        front.observer(reply)
    return reply


async def run_line(front: TelegramFront, bot: Bot, where: Where, text: str, *,
                   from_button: bool = False, in_place: Message | None = None,
                   extra: dict[str, Any] | None = None) -> Outcome:
    """Answer one command line as ``where``'s user; posts the answer unless it is a pressed
    button's refusal (that becomes the toast). With ``in_place`` (a "More" button's
    message) the answer replaces that message's text instead (``expand``). ``extra`` goes
    into the command's context."""
    parts = split_command(text, bot.username)
    if parts is None:
        return Outcome()  # addressed to another bot
    name, args = parts
    command = front.dispatcher.commands.get(name)
    if command is None:
        addressed = "@" in text.split(maxsplit=1)[0]
        if where.chat_type != "private" and not addressed:
            return Outcome()  # another bot's command, most likely
        reply = front.dispatcher.unknown(name)
    elif where.chat_type != "private" and groups.is_personal(command, args):
        return await _answer_privately(front, bot, where, command, args, from_button)
    else:
        is_admin = await front.admins.is_admin(bot, where.chat_id, where.user_id,
                                               where.chat_type, where.sender_chat_id)
        ctx = CommandContext(user_id=where.user_id or 0, chat_id=where.chat_id,
                             services=front.services, chat_type=where.chat_type,
                             is_admin=is_admin, bot_name=bot.username,
                             extra={"front_end": "telegram", "thread_id": where.thread_id,
                                    **(extra or {})},
                             is_operator=where.chat_type == "private"
                             and where.user_id in front.admins.bot_admins)
        reply = await _answer(front, command, args, ctx)
    first = reply.text[0][:TOAST_MAX] if reply.text else None  # plain text: never parsed
    if from_button and (not reply.ok or where.chat_type == "channel"):
        return Outcome(reply, first, alert=not reply.ok)
    if where.chat_type == "channel":
        reply.more = None  # a press in a channel only shows a toast: nothing to expand
    rendered: Rendered | None = await render(reply, front.buttons)
    if in_place is not None and rendered is not None:
        rendered = await expand.replace_text(in_place, rendered)
    if rendered is not None:
        await post(front, bot, where, rendered)
    return Outcome(reply, None if in_place is not None else first if from_button else None)


async def _answer_privately(front: TelegramFront, bot: Bot, where: Where, command: Command,
                            args: list[str], from_button: bool) -> Outcome:
    """Personal answers go to the user's private chat; the group only hears where to look."""
    hint = groups.private_hint(bot.username, command.name)
    if _known_private(front, where.user_id):
        uid = int(where.user_id)  # type: ignore[arg-type]
        ctx = CommandContext(user_id=uid, chat_id=uid, services=front.services,
                             chat_type="private", is_admin=True, bot_name=bot.username,
                             extra={"front_end": "telegram", "asked_in": where.chat_id},
                             is_operator=uid in front.admins.bot_admins)
        with use(language_for(front.services.db, uid, "private", where.language_code)):
            reply = await _answer(front, command, args, ctx)
            rendered = await render(reply, front.buttons)
        if await post(front, bot, where, rendered, chat_id=uid):
            if from_button:
                return Outcome(reply, _("Answered in our private chat."))
            await post(front, bot, where, Rendered([groups.answered_privately(
                where.first_name)]))
            return Outcome(reply)
    if from_button:
        return Outcome(None, visible_text(hint)[:TOAST_MAX], alert=True)
    await post(front, bot, where, Rendered([hint]))
    return Outcome()


async def _admit(front: TelegramFront, bot: Bot, where: Where) -> bool:
    """The allowlist: a chat not on it gets one polite refusal, then silence."""
    if front.allowlist.allows(where.chat_id, where.chat_type, where.user_id):
        return True
    if front.allowlist.first_refusal(where.chat_id):
        log.info("refused chat %s (%s): not in [telegram] allowed_chats", where.chat_id,
                 where.chat_type)
        await post(front, bot, where, Rendered([_(groups.REFUSAL)]))
    return False


# --- handlers ----------------------------------------------------------------------------


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a command line through the Dispatcher (built-in and plugin commands alike)."""
    front, where, msg = front_of(context), Where.of(update), update.effective_message
    if where is None or msg is None or not msg.text or not await _admit(front, context.bot,
                                                                         where):
        return
    lifecycle.touch_chat(front.services.db, where.chat_id, where.chat_type,
                         front.services.now_ms(), where.title)
    if where.chat_type == "private":
        chats.note_language(front.services.db, where.chat_id, where.language_code,
                            now_ms=front.services.now_ms())
    if front.intercept is not None and await front.intercept(front, context.bot, where, msg):
        return
    await run_line(front, context.bot, where, msg.text)


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run a pressed button's command as the presser, or show an alert's details."""
    front, query, where = front_of(context), update.callback_query, Where.of(update)
    if query is None:
        return
    if where is None or not isinstance(query.message, Message):
        await query.answer(expired(query.data), show_alert=True)
        return
    if not front.allowlist.allows(where.chat_id, where.chat_type, where.user_id):
        await query.answer(_(groups.REFUSAL)[:TOAST_MAX], show_alert=True)
        return
    prefix, _sep, rest = (query.data or "").partition(":")
    if prefix == ALERT:
        note, alert = await _alert_details(front, context.bot, where, rest)
        await query.answer(note, show_alert=alert)
        return
    text = f"/mute {rest}" if prefix == MUTE else front.buttons.decode(query.data or "")
    if text is None:
        await query.answer(expired(query.data), show_alert=True)
        return
    outcome = await run_line(front, context.bot, where, text, from_button=True,
                             in_place=query.message if prefix in (MORE, MORE_KEYED) else None)
    await query.answer(outcome.note, show_alert=outcome.alert)


async def _alert_details(front: TelegramFront, bot: Bot, where: Where, alert_id: str
                         ) -> tuple[str | None, bool]:
    details = load_details(front.services.db, alert_id)
    if details is None:
        return _("That alert is no longer stored."), True
    stored, owner = details
    if owner is not None and owner not in (where.user_id, where.chat_id):
        return _("That alert is about someone else's trade."), True
    reader = where.chat_id if where.chat_type == "private" else where.user_id
    tz = chats.get_settings(front.services.db, reader).timezone if reader else "UTC"
    rendered = Rendered(split_html(alert_details_html(stored, tz)))
    if where.chat_type == "private":
        await post(front, bot, where, rendered)
        return None, False
    if _known_private(front, where.user_id) and await post(
            front, bot, where, rendered, chat_id=int(where.user_id)):  # type: ignore[arg-type]
        return _("Sent you the details in our private chat."), False
    return visible_text(groups.private_hint(bot.username, "start"))[:TOAST_MAX], True


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Register a chat when the bot joins it; mark it inactive when blocked or removed."""
    front, change = front_of(context), update.my_chat_member
    if change is None:
        return
    chat, status = change.chat, change.new_chat_member.status
    front.admins.forget(chat.id)
    user_id = change.from_user.id if change.from_user else None
    if status in lifecycle.JOINED and not front.allowlist.allows(chat.id, chat.type, user_id):
        where = Where(chat.id, chat.type, user_id, title=chat.title)
        await _admit(front, context.bot, where)
        return
    db = front.services.db
    new_here = chat.type in ("group", "supergroup") and status in lifecycle.JOINED and not (
        chats.known(db, chat.id) and chats.get_settings(db, chat.id).active)
    lifecycle.member_status_change(db, chat.id, chat.type, status, front.services.now_ms(),
                                   chat.title)
    if new_here:  # the group's first message: what the bot does, that alerts are off
        where = Where(chat.id, chat.type, user_id, title=chat.title)
        subs = chats.get_settings(db, chat.id).subscriptions  # kept if it was here before
        welcome = Reply(text=start_lines(False, subs), buttons=start_buttons(private=False))
        await post(front, context.bot, where, await render(welcome, front.buttons))


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: move its settings, trades and unsent alerts."""
    front, msg = front_of(context), update.effective_message
    if msg is None:
        return
    if msg.migrate_to_chat_id:
        old, new = msg.chat.id, msg.migrate_to_chat_id
    elif msg.migrate_from_chat_id:
        old, new = msg.migrate_from_chat_id, msg.chat.id
    else:
        return
    lifecycle.migrate_chat(front.services.db, old, new, front.services.now_ms())
    _on_migrate(front)(old, new)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error with its traceback and tell the user something useful."""
    log.error("error while handling %s", _describe(update), exc_info=context.error)
    if not isinstance(update, Update) or isinstance(context.error, Forbidden):
        return
    where = Where.of(update)
    if where is None or where.chat_type == "channel":
        return
    try:
        await context.bot.send_message(where.chat_id, _(SORRY),
                                       message_thread_id=where.thread_id)
    except TelegramError as e:
        log.warning("could not tell chat %s about the error: %s", where.chat_id, e)


def _describe(update: object) -> str:
    if isinstance(update, Update):
        chat = update.effective_chat
        return f"update {update.update_id} (chat {chat.id if chat else None})"
    return "a job or the updater" if update is None else repr(update)[:200]


def add_handlers(app: Application) -> None:
    """Register every handler of the Telegram front end on ``app``, each answering in the
    update's language (``chat.telegram.language``)."""
    speak = in_language(lambda context: front_of(context).services.db)
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    app.add_handler(MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE,
                                   speak(on_command)))
    app.add_handler(CallbackQueryHandler(speak(on_callback)))
    app.add_handler(ChatMemberHandler(speak(on_my_chat_member),
                                      ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_error_handler(speak(on_error))
