"""The plugin manager: built-ins, entry points, misspelled hooks, crashing plugins, disabling."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

import bot
from plugins import hookimpl
from plugins.manager import BUILTIN_PLUGINS, PluginError, PluginManager


class Venue:
    name = "venue-x"


class GoodPlugin:
    __name__ = "good"

    @staticmethod
    @hookimpl
    def hedgewatch_register_exchanges():
        return [Venue]


class CrashingPlugin:
    __name__ = "crashing"

    @staticmethod
    @hookimpl
    def hedgewatch_register_exchanges():
        raise RuntimeError("plugin bug")

    @staticmethod
    @hookimpl
    def hedgewatch_on_alert(alert):
        raise RuntimeError("notifier down")


class MisspelledPlugin:
    __name__ = "misspelled"

    @staticmethod
    @hookimpl
    def hedgewatch_register_exchange():  # missing "s"
        return []


def test_builtins_register_by_default():
    pm = PluginManager(entry_points=False)
    names = [p.name for p in pm.plugins()]
    assert "plugins.exchanges.builtin" in names
    assert all(p.origin == "builtin" for p in pm.plugins())


def test_registered_plugin_contributes_and_can_be_unregistered():
    pm = PluginManager(entry_points=False)
    pm.register(GoodPlugin(), name="good")
    assert Venue in pm.collect("hedgewatch_register_exchanges")
    pm.unregister("good")
    assert Venue not in pm.collect("hedgewatch_register_exchanges")


def test_misspelled_hookimpl_fails_loudly_with_a_suggestion():
    pm = PluginManager(entry_points=False)
    with pytest.raises(PluginError, match="did you mean hedgewatch_register_exchanges"):
        pm.register(MisspelledPlugin(), name="misspelled")
    assert "misspelled" not in [p.name for p in pm.plugins()]


def test_crashing_plugin_is_reported_by_name_and_isolated(caplog):
    pm = PluginManager(entry_points=False)
    pm.register(CrashingPlugin(), name="crashing")
    pm.register(GoodPlugin(), name="good")
    assert Venue in pm.collect("hedgewatch_register_exchanges")
    pm.notify("hedgewatch_on_alert", alert={"kind": "test"})
    failed = {(f.plugin, f.hook) for f in pm.failures}
    assert ("crashing", "hedgewatch_register_exchanges") in failed
    assert ("crashing", "hedgewatch_on_alert") in failed
    assert "crashing" in caplog.text


def test_hook_returning_a_non_list_is_reported():
    class Bad:
        @staticmethod
        @hookimpl
        def hedgewatch_register_exchanges():
            return Venue

    pm = PluginManager(entry_points=False)
    pm.register(Bad(), name="bad")
    assert Venue not in pm.collect("hedgewatch_register_exchanges")
    assert [(f.plugin, "expected a list" in f.error) for f in pm.failures] == [("bad", True)]


def test_disabled_by_name():
    pm = PluginManager(entry_points=False, disabled=[*BUILTIN_PLUGINS, "good"])
    pm.register(GoodPlugin(), name="good")
    assert pm.plugins() == []


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A real distribution on sys.path: a module plus dist-info with an entry point."""
    (tmp_path / "hw_test_plugin.py").write_text(textwrap.dedent("""
        from plugins import hookimpl

        class Venue:
            name = "third-party-venue"

        @hookimpl
        def hedgewatch_register_exchanges():
            return [Venue]
    """))
    info = tmp_path / "hw_test_plugin-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hw-test-plugin\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text("[hedgewatch]\nthird_party = hw_test_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "third_party"
    sys.modules.pop("hw_test_plugin", None)


def test_entry_point_plugins_load_with_their_origin(installed_plugin):
    pm = PluginManager(entry_points=True)
    info = {p.name: p for p in pm.plugins()}[installed_plugin]
    assert info.origin == "entry point hw-test-plugin 1.2.3"
    assert info.hooks == ("hedgewatch_register_exchanges",)
    assert "third-party-venue" in [c.name for c in pm.collect("hedgewatch_register_exchanges")]


def test_entry_points_are_off_when_configured(installed_plugin):
    pm = PluginManager(entry_points=False)
    assert installed_plugin not in [p.name for p in pm.plugins()]


def test_broken_entry_point_is_reported_not_fatal(tmp_path, monkeypatch):
    info = tmp_path / "hw_broken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hw-broken\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[hedgewatch]\nbroken = hw_no_such_module\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = PluginManager(entry_points=True)
    assert [f.plugin for f in pm.failures] == ["broken"]


def test_bot_plugins_command_lists_third_party(installed_plugin, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert bot.main(["plugins", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)["plugins"]}
    assert listed[installed_plugin]["origin"].startswith("entry point hw-test-plugin")
    assert "plugins.exchanges.builtin" in listed
