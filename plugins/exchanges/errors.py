"""Errors the market layer raises to the rest of hedgewatch, whatever the source."""

from __future__ import annotations


class MarketError(Exception):
    """Base class: a market source could not answer."""


class UnknownSymbol(MarketError, ValueError):
    """A symbol that resolves to no instrument; ``matches`` lists close ones."""

    def __init__(self, text: str, matches: list[str]):
        self.text = text
        self.matches = matches
        hint = f" Did you mean {', '.join(matches)}?" if matches else ""
        super().__init__(f"Unknown symbol {text!r}.{hint}")


class SourceUnavailable(MarketError):
    """The exchange did not answer usefully after retries (network, 5xx, rate limit)."""


class NotSupported(MarketError):
    """This source does not offer that data (e.g. liquidations, or positions without keys)."""
