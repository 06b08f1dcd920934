"""Who may do what where: group admins (cached), the chat allowlist, and privacy routing.

* Group settings and subscriptions are changed by the group's admins only, as Telegram lists
  them (``getChatAdministrators``, cached ``ttl`` seconds per chat); ``[telegram] admins`` are
  admins of the bot everywhere; an anonymous admin (a message sent "as the group") counts.
* ``[telegram] allowed_chats``, when set, is an allowlist: any other chat gets one polite
  refusal and nothing else (a private chat of a bot-wide admin is always allowed).
* A user's positions, P&L and personal risk are never posted in a group: ``is_personal`` says
  which command lines must be answered in the user's private chat instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from telegram import Bot
from telegram.error import TelegramError

from chat.telegram_html import escape
from i18n import N_, _

log = logging.getLogger(__name__)

ADMIN_TTL_S = 300.0
REFUSAL = N_("Sorry — this hedgewatch bot only works in the chats its operator allowed, "
             "so I can't answer here.")
# Commands that read the asker's own trade log when given no arguments (a position given
# inline is not personal). Private-only commands are always personal.
PERSONAL_WITHOUT_ARGS = frozenset({"risk"})


def is_personal(command: Any, args: list[str]) -> bool:
    """True when this command line shows or changes the asker's own trades, P&L or risk."""
    if getattr(command, "private_only", False):
        return True
    flag = getattr(command, "personal_without_args", None)
    bare_personal = flag if flag is not None else command.name in PERSONAL_WITHOUT_ARGS
    return bool(bare_personal) and not args


def private_hint(bot_username: str | None, command_name: str) -> str:
    """Telegram HTML for a group: how to get a personal answer (no personal data in it)."""
    link = f"https://t.me/{bot_username}" if bot_username else _("a private chat with me")
    return _("That's personal, so I only answer it in a private chat: open {link}, press "
             "Start, then send /{command} there.").format(link=escape(link),
                                                          command=escape(command_name))


def answered_privately(first_name: str | None) -> str:
    if first_name:
        return _("I've answered you in our private chat, {name}.").format(
            name=escape(first_name))
    return _("I've answered you in our private chat.")


class AdminCache:
    """Group admins per chat from ``getChatAdministrators``, kept ``ttl`` seconds."""

    def __init__(self, bot_admins: Iterable[int] = (), ttl: float = ADMIN_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bot_admins = frozenset(bot_admins)
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[int, tuple[float, frozenset[int]]] = {}

    async def admins(self, bot: Bot, chat_id: int) -> frozenset[int]:
        """The chat's admin user ids; empty (and not cached) when Telegram can't say."""
        cached = self._cache.get(chat_id)
        now = self.clock()
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        try:
            members = await bot.get_chat_administrators(chat_id)
        except TelegramError as e:  # fail closed: nobody is an admin we can't confirm
            log.warning("getChatAdministrators(%s) failed: %s", chat_id, e)
            return frozenset()
        ids = frozenset(m.user.id for m in members)
        self._cache[chat_id] = (now, ids)
        return ids

    async def is_admin(self, bot: Bot, chat_id: int, user_id: int | None, chat_type: str,
                       sender_chat_id: int | None = None) -> bool:
        """May this user change this chat's settings?"""
        if user_id is not None and user_id in self.bot_admins:
            return True
        if chat_type == "private":
            return True
        if sender_chat_id is not None and sender_chat_id == chat_id:
            return True  # an anonymous admin posting as the group
        if user_id is None:
            return False
        return user_id in await self.admins(bot, chat_id)

    def forget(self, chat_id: int) -> None:
        """Drop a chat's cached admins (the bot's membership or the chat id changed)."""
        self._cache.pop(chat_id, None)


class Allowlist:
    """``[telegram] allowed_chats``: empty allows every chat."""

    def __init__(self, allowed: Iterable[int], bot_admins: Iterable[int] = ()) -> None:
        self.allowed = frozenset(allowed)
        self.bot_admins = frozenset(bot_admins)
        self._refused: set[int] = set()

    def allows(self, chat_id: int, chat_type: str = "private", user_id: int | None = None
               ) -> bool:
        if not self.allowed or chat_id in self.allowed:
            return True
        return chat_type == "private" and user_id is not None and user_id in self.bot_admins

    def first_refusal(self, chat_id: int) -> bool:
        """True the first time a refused chat asks (it gets one refusal, then silence)."""
        if chat_id in self._refused:
            return False
        self._refused.add(chat_id)
        return True
