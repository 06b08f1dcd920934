"""Shared by the fuzz tests (hostile input to every command and to the config loader).

Counts are per profile: ``HYPOTHESIS_PROFILE=ci`` (CI) replays a fixed set of examples,
the default profile draws new ones each run, and ``HYPOTHESIS_PROFILE=fuzz`` draws ten times
as many (``make fuzz``).
"""

from __future__ import annotations

import os
import re
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from chat.commands.base import ArgumentError, Command, Reply
from plugins import hookimpl
from plugins.manager import PluginManager

SCALE = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 1


def fuzz_settings(examples: int, **kwargs: Any) -> settings:
    """``examples`` (times ten under the fuzz profile), no deadline, fixtures allowed."""
    return settings(max_examples=examples * SCALE, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large],
                    **kwargs)


# Words a trader might type, numbers at and past every edge, and text that breaks markup,
# terminals or length counting.
PIECES = st.sampled_from([
    "btc", "ETH", "BTC-USDT-SWAP", "sol/usdt:usdt", "long", "short", "0.5", "5ct", "5000usdt",
    "$5000", "@60000", "10x", "0x", "150x", "201x", "nan", "inf", "-1", "1e308", "1e309",
    "1e-320", "$1e300", "@1e300", "@1e-9", "@", "x", "with", "#1", "1", "3", "1h", "30m",
    "99999999999999999999d", "tz", "Europe/Berlin", "severity", "warning", "fast", "ewma",
    "liquidation", "all", "..", "😀", "<b>", "</b>", "<i", "&amp;", "&", "\x1b[2J", "\u202e",
    "x" * 70, "eth eth eth", "with eth eth"])
TOKENS = st.one_of(PIECES, st.text(min_size=1, max_size=16).filter(lambda s: s.strip()))
ARGS = st.lists(TOKENS, max_size=7).map(lambda words: " ".join(words).split())

_NON_FINITE = re.compile(r"(?<![\w'])[-+]?(inf|nan)(?![\w'])", re.IGNORECASE)


def non_finite_words(text: str, typed: list[str]) -> list[str]:
    """``inf``/``nan`` shown as numbers, other than words the user typed (echoed back)."""
    typed_low = " ".join(typed).lower()
    return [m.group(0) for m in _NON_FINITE.finditer(text) if m.group(1).lower()
            not in typed_low]


def names_what_is_wrong(message: str, name: str, args: list[str]) -> bool:
    """A refusal names the command or one of the arguments (possibly shortened)."""
    return f"/{name}" in message or any(a[:16] in message for a in args if a.strip())


# --- a plugin's command: the fuzz tests take every registered command, this one included ----


class Parrot(Command):
    """A third-party command that repeats what it was given, markup and all."""

    name = "parrot"
    summary = "test plugin: repeats your words"
    usage = "/parrot <words>"
    examples = ("/parrot hello",)

    def parse(self, args: list[str]) -> str:
        if not args:
            raise ArgumentError(f"/parrot needs words to repeat, e.g. {self.example}")
        return " ".join(args)

    async def answer(self, request: str, ctx: Any) -> Reply:
        return Reply(data={"said": request}, text=[f"You said: {request}"],
                     buttons=[[("Again", f"/parrot {request}")]])


class ParrotPlugin:
    @hookimpl
    def hedgewatch_register_commands(self) -> list[Command]:
        return [Parrot()]


def plugin_manager() -> PluginManager:
    """The built-in plugins plus ``ParrotPlugin``, registered as a third party would be."""
    pm = PluginManager(entry_points=False)
    pm.register(ParrotPlugin(), name="parrot-plugin")
    return pm
