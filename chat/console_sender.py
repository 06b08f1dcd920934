"""The console front end of the outbox: each due delivery printed as a phone would show it
(plain text, buttons in brackets) and marked sent — for ``make demo`` and local runs."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from sqlite_utils import Database

from chat.alert_render import render_alert
from chat.context import LOCAL_USER_ID
from chat.printable import printable
from i18n import LANGUAGES, _, current_language, use
from storage import chats, outbox

WIDTH = 44


def phone_text(text: str, chat_id: int | str, width: int = WIDTH) -> str:
    """A message framed like a chat bubble, addressed to ``chat_id``."""
    rule = "─" * width
    to = (_("to you (the local trader)") if chat_id == LOCAL_USER_ID
          else _("to chat {chat_id}").format(chat_id=chat_id))
    return f"┌{rule}\n│ {to}\n├{rule}\n" + "\n".join(
        f"│ {line}" for line in printable(text).splitlines()) + f"\n└{rule}"


class ConsoleSender:
    """Drains the outbox to a text stream instead of Telegram."""

    def __init__(self, db: Database, out: TextIO | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.db, self.out, self.clock = db, out or sys.stdout, clock

    def drain(self) -> int:
        """Print every due delivery; returns how many were printed."""
        n = 0
        for d in outbox.due_deliveries(self.db, int(self.clock() * 1000)):
            now = int(self.clock() * 1000)
            if not outbox.mark_sending(self.db, d.id, now):
                continue
            settings = chats.get_settings(self.db, d.chat_id) \
                if isinstance(d.chat_id, int) else None
            tz = settings.timezone if settings else "UTC"  # /settings tz, as on Telegram
            # the chat's language when it chose one (or Telegram told it), else the
            # console's own (--lang, LANG)
            chosen = settings.extra.get(chats.LANG) or settings.extra.get(chats.LANG_SEEN) \
                if settings is not None else None
            lang = chosen if chosen in LANGUAGES else current_language()
            with use(lang):
                rendered = render_alert(outbox.load_alert(self.db, d.alert_id), now_ms=now,
                                        tz=tz)
                extra = "\n[" + _("chart attached") + "]" if rendered.has_chart else ""
                text = phone_text(rendered.plain + extra, d.chat_id)
            print(text, file=self.out, flush=True)
            outbox.mark_sent(self.db, d.id, None, now)
            n += 1
        return n
