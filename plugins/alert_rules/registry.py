"""Load the alert kinds and alert rules every plugin registers.

Kinds first: a rule is kept only when its kind is known (built in, or registered with
``hedgewatch_register_alert_kinds``), so every alert a rule raises is one users can
``/subscribe`` to. A malformed or duplicate kind, or a rule of an unknown kind, is reported
by its plugin's name in ``pm.failures`` and left out; the rest load.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

from core.alerts import BUILTIN_KINDS, AlertKind, AlertKinds
from plugins.manager import PluginManager


def load_alert_kinds(pm: PluginManager) -> AlertKinds:
    """The built-in kinds, then every plugin's, in pluggy's call order."""
    kinds = {k.name: k for k in BUILTIN_KINDS}
    hook = "hedgewatch_register_alert_kinds"
    for c in pm.contributions(hook):
        kind = c.item
        if not isinstance(kind, AlertKind):
            pm.failed(c.plugin, hook, TypeError(f"{kind!r} is not a core.alerts.AlertKind"))
            continue
        problems = kind.problems()
        if kind.name in kinds:
            problems.append(f"alert kind {kind.name!r} already exists "
                            f"({kinds[kind.name].source})")
        if problems:
            pm.failed(c.plugin, hook, "; ".join(problems))
            continue
        kinds[kind.name] = dataclasses.replace(kind, source=c.plugin)
    return AlertKinds(kinds.values())


def load_rules(pm: PluginManager, kinds: AlertKinds | None = None) -> list[Any]:
    """Every registered rule of a known kind, in pluggy's call order."""
    kinds = kinds if kinds is not None else load_alert_kinds(pm)
    hook = "hedgewatch_register_alert_rules"
    rules = []
    for c in pm.unique(hook, "alert rule"):
        rule = c.item
        kind = getattr(rule, "kind", None)
        if not kind or not callable(getattr(rule, "evaluate", None)):
            pm.failed(c.plugin, hook, f"rule {rule.name}: needs a kind and evaluate(ctx)")
        elif kind not in kinds:
            pm.failed(c.plugin, hook, f"rule {rule.name}: unknown alert kind {kind!r}; "
                      "register it with hedgewatch_register_alert_kinds")
        else:
            # for the logs, when it raises; a rule object that takes no attributes is named
            # by its rule name instead
            with contextlib.suppress(AttributeError, TypeError):
                rule.plugin = c.plugin
            rules.append(rule)
    return rules
