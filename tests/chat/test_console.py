"""The console front end: run_console reads lines, prints replies, saves charts, exits 0."""

from __future__ import annotations

import io
import re
from pathlib import Path

from chat.console import run_console


def console(runtime, *lines: str) -> str:
    out = io.StringIO()
    assert run_console(runtime, stdin=io.StringIO("\n".join(lines) + "\n"), out=out) == 0
    return out.getvalue()


def test_every_command_answers_in_the_console(runtime):
    text = console(
        runtime, "/help", "risk btc long 0.5 @60000 10x", "/risk btc long 0.5 @60000 10xx",
        "/corr btc eth sol", "/status", "/open btc long 0.5 @60000 10x", "/positions",
        "/close 1 @61000", "/log", "/pnl", "/subscribe liquidation", "/mute 30m", "/unmute",
        "/settings tz Europe/Berlin", "/frobnicate")
    assert "hedgewatch advises; it never places an order" in text
    assert "Liquidation" in text and "leverage is a number followed by x" in text
    assert "[More: /corr btc eth sol full]" in text and "Outbox" in text
    assert "Logged #1" in text and "Closed #1" in text and "Realised" in text
    assert "Subscribed to liquidation" in text and "Timezone set to Europe/Berlin" in text
    assert "I don't know /frobnicate" in text
    assert "Traceback" not in text
    (png,) = re.findall(r"\[chart saved to (.+\.png)\]", text)
    assert Path(png).read_bytes().startswith(b"\x89PNG")
    Path(png).unlink()


def test_quit_and_eof_exit_zero(runtime):
    assert "Logged" not in console(runtime, "quit", "/open btc long 0.5 @60000")
    assert console(runtime).startswith("hedgewatch console")


def test_trade_log_survives_a_console_restart(runtime):
    console(runtime, "/open btc long 0.5 @60000 10x")
    assert "#1 BTC-USDT-SWAP long 0.5 @ 60000 10x" in console(runtime, "/log")
