"""Text for a terminal: what a user typed can hold control characters (an escape sequence
that clears the screen, a carriage return that overwrites the line, a right-to-left override
that reverses what follows). The console and the CLI show those as visible escapes instead."""

from __future__ import annotations

import re

# C0 and C1 controls but newline and tab, DEL, and the bidirectional overrides and isolates
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character shown as ``\\xNN``/``\\uNNNN``."""
    return _UNSAFE.sub(_visible, text)
