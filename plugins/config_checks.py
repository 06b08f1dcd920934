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


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option ``word`` was most likely meant to be, or None."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return close[0] if close else None


def plugin_problems(config: Config, pm: PluginManager) -> list[Problem]:
    """Every problem that needs the plugins to see, exchange first."""
    return [*_exchange(config, pm), *_strategies(config, pm), *_disabled(config, pm)]


def _exchange(config: Config, pm: PluginManager) -> list[Problem]:
    ex = config.exchange
    classes = {getattr(c, "name", None): c for c in pm.collect("hedgewatch_register_exchanges")}
    source = classes.get(ex.name)
    if source is None:
        names = sorted(n for n in classes if n)
        close = closest(ex.name, names)
        return [Problem("exchange.name", _(
            "no exchange plugin is called that (did you mean {option!r}?); available: "
            "{names}").format(option=close, names=", ".join(names)) if close else _(
            "no exchange plugin is called that; available: {names}").format(
            names=", ".join(names)))]
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
        close = closest(st.default, names)
        out.append(Problem("strategies.default", _(
            "no strategy is called that (did you mean {option!r}?); available: {names}"
        ).format(option=close, names=", ".join(names)) if close else _(
            "no strategy is called that; available: {names}").format(names=", ".join(names))))
    for name, params in st.params.items():
        key = f"strategies.params.{name}"
        if name not in classes:
            close = closest(name, names)
            out.append(Problem(key, _(
                "names no strategy (did you mean {option!r}?); available: {names}").format(
                option=close, names=", ".join(names)) if close else _(
                "names no strategy; available: {names}").format(names=", ".join(names)),
                show_value=False))
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
        "no plugin is called that (did you mean {option!r}?) (see: python bot.py plugins)"
    ).format(option=close) if (close := closest(name, known)) else _(
        "no plugin is called that (see: python bot.py plugins)"))
            for i, name in enumerate(config.plugins.disabled) if name not in known]
