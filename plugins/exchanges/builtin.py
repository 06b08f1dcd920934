"""Registers the built-in market sources."""

from __future__ import annotations

from plugins import hookimpl
from plugins.exchanges.ccxt_market import BinanceMarket, BybitMarket, OkxMarket
from plugins.exchanges.csv_market import CsvMarket
from plugins.exchanges.sim_market import SimMarket


@hookimpl
def hedgewatch_register_exchanges() -> list[type]:
    sources: list[type] = [OkxMarket, BinanceMarket, BybitMarket, CsvMarket, SimMarket]
    return sources
