"""The shared base of the ccxt market sources (``ccxt_market`` holds OKX, Binance, Bybit).

``CcxtMarket`` does the work; subclasses name the ccxt class, the exchange's documented
per-endpoint limits and the odd endpoint detail. Requests go through per-endpoint
limiters (``ratelimits``) and retries (``retry``) rather than ccxt's single throttle, symbols
and endpoints run in parallel, and every answer is validated (``ccxt_parse``) before use.
The parts live beside it: ``ccxt_client`` (settings), ``ccxt_universe`` (which symbols),
``ccxt_positions``, ``ccxt_candles``, ``ccxt_refresh`` (one cycle's per-symbol work, and the
one-minute watch's), ``ccxt_cycle`` (``SnapshotCycle``, inherited: the cycle's and the
watch's snapshot, read back from storage) and ``ccxt_flow`` (``FlowEndpoints``, inherited:
liquidations, taker flow, open-interest history and mark prices, the cascade score's flow
inputs, where ``flow`` says the exchange has them).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, ClassVar, TypeVar

import ccxt.async_support as ccxt
import numpy as np

from core.types import Instrument, StatSeries, Tier
from i18n import gettext
from plugins.exchanges import ccxt_parse as parse
from plugins.exchanges import ccxt_universe as universe
from plugins.exchanges.candle_sync import CandleSync, Page
from plugins.exchanges.ccxt_candles import last_bars, nonempty_tail
from plugins.exchanges.ccxt_client import ccxt_config
from plugins.exchanges.ccxt_cycle import SnapshotCycle
from plugins.exchanges.ccxt_flow import FlowEndpoints
from plugins.exchanges.ccxt_positions import (
    account_positions,
    positions_need_keys,
    usdt_equity,
)
from plugins.exchanges.errors import KeyRejected, UnknownSymbol, unknown_reason
from plugins.exchanges.health import HealthTracker
from plugins.exchanges.ratelimits import EndpointLimit, EndpointLimiters
from plugins.exchanges.retry import BadPayload, RetryPolicy, describe, with_retries
from plugins.exchanges.source import (
    AccountPositions,
    Candles,
    DepthSummary,
    FundingInfo,
    MarketSource,
    SourceHealth,
)
from plugins.exchanges.symbols import SymbolResolver
from settings.config import ExchangeConfig
from settings.durations import format_duration
from settings.secrets import ExchangeKeys, Secrets
from storage.candles import last_candle_ts
from storage.database import open_database

T = TypeVar("T")


class CcxtMarket(SnapshotCycle, FlowEndpoints, MarketSource):
    """A ccxt exchange as a ``MarketSource``. Subclasses set the class attributes.

    ``storage`` is a sqlite-utils Database (an in-memory one when None) holding the candle
    cache and market statistics; ``backoff_s`` is the retry base delay (tests make it tiny);
    ``concurrency`` bounds requests in flight per endpoint.
    """

    ccxt_class: ClassVar[type]
    limits: ClassVar[Mapping[str, EndpointLimit]] = {}
    tier_unit: ClassVar[str] = "notional"
    book_levels: ClassVar[int] = 400
    oi_needs_price: ClassVar[bool] = False  # open interest is given in coins, not USDT
    ccxt_options: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, config: ExchangeConfig, *, secrets: Secrets | None = None,
                 storage: Any = None, backoff_s: float = 0.5, concurrency: int = 16,
                 headroom: float = 0.97, seed: int | None = None) -> None:
        super().__init__(config, secrets=secrets, storage=storage)
        self.db = storage if storage is not None else open_database(":memory:")
        self.timeframe = format_duration(config.timeframe.seconds)
        self.keys = self.secrets.exchanges.get(self.name)
        self.exchange = self.ccxt_class(self._ccxt_config())
        self.limiters = EndpointLimiters(self.limits, headroom=headroom, concurrency=concurrency)
        self.policy = RetryPolicy(attempts=config.max_retries + 1, base_s=backoff_s)
        self.tracker = HealthTracker(self.name)
        self.cache = CandleSync(self.db, self.name, self.timeframe, self.timeframe_ms)
        self.mark_cache = CandleSync(self.db, f"{self.name}:mark", self.timeframe,
                                     self.timeframe_ms, page=self.mark_page)
        self._universe: list[str] = []  # the last cycle's symbols: the watch reads their stats
        self._rng = random.Random(seed)
        self._markets: dict[str, str] = {}  # canonical id → ccxt unified symbol
        self.unknown: dict[str, str] = {}  # configured symbols it does not list → why
        self.key_rejected: str | None = None  # why the exchange refused the key, once it did
        self._instruments_loaded = False

    @classmethod
    def timeframes(cls) -> tuple[str, ...]:
        """ccxt's timeframes for this exchange, months left out (not a fixed length)."""
        return offered_timeframes(cls.ccxt_class)

    # --- ccxt set-up ------------------------------------------------------------------------

    def _ccxt_config(self, keys: ExchangeKeys | None = None) -> dict[str, Any]:
        """The ccxt constructor settings (OKX moves its API URL differently); ``keys``
        default to the operator's (``self.keys``)."""
        return ccxt_config(self.config, keys or self.keys, self.ccxt_class, self.ccxt_options)

    async def keyed_client(self, keys: ExchangeKeys) -> Any:
        """A ccxt client of this exchange signing with ``keys`` (a user's read-only key) that
        shares this source's loaded markets: no second market download per user."""
        await self.load_instruments()
        client = self.ccxt_class(self._ccxt_config(keys))
        client.set_markets(self.exchange.markets, self.exchange.currencies)
        return client

    async def close(self) -> None:
        await self.exchange.close()

    # --- the one way a request is made ------------------------------------------------------

    async def request(self, endpoint: str, fn: Callable[[], Awaitable[T]],
                      validate: Callable[[T], Any] | None = None) -> Any:
        """``fn()`` under this exchange's limiter for ``endpoint``, retried and timed like
        every market request (the account readers' way in). ``fn`` signs with another key
        than this source's: when the exchange refuses it, ccxt's error goes to the caller
        (the reader names the key's owner) and this source's own key is left alone."""
        return await self._call(endpoint, None, fn, validate, own_key=False)

    async def _call(self, endpoint: str, symbol: str | None, fn: Callable[[], Awaitable[T]],
                    validate: Callable[[T], Any] | None = None, *, own_key: bool = True
                    ) -> Any:
        """``fn()`` under the endpoint's limiter, timed, retried, and validated."""
        async def once() -> Any:
            async with self.limiters.slot(endpoint, symbol):
                t0 = time.perf_counter()
                try:
                    out = await fn()
                    out = validate(out) if validate else out
                except (ccxt.AuthenticationError, ccxt.PermissionDenied) as exc:
                    if not own_key:  # a trader's key: not this exchange's health, nor its key
                        raise
                    self.tracker.failure(time.perf_counter() - t0, f"{endpoint}: {describe(exc)}",
                                         endpoint)
                    raise self._key_rejected(exc) from exc
                except Exception as exc:
                    self.tracker.failure(time.perf_counter() - t0, f"{endpoint}: {describe(exc)}",
                                         endpoint)
                    raise
                self.tracker.success(time.perf_counter() - t0, endpoint)
                return out

        return await with_retries(once, self.policy, on_retry=lambda _e: self.tracker.retry(),
                                  rng=self._rng, what=f"{self.name} {endpoint} {symbol or ''}")

    # --- instruments ------------------------------------------------------------------------

    def _key_rejected(self, exc: BaseException) -> KeyRejected:
        """Remember that the exchange refused the key and stop sending it: with a key set,
        ccxt also signs ``load_markets``' currency request, and a refused key must not take
        the public market data (every other command, every alert) down with it."""
        if self.key_rejected is None:
            self.key_rejected = describe(exc)
            for attr in ("apiKey", "secret", "password"):
                setattr(self.exchange, attr, "")
        return KeyRejected(gettext("{exchange} rejected the API key ({error})").format(
            exchange=self.name, error=self.key_rejected))

    async def load_instruments(self) -> Mapping[str, Instrument]:
        if self._instruments_loaded:
            return self.instruments
        try:
            markets = await self._call("instruments", None, self.exchange.load_markets)
        except KeyRejected:  # now without the key: the markets are public
            markets = await self._call("instruments", None, self.exchange.load_markets)
        out: dict[str, Instrument] = {}
        for m in markets.values():
            if universe.is_usdt_linear_swap(m):
                out[m["id"]] = parse.instrument(m, m["id"])
                self._markets[m["id"]] = m["symbol"]
        self.resolver = SymbolResolver(out)
        self._instruments_loaded = True
        return self.instruments

    def _unified(self, symbol: str) -> str:
        return self._markets[self.resolve(symbol)]

    async def symbols(self) -> list[str]:
        """The configured symbols resolved, or the top N by 24 h USDT volume ("top:N"). A
        configured symbol the exchange does not list is left out and named in ``unknown``
        (the snapshot reports it in ``missing``): one typo must not silence the others."""
        await self.load_instruments()
        if isinstance(self.config.symbols, list):
            known, self.unknown = [], {}
            for s in self.config.symbols:
                try:
                    known.append(self.resolve(s))
                except UnknownSymbol as e:
                    self.unknown[s] = unknown_reason(e, self.name)
            return list(dict.fromkeys(known))
        n = universe.top_count(self.config.symbols)
        tickers = await self._call("tickers", None, self._fetch_swap_tickers)
        return universe.top_by_volume(tickers, n, listed=self._markets.values(),
                                      instruments=self.instruments, volume=self._quote_volume,
                                      market_id=lambda s: self.exchange.market(s)["id"])

    async def _fetch_swap_tickers(self) -> dict[str, Any]:
        return await self.exchange.fetch_tickers(params={"type": "swap"})

    def _quote_volume(self, t: Mapping[str, Any]) -> float:
        """A ticker's 24 h USDT volume, for "top:N" (OKX overrides it)."""
        return universe.quote_volume(t)

    # --- market data ------------------------------------------------------------------------

    async def server_time(self) -> int:
        ms = await self._call("time", None, self.exchange.fetch_time,
                              lambda t: t if parse.finite(t) else _bad("no server time"))
        self.tracker.server_time(int(ms))
        return int(ms)

    def _candle_request(self, page: Page, server_ms: int) -> tuple[str, dict[str, Any]]:
        """Endpoint name and ccxt params for one page of candles."""
        return "candles", {}

    async def fetch_candle_page(self, symbol: str, page: Page, server_ms: int
                          ) -> tuple[np.ndarray, np.ndarray]:
        endpoint, params = self._candle_request(page, server_ms)
        return await self._ohlcv_page(self.exchange.fetch_ohlcv, endpoint, params, symbol, page,
                                      server_ms)

    async def _ohlcv_page(self, fetch: Callable[..., Awaitable[Any]], endpoint: str,
                          params: Mapping[str, Any], symbol: str, page: Page, server_ms: int
                          ) -> tuple[np.ndarray, np.ndarray]:
        """One page of closed bars from ``fetch`` (ccxt's ``fetch_ohlcv``, or
        ``fetch_mark_ohlcv`` for mark prices) under ``endpoint``'s limiter, checked."""
        unified = self._unified(symbol)
        return await self._call(
            endpoint, symbol,
            lambda: fetch(unified, self.timeframe, since=page.since_ms, limit=page.count,
                          params=dict(params)),
            lambda rows: nonempty_tail(parse.candles(rows, self.timeframe_ms, server_ms), page))

    async def fetch_ohlcv(self, symbol: str, since_ms: int | None = None,
                          limit: int | None = None) -> Candles:
        symbol = self.resolve(symbol)
        server = await self.server_time()
        end = server // self.timeframe_ms * self.timeframe_ms
        if since_ms is None:
            since_ms = end - (limit or 100) * self.timeframe_ms
        start = -(-since_ms // self.timeframe_ms) * self.timeframe_ms
        await self.cache.sync(symbol, start, end, server,
                              lambda p: self.fetch_candle_page(symbol, p, server))
        c = self.cache.read(symbol, start, end)
        self._note_age(symbol, c)
        return c if limit is None or len(c) <= limit else last_bars(c, limit)

    async def fetch_funding(self, symbol: str) -> FundingInfo:
        unified = self._unified(symbol)
        return await self._call("funding-rate", symbol,
                                lambda: self.exchange.fetch_funding_rate(unified), parse.funding)

    async def fetch_funding_history(self, symbol: str, since_ms: int | None = None) -> StatSeries:
        """Settled funding rates from ``since_ms`` on, paging forward until the exchange has
        nothing newer (one page is a few hundred rows: about three months at 8 h)."""
        unified = self._unified(symbol)
        got: dict[int, float] = {}
        since = since_ms
        def page(start: int | None) -> Callable[[], Awaitable[Any]]:
            return lambda: self.exchange.fetch_funding_rate_history(unified, start)

        for _ in range(FUNDING_PAGES):
            rows = await self._call("funding-rate-history", symbol, page(since))
            new = {int(t): v for r in rows or []
                   if (v := parse.finite(r.get("fundingRate"))) is not None
                   and (t := parse.finite(r.get("timestamp"))) is not None
                   and (since is None or t >= since) and int(t) not in got}
            if not new:
                break
            got.update(new)
            if since_ms is None:
                break  # no start asked for: the latest page is the answer
            since = max(new) + 1
        pts = sorted(got.items())
        return StatSeries(np.array([p[0] for p in pts], np.int64),
                          np.array([p[1] for p in pts], np.float64))

    async def fetch_open_interest(self, symbol: str) -> float:
        symbol = self.resolve(symbol)
        unified, inst = self._markets[symbol], self.instruments[symbol]
        price = self._last_close(symbol)
        return await self._call("open-interest", symbol,
                                lambda: self.exchange.fetch_open_interest(unified),
                                lambda oi: parse.open_interest_usdt(oi, inst.contract_value,
                                                                    price))

    async def fetch_depth(self, symbol: str) -> DepthSummary:
        symbol = self.resolve(symbol)
        unified, inst = self._markets[symbol], self.instruments[symbol]
        now = self.tracker.server_time_ms or int(time.time() * 1000)
        return await self._call("books", symbol,
                                lambda: self.exchange.fetch_order_book(unified, self.book_levels),
                                lambda b: parse.depth(b, inst.contract_value, now))

    async def fetch_tiers(self, symbol: str, client: Any = None) -> tuple[Tier, ...]:
        """Maintenance-margin tiers, fetched once per instance and kept on the Instrument.
        ``client``: a keyed ccxt client, where the exchange signs its tiers (Binance)."""
        symbol = self.resolve(symbol)
        inst = self.instruments[symbol]
        if inst.tiers:
            return inst.tiers
        unified = self._markets[symbol]
        ex = client or self.exchange
        tiers = await self._call("position-tiers", symbol,
                                 lambda: ex.fetch_market_leverage_tiers(unified),
                                 lambda rows: parse.tiers(rows, self.tier_unit))
        self.resolver.instruments[symbol] = replace(inst, tiers=tiers)
        return tiers

    async def fetch_positions(self) -> AccountPositions:
        if not self.keys:
            raise positions_need_keys(self.name)
        if self.key_rejected is not None:
            raise KeyRejected(gettext("{exchange} rejected the API key ({error})").format(
                exchange=self.name, error=self.key_rejected))
        await self.load_instruments()
        can_trade = await self._key_can_trade()
        rows = await self._call("positions", None, self.exchange.fetch_positions)
        balance = await self._call("balance", None, self.exchange.fetch_balance)
        return account_positions(rows, can_trade=can_trade, markets=self._markets,
                                 markets_by_id=self.exchange.markets_by_id,
                                 instruments=self.instruments,
                                 equity=usdt_equity(balance))

    async def _key_can_trade(self) -> bool:
        """Whether the key may trade; unknown counts as yes, so the user is warned."""
        return True

    def _last_close(self, symbol: str) -> float | None:
        last = last_candle_ts(self.db, self.name, symbol, self.timeframe)
        if last is None:
            return None
        c = self.cache.read(symbol, last, last + 1)
        return float(c.close[-1]) if len(c) else None

    def _note_age(self, symbol: str, c: Candles) -> None:
        if len(c):  # the data age the health report shows
            self.tracker.bar_closed(symbol, int(c.times[-1]) + self.timeframe_ms)

    def health(self) -> SourceHealth:
        return self.tracker.report()


FUNDING_PAGES = 20  # at most ~5 years of 8-hourly rates in one call


@functools.cache
def offered_timeframes(ccxt_class: type) -> tuple[str, ...]:
    """The candle sizes a ccxt exchange class declares (read once, no network)."""
    return tuple(tf for tf in ccxt_class().timeframes if not tf.endswith("M"))


def _bad(msg: str) -> Any:
    raise BadPayload(msg)
