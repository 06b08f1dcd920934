"""Errors the market layer raises to the rest of hedgewatch, whatever the source."""

from __future__ import annotations

from i18n import _


class MarketError(Exception):
    """Base class: a market source could not answer."""


class UnknownSymbol(MarketError, ValueError):
    """A symbol that resolves to no instrument; ``matches`` lists close ones."""

    def __init__(self, text: str, matches: list[str]):
        self.text = text
        self.matches = matches
        if matches:
            message = _("Unknown symbol {text!r}. Did you mean {matches}?").format(
                text=text, matches=", ".join(matches))
        else:
            message = _("Unknown symbol {text!r}.").format(text=text)
        super().__init__(message)


UNKNOWN_SYMBOL = "unknown symbol"
"""How ``MarketSnapshot.missing`` starts the reason for a configured symbol the exchange does
not list (``alert_rules.config_rules`` tells the operator)."""


def unknown_reason(error: UnknownSymbol, exchange: str) -> str:
    """The ``missing`` reason for ``error``: "unknown symbol on okx (did you mean ...?)".
    English on purpose: it is a stored key (``UNKNOWN_SYMBOL``); ``unknown_matches`` reads
    the suggestions back for a sentence in the reader's language."""
    hint = f"{_HINT}{', '.join(error.matches)}?)" if error.matches else ""
    return f"{UNKNOWN_SYMBOL} on {exchange}{hint}"


_HINT = " (did you mean "


def unknown_matches(reason: str) -> list[str]:
    """The symbols an ``unknown_reason`` suggests (empty when none)."""
    _, sep, tail = reason.partition(_HINT)
    return [m for m in tail.removesuffix("?)").split(", ") if m] if sep else []


class SourceUnavailable(MarketError):
    """The exchange did not answer usefully after retries (network, 5xx, rate limit)."""


class NotSupported(MarketError):
    """This source does not offer that data (e.g. liquidations, or positions without keys)."""


class KeyRejected(MarketError):
    """The exchange refused the API key (invalid, expired, wrong passphrase or IP): the
    account can't be read until the operator fixes the key and restarts; public market data
    needs no key and goes on."""


class AccountKeyError(KeyRejected):
    """The exchange refused the key an account reader signed with (wrong key, secret or
    passphrase; expired; no rights): a trader's key on ``/connect`` or the sync, or the
    operator's on ``/account``. Its text never holds key material."""
