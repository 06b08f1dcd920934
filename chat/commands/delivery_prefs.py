"""The delivery side of a chat's settings, as /settings shows and parses them: which
severities ring the phone, quiet hours, and the forum topics alerts go to
(``chat.delivery_options`` applies them when an alert is sent)."""

from __future__ import annotations

import re

from chat.alert_render import SEVERITY_WORDS
from chat.commands.base import ArgumentError
from core.alerts import SEVERITIES
from i18n import _
from storage import chats
from storage.chats import ChatSettings

QUIET_HOURS = re.compile(r"(\d{1,2}):?(\d{2})-(\d{1,2}):?(\d{2})")


def parse_quiet(value: str) -> list[int] | None:
    """"23:00-07:00" → [1380, 420] minutes of the day; "off" → None."""
    if value.lower() in ("off", "none", "no"):
        return None
    m = QUIET_HOURS.fullmatch(value)
    if m is None:
        raise ArgumentError(_("Quiet hours are two times, e.g. /settings quiet 23:00-07:00 "
                              "(or /settings quiet off), not '{value}'").format(
            value=value[:20]))
    h1, m1, h2, m2 = map(int, m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
        raise ArgumentError(_("Quiet hours run between two different times of day, "
                              "e.g. /settings quiet 23:00-07:00"))
    return [h1 * 60 + m1, h2 * 60 + m2]



def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def ring_line(s: ChatSettings) -> str:
    silent = ", ".join(severity_word(x) for x in SEVERITIES[:SEVERITIES.index(s.ring)])
    if s.ring == "critical":
        line = _("Rings: critical only ({silent} arrive silently)") if silent else \
            _("Rings: critical only")
    else:
        line = _("Rings: {ring} and up ({silent} arrive silently)") if silent else \
            _("Rings: {ring} and up")
    return line.format(ring=severity_word(s.ring), silent=silent)


def severity_word(severity: str) -> str:
    """info / warning / critical in the reader's language."""
    return _(SEVERITY_WORDS[severity]) if severity in SEVERITY_WORDS else severity


def topic_line(s: ChatSettings) -> str | None:
    threads = s.extra.get(chats.THREADS) or {}
    main = s.extra.get(chats.THREAD)
    if main is None and not threads:
        return None
    parts = ([_("topic {id}").format(id=main)] if main is not None else []) + [
        _("{kind} → topic {id}").format(kind=kind, id=t) for kind, t in sorted(threads.items())]
    return _("Alerts go to: {topics}").format(topics=", ".join(parts))
