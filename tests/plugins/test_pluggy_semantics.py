"""Hooks are called by pluggy: tryfirst/trylast, wrappers, firstresult and historic hooks
behave as pluggy documents, and a plugin that raises in any of them is isolated."""

from __future__ import annotations

import logging

import pluggy
import pytest

from plugins import hookimpl
from plugins.manager import PluginError, PluginManager

spec = pluggy.HookspecMarker("hedgewatch")


class ExtraSpecs:
    """Hook kinds hedgewatch's own specs do not use yet, to check pluggy's semantics."""

    @spec(firstresult=True)
    def hedgewatch_test_first(self, x):
        """One answer."""

    @spec(historic=True)
    def hedgewatch_test_historic(self, seen):
        """Replayed to plugins registered later."""


HOOK = "hedgewatch_register_strategies"


def plugin(tag, **opts):
    """A plugin whose register hook returns ``[tag]``, with hookimpl options ``opts``."""
    def hedgewatch_register_strategies():
        return [tag]
    return type(tag, (), {HOOK: staticmethod(hookimpl(**opts)(hedgewatch_register_strategies))})


def manager(*plugins) -> PluginManager:
    pm = PluginManager(entry_points=False, builtins=())
    pm.pm.add_hookspecs(ExtraSpecs)
    for p in plugins:
        pm.register(p, name=p.__name__.lower())
    return pm


def test_tryfirst_and_trylast_order_the_calls():
    pm = manager(plugin("last", trylast=True), plugin("first", tryfirst=True), plugin("a"),
                 plugin("b"))
    assert pm.collect(HOOK) == ["first", "b", "a", "last"]


def test_a_new_style_wrapper_sees_and_changes_the_result():
    class Wrapper:
        __name__ = "wrapper"

        @staticmethod
        @hookimpl(wrapper=True)
        def hedgewatch_register_strategies():
            result = yield
            return [*result, ["added by the wrapper"]]

    pm = manager(plugin("a"), Wrapper)
    assert pm.collect(HOOK) == ["a", "added by the wrapper"]
    assert [c.plugin for c in pm.contributions(HOOK)] == ["a", "a hook wrapper"]


def test_an_old_style_hookwrapper_can_force_the_result():
    class Old:
        __name__ = "old"

        @staticmethod
        @hookimpl(hookwrapper=True)
        def hedgewatch_register_strategies():
            outcome = yield
            outcome.force_result([["forced"]])

    pm = manager(plugin("a"), Old)
    assert pm.collect(HOOK) == ["forced"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_wrapper_that_raises_is_transparent(where, caplog):
    class Broken:
        __name__ = "broken"

        @staticmethod
        @hookimpl(wrapper=True)
        def hedgewatch_register_strategies():
            if where == "before":
                raise RuntimeError("setup bug")
            yield
            raise RuntimeError("teardown bug")

    pm = manager(plugin("a"), Broken, plugin("b"))
    assert pm.collect(HOOK) == ["b", "a"]
    assert [(f.plugin, f.hook) for f in pm.failures] == [("broken", HOOK)]
    assert "broken" in caplog.text and "bug" in caplog.text


def test_an_old_style_hookwrapper_that_raises_is_transparent():
    class Broken:
        __name__ = "broken"

        @staticmethod
        @hookimpl(hookwrapper=True)
        def hedgewatch_register_strategies():
            yield
            raise RuntimeError("teardown bug")

    pm = manager(plugin("a"), Broken)
    assert pm.collect(HOOK) == ["a"]
    assert [f.plugin for f in pm.failures] == ["broken"]


def test_a_wrapper_still_sees_an_inner_exception_it_may_handle():
    """Isolation turns a raising implementation into None, so a wrapper sees the others'
    results; the wrapper protocol itself (throw into the generator) is kept for
    BaseException such as cancellation."""
    seen = []

    class Wrapper:
        __name__ = "wrapper"

        @staticmethod
        @hookimpl(wrapper=True)
        def hedgewatch_register_strategies():
            try:
                result = yield
            except KeyboardInterrupt:
                seen.append("interrupt")
                return [["recovered"]]
            return result

    class Interrupting:
        __name__ = "interrupting"

        @staticmethod
        @hookimpl
        def hedgewatch_register_strategies():
            raise KeyboardInterrupt

    pm = manager(Interrupting, Wrapper)
    assert pm.collect(HOOK) == ["recovered"]
    assert seen == ["interrupt"]


def test_firstresult_stops_at_the_first_answer_and_skips_a_raising_plugin():
    calls = []

    def answering(tag, value, **opts):
        def hedgewatch_test_first(x):
            calls.append(tag)
            if value == "raise":
                raise ValueError("no answer")
            return value
        return type(tag, (), {"hedgewatch_test_first":
                              staticmethod(hookimpl(**opts)(hedgewatch_test_first))})

    pm = manager(answering("late", "late answer"), answering("none", None),
                 answering("boom", "raise", tryfirst=True))
    assert pm.pm.hook.hedgewatch_test_first(x=1) == "late answer"
    assert calls == ["boom", "none", "late"]
    assert [f.plugin for f in pm.failures] == ["boom"]


def test_historic_hooks_replay_to_plugins_registered_later():
    seen = []

    def listener(tag, fail=False):
        def hedgewatch_test_historic(seen):
            if fail:
                raise RuntimeError("listener bug")
            seen.append(tag)
        return type(tag, (), {"hedgewatch_test_historic":
                              staticmethod(hookimpl(hedgewatch_test_historic))})

    pm = manager(listener("early"))
    pm.pm.hook.hedgewatch_test_historic.call_historic(kwargs={"seen": seen})
    pm.register(listener("broken", fail=True), name="broken")
    pm.register(listener("late"), name="late")
    assert seen == ["early", "late"]
    assert [f.plugin for f in pm.failures] == ["broken"]


def test_a_wrapper_that_is_not_a_generator_is_refused_at_registration():
    class NotGen:
        __name__ = "notgen"

        @staticmethod
        @hookimpl(wrapper=True)
        def hedgewatch_register_strategies():
            return []

    with pytest.raises(PluginError, match="not a generator"):
        manager(NotGen)


def test_a_hookimpl_with_fewer_arguments_than_its_spec_is_called(caplog):
    got = []

    class Notifier:
        __name__ = "notifier"

        @staticmethod
        @hookimpl
        def hedgewatch_on_cycle():
            got.append("called")

    pm = manager(Notifier)
    with caplog.at_level(logging.ERROR):
        pm.notify("hedgewatch_on_cycle", summary={"ok": True})
    assert got == ["called"] and not pm.failures


def test_a_builtin_that_does_not_import_is_an_error_at_start():
    with pytest.raises(PluginError, match=r"plugins\.no_such_builtin cannot be imported"):
        PluginManager(entry_points=False, builtins=("plugins.no_such_builtin",))
