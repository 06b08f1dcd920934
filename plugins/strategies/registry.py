"""Load the strategies every plugin registers, with their parameters from config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugins.manager import PluginManager
from plugins.strategies.base import INTERFACE_VERSION, Strategy


class StrategyError(ValueError):
    """A strategy that cannot be chosen (unknown name, bad parameters)."""


def load_strategies(pm: PluginManager, params: Mapping[str, Mapping[str, Any]] | None = None
                    ) -> dict[str, Strategy]:
    """Every registered strategy, instantiated with ``[strategies.params.<name>]``, in
    pluggy's call order (a ``tryfirst`` strategy first).

    A strategy with a newer interface than this hedgewatch knows, or parameters it refuses,
    is reported by its plugin's name in ``pm.failures`` and left out; the rest load. Each
    loaded strategy knows its plugin (``strategy.plugin``), for the logs.
    """
    params = params or {}
    out: dict[str, Strategy] = {}
    for c in pm.unique("hedgewatch_register_strategies", "strategy"):
        cls, name = c.item, c.item.name
        try:
            version = getattr(cls, "interface_version", None)
            if not isinstance(version, int) or version > INTERFACE_VERSION:
                raise StrategyError(f"strategy {name} needs interface version {version}; "
                                    f"this hedgewatch offers {INTERFACE_VERSION}")
            strategy = cls(params.get(name, {}))
        except Exception as e:
            pm.failed(c.plugin, f"strategy {name}", e)
            continue
        strategy.plugin = c.plugin
        out[name] = strategy
    return out


def choose(strategies: Mapping[str, Strategy], name: str) -> Strategy:
    """The strategy called ``name``, or a clear error listing the ones there are."""
    if name not in strategies:
        raise StrategyError(f"unknown strategy {name!r}; available: "
                            f"{', '.join(sorted(strategies))}")
    return strategies[name]
