"""Which language a chat is answered in: the chat's /lang choice; in a private chat without
one, the language the user's app is set to (Telegram's ``language_code``, also remembered
for alerts sent later; the console's ``--lang`` or ``LANG``); else what the chat was last
seen in, else English. Groups and channels speak what /lang set."""

from __future__ import annotations

from sqlite_utils import Database

from i18n import DEFAULT, LANGUAGES, normalize
from storage import chats


def language_for(db: Database, chat_id: int | None, chat_type: str | None,
                 language_code: str | None) -> str:
    """The language to answer ``chat_id`` in (see the module's docstring)."""
    settings = chats.get_settings(db, chat_id) if chat_id is not None else None
    if settings is not None and settings.extra.get(chats.LANG) in LANGUAGES:
        return str(settings.extra[chats.LANG])
    if chat_type in (None, "private"):
        spoken = normalize(language_code)
        if spoken in LANGUAGES:
            return str(spoken)
    return settings.language if settings is not None else DEFAULT
