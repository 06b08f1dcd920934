"""Telegram handlers run in the update's language (``chat.language.language_for``: the
chat's /lang choice, else the user's Telegram app language in a private chat)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlite_utils import Database
from telegram import Update

from chat.language import language_for
from i18n import DEFAULT, use

H = TypeVar("H", bound=Callable[..., Awaitable[None]])


def update_language(db: Database, update: object) -> str:
    if not isinstance(update, Update):
        return DEFAULT
    chat, user = update.effective_chat, update.effective_user
    return language_for(db, chat.id if chat else None, chat.type if chat else None,
                        user.language_code if user else None)


def in_language(db_of: Callable[[Any], Database]) -> Callable[[H], H]:
    """Run a PTB handler ``(update, context)`` in the update's language; ``db_of(context)``
    gives the database."""
    def wrap(handler: H) -> H:
        @functools.wraps(handler)
        async def wrapped(update: object, context: Any) -> None:
            with use(update_language(db_of(context), update)):
                await handler(update, context)
        return wrapped  # type: ignore[return-value]
    return wrap
