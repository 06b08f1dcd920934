"""hedgewatch: the composition root and command-line entry.

Reads the config, sets up logging, builds the plugin manager, opens storage and hands over to
the service (``run``), the demo, the console, or a one-shot command. No business logic lives
here. Exit codes: 0 ok, 2 usage or config error, 1 runtime failure (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from i18n import DEFAULT, _, normalize, use
from i18n.languages import from_environment
from plugins.manager import PluginError
from runtime import Runtime, UsageError, build_runtime
from runtime.cli_words import translate_argparse
from settings import ConfigError, load_config
from settings.logs import setup_logging
from settings.secrets import Secrets
from storage.database import StorageUnavailable

log = logging.getLogger("hedgewatch")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def build_parser(commands: Sequence[Any] = ()) -> argparse.ArgumentParser:
    """The parser, its help in the current language (argparse's own words too)."""
    translate_argparse()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", help=_(
        "config file (default: $HEDGEWATCH_CONFIG, else ./config.toml, else built-in "
        "defaults)"))
    common.add_argument("-v", "--verbose", action="count", default=0,
                        help=_("debug logging"))
    common.add_argument("--lang", metavar="LANG", help=_(
        "language of the answers: en or zh (default: $LC_ALL, $LC_MESSAGES or $LANG, else "
        "en)"))
    parser = argparse.ArgumentParser(
        prog="bot.py", parents=[common],
        description=_("hedgewatch: hedge and liquidation-risk alerts for leveraged crypto "
                      "traders."),
        epilog=_("hedgewatch advises; it never places an order."))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser("run", parents=[common], help=_(
        "the long-running bot (Telegram, or the console when TELEGRAM_BOT_TOKEN is unset)"))
    demo = sub.add_parser("demo", parents=[common], help=_(
        "the whole pipeline on the simulated market, with the console as chat"))
    demo.add_argument("--db", metavar="PATH",
                      help=_("SQLite file (default: a temporary one)"))
    demo.add_argument("--cycles", type=int, default=None, help=_(
        "how many cycles to run (default 144: 36 simulated hours)"))
    demo.add_argument("--interval", type=float, default=None, help=_(
        "seconds between cycles (default 0.15)"))
    console = sub.add_parser("console", parents=[common], help=_(
        "an interactive console with the chat commands"))
    console.add_argument("--exchange", metavar="NAME",
                         help=_("market source (okx, csv, sim, ...)"))
    console.add_argument("--data", metavar="DIR", help=_(
        "folder of CSV files (sets exchange.data_dir)"))
    console.add_argument("--at", metavar="TIME",
                         help=_("replay time: ISO 8601 (UTC) or Unix ms"))
    sub.add_parser("check-config", parents=[common], help=_(
        "print the effective config (secrets masked) or list every problem"))
    plugins = sub.add_parser("plugins", parents=[common],
                             help=_("list plugins and their hooks"))
    plugins.add_argument("--json", action="store_true")
    sub.add_parser("health", parents=[common], help=_(
        "exit 0 when the last cycle and its newest bar are fresher than two intervals and "
        "the storage is writable; else 1 with the cause (Docker HEALTHCHECK)"))
    for command in commands:
        command.add_cli_parser(sub, common)
    return parser


