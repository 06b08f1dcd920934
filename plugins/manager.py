"""The plugin manager: built-ins, entry-point plugins, disabling by name, crash isolation.

Built-in behaviour ships as small default plugins listed in ``BUILTIN_PLUGINS``; third-party
plugins load from the ``hedgewatch`` entry-point group. A plugin that raises while registering
is reported by name and skipped, so one bad plugin never takes the bot down.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from plugins import hookspecs

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hedgewatch"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "plugins.exchanges.builtin",
    "plugins.strategies.builtin",
    "plugins.alert_rules.builtin",
    "chat.commands.builtin",
)


class PluginError(Exception):
    """A plugin that cannot be used as written (e.g. a misspelled hook): fails loudly."""


def _hook_hint(message: str) -> str:
    known = [n for n in dir(hookspecs) if n.startswith("hedgewatch_")]
    for word in re.findall(r"hedgewatch_\w+", message):
        close = difflib.get_close_matches(word, known, n=1)
        if close and close[0] != word:
            return f" (did you mean {close[0]}?)"
    return ""


@dataclass(frozen=True)
class PluginInfo:
    name: str
    hooks: tuple[str, ...]
    origin: str  # "builtin", "entry point <dist> <version>", or "registered"
    version: str | None = None


@dataclass(frozen=True)
class PluginFailure:
    plugin: str
    hook: str
    error: str


class PluginManager:
    """pluggy's manager plus what hedgewatch needs: origins, disabling, isolated failures."""

    def __init__(self, *, disabled: Iterable[str] = (), entry_points: bool = True,
                 builtins: Iterable[str] = BUILTIN_PLUGINS) -> None:
        self.pm = pluggy.PluginManager("hedgewatch")
        self.pm.add_hookspecs(hookspecs)
        self.disabled = set(disabled)
        self.origins: dict[str, str] = {}
        self.failures: list[PluginFailure] = []
        for module_name in builtins:
            if module_name in self.disabled:
                continue
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as e:
                if e.name and module_name.startswith(e.name):
                    continue  # a built-in that a later issue adds
                raise
            self.register(module, name=module_name, origin="builtin")
        if entry_points:
            self.load_entry_points()
        self.pm.check_pending()

    def register(self, plugin: Any, name: str | None = None, origin: str = "registered") -> None:
        name = name or getattr(plugin, "__name__", None) or repr(plugin)
        if name in self.disabled:
            log.info("plugin %s is disabled by config", name)
            return
        self.pm.register(plugin, name=name)
        self.origins[name] = origin
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as e:
            self.pm.unregister(name=name)
            self.origins.pop(name, None)
            raise PluginError(f"plugin {name}: {e}{_hook_hint(str(e))}") from e

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.origins.pop(name, None)

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        for ep in importlib.metadata.entry_points(group=group):
            if ep.name in self.disabled:
                log.info("plugin %s is disabled by config", ep.name)
                continue
            try:
                plugin = ep.load()
            except Exception as e:  # a broken third-party plugin must not stop the bot
                log.error("plugin %s failed to load: %s", ep.name, e, exc_info=True)
                self.failures.append(PluginFailure(ep.name, "load", f"{type(e).__name__}: {e}"))
                continue
            dist = getattr(ep, "dist", None)
            origin = f"entry point {dist.name} {dist.version}" if dist else "entry point"
            self.register(plugin, name=ep.name, origin=origin)

    # --- calling hooks with isolation -----------------------------------------------------

    def collect(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a register hook on every plugin separately and merge the lists.

        Each implementation runs on its own so that one that raises is logged with its
        plugin's name and left out, and the others still register.
        """
        hook = getattr(self.pm.hook, hook_name)
        out: list[Any] = []
        for impl in hook.get_hookimpls():  # registration order (pluggy calls in reverse)
            try:
                result = impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception as e:
                self._failed(impl.plugin_name, hook_name, e)
                continue
            if result is None:
                continue
            if not isinstance(result, (list, tuple)):
                self._failed(impl.plugin_name, hook_name,
                             TypeError(f"returned {type(result).__name__}, expected a list"))
                continue
            out.extend(result)
        return out

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a notification hook; a plugin that raises is logged and the rest still run."""
        self.collect(hook_name, **kwargs)

    def _failed(self, plugin: str, hook: str, error: Exception) -> None:
        log.error("plugin %s raised in %s: %s", plugin, hook, error, exc_info=error)
        self.failures.append(PluginFailure(plugin, hook, f"{type(error).__name__}: {error}"))

    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin with its hooks and where it came from."""
        out = []
        for name, plugin in self.pm.list_name_plugin():
            hooks = tuple(sorted(
                h.name for h in self.pm.get_hookcallers(plugin) or []
            ))
            version = None
            origin = self.origins.get(name, "registered")
            if origin.startswith("entry point "):
                version = origin.split()[-1]
            out.append(PluginInfo(name, hooks, origin, version))
        return sorted(out, key=lambda p: (p.origin != "builtin", p.name))
