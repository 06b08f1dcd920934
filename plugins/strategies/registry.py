"""Load the strategies every plugin registers, with their parameters from config."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from plugins.manager import PluginFailure, PluginManager
from plugins.strategies.base import INTERFACE_VERSION, Strategy

log = logging.getLogger(__name__)


class StrategyError(ValueError):
    """A strategy that cannot be chosen (unknown name, bad parameters)."""


def load_strategies(pm: PluginManager, params: Mapping[str, Mapping[str, Any]] | None = None
                    ) -> dict[str, Strategy]:
    """Every registered strategy, instantiated with ``[strategies.params.<name>]``.

    A strategy with no name, a newer interface than this hedgewatch knows, or parameters it
    refuses is reported by name in ``pm.failures`` and left out; the rest load.
    """
    params = params or {}
    out: dict[str, Strategy] = {}
    for cls in pm.collect("hedgewatch_register_strategies"):
        name = getattr(cls, "name", None)
        try:
            if not name:
                raise StrategyError(f"{cls!r} has no name")
            version = getattr(cls, "interface_version", None)
            if not isinstance(version, int) or version > INTERFACE_VERSION:
                raise StrategyError(f"strategy {name} needs interface version {version}; "
                                    f"this hedgewatch offers {INTERFACE_VERSION}")
            if name in out:
                raise StrategyError(f"two strategies are named {name!r}")
            out[name] = cls(params.get(name, {}))
        except Exception as e:
            log.error("strategy %s not loaded: %s", name or cls, e)
            pm.failures.append(PluginFailure(str(name or cls), "strategy", str(e)))
    return out


def choose(strategies: Mapping[str, Strategy], name: str) -> Strategy:
    """The strategy called ``name``, or a clear error listing the ones there are."""
    if name not in strategies:
        raise StrategyError(f"unknown strategy {name!r}; available: "
                            f"{', '.join(sorted(strategies))}")
    return strategies[name]
