"""Everything the plugins contribute, loaded once: exchanges, strategies, commands, alert
kinds and alert rules, and the plugins' translations.

Each register hook is called once, through pluggy, when the bot is put together
(``runtime.build_runtime``); the cycle, the commands and the backtester then share these
objects instead of calling the hooks again. What a plugin contributes wrongly (no name, a
taken name, an unknown alert kind, a strategy that refuses its parameters) is reported by
its plugin's name in ``pm.failures`` and left out; the rest load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.alerts import AlertKinds
from plugins.alert_rules.registry import load_alert_kinds, load_rules
from plugins.manager import PluginManager
from plugins.strategies.base import Strategy
from plugins.strategies.registry import load_strategies


@dataclass
class Extensions:
    """What the registered plugins provide, in pluggy's call order.

    Exchanges are loaded on first use: the built-in ones import ccxt (about 1.5 s), which a
    one-shot command that never reaches a market should not pay."""

    plugins: PluginManager
    strategies: Mapping[str, Strategy]
    commands: tuple[Any, ...]
    alert_kinds: AlertKinds
    alert_rules: tuple[Any, ...]
    _exchanges: dict[str, type] | None = field(default=None, repr=False)

    @property
    def exchanges(self) -> Mapping[str, type]:
        if self._exchanges is None:
            self._exchanges = load_exchanges(self.plugins)
        return self._exchanges

    @property
    def command_map(self) -> dict[str, Any]:
        return {c.name: c for c in self.commands}


def load_exchanges(pm: PluginManager) -> dict[str, type]:
    return {c.item.name: c.item for c in pm.unique("hedgewatch_register_exchanges", "exchange")}


def load_commands(pm: PluginManager) -> tuple[Any, ...]:
    return tuple(c.item for c in pm.unique("hedgewatch_register_commands", "command"))


def load_extensions(pm: PluginManager,
                    strategy_params: Mapping[str, Mapping[str, Any]] | None = None
                    ) -> Extensions:
    """Call every register hook once (exchanges: when first asked for) and validate what
    comes back. The plugins' catalogs first, so what the others build can be translated."""
    pm.load_translations()
    kinds = load_alert_kinds(pm)
    return Extensions(
        plugins=pm,
        strategies=load_strategies(pm, strategy_params),
        commands=load_commands(pm),
        alert_kinds=kinds,
        alert_rules=tuple(load_rules(pm, kinds)),
    )
