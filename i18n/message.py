"""Messages rendered later, in each reader's language: an alert is raised once by a rule and
sent to many chats, so it carries ``Msg`` values, rendered once per language when recorded.

``L_("Cascade level {level:.0f}", level=82.4)`` keeps the English template and its
parameters; ``str(msg)`` renders it in the current language. A parameter may itself be a
``Msg`` (a side, a reason), rendered in the same language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from i18n.active import dgettext, dngettext, gettext, ngettext


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is defined; translate it (``_``) where it
    is shown. For module constants and class attributes, read before a language is known."""
    return message


@dataclass(frozen=True)
class Msg:
    """A sentence to render later: template (English msgid), parameters, optional plural."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    n: int = 1
    domain: str | None = None

    def template(self) -> str:
        if self.plural is not None:
            return (dngettext(self.domain, self.msgid, self.plural, self.n) if self.domain
                    else ngettext(self.msgid, self.plural, self.n))
        return dgettext(self.domain, self.msgid) if self.domain else gettext(self.msgid)

    def __str__(self) -> str:
        values = {k: str(v) if isinstance(v, Msg) else v for k, v in self.params.items()}
        if self.plural is not None:
            values.setdefault("n", self.n)
        return self.template().format(**values) if values else self.template()


def L_(msgid: str, /, **params: Any) -> Msg:
    """A sentence rendered later in the reader's language (alerts)."""
    return Msg(msgid, params)


def LN_(singular: str, plural: str, n: int, /, **params: Any) -> Msg:
    """A plural sentence rendered later; ``{n}`` is the count."""
    return Msg(singular, params, plural=plural, n=n)


def domain_lazy(domain: str) -> Callable[..., Msg]:
    """A plugin's ``L_``: ``L_ = i18n.domain_lazy("my_plugin")``, then
    ``L_("Cascade level {level}", level=...)`` is rendered later from the plugin's catalog."""
    def lazy(msgid: str, /, **params: Any) -> Msg:
        return Msg(msgid, params, domain=domain)

    return lazy


def domain_lazy_plural(domain: str) -> Callable[..., Msg]:
    """A plugin's ``LN_``: ``LN_("{n} symbol", "{n} symbols", n)`` from its catalog."""
    def lazy(singular: str, plural: str, n: int, /, **params: Any) -> Msg:
        return Msg(singular, params, plural=plural, n=n, domain=domain)

    return lazy


def render(value: Any) -> Any:
    """``value`` with every ``Msg`` in it rendered now (lists, tuples and dicts walked)."""
    if isinstance(value, Msg):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [render(v) for v in value]
    if isinstance(value, Mapping):
        return {k: render(v) for k, v in value.items()}
    return value
