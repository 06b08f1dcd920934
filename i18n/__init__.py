"""The trader's language: gettext catalogs (Babel), the language of the moment, lazy
messages for what is rendered later (alerts), and numbers and dates per locale.

Mark a string where it is shown::

    from i18n import _, ngettext, N_, L_

    _("Liquidation price {price}").format(price=...)        # translated now
    ngettext("{n} trade", "{n} trades", n).format(n=n)      # plural forms
    SUMMARY = N_("how close you are to liquidation")        # marked; _(SUMMARY) where shown
    L_("Cascade level {level}", level=80)                    # rendered per language later

Whole sentences with named placeholders, never pieces glued together: word order differs
between languages. The language is a context variable: ``with use("zh_Hans"):`` around
whatever answers one chat (the Telegram handler, the console, the sender per delivery).
A plugin translates its own strings from its own catalog (its *domain*, registered with
the ``hedgewatch_register_translations`` hook): ``_ = domain_gettext("my_plugin")`` and
``L_ = domain_lazy("my_plugin")``, ``LN_ = domain_lazy_plural("my_plugin")``
(docs/plugins.md).
This package sits under every other layer and imports none of them.
"""

from i18n.active import (
    _,
    current_language,
    dgettext,
    dngettext,
    domain_gettext,
    gettext,
    ngettext,
    use,
)
from i18n.formats import fmt_datetime, fmt_decimal, fmt_percent
from i18n.languages import DEFAULT, LANGUAGES, normalize
from i18n.message import L_, LN_, N_, Msg, domain_lazy, domain_lazy_plural, render

__all__ = [
           "DEFAULT",
           "LANGUAGES",
           "LN_",
           "L_",
           "N_",
           "Msg",
           "_",
           "current_language",
           "dgettext",
           "dngettext",
           "domain_gettext",
           "domain_lazy",
           "domain_lazy_plural",
           "fmt_datetime",
           "fmt_decimal",
           "fmt_percent",
           "gettext",
           "ngettext",
           "normalize",
           "render",
           "use",
]
