"""How old an answer's data is, in words a trader reads at 3 a.m.

Every answer and every alert says the age of its newest bar, computed when it is sent and
judged on the exchange's clock. Data that is behind says so and why ("data 3 h 12 min old —
exchange not answering"); it is never called fresh.
"""

from __future__ import annotations

from dataclasses import dataclass

EXCHANGE_DOWN = "exchange not answering"
NO_NEW_BARS = "no new bars from the exchange"


def age_words(ms: float | None) -> str:
    """``12 s``, ``4 min``, ``3 h 12 min``, ``2 d 5 h``; "unknown" for None or negative."""
    if ms is None or ms < 0:
        return "unknown"
    s = int(ms // 1000)
    if s < 60:
        return f"{s} s"
    m = s // 60
    if m < 60:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(h, 24)
    return f"{d} d {h} h" if h else f"{d} d"


@dataclass(frozen=True)
class Freshness:
    """The newest bar's age now (``age_ms``, -1 when there is no bar), whether it is the
    newest bar the exchange has closed (``current``), and if not, why (``reason``)."""

    age_ms: int
    current: bool = True
    reason: str | None = None

    def text(self) -> str:
        return age_text(self.age_ms, None if self.current else (self.reason or "behind"))


def age_text(age_ms: int | None, reason: str | None = None) -> str:
    """``data 4 min old``; with a reason (the data is behind), ``⚠ data 3 h 12 min old —
    exchange not answering``."""
    if age_ms is None or age_ms < 0:
        return "⚠ no market data" + (f" — {reason}" if reason else "")
    words = f"data {age_words(age_ms)} old"
    return f"⚠ {words} — {reason}" if reason else words
