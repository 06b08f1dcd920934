"""A third-party command: one class and one hookimpl, and it works in every front end."""

from __future__ import annotations

import argparse
import io

from chat.commands.base import ArgumentError, Command, Reply
from chat.console import run_console
from chat.dispatch import Dispatcher
from plugins import hookimpl
from runtime import build_runtime


class Echo(Command):
    name = "echo"
    summary = "repeat a word"
    usage = "/echo <word>"
    examples = ("/echo hello",)

    def parse(self, args: list[str]) -> str:
        if len(args) != 1:
            raise ArgumentError(f"/echo takes one word, e.g. {self.example}")
        return args[0]

    async def answer(self, request: str, ctx) -> Reply:
        return Reply(data={"echo": request, "user": ctx.user_id}, text=[request.upper()])


class EchoPlugin:
    @hookimpl
    def hedgewatch_register_commands(self):
        return [Echo()]


def test_registered_command_reaches_help_console_and_cli_parser(plugins, runtime):
    plugins.register(EchoPlugin(), name="echo-plugin")
    commands = plugins.collect("hedgewatch_register_commands")
    assert "echo" in Dispatcher(commands).commands
    out = io.StringIO()
    runtime = build_runtime(runtime.config, plugins=plugins)  # contributions load once, here
    run_console(runtime, stdin=io.StringIO("/help all\n/echo hi\n/echo\n"), out=out)
    text = out.getvalue()
    assert "/echo — repeat a word" in text and "HI" in text
    assert "/echo takes one word, e.g. /echo hello" in text

    from bot import build_parser

    args = build_parser(commands).parse_args(["echo", "hi", "--json"])
    assert args.command == "echo" and args.args == ["hi"] and args.json
    plugins.unregister("echo-plugin")


def test_cli_flags_are_shared(commands):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    common = argparse.ArgumentParser(add_help=False)
    for c in commands:
        c.add_cli_parser(sub, common)
    ns = parser.parse_args(["risk", "btc", "@60000", "--exchange", "csv", "--data", "d",
                            "--at", "2024-01-01", "--mmr", "0.01"])
    assert (ns.args, ns.exchange, ns.data, ns.at, ns.mmr) == (["btc", "@60000"], "csv", "d",
                                                              "2024-01-01", 0.01)
