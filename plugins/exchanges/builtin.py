"""Registers the built-in market sources."""

from __future__ import annotations

from plugins import hookimpl


@hookimpl
def hedgewatch_register_exchanges() -> list[type]:
    sources: list[type] = []
    return sources
