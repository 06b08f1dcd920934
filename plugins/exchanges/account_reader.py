"""Reading one exchange account with one API key: the shared part of the per-exchange readers.

A reader signs with the account's key through its own ccxt client, which shares the markets
its exchange's ``CcxtMarket`` already loaded (no market download per user), and makes every
request through that market's per-endpoint limiters and retries. The exchange's raw answers
(ccxt's implicit, signed endpoints) are read here, not ccxt's unified structures, because
what the sync needs — close types, liquidation fills, funding bills — lives in the raw fields.

Errors never carry key material: a refused key is an ``AccountKeyError`` in plain words.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import ccxt.async_support as ccxt

from core.types import Instrument
from i18n import _
from plugins.exchanges.account_types import AccountState, KeyRights
from plugins.exchanges.ccxt_base import CcxtMarket
from plugins.exchanges.ccxt_parse import finite
from plugins.exchanges.errors import AccountKeyError
from plugins.exchanges.retry import BadPayload
from settings.secrets import ExchangeKeys

PAGES = 20  # at most this many pages of fills or funding in one read


def masked(text: str, keys: ExchangeKeys) -> str:
    """``text`` with every part of ``keys`` replaced by ``***``."""
    for part in (keys.api_key, keys.secret, keys.passphrase):
        if part:
            text = text.replace(part, "***")
    return text


def number(x: Any) -> float | None:
    """A finite float, or None (empty strings included)."""
    return finite(x) if x not in (None, "") else None


def need(x: Any, what: str) -> float:
    """A finite float, or ``BadPayload`` naming ``what`` was missing."""
    v = number(x)
    if v is None:
        raise BadPayload(f"{what} missing in the account answer")
    return v


class AccountReader(abc.ABC):
    """Reads one account. ``await reader.open()`` first, ``await reader.close()`` at the end."""

    exchange: ClassVar[str]

    def __init__(self, market: CcxtMarket, keys: ExchangeKeys) -> None:
        self.market = market
        self.keys = keys
        self.client: Any = None

    async def open(self) -> AccountReader:
        if self.client is None:
            self.client = await self.market.keyed_client(self.keys)
        return self

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None

    async def call(self, endpoint: str, method: str, params: Mapping[str, Any] | None = None
                   ) -> Any:
        """One signed request: ``method`` is ccxt's implicit name (``privateGetAccountBalance``)."""
        await self.open()
        fn = getattr(self.client, method)
        try:
            return await self.market.request(endpoint, lambda: fn(dict(params or {})))
        except (ccxt.AuthenticationError, ccxt.PermissionDenied, ccxt.AccountSuspended) as e:
            raise AccountKeyError(_("{exchange} refused the key: {error}").format(
                exchange=self.exchange, error=masked(str(e), self.keys)[:160])) from None

    def instrument(self, symbol: str) -> Instrument:
        return self.market.instruments[symbol]

    def symbol_of(self, exchange_id: str) -> str | None:
        """Our id of an instrument the exchange names ``exchange_id`` (None: not a USDT
        perpetual we know)."""
        return exchange_id if exchange_id in self.market.instruments else None

    def unified(self, symbol: str) -> str:
        return str(self.client.markets_by_id[symbol][0]["symbol"])

    async def load_tiers(self, symbols: Iterable[str]) -> None:
        """Each symbol's maintenance tiers, once (they decide the maintenance rate)."""
        for s in sorted(set(symbols)):
            await self.market.fetch_tiers(s)

    @abc.abstractmethod
    async def rights(self) -> KeyRights:
        """What the key may do."""

    @abc.abstractmethod
    async def read(self, since_ms: int | None, symbols: Iterable[str] = ()) -> AccountState:
        """Balance and positions now; fills, funding and penalties after ``since_ms`` (none
        when None: a first read). ``symbols`` are instruments to look at besides the open
        positions (where the exchange asks for fills per symbol: Binance)."""


def newest_first_pages(rows: list[Any], limit: int) -> bool:
    """Whether a newest-first page was full (another, older page may follow)."""
    return len(rows) >= limit
