"""Where the translations come from: ``i18n/locales/<lang>/LC_MESSAGES/hedgewatch.po`` and
the catalogs plugins register (``hedgewatch_register_translations``), compiled in memory on
first use (no build step: the ``.po`` files are the source and ship in the wheel; a ``.mo``
made by ``make compile-messages`` next to one is used when it is newer)."""

from __future__ import annotations

import gettext
import io
import threading
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from i18n.languages import DEFAULT, PSEUDO

LOCALE_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "hedgewatch"

_lock = threading.Lock()
_plugin_domains: dict[str, Path] = {}


def register_domain(domain: str, localedir: str | Path) -> None:
    """Add a plugin's catalog: ``<localedir>/<lang>/LC_MESSAGES/<domain>.po`` (or ``.mo``).
    Its strings are looked up with ``i18n.dgettext(domain, ...)``; English when missing."""
    if domain == DOMAIN:
        raise ValueError(f"the domain {DOMAIN!r} is hedgewatch's own")
    with _lock:
        _plugin_domains[domain] = Path(localedir)
        translations.cache_clear()


def plugin_domains() -> dict[str, Path]:
    return dict(_plugin_domains)


def load_catalog(localedir: Path, lang: str, domain: str) -> Translations | None:
    """One compiled catalog, or None when there is none for ``lang``."""
    base = localedir / lang / "LC_MESSAGES" / domain
    po, mo = base.with_suffix(".po"), base.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return Translations(f, domain=domain)
    if not po.exists():
        return None
    with po.open("rb") as f:
        return _compiled(read_po(f, locale=lang, domain=domain), domain)


def _compiled(catalog: Catalog, domain: str) -> Translations:
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=domain)


@lru_cache(maxsize=8)
def translations(lang: str) -> gettext.NullTranslations:
    """Every catalog for ``lang``: hedgewatch's, and each plugin's as its own domain
    (``dgettext``); a missing one reads as English."""
    if lang == PSEUDO:
        from i18n.pseudo import PseudoTranslations
        return PseudoTranslations()
    if lang == DEFAULT:  # English is every msgid itself: nothing to read (core renders it)
        return NullTranslations()
    main = load_catalog(LOCALE_DIR, lang, DOMAIN) or _compiled(Catalog(locale=None), DOMAIN)
    plugins = {domain: load_catalog(localedir, lang, domain) or _compiled(Catalog(), domain)
               for domain, localedir in plugin_domains().items()}
    # Set directly rather than with ``main.add``, which would make each plugin's catalog
    # fall back to hedgewatch's: a plugin's missing string reads as its own English.
    main._domains.update(plugins)
    if plugins:
        main.add_fallback(PluginFallback(list(plugins.values())))
    return main


class PluginFallback(gettext.NullTranslations):
    """What hedgewatch's catalog has not, looked up in the plugins' catalogs: a plugin's
    command summary or alert kind description is shown by hedgewatch with ``_()``.
    hedgewatch's own translations always win; the first plugin that has one answers."""

    def __init__(self, catalogs: list[Translations]) -> None:
        super().__init__()
        self.catalogs = catalogs

    def gettext(self, message: str) -> str:
        for catalog in self.catalogs:
            text = catalog.gettext(message)
            if text != message:
                return text
        return message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        english = msgid1 if n == 1 else msgid2
        for catalog in self.catalogs:
            text = catalog.ngettext(msgid1, msgid2, n)
            if text != english:
                return text
        return english
