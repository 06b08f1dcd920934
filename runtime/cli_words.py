"""argparse's own words (``usage:``, ``options``, its error messages) in the trader's
language: argparse looks them up through the module-level ``gettext`` functions it imported,
which ``translate_argparse`` points at hedgewatch's catalog."""

from __future__ import annotations

import argparse
import re

from i18n import LN_, N_, gettext, ngettext

# argparse's msgids (CPython 3.11-3.13), listed so `make messages` extracts them
ARGPARSE_WORDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("one of the arguments %s is required"),
    N_("not allowed with argument %s"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("ignored explicit argument %r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("can't open '%(filename)s': %(error)s"),
)
ARGPARSE_PLURAL = LN_("expected %s argument", "expected %s arguments", 1)  # marked only

_PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[sdr]")


def _same_placeholders(english: str, text: str) -> str:
    """``text`` unless a translation lost or changed a placeholder (argparse would raise)."""
    return text if sorted(_PLACEHOLDER.findall(text)) == sorted(
        _PLACEHOLDER.findall(english)) else english


def _gettext(message: str) -> str:
    return _same_placeholders(message, gettext(message))


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _same_placeholders(singular if n == 1 else plural, ngettext(singular, plural, n))


def translate_argparse() -> None:
    """Route argparse's words through hedgewatch's catalog (in the current language)."""
    setattr(argparse, "_", _gettext)  # noqa: B010 - argparse's private module global
    setattr(argparse, "ngettext", _ngettext)  # noqa: B010
