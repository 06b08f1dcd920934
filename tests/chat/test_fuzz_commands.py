"""Hostile arguments to every registered command (a plugin's included), through the console
(the Dispatcher, rendered as console text) and the one-shot CLI (argparse, exit codes): no
exception escapes, every refusal is one message naming the command or the argument, nothing
non-finite is shown or put in JSON, no control character reaches the terminal. Telegram's
front end has its own: ``tests/telegram/test_fuzz_telegram.py``."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import re
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import bot
from chat import dispatch
from chat.cli import run_command
from chat.commands import prefs
from chat.context import CommandContext, Services
from chat.dispatch import Dispatcher
from chat.render_text import render
from runtime import Runtime, build_runtime
from settings.secrets import Secrets
from storage import open_database
from tests.chat.conftest import FIXED_NOW, sim_config
from tests.fuzzing import (
    ARGS,
    fuzz_settings,
    names_what_is_wrong,
    non_finite_words,
    plugin_manager,
)

pytestmark = pytest.mark.fuzz
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]")
PM = plugin_manager()
COMMANDS = PM.collect("hedgewatch_register_commands")
NAMES = sorted(c.name for c in COMMANDS)
ACCESS = {dispatch.ADMINS_ONLY, prefs.ADMINS_ONLY}  # refusals about who asks, not the arguments
CHAT = st.sampled_from([("private", True), ("group", False), ("group", True)])


def test_every_registered_command_is_fuzzed_a_plugins_too() -> None:
    assert {"hedge", "risk", "open", "close", "log", "positions", "parrot"} <= set(NAMES)


def check_shown(text: str, args: list[str]) -> None:
    assert text.strip() and "Traceback" not in text
    assert not CONTROL.search(text), repr(text)
    assert not non_finite_words(text, args), text


@pytest.fixture
def fuzz_services(tmp_path, sim_market) -> Services:
    cfg = sim_config(tmp_path / "hw.db")
    return Services(cfg, open_database(cfg.storage.path), sim_market,
                    commands={c.name: c for c in COMMANDS}, clock=lambda: FIXED_NOW)


def test_console_front_end(fuzz_services) -> None:
    dispatcher = Dispatcher(COMMANDS)
    runner = asyncio.Runner()
    runner.run(fuzz_services.warm())

    @fuzz_settings(400)
    @given(name=st.sampled_from(NAMES), args=ARGS, where=CHAT, user=st.integers(0, 3))
    @example(name="close", args=["²", "btc"], where=("private", True), user=0)  # found by CI
    @example(name="log", args=["³"], where=("private", True), user=0)
    @example(name="hedge", args=["btc", "with", "eth", "eth", "eth"], where=("private", True),
             user=0)
    @example(name="open", args=["btc", "long", "0.5", "@60000", "10x", "</b>", "\x1b[2J"],
             where=("private", True), user=1)
    def check(name: str, args: list[str], where: tuple[str, bool], user: int) -> None:
        ctx = CommandContext(user_id=user, chat_id=user if where[0] == "private" else -1,
                             services=fuzz_services, chat_type=where[0], is_admin=where[1])
        reply = runner.run(dispatcher.run(dispatcher.commands[name], args, ctx))
        assert reply.kind != "failure", (name, args, reply.text)
        check_shown(render(reply), args)
        json.dumps(reply.data, allow_nan=False)
        if reply.kind == "usage" and reply.text[0] not in ACCESS:  # not who, but what
            assert len(reply.text) == 1 and names_what_is_wrong(reply.text[0], name, args), \
                (name, args, reply.text)

    try:
        check()
    finally:
        runner.close()


@dataclasses.dataclass(frozen=True)
class SharedMarketRuntime(Runtime):
    """A ``Runtime`` whose market is the session's simulated one (built once, ~1 s)."""

    sim: Any = None

    def market(self, name: str | None = None, storage: Any = None) -> Any:
        return self.sim


def shared_runtime(config: Any, sim: Any) -> SharedMarketRuntime:
    base = build_runtime(config, Secrets(), plugins=PM)
    return SharedMarketRuntime(base.config, base.secrets, base.plugins, base.extensions, sim=sim)


def cli(rt: SharedMarketRuntime, argv: list[str]) -> tuple[int, str, str, bool]:
    """``bot.py <argv>`` in process: (exit code, stdout, stderr, whether argparse refused)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            args = bot.build_parser(COMMANDS).parse_args(argv)
        except SystemExit as e:  # argparse: a flag it doesn't know, a missing value
            return int(e.code or 0), out.getvalue(), err.getvalue(), True
        command = next(c for c in COMMANDS if c.name == args.command)
        code = run_command(command, dataclasses.replace(rt, args=args))
    return code, out.getvalue(), err.getvalue(), False


def test_cli_front_end(tmp_path, sim_market) -> None:
    rt = shared_runtime(sim_config(tmp_path / "hw.db"), sim_market)

    @fuzz_settings(120)
    @given(name=st.sampled_from([n for n in NAMES if n != "backtest"]), args=ARGS)
    @example(name="risk", args=["btc", "1e308"])
    @example(name="risk", args=["btc", "-1"])
    def check(name: str, args: list[str]) -> None:
        code, out, err, by_argparse = cli(rt, [name, *args])
        assert code in (0, 2), (name, args, code, err)
        if code == 0:
            check_shown(out, args)
        elif by_argparse:  # "bot.py risk: error: unrecognized arguments: -1"
            assert "error:" in err, (name, args, err)
        else:
            assert err.strip() and "Traceback" not in err, (name, args)
            assert not CONTROL.search(err), repr(err)
            assert names_what_is_wrong(err, name, args), (name, args, err)

    check()


def test_cli_json_never_holds_nan(tmp_path, sim_market) -> None:
    rt = shared_runtime(sim_config(tmp_path / "hw.db"), sim_market)
    for line in ("risk btc 0.5 --json", "hedge btc with eth sol --json", "corr --json",
                 "market --json", "parrot nan inf --json"):
        code, out, _, _ = cli(rt, line.split())
        assert code == 0, line
        json.loads(out, parse_constant=lambda c, line=line: pytest.fail(f"{c} in {line}"))
