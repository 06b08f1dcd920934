"""Which exchanges an account can be connected on, and a reader for a key on one of them.

One ``CcxtMarket`` per exchange serves every connected account there: its markets, tiers,
limiters and retries are shared; each key gets its own signed client (``AccountReader``). The
bot's own market is reused for its exchange; the others are made on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from plugins.exchanges.account_binance import BinanceAccountReader
from plugins.exchanges.account_bybit import BybitAccountReader
from plugins.exchanges.account_okx import OkxAccountReader
from plugins.exchanges.account_reader import AccountReader
from plugins.exchanges.account_types import EXCHANGES
from plugins.exchanges.ccxt_base import CcxtMarket
from settings.secrets import ExchangeKeys

READERS: dict[str, type[AccountReader]] = {
    "okx": OkxAccountReader, "binance": BinanceAccountReader, "bybit": BybitAccountReader}
assert tuple(READERS) == EXCHANGES


class AccountAccess:
    """``make_market(name)`` builds a market source for an exchange; ``markets`` are ones
    already open (the bot's own). Close it at the end: it closes what it made."""

    def __init__(self, make_market: Callable[[str], Any] | None = None,
                 markets: Mapping[str, Any] | None = None) -> None:
        self._make = make_market
        self._markets: dict[str, Any] = {k: v for k, v in (markets or {}).items()
                                         if isinstance(v, CcxtMarket)}
        self._made: list[Any] = []

    def market(self, exchange: str) -> CcxtMarket:
        if exchange not in READERS:
            raise ValueError(f"accounts can be connected on {', '.join(EXCHANGES)}, "
                             f"not {exchange!r}")
        if exchange not in self._markets:
            if self._make is None:
                raise ValueError(f"no {exchange} market to read accounts with")
            made = self._make(exchange)
            self._markets[exchange] = made
            self._made.append(made)
        market: CcxtMarket = self._markets[exchange]
        return market

    def reader(self, exchange: str, keys: ExchangeKeys) -> AccountReader:
        """A reader of the account behind ``keys`` (open it; close it when done)."""
        return READERS[exchange](self.market(exchange), keys)

    async def close(self) -> None:
        for m in self._made:
            await m.close()
        self._made.clear()
