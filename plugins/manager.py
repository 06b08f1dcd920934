"""The plugin manager: built-ins, entry-point plugins, disabling by name, crash isolation.

Built-in behaviour ships as small default plugins listed in ``BUILTIN_PLUGINS``; third-party
plugins load from the ``hedgewatch`` entry-point group after them. Hooks are called by
pluggy, so its documented semantics hold: the most recently registered plugin is called
first (entry-point plugins before the built-ins), ``tryfirst``/``trylast`` move an
implementation to the front or the back, wrappers wrap, ``firstresult`` hooks stop at the
first answer and ``historic`` hooks replay to late plugins.

One plugin's bug costs only that plugin's contribution: every hook implementation is
registered behind a guard (``plugins.isolation``) that logs the error with the plugin's name,
records it in ``failures`` and lets the call go on. A built-in plugin that cannot be
imported is a broken installation: ``PluginError`` at start-up.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import inspect
import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pluggy

from i18n import catalogs
from plugins import hookspecs
from plugins.isolation import IsolatedPlugin, guard

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hedgewatch"
_DOMAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
MARKER = "hedgewatch_impl"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "plugins.exchanges.builtin",
    "plugins.strategies.builtin",
    "plugins.alert_rules.builtin",
    "chat.commands.builtin",
)


class PluginError(Exception):
    """A plugin that cannot be used as written (a misspelled hook, a built-in that does not
    import): fails loudly at start-up."""


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


@dataclass(frozen=True)
class Contribution:
    """One thing a register hook returned, with the plugin that returned it."""

    plugin: str
    item: Any


class PluginManager:
    """pluggy's manager plus what hedgewatch needs: origins, disabling, isolated failures.

    ``on_failure`` (optional) is called with every ``PluginFailure`` as it happens, e.g. to
    keep it in the database where ``bot.py plugins`` can show it.
    """

    def __init__(self, *, disabled: Iterable[str] = (), entry_points: bool = True,
                 builtins: Iterable[str] = BUILTIN_PLUGINS,
                 on_failure: Callable[[PluginFailure], None] | None = None) -> None:
        self.pm = pluggy.PluginManager("hedgewatch")
        self.pm.add_hookspecs(hookspecs)
        self.disabled = set(disabled)
        self.origins: dict[str, str] = {}
        self.failures: list[PluginFailure] = []
        self.notes: list[str] = []  # e.g. a name one plugin took from another
        self.on_failure = on_failure
        self._provenance: dict[int, str] = {}  # id(list a register hook returned) → plugin
        for module_name in builtins:
            if module_name in self.disabled:
                log.info("plugin %s is disabled by config", module_name)
                continue
            try:
                module = importlib.import_module(module_name)
            except Exception as e:
                raise PluginError(f"built-in plugin {module_name} cannot be imported: "
                                  f"{type(e).__name__}: {e}") from e
            self.register(module, name=module_name, origin="builtin")
        if entry_points:
            self.load_entry_points()
        self.pm.check_pending()

    # --- registration ---------------------------------------------------------------------

    def register(self, plugin: Any, name: str | None = None, origin: str = "registered") -> None:
        """Register ``plugin`` (a module, class or instance) with every hook guarded."""
        name = name or getattr(plugin, "__name__", None) or repr(plugin)
        if name in self.disabled:
            log.info("plugin %s is disabled by config", name)
            return
        isolated = IsolatedPlugin(plugin)
        for attr in dir(plugin):
            opts = self.pm.parse_hookimpl_opts(plugin, attr)
            if opts is None:
                continue
            hook = opts.get("specname") or attr
            fn = getattr(plugin, attr)
            if (opts.get("wrapper") or opts.get("hookwrapper")) and \
                    not inspect.isgeneratorfunction(fn):
                raise PluginError(f"plugin {name}: {attr} is marked as a wrapper but is not a "
                                  "generator function (it must yield once)")
            setattr(isolated, attr, guard(fn, hook, dict(opts), MARKER, self._reporter(name),
                                          self._recorder(name)))
        try:
            self.pm.register(isolated, name=name)
            self.pm.check_pending()
        except pluggy.PluginValidationError as e:
            if self.pm.get_plugin(name) is not None:
                self.pm.unregister(name=name)
            raise PluginError(f"plugin {name}: {e}{_hook_hint(str(e))}") from e
        self.origins[name] = origin

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
                self._failed(ep.name, "load", e)
                continue
            dist = getattr(ep, "dist", None)
            origin = f"entry point {dist.name} {dist.version}" if dist else "entry point"
            self.register(plugin, name=ep.name, origin=origin)

    # --- calling hooks --------------------------------------------------------------------

    def collect(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a register hook through pluggy and merge every plugin's list, in pluggy's
        call order. A plugin that raises or returns a non-list contributes nothing."""
        return [c.item for c in self.contributions(hook_name, **kwargs)]

    def contributions(self, hook_name: str, **kwargs: Any) -> list[Contribution]:
        """Like ``collect``, with the name of the plugin behind each item."""
        self._provenance.clear()
        results = getattr(self.pm.hook, hook_name)(**kwargs)
        out: list[Contribution] = []
        for result in results:
            plugin = self._provenance.get(id(result), "a hook wrapper")
            out.extend(Contribution(plugin, item) for item in result)
        self._provenance.clear()
        return out

    def unique(self, hook_name: str, what: str, **kwargs: Any) -> list[Contribution]:
        """``contributions`` with one item per ``name``: the first in call order wins (a
        plugin replaces a built-in by being called before it), the others are noted. An
        item without a usable ``name`` is a failure of its plugin."""
        seen: dict[str, Contribution] = {}
        for c in self.contributions(hook_name, **kwargs):
            name = getattr(c.item, "name", None)
            if not isinstance(name, str) or not name:
                self._failed(c.plugin, hook_name, TypeError(f"{c.item!r} has no name"))
            elif name in seen:
                note = (f"{what} {name!r} of {c.plugin} is replaced by the one of "
                        f"{seen[name].plugin}")
                log.warning(note)
                self.notes.append(note)
            else:
                seen[name] = c
        return list(seen.values())

    def load_translations(self) -> dict[str, str]:
        """Register every plugin's catalogs (``hedgewatch_register_translations``) with
        ``i18n``; a malformed pair, a missing folder or a domain another plugin took is a
        failure of its plugin and left out. Returns domain → plugin."""
        hook = "hedgewatch_register_translations"
        taken: dict[str, str] = {}
        for c in self.contributions(hook):
            problem = _translation_problem(c.item)
            domain = c.item[0] if problem is None else None
            if domain is not None and taken.get(domain, c.plugin) != c.plugin:
                problem = f"domain {domain!r} is already {taken[domain]}'s"
            if problem is None:
                try:
                    catalogs.register_domain(c.item[0], Path(c.item[1]))
                except ValueError as e:
                    problem = str(e)
            if problem is not None:
                self._failed(c.plugin, hook, f"{c.item!r}: {problem}")
            else:
                taken[c.item[0]] = c.plugin
        return taken

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a notification hook; a plugin that raises is logged and the rest still run."""
        getattr(self.pm.hook, hook_name)(**kwargs)

    def failed(self, plugin: str, hook: str, error: BaseException | str) -> None:
        """Record that ``plugin`` failed in ``hook`` (also for failures found by callers,
        e.g. a strategy whose answer does not validate)."""
        self._failed(plugin, hook, error)

    def _recorder(self, plugin: str) -> Callable[[Any], None]:
        def record(result: Any) -> None:
            self._provenance[id(result)] = plugin

        return record

    def _reporter(self, plugin: str) -> Callable[[str, BaseException], None]:
        def report(hook: str, error: BaseException) -> None:
            self._failed(plugin, hook, error)

        return report

    def _failed(self, plugin: str, hook: str, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        exc_info = error if isinstance(error, BaseException) else None
        log.error("plugin %s failed in %s: %s", plugin, hook, text, exc_info=exc_info)
        failure = PluginFailure(plugin, hook, text)
        self.failures.append(failure)
        if self.on_failure is not None:
            try:
                self.on_failure(failure)
            except Exception:
                log.warning("could not record the failure of plugin %s", plugin, exc_info=True)

    # --- what is registered ---------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin with its hooks and where it came from."""
        out = []
        for name, plugin in self.pm.list_name_plugin():
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or []))
            version = None
            origin = self.origins.get(name, "registered")
            if origin.startswith("entry point "):
                version = origin.split()[-1]
            out.append(PluginInfo(name, hooks, origin, version))
        return sorted(out, key=lambda p: (p.origin != "builtin", p.name))


def _translation_problem(item: Any) -> str | None:
    """What is wrong with one ``(domain, localedir)`` pair, or None."""
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        return "not a (domain, localedir) pair"
    domain, localedir = item
    if not isinstance(domain, str) or not _DOMAIN.match(domain):
        return "the domain must be a name such as 'my_plugin'"
    if not isinstance(localedir, (str, os.PathLike)):
        return "the localedir must be a path"
    if not Path(localedir).is_dir():
        return f"no folder {os.fspath(localedir)} (are the .po files shipped as package data?)"
    return None
