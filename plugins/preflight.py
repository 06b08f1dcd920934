"""Everything ``bot.py check-config`` checks, and ``bot.py run`` before it starts — the same
code, so a config that passes one is not refused by the other.

On top of ``load_config`` (types and meaning, for every command): the plugin checks
(``plugins.config_checks``), the secrets webhook mode needs, and the configured symbols
against the exchange's market list. An unknown symbol is a problem naming it with a "did you
mean"; an exchange that can't be reached is a warning (the watch cycle then reports each
unknown symbol to the operator when it answers: ``alert_rules.config_rules``).
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from i18n import _
from plugins.config_checks import plugin_problems
from plugins.exchanges.errors import UnknownSymbol
from plugins.manager import PluginManager
from settings.checks import Problem
from settings.config import Config
from settings.loader import ConfigError, describe, find_config_path
from settings.secrets import ACCOUNT_KEY, WEBHOOK_SECRET, Secrets, looks_secret
from storage.key_vault import KeyVault, VaultError

_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass
class Preflight:
    """Problems (exit 2) and warnings (said, then carry on), one line each."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _secrets(config: Config, secrets: Secrets) -> list[str]:
    out = []
    if secrets.account_key:
        try:
            KeyVault(secrets.account_key)
        except VaultError as e:
            out.append(f"{ACCOUNT_KEY}: {e}")  # the vault's words (storage.key_vault)
    if config.telegram.mode != "webhook":
        return out
    if not secrets.webhook_secret or not _WEBHOOK_SECRET.fullmatch(secrets.webhook_secret):
        out.append(_("{variable}: webhook mode (telegram.mode = \"webhook\") needs it set to "
                     "1-256 characters of A-Z, a-z, 0-9, _ and -").format(
            variable=WEBHOOK_SECRET))
    return out


async def symbol_problems(config: Config, market: Any, known: tuple[str, ...] = ()
                          ) -> tuple[list[Problem], list[str]]:
    """The configured symbols against the exchange's market list: (problems, warnings).
    ``known`` are secret values, never echoed even when pasted into a symbol list."""
    try:
        await market.load_instruments()
    except Exception as e:  # unreachable, or a folder it can't read: the cycle will say more
        return [], [_("could not load {exchange}'s market list to check the symbols "
                      "({error}); an unknown one will be reported to the operator ([telegram] "
                      "admins) when the exchange answers").format(
            exchange=config.exchange.name, error=f"{type(e).__name__}: {str(e)[:200]}")]
    out = []
    lists = [("schedule.cascade_symbols", config.schedule.cascade_symbols)]
    if isinstance(config.exchange.symbols, list):
        lists.insert(0, ("exchange.symbols", config.exchange.symbols))
    for key, names in lists:
        for i, name in enumerate(names):
            try:
                market.resolve(name)
            except UnknownSymbol as e:
                shown = _("(value hidden: it looks like a secret)") if looks_secret(
                    name, known) else repr(name)
                words = {"exchange": config.exchange.name, "symbol": shown,
                         "matches": ", ".join(e.matches)}
                out.append(Problem(f"{key}.{i}", _(
                    "{exchange} has no symbol {symbol} (did you mean {matches}?)").format(
                    **words) if e.matches else _("{exchange} has no symbol {symbol}").format(
                    **words), show_value=False))
    return out, []


async def preflight(config: Config, pm: PluginManager, secrets: Secrets,
                    env: Mapping[str, str], market: Callable[[], Any]) -> Preflight:
    """Run every check; ``market()`` makes the configured market source (closed here)."""
    known = secrets.values()
    data = config.model_dump(mode="json")
    found = plugin_problems(config, pm)
    result = Preflight([*(describe(p, data, env, known) for p in found),
                        *_secrets(config, secrets)])
    if any(p.key.startswith("exchange.") for p in found):
        return result  # no source to ask, or one that can't read this config
    try:
        source = market()
    except Exception as e:  # a source that refuses this [exchange] section outright
        result.problems.append(_("exchange.name = {name!r}: it can't start with this "
                                 "[exchange] section ({error})").format(
            name=config.exchange.name, error=str(e)[:200]))
        return result
    try:
        problems, result.warnings = await symbol_problems(config, source, tuple(known))
    finally:
        await source.close()
    result.problems += [describe(p, data, env, known) for p in problems]
    return result


def check(rt: Any, env: Mapping[str, str], err: TextIO | None = None) -> bool:
    """``preflight`` for a ``bot.Runtime``: warnings and problems on ``err``; False when there
    are problems (the caller exits 2)."""
    err = err or sys.stderr
    result = asyncio.run(preflight(rt.config, rt.plugins, rt.secrets, env, rt.market))
    for w in result.warnings:
        print(_("warning: {warning}").format(warning=w), file=err)
    if result.problems:
        where = find_config_path(getattr(rt.args, "config", None), env)
        print(ConfigError(result.problems, str(where or "config")).report(), file=err)
        return False
    return True
