"""Registers the built-in market sources.

The ccxt classes are imported inside the hook, not at module load: importing ccxt takes
about 1.5 s, which every one-shot CLI command would otherwise pay.
"""

from __future__ import annotations

from plugins import hookimpl


@hookimpl
def hedgewatch_register_exchanges() -> list[type]:
    from plugins.exchanges.ccxt_market import BinanceMarket, BybitMarket, OkxMarket
    from plugins.exchanges.csv_market import CsvMarket
    from plugins.exchanges.sim_market import SimMarket

    return [OkxMarket, BinanceMarket, BybitMarket, CsvMarket, SimMarket]
