"""A pseudo-locale (``en_XA``) for the completeness test: every string that went through
gettext comes back with its letters accented (placeholders, tags, commands kept), so any
plain ASCII word left in an answer is a string nobody marked for translation."""

from __future__ import annotations

import gettext
import re

_LETTERS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçđèƒĝĥìĵķļɱñòƥʠŕšţùʋŵẋýžÀßÇĐÈƑĜĤÌĴĶĻṀÑÒƤɊŔŠŢÙѴŴẊÝŽ")
# kept as they are: {placeholders}, <tags>, &entities;, /commands, %(printf)s
_KEEP = re.compile(r"\{[^{}]*\}|<[^<>]*>|&[#a-zA-Z0-9]+;|/[a-z_]+|%\([a-z_]+\)[sdf]")


def pseudo(text: str) -> str:
    out, last = [], 0
    for m in _KEEP.finditer(text):
        out.append(text[last:m.start()].translate(_LETTERS))
        out.append(m.group())
        last = m.end()
    out.append(text[last:].translate(_LETTERS))
    return "".join(out)


class PseudoTranslations(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return pseudo(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return pseudo(msgid1 if n == 1 else msgid2)

    def dgettext(self, domain: str, message: str) -> str:
        return pseudo(message)

    def dngettext(self, domain: str, msgid1: str, msgid2: str, n: int) -> str:
        return pseudo(msgid1 if n == 1 else msgid2)
