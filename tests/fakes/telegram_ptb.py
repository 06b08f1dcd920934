"""The real python-telegram-bot client pointed at a ``FakeTelegram``: what the fake's own
tests (``test_telegram_messages``, ``test_telegram_server``) drive it with."""

from __future__ import annotations

import pytest
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from tests.fakes.telegram_objects import SentMessage
from tests.fakes.telegram_server import FakeTelegram

# PTB 22 warns inside RetryAfter.__init__ that retry_after will become a timedelta, unless
# PTB_TIMEDELTA opts in (tests/conftest.py, chat.bot_client): no such warning may come back
NO_PTB_DEPRECATIONS = pytest.mark.filterwarnings("error::telegram.warnings.PTBDeprecationWarning")


def make_app(tg: FakeTelegram, **builder: object) -> Application:
    builder.setdefault("token", tg.token)
    b = Application.builder().base_url(tg.base_url).base_file_url(tg.base_file_url)
    for name, value in builder.items():
        b = getattr(b, name)(value)
    return b.build()


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply to /start in HTML."""
    await update.effective_message.reply_html("<b>Hello</b> &amp; welcome")


async def polling(application: Application) -> None:
    await application.start()
    await application.updater.start_polling(poll_interval=0, timeout=1)


async def stop_polling(application: Application) -> None:
    await application.updater.stop()
    await application.stop()


async def reply_to_start(tg: FakeTelegram, chat_id: int) -> SentMessage:
    """What an application polling ``tg`` with the ``start`` handler sends back to a /start
    from ``chat_id`` (a private chat: the user's id is the chat's)."""
    application = make_app(tg)
    application.add_handler(CommandHandler("start", start))
    async with application:
        await polling(application)
        tg.inject_message(chat_id, chat_id, "/start")
        (sent,) = await tg.wait_for_messages(1, timeout=5)
        await stop_polling(application)
    return sent
