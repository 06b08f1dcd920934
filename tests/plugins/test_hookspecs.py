"""Meta-tests: every hook is documented (docstring, docs/plugins.md, the README's table) and
exercised by a test, and every example in docs/plugins.md registers and loads cleanly."""

from __future__ import annotations

import inspect
import re
import types
from pathlib import Path

import pytest

from plugins import hookimpl, hookspecs
from plugins.manager import PluginManager
from runtime import build_runtime
from settings import Config

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_DOCS = (ROOT / "docs" / "plugins.md").read_text()
EXAMPLES = [block for block in re.findall(r"```python\n(.*?)```", PLUGIN_DOCS, re.S)
            if "@hookimpl" in block]
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
def test_hook_has_its_section_and_row_in_the_plugin_docs(hook):
    assert f"### `{hook}(" in PLUGIN_DOCS, f"docs/plugins.md has no section for {hook}"
    assert f"| `{hook}(" in PLUGIN_DOCS, f"docs/plugins.md's table has no row for {hook}"


def test_every_hook_kind_has_a_complete_example():
    shown = {h for block in EXAMPLES for h in HOOKS if f"def {h}(" in block
             or f'specname="{h}"' in block}
    assert shown == set(HOOKS)


@pytest.mark.parametrize("n", range(len(EXAMPLES)))
def test_each_plugin_example_registers_and_loads_cleanly(n, tmp_path):
    module = types.ModuleType(f"docs_example_{n}")
    module.__file__ = str(tmp_path / f"docs_example_{n}.py")  # a package with its locales/
    (tmp_path / "locales").mkdir()
    exec(compile(EXAMPLES[n], f"docs/plugins.md example {n}", "exec"), module.__dict__)
    pm = PluginManager(entry_points=False)
    pm.register(module, name=f"example-{n}")
    rt = build_runtime(Config(), plugins=pm)
    rt.extensions.exchanges  # noqa: B018 - loaded on first use
    assert pm.failures == [] and pm.notes == []


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_exercised_by_a_test(hook):
    here = Path(__file__).resolve()
    users = [p for p in (ROOT / "tests").rglob("test_*.py")
             if p.resolve() != here and hook in p.read_text()]
    assert users, f"no test exercises {hook}"


@pytest.mark.parametrize("hook", [h for h in HOOKS if h.startswith("hedgewatch_register_")])
def test_register_hooks_merge_every_plugins_list(hook):
    """Each register hook collects from every plugin, in pluggy's order: the most recently
    registered plugin first."""
    def make(tag):
        def impl():
            return [tag]
        impl.__name__ = hook
        return type(tag, (), {hook: staticmethod(hookimpl(impl))})()

    pm = PluginManager(entry_points=False, builtins=())
    pm.register(make("first"), name="first")
    pm.register(make("second"), name="second")
    assert pm.collect(hook) == ["second", "first"]
    assert [(c.plugin, c.item) for c in pm.contributions(hook)] == [
        ("second", "second"), ("first", "first")]
