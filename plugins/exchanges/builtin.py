"""Registers the built-in market sources."""

from __future__ import annotations

from plugins import hookimpl


@hookimpl
def hedgewatch_register_exchanges() -> list[type]:
    sources: list[type] = []
    from plugins.exchanges.csv_market import CsvMarket
    from plugins.exchanges.sim_market import SimMarket

    sources += [CsvMarket, SimMarket]
    return sources
