"""Numbers and times as the reader's locale writes them (Babel, CLDR data)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent

from i18n.active import current_language
from i18n.languages import BABEL_LOCALES


def _locale() -> str:
    return BABEL_LOCALES.get(current_language(), "en")


def fmt_decimal(value: float, digits: int = 2, *, grouping: bool = True) -> str:
    """``value`` with ``digits`` decimals and the locale's separators."""
    pattern = ("#,##0" if grouping else "0") + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=_locale())


def fmt_percent(fraction: float, digits: int = 1) -> str:
    """``0.1234`` → "12.3%" (the locale's percent sign and spacing)."""
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return format_percent(fraction, format=pattern, locale=_locale())


def fmt_datetime(ms: int, tz: str = "UTC") -> str:
    """A bar's time in the chat's zone, e.g. "2026-03-01 09:00 CET" / "2026-03-01 09:00 UTC+8"
    in the locale's words for the zone; UTC when ``tz`` is not a zone this machine knows."""
    try:
        zone: dt.tzinfo = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    when = dt.datetime.fromtimestamp(ms / 1000, zone)
    return format_datetime(when, "yyyy-MM-dd HH:mm", tzinfo=zone, locale=_locale()) + \
        " " + (when.strftime("%Z") or "UTC")
