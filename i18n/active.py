"""The language of the moment: a context variable, so each chat's answer (a Telegram
handler's task, one delivery of the sender) is rendered in its own language without passing
it through every function."""

from __future__ import annotations

import contextvars
import functools
import gettext as _gettext
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from i18n.languages import DEFAULT, LANGUAGES, PSEUDO

_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT)


def current_language() -> str:
    return _language.get()


def _translations() -> _gettext.NullTranslations:
    from i18n.catalogs import translations
    return translations(_language.get())


@contextmanager
def use(language: str | None) -> Iterator[str]:
    """Render in ``language`` inside the block (English for None or one we do not speak)."""
    lang = language if language in LANGUAGES or language == PSEUDO else DEFAULT
    token = _language.set(lang)
    try:
        yield lang
    finally:
        _language.reset(token)


def gettext(message: str) -> str:
    """``message`` in the current language (itself when untranslated)."""
    return _translations().gettext(message) if message else message


_ = gettext


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` in the current language (Chinese has one)."""
    return _translations().ngettext(singular, plural, n)


def dgettext(domain: str, message: str) -> str:
    """``message`` from a plugin's catalog (``i18n.catalogs.register_domain``)."""
    t = _translations()
    return t.dgettext(domain, message) if hasattr(t, "dgettext") else t.gettext(message)


def domain_gettext(domain: str) -> Callable[[str], str]:
    """A plugin's ``_``: ``_ = i18n.domain_gettext("my_plugin")``, then ``_("...")`` reads
    the plugin's catalog (registered with ``hedgewatch_register_translations``)."""
    return functools.partial(dgettext, domain)


def dngettext(domain: str, singular: str, plural: str, n: int) -> str:
    t = _translations()
    return t.dngettext(domain, singular, plural, n) if hasattr(t, "dngettext") \
        else t.ngettext(singular, plural, n)
