"""Config checks that need the plugins: the exchange exists and offers the timeframe, windows
are whole in its bars and within the history it can give, the default strategy and every
named strategy and plugin exist, strategy parameters are ones the strategy takes.

No network: ``plugins.preflight`` adds the exchange's market list on top.
"""

from __future__ import annotations

import difflib
import importlib.metadata
from collections.abc import Iterable

from i18n import _
from plugins.manager import BUILTIN_PLUGINS, ENTRY_POINT_GROUP, PluginManager
from settings.checks import Problem, window_problems
from settings.config import Config
from settings.durations import Duration


def did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return _(" (did you mean {name!r}?)").format(name=close[0]) if close else ""


def plugin_problems(config: Config, pm: PluginManager) -> list[Problem]:
    """Every problem that needs the plugins to see, exchange first."""
    return [*_exchange(config, pm), *_strategies(config, pm), *_disabled(config, pm)]


def _exchange(config: Config, pm: PluginManager) -> list[Problem]:
    ex = config.exchange
    classes = {getattr(c, "name", None): c for c in pm.collect("hedgewatch_register_exchanges")}
    source = classes.get(ex.name)
    if source is None:
        names = sorted(n for n in classes if n)
        return [Problem("exchange.name", _(
            "no exchange plugin is called that{hint}; available: {names}").format(
                hint=did_you_mean(ex.name, names), names=", ".join(names)))]
    out: list[Problem] = []
    offered = source.timeframes()
    seconds = {Duration.parse(tf).seconds for tf in offered or ()}
    if offered is not None and ex.timeframe.seconds not in seconds:
        out.append(Problem("exchange.timeframe", _(
            "{exchange} has no {timeframe} candles; choose one of {offered}").format(
                exchange=ex.name, timeframe=ex.timeframe, offered=", ".join(offered))))
    out += source.config_problems(ex)
    if not any(p.key == "exchange.timeframe" for p in out):
        out += window_problems(config)
    limit = source.history_limit(ex)
    for key in ("fast_window", "slow_window", "ewma_halflife", "min_regime_time"):
        window: Duration = getattr(config.engine, key)
        if limit is not None and window > limit:
            out.append(Problem(f"engine.{key}", _(
                "is longer than the {limit} of history {exchange} can give").format(
                    limit=limit, exchange=ex.name)))
    return out


def _strategies(config: Config, pm: PluginManager) -> list[Problem]:
    st = config.strategies
    classes = {getattr(c, "name", None): c for c in pm.collect("hedgewatch_register_strategies")}
    names = sorted(n for n in classes if n)
    out = []
    if st.default not in classes:
        out.append(Problem("strategies.default", _(
            "no strategy is called that{hint}; available: {names}").format(
                hint=did_you_mean(st.default, names), names=", ".join(names))))
    for name, params in st.params.items():
        key = f"strategies.params.{name}"
        if name not in classes:
            out.append(Problem(key, _("names no strategy{hint}; available: {names}").format(
                hint=did_you_mean(name, names), names=", ".join(names)), show_value=False))
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
    return [Problem(f"plugins.disabled.{i}", _(
        "no plugin is called that{hint} (see: python bot.py plugins)").format(
            hint=did_you_mean(name, known)))
            for i, name in enumerate(config.plugins.disabled) if name not in known]
