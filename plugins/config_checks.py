"""Config checks that need the plugins: the exchange exists and offers the timeframe, windows
are whole in its bars and within the history it can give, the default strategy and every
named strategy and plugin exist, strategy parameters are ones the strategy takes.

No network: ``plugins.preflight`` adds the exchange's market list on top.
"""

from __future__ import annotations

import difflib
import importlib.metadata
from collections.abc import Iterable

from plugins.manager import BUILTIN_PLUGINS, ENTRY_POINT_GROUP, PluginManager
from settings.checks import Problem, window_problems
from settings.config import Config
from settings.durations import Duration


def did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def plugin_problems(config: Config, pm: PluginManager) -> list[Problem]:
    """Every problem that needs the plugins to see, exchange first."""
    return [*_exchange(config, pm), *_strategies(config, pm), *_disabled(config, pm)]


def _exchange(config: Config, pm: PluginManager) -> list[Problem]:
    ex = config.exchange
    classes = {getattr(c, "name", None): c for c in pm.collect("hedgewatch_register_exchanges")}
    source = classes.get(ex.name)
    if source is None:
        names = sorted(n for n in classes if n)
        return [Problem("exchange.name", f"no exchange plugin is called that"
                        f"{did_you_mean(ex.name, names)}; available: {', '.join(names)}")]
    out: list[Problem] = []
    offered = source.timeframes()
    seconds = {Duration.parse(tf).seconds for tf in offered or ()}
    if offered is not None and ex.timeframe.seconds not in seconds:
        out.append(Problem("exchange.timeframe", f"{ex.name} has no {ex.timeframe} candles; "
                           f"choose one of {', '.join(offered)}"))
    out += source.config_problems(ex)
    if not any(p.key == "exchange.timeframe" for p in out):
        out += window_problems(config)
    limit = source.history_limit(ex)
    for key in ("fast_window", "slow_window", "ewma_halflife", "min_regime_time"):
        window: Duration = getattr(config.engine, key)
        if limit is not None and window > limit:
            out.append(Problem(f"engine.{key}", f"is longer than the {limit} of history "
                               f"{ex.name} can give"))
    return out


def _strategies(config: Config, pm: PluginManager) -> list[Problem]:
    st = config.strategies
    classes = {getattr(c, "name", None): c for c in pm.collect("hedgewatch_register_strategies")}
    names = sorted(n for n in classes if n)
    out = []
    if st.default not in classes:
        out.append(Problem("strategies.default", f"no strategy is called that"
                           f"{did_you_mean(st.default, names)}; available: {', '.join(names)}"))
    for name, params in st.params.items():
        key = f"strategies.params.{name}"
        if name not in classes:
            out.append(Problem(key, f"names no strategy{did_you_mean(name, names)}; "
                               f"available: {', '.join(names)}", show_value=False))
            continue
        try:
            classes[name](params)
        except Exception as e:  # the strategy's own words: unknown or bad parameters
            out.append(Problem(key, str(e), show_value=False))
    return out


def known_plugins(pm: PluginManager) -> set[str]:
    """Every plugin name ``[plugins] disabled`` may use: built-ins, entry points, registered."""
    eps = {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    return {*BUILTIN_PLUGINS, *eps, *pm.origins}


def _disabled(config: Config, pm: PluginManager) -> list[Problem]:
    known = known_plugins(pm)
    return [Problem(f"plugins.disabled.{i}", f"no plugin is called that"
                    f"{did_you_mean(name, known)} (see: python bot.py plugins)")
            for i, name in enumerate(config.plugins.disabled) if name not in known]
