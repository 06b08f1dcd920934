"""Messages that hold an API key: deleted at once, answered only in a private chat.

- ``/connect okx KEY SECRET PASSPHRASE`` (any command marked ``holds_secrets`` with words
  after it): the message is deleted before the key is looked at; in a private chat the command
  then runs, told whether the deletion worked; in a group nothing runs — the key is exposed
  there, so the group is told to revoke it (without repeating it).
- After ``/connect okx`` the user's next private message is the key: deleted, then connected.
- Any other private message that looks like a key is deleted too, with a word on how to
  connect.

The key's words are registered with the log masking before anything else is done with them.
"""

from __future__ import annotations

import logging

from telegram import Bot, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from chat.dispatch import split_command
from chat.telegram.handlers import FRONT, TelegramFront, Where, front_of, post, run_line
from chat.telegram.language import in_language
from chat.telegram.render import Rendered
from i18n import N_, _
from settings.logs import mask_key_words
from settings.secrets import looks_secret
from storage import accounts as store

log = logging.getLogger(__name__)

IN_GROUP = N_("⚠ Never post an API key in a group. {done} The key has been seen here: "
              "delete it on the exchange now, make a new read-only one and send /connect to "
              "me in a private chat.")
DELETED = N_("I deleted your message.")
NOT_DELETED = N_("I could not delete your message (I am not an admin here): delete it "
                 "yourself.")
LOOKS_LIKE_A_KEY = N_("That looked like an API key, so I deleted it. To connect your "
                      "exchange account send /connect okx (or binance, bybit) first, then "
                      "the key.")


async def delete(bot: Bot, msg: Message) -> bool:
    """Delete the user's message now; False when Telegram refused (e.g. no rights in a
    group, or the message is older than 48 hours)."""
    try:
        return bool(await bot.delete_message(msg.chat_id, msg.message_id))
    except TelegramError as e:
        log.warning("could not delete a message holding a key in chat %s: %s", msg.chat_id,
                    type(e).__name__)
        return False


async def intercept(front: TelegramFront, bot: Bot, where: Where, msg: Message) -> bool:
    """Handle a command line whose words may be a key; True when it was handled here."""
    parts = split_command(msg.text or "", bot.username)
    if parts is None:
        return False
    name, args = parts
    command = front.dispatcher.commands.get(name)
    if command is None or not command.holds_secrets or len(args) < 2:
        return False
    mask_key_words(args)
    private = where.chat_type == "private"
    # in a group only an admin bot may delete others' messages: don't ask in vain
    may = private or bot.id in await front.admins.admins(bot, where.chat_id)
    deleted = await delete(bot, msg) if may else False
    if not private:
        log.warning("a /%s with a key was posted in chat %s (%s); deleted: %s", name,
                    where.chat_id, where.chat_type, deleted)
        done = _(DELETED) if deleted else _(NOT_DELETED)
        await post(front, bot, where, Rendered([_(IN_GROUP).format(done=done)]))
        return True
    await run_line(front, bot, where, msg.text or "", extra={"key_message_deleted": deleted})
    return True


async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private message that is not a command: the key a /connect waits for, or a key sent
    by mistake — deleted either way."""
    front, where, msg = front_of(context), Where.of(update), update.effective_message
    if where is None or msg is None or not msg.text or where.chat_type != "private" \
            or where.user_id is None:
        return
    exchange = store.pending_connect(front.services.db, where.user_id,
                                     front.services.now_ms())
    words = msg.text.split()
    if exchange is None and not looks_secret(msg.text):
        return
    mask_key_words(words)
    deleted = await delete(context.bot, msg)
    if exchange is None:
        await post(front, context.bot, where, Rendered([_(LOOKS_LIKE_A_KEY)]))
        return
    line = " ".join(["/connect", exchange, *words])
    await run_line(front, context.bot, where, line, extra={"key_message_deleted": deleted})


def add_key_handlers(app: Application) -> None:  # type: ignore[type-arg]
    """Delete key messages: commands through ``TelegramFront.intercept``, plain private
    text through its own handler."""
    front: TelegramFront = app.bot_data[FRONT]
    front.intercept = intercept
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
                                   & filters.UpdateType.MESSAGE,
                                   in_language(lambda c: front_of(c).services.db)(
                                       on_private_text)))
