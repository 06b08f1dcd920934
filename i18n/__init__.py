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
This package sits under every other layer and imports none of them.
"""

from i18n.active import _, current_language, dgettext, gettext, ngettext, use
from i18n.formats import fmt_datetime, fmt_decimal, fmt_percent
from i18n.languages import DEFAULT, LANGUAGES, normalize
from i18n.message import L_, LN_, N_, Msg, render

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
           "fmt_datetime",
           "fmt_decimal",
           "fmt_percent",
           "gettext",
           "ngettext",
           "normalize",
           "render",
           "use",
]
