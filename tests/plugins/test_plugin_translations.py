"""Plugins translate their own strings: a plugin ships a catalog under its package and
registers its domain with ``hedgewatch_register_translations``; its strings read in the
trader's language when translated, English otherwise, and never mix with hedgewatch's."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

import i18n
from i18n import catalogs
from plugins import hookimpl
from plugins.manager import PluginManager

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hedgewatch-example"
EXAMPLE_PO = (EXAMPLE / "hedgewatch_example" / "locales" / "zh_Hans" / "LC_MESSAGES"
              / "hedgewatch_example.po")


def write_catalog(localedir: Path, domain: str, messages: dict[str, str]) -> Path:
    catalog = Catalog(locale="zh_Hans", domain=domain)
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr)
    path = localedir / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as f:
        write_po(f, catalog)
    return localedir


@pytest.fixture(autouse=True)
def fresh_catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No plugin domain from another test, and a hedgewatch catalog of our own (one
    message both hedgewatch and the test plugin translate, differently)."""
    main = write_catalog(tmp_path / "hw" / "locales", "hedgewatch",
                         {"Nothing to do.": "无需操作。", "Alert": "警报"})
    monkeypatch.setattr(catalogs, "LOCALE_DIR", main)
    monkeypatch.setattr(catalogs, "_plugin_domains", {})
    catalogs.translations.cache_clear()
    yield
    catalogs.translations.cache_clear()


class Translated:
    """A test plugin with its own catalog."""

    def __init__(self, localedir: Path, domain: str = "hw_test") -> None:
        self.pairs = [(domain, localedir)]

    @hookimpl
    def hedgewatch_register_translations(self) -> list[tuple[str, Path]]:
        return self.pairs


def manager(*plugins: object) -> PluginManager:
    pm = PluginManager(entry_points=False, builtins=())
    for n, plugin in enumerate(plugins):
        pm.register(plugin, name=f"plugin-{n}")
    return pm


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "plugin" / "locales", "hw_test", {
        "Nothing to do.": "暂时不用动。",  # hedgewatch translates it too, differently
        "Market: cascade level {level}": "市场：爆仓风险等级 {level}",
        "the market in one line (test plugin)": "一行看市场（测试插件）",
    })


def test_a_plugins_strings_read_in_chinese_when_translated(plugin_dir: Path):
    pm = manager(Translated(plugin_dir))
    assert pm.load_translations() == {"hw_test": "plugin-0"} and pm.failures == []
    _ = i18n.domain_gettext("hw_test")
    L_ = i18n.domain_lazy("hw_test")
    title = L_("Market: cascade level {level}", level=3)
    with i18n.use("zh_Hans"):
        assert _("Market: cascade level {level}").format(level=3) == "市场：爆仓风险等级 3"
        assert str(title) == "市场：爆仓风险等级 3"
    with i18n.use("en"):
        assert str(title) == "Market: cascade level 3"


def test_a_string_the_plugin_did_not_translate_reads_in_english(plugin_dir: Path):
    manager(Translated(plugin_dir)).load_translations()
    LN_ = i18n.domain_lazy_plural("hw_test")
    with i18n.use("zh_Hans"):
        assert i18n.dgettext("hw_test", "Not in the catalog") == "Not in the catalog"
        # hedgewatch translates "Alert", but the plugin's domain does not borrow it
        assert i18n.dgettext("hw_test", "Alert") == "Alert"
        assert str(LN_("{n} symbol", "{n} symbols", 2)) == "2 symbols"


def test_domains_do_not_collide_with_hedgewatchs(plugin_dir: Path):
    manager(Translated(plugin_dir)).load_translations()
    with i18n.use("zh_Hans"):
        assert i18n._("Nothing to do.") == "无需操作。"  # hedgewatch's own wins
        assert i18n.dgettext("hw_test", "Nothing to do.") == "暂时不用动。"
        # what hedgewatch shows with _() and does not have (a plugin command's summary)
        # is found in the plugin's catalog
        assert i18n._("the market in one line (test plugin)") == "一行看市场（测试插件）"


def test_the_pseudo_locale_accents_plugin_strings_too(plugin_dir: Path):
    manager(Translated(plugin_dir)).load_translations()
    with i18n.use("en_XA"):
        assert i18n.dgettext("hw_test", "Nothing to do.") != "Nothing to do."


def test_a_bad_entry_is_a_failure_of_its_plugin_not_a_crash(plugin_dir: Path,
                                                            tmp_path: Path):
    class Bad:
        @hookimpl
        def hedgewatch_register_translations(self) -> list[object]:
            return [("hedgewatch", plugin_dir), ("", plugin_dir), "hw_test",
                    ("hw_missing", tmp_path / "nowhere"), ("hw_test", plugin_dir)]

    pm = manager(Translated(plugin_dir), Bad())  # Bad is registered last: called first
    taken = pm.load_translations()
    assert taken == {"hw_test": "plugin-1"}
    assert [f.plugin for f in pm.failures] == ["plugin-1"] * 4 + ["plugin-0"]
    errors = [f.error for f in pm.failures]
    assert "hedgewatch's own" in errors[0] and "a name" in errors[1]
    assert "pair" in errors[2] and "nowhere" in errors[3]
    assert "'hw_test' is already plugin-1's" in errors[4]  # the first one called keeps it
    assert all(f.hook == "hedgewatch_register_translations" for f in pm.failures)


def test_a_hook_that_raises_costs_only_its_translations(plugin_dir: Path):
    class Raises:
        @hookimpl
        def hedgewatch_register_translations(self) -> list[object]:
            raise RuntimeError("translation hook bug")

    pm = manager(Translated(plugin_dir), Raises())
    assert pm.load_translations() == {"hw_test": "plugin-0"}
    assert [f.error for f in pm.failures] == ["RuntimeError: translation hook bug"]


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    import hedgewatch_example  # type: ignore[import-not-found]

    yield hedgewatch_example
    sys.modules.pop("hedgewatch_example", None)


def test_the_example_plugins_catalog_loads_and_is_complete(example: object):
    with EXAMPLE_PO.open("rb") as f:
        po = read_po(f)
    assert len(po) > 10
    assert [m.id for m in po if m.id and not (m.string[0] if isinstance(m.string, tuple)
                                              else m.string)] == []
    assert not any(m.fuzzy for m in po if m.id)
    pm = manager(example)
    assert pm.load_translations() == {"hedgewatch_example": "plugin-0"}
    assert pm.failures == []
    summary = example.Summary.summary  # type: ignore[attr-defined]
    with i18n.use("zh_Hans"):
        assert i18n._(summary) == "一行看市场（示例插件）"
        assert i18n.dgettext("hedgewatch_example", "cascade") == "连环爆仓"
    with i18n.use("en"):
        assert i18n._(summary) == "the market in one line (example plugin)"
