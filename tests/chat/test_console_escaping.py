"""What a user typed never reaches the terminal as control characters."""

from __future__ import annotations

import io

from chat.console import run_console
from chat.console_sender import phone_text
from chat.printable import printable


def test_a_note_with_an_escape_sequence_is_shown_escaped(runtime) -> None:
    out = io.StringIO()
    lines = "/open btc long 0.5 @60000 10x note\x1b[2J\rgone\u202eevil\n/log\n"
    assert run_console(runtime, stdin=io.StringIO(lines), out=out) == 0
    text = out.getvalue()
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert "— note\\x1b[2J gone\\u202eevil" in text


def test_printable_keeps_newlines_tabs_and_unicode() -> None:
    assert printable("a\tb\nc ✓ 😀 BTC") == "a\tb\nc ✓ 😀 BTC"
    assert printable("\x00\x7f\x9b") == "\\x00\\x7f\\x9b"
    assert "\x1b" not in phone_text("alert \x1b[31m", 0)
