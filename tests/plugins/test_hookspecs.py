"""Meta-tests: every hook is documented (docstring and README) and exercised by a test."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from plugins import hookimpl, hookspecs
from plugins.manager import PluginManager

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(n for n, f in inspect.getmembers(hookspecs, inspect.isfunction)
               if n.startswith("hedgewatch_"))


def test_there_are_hooks():
    assert {"hedgewatch_register_exchanges", "hedgewatch_register_strategies",
            "hedgewatch_register_commands", "hedgewatch_register_alert_rules",
            "hedgewatch_on_alert"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring(hook):
    assert (getattr(hookspecs, hook).__doc__ or "").strip()


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_in_the_readme(hook):
    assert hook in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_exercised_by_a_test(hook):
    here = Path(__file__).resolve()
    users = [p for p in (ROOT / "tests").rglob("test_*.py")
             if p.resolve() != here and hook in p.read_text()]
    assert users, f"no test exercises {hook}"


@pytest.mark.parametrize("hook", [h for h in HOOKS if h.startswith("hedgewatch_register_")])
def test_register_hooks_merge_every_plugins_list(hook):
    """Each register hook collects from every plugin, in registration order."""
    def make(tag):
        def impl():
            return [tag]
        impl.__name__ = hook
        return type(tag, (), {hook: staticmethod(hookimpl(impl))})()

    pm = PluginManager(entry_points=False, builtins=())
    pm.register(make("first"), name="first")
    pm.register(make("second"), name="second")
    assert pm.collect(hook) == ["first", "second"]