def _pre_args(argv: Sequence[str]) -> argparse.Namespace:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    pre.add_argument("-v", "--verbose", action="count", default=0)
    pre.add_argument("--lang")
    known, _rest = pre.parse_known_args(argv)
    return known


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand in the language of ``--lang`` or the environment."""
    argv = list(sys.argv[1:] if argv is None else argv)
    pre = _pre_args(argv)
    lang = normalize(pre.lang) if pre.lang else from_environment(dict(os.environ))
    if pre.lang and lang is None:
        print(f"error: --lang {pre.lang!r}: use en (English) or zh (简体中文)",
              file=sys.stderr)
        return EXIT_USAGE
    with use(lang or DEFAULT):
        return _main(argv, pre)


def _main(argv: list[str], pre: argparse.Namespace) -> int:
    secrets = Secrets.from_env()
    setup_logging("INFO", secrets.values(), verbose=pre.verbose)
    try:
        config = load_config(pre.config)
    except ConfigError as e:
        print(e.report(), file=sys.stderr)
        return EXIT_USAGE
    setup_logging(config.logging.level, secrets.values(), verbose=pre.verbose)
    try:
        rt = build_runtime(config, secrets)
    except PluginError as e:
        print(_("error: {error}").format(error=e), file=sys.stderr)
        return EXIT_USAGE
    rt = rt.with_args(build_parser(rt.commands).parse_args(argv))
    try:
        return dispatch(rt)
    except UsageError as e:
        print(_("error: {error}").format(error=e), file=sys.stderr)
        return EXIT_USAGE
    except StorageUnavailable as e:  # a read-only file, a full disk: say which, exit 1
        print(_("error: {error}").format(error=e), file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as e:  # the one place a runtime failure becomes an exit code
        log.debug("failed", exc_info=True)
        print(_("error: {error}").format(error=f"{type(e).__name__}: {e}"), file=sys.stderr)
        return EXIT_FAILURE


def dispatch(rt: Runtime) -> int:
    name = rt.args.command
    if name in ("check-config", "run"):  # the same checks: run refuses what check-config does
        from plugins.preflight import check

        if not check(rt, dict(os.environ)):
            return EXIT_USAGE
    if name == "check-config":
        from settings.show import render_effective

        print(render_effective(rt.config, dict(os.environ)))
        return EXIT_OK
    if name == "plugins":
        return show_plugins(rt)
    if name == "health":
        return health(rt)
    if name == "demo":
        from jobs.demo import run_demo

        return run_demo(rt)
    if name == "run":
        from jobs.service import run_service

        return run_service(rt)
    if name == "console":
        from chat.console import run_console

        return run_console(rt)
    command = rt.extensions.command_map.get(name)
    if command is None:
        raise UsageError(_("unknown command {name!r}").format(name=name))
    from chat.cli import run_cli

    return run_cli(command, rt)


def show_plugins(rt: Runtime) -> int:
    """Every plugin with its hooks and origin, then every failure: those of loading them
    now, and those the running bot recorded in the database."""
    rt.extensions.exchanges  # noqa: B018 - load them now so a failing hook is listed
    infos = rt.plugins.plugins()
    failures: list[dict[str, Any]] = [
        {"plugin": f.plugin, "hook": f.hook, "error": f.error, "count": 1, "last_at": None}
        for f in rt.plugins.failures]
    if os.path.exists(rt.config.storage.path):
        from storage.plugin_failures import recent_failures

        seen = {(f["plugin"], f["hook"]) for f in failures}
        failures += [{"plugin": f.plugin, "hook": f.hook, "error": f.error, "count": f.count,
                      "last_at": f.last_at}
                     for f in recent_failures(rt.open_storage()) if (f.plugin, f.hook) not in seen]
    if rt.args.json:
        print(json.dumps({"plugins": [info.__dict__ for info in infos], "failures": failures,
                          "notes": rt.plugins.notes}, indent=2))
        return EXIT_OK
    for info in infos:
        print(f"{info.name}  [{info.origin}]")
        for hook in info.hooks:
            print(f"    {hook}")
    for note in rt.plugins.notes:
        print(_("note: {note}").format(note=note))
    for f in failures:
        if f["last_at"] is None:
            print(_("FAILED {plugin} in {hook}: {error}").format(
                plugin=f["plugin"], hook=f["hook"], error=f["error"]))
            continue
        print(_("FAILED {plugin} in {hook} ({count}×, last {when} UTC): {error}").format(
            plugin=f["plugin"], hook=f["hook"], count=f["count"], error=f["error"],
            when=time.strftime("%Y-%m-%d %H:%M", time.gmtime(f["last_at"] / 1000))))
    return EXIT_OK


def health(rt: Runtime, now_ms: int | None = None) -> int:
    """Exit 0 when the last cycle is recent, its newest bar younger than two intervals and
    the storage writable; else 1 with the cause on stderr. Reads only: it never writes.
    ``now_ms`` is our clock (tests that run the cycle on a fake one pass it)."""
    import sqlite3

    from chat.service_health import assess
    from storage.database import disk_problem, open_database
    from storage.heartbeat import last_beat
    from storage.writes import describe_fault

    path = rt.config.storage.path
    if not os.path.exists(path):
        print(_("unhealthy: no database at {path}").format(path=path), file=sys.stderr)
        return EXIT_FAILURE
    problems = [p for p in (disk_problem(path),) if p]
    if not os.access(path, os.W_OK):
        problems.append(_("the database file {path} is read-only").format(path=path))
    try:
        beat = last_beat(open_database(path, migrate=False), "cycle")
    except sqlite3.Error as e:
        print(_("unhealthy: storage: {fault}").format(fault=describe_fault(e)),
              file=sys.stderr)
        return EXIT_FAILURE
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    verdict = assess(beat, now_ms, rt.config.schedule.interval.ms,
                     storage_problems=tuple(problems))
    if not verdict.healthy:
        print(verdict.line(), file=sys.stderr)
        return EXIT_FAILURE
    from chat.freshness import age_words

    notes = "".join(_("; {note}").format(note=n) for n in verdict.notes)
    print(_("healthy: last cycle {cycle_age} ago, newest bar {bar_age} old{notes}").format(
        cycle_age=age_words(verdict.cycle_age_ms), bar_age=age_words(verdict.data_age_ms),
        notes=notes))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
