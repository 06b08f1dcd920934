"""Sending our Telegram HTML, with one plain-text retry when Telegram refuses to parse it.

Every value in our HTML is escaped, so "can't parse entities" means a bug in a renderer. The
reader still gets the words: the same message goes out once more as plain text, and the bug is
logged with the HTML that was refused. Used by replies (``chat.telegram.render``) and alerts
(``chat.sender``) alike; any other error, or a second refusal, propagates.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from chat.telegram_html import plain_text

log = logging.getLogger(__name__)


def refused_html(error: BadRequest) -> bool:
    """Whether Telegram refused the message's markup (and not, say, the chat)."""
    return "parse entities" in str(error).lower()


def _bug(error: BadRequest, html: str | None) -> None:
    log.error("BUG: Telegram refused our HTML (%s); sending it as plain text: %r", error,
              (html or "")[:300])


async def send_html(bot: Bot, chat_id: int | str, html: str, **kwargs: Any) -> Message:
    """``sendMessage`` in HTML mode; refused markup is sent once more as plain text."""
    try:
        return await bot.send_message(chat_id, html, parse_mode=ParseMode.HTML, **kwargs)
    except BadRequest as e:
        if not refused_html(e):
            raise
        _bug(e, html)
    return await bot.send_message(chat_id, plain_text(html), **kwargs)


async def send_html_photo(bot: Bot, chat_id: int | str, photo: Any, caption: str | None,
                          **kwargs: Any) -> Message:
    """``sendPhoto`` with an HTML caption; a refused caption is sent once more as plain text."""
    try:
        return await bot.send_photo(chat_id, photo, caption=caption, parse_mode=ParseMode.HTML,
                                    **kwargs)
    except BadRequest as e:
        if not refused_html(e):
            raise
        _bug(e, caption)
    return await bot.send_photo(chat_id, photo,
                                caption=plain_text(caption) if caption else None, **kwargs)
