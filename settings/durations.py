"""Durations written the way traders say them: "15m", "1h", "1d", "30d", "1s".

Config keeps durations as strings so a window reads as time, not as a bar count that silently
changes meaning when the timeframe changes; ``Duration.bars`` converts where a window needs bars.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from i18n import _

UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_SECONDS = 3650 * 86400.0  # keeps every duration finite and its ms an ordinary int
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")


@dataclass(frozen=True, order=True)
class Duration:
    """A length of time; ``text`` keeps the spelling from the config for messages."""

    seconds: float
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse "15m"-style text; raises ValueError with an example on anything else."""
        if not isinstance(text, str):
            raise ValueError(_('expected a duration string like "15m", got {value!r}').format(
                value=text))
        m = _PATTERN.match(text.lower())
        if not m:
            raise ValueError(_('{value!r} is not a duration; write a number and a unit '
                               '(ms, s, m, h, d, w), e.g. "15m", "1d", "30d"').format(value=text))
        seconds = float(m.group(1)) * UNITS[m.group(2)]
        if seconds <= 0:
            raise ValueError(_("{value!r} must be longer than zero").format(value=text))
        if seconds > MAX_SECONDS:
            raise ValueError(_("{value!r} is longer than any setting needs (at most 10 years)"
                               ).format(value=text))
        return cls(seconds, text.strip())

    @property
    def ms(self) -> int:
        return round(self.seconds * 1000)

    def bars(self, timeframe: Duration) -> int:
        """How many bars of ``timeframe`` this duration spans; at least one.

        A duration that is not a whole number of bars is rounded up, so a window never
        holds less history than asked for.
        """
        return max(1, math.ceil(self.seconds / timeframe.seconds - 1e-9))

    def __str__(self) -> str:
        return self.text or format_duration(self.seconds)


def format_duration(seconds: float) -> str:
    """Shortest exact spelling: 900 → "15m", 86400 → "1d", 90 → "90s"."""
    for unit in ("w", "d", "h", "m", "s"):
        n = seconds / UNITS[unit]
        if n >= 1 and abs(n - round(n)) < 1e-9:
            return f"{round(n)}{unit}"
    return f"{seconds:g}s"
