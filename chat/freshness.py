"""How old an answer's data is, in words a trader reads at 3 a.m.

Every answer and every alert says the age of its newest bar, computed when it is sent and
judged on the exchange's clock. Data that is behind says so and why ("data 3 h 12 min old —
exchange not answering"); it is never called fresh.

The reasons stay English where they are stored (``Reply.data["data_behind"]``, for
``--json``); ``reason_words`` translates them when shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from i18n import N_, _, ngettext

EXCHANGE_DOWN = N_("exchange not answering")
NO_NEW_BARS = N_("no new bars from the exchange")
BEHIND = N_("behind")


def _seconds(n: int) -> str:
    return ngettext("{n} s", "{n} s", n).format(n=n)


def _minutes(n: int) -> str:
    return ngettext("{n} min", "{n} min", n).format(n=n)


def _hours(n: int) -> str:
    return ngettext("{n} h", "{n} h", n).format(n=n)


def _days(n: int) -> str:
    return ngettext("{n} d", "{n} d", n).format(n=n)


def age_words(ms: float | None) -> str:
    """``12 s``, ``4 min``, ``3 h 12 min``, ``2 d 5 h``; "unknown" for None or negative
    (in the current language)."""
    if ms is None or ms < 0:
        return _("unknown")
    s = int(ms // 1000)
    if s < 60:
        return _seconds(s)
    m = s // 60
    if m < 60:
        return _minutes(m)
    h, m = divmod(m, 60)
    if h < 48:
        # a duration of two units: the translator orders them
        return _("{hours} {minutes}").format(hours=_hours(h), minutes=_minutes(m)) if m \
            else _hours(h)
    d, h = divmod(h, 24)
    return _("{days} {hours}").format(days=_days(d), hours=_hours(h)) if h else _days(d)


def reason_words(reason: str) -> str:
    """Why data is behind, in the current language: the known reasons translated (with the
    exchange's own error text kept as it came), anything else as it is."""
    if reason.startswith(EXCHANGE_DOWN + " (") and reason.endswith(")"):
        error = reason[len(EXCHANGE_DOWN) + 2:-1]
        return _("exchange not answering ({error})").format(error=error)
    if reason in (EXCHANGE_DOWN, NO_NEW_BARS, BEHIND):
        return _(reason)
    return reason


@dataclass(frozen=True)
class Freshness:
    """The newest bar's age now (``age_ms``, -1 when there is no bar), whether it is the
    newest bar the exchange has closed (``current``), and if not, why (``reason``)."""

    age_ms: int
    current: bool = True
    reason: str | None = None

    def text(self) -> str:
        return age_text(self.age_ms, None if self.current else (self.reason or BEHIND))


def age_text(age_ms: int | None, reason: str | None = None) -> str:
    """``data 4 min old``; with a reason (the data is behind), ``⚠ data 3 h 12 min old —
    exchange not answering``."""
    if age_ms is None or age_ms < 0:
        if reason:
            return _("⚠ no market data — {reason}").format(reason=reason_words(reason))
        return _("⚠ no market data")
    if reason:
        return _("⚠ data {age} old — {reason}").format(age=age_words(age_ms),
                                                       reason=reason_words(reason))
    return _("data {age} old").format(age=age_words(age_ms))
