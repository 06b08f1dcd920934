"""The cascade score's flow inputs from an exchange's public endpoints: liquidation orders,
taker buy/sell volume, open-interest history and mark-price candles (for the basis).

``FlowEndpoints`` is the part of ``CcxtMarket`` that asks for them (an exchange's class
names in ``flow`` which it has, and overrides what differs: ``OkxMarket``); the functions
below it read the answers. ccxt has open-interest history and mark-price candles as unified
calls; OKX's liquidation orders (``GET /api/v5/public/liquidation-orders``) are not in its
API list, so they go through ccxt's generic ``request`` (its HTTP session, URL and error
mapping); taker volume is ccxt's implicit ``publicGetRubikStatTakerVolumeContract``. Each
answer is validated here: clean numbers or ``BadPayload`` — except that "nothing happened"
(no liquidation orders, no open-interest rows) is an answer, not an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

import numpy as np

from core.types import StatSeries
from plugins.exchanges.candle_sync import CandleSync, Page
from plugins.exchanges.ccxt_parse import finite
from plugins.exchanges.errors import NotSupported
from plugins.exchanges.retry import BadPayload
from plugins.exchanges.source import Candles

TAKER_PERIOD_MS = 300_000  # OKX's finest taker-volume period (5m)
LIQUIDATION_PAGES = 5  # 100 orders a page: up to 500 in one window before we stop paging

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Liquidations:
    """USDT liquidated in a window: long positions (sold into the market) and short."""

    long_usdt: float
    short_usdt: float
    orders: int
    oldest_ms: int | None  # the oldest order seen on the last page (for paging)

    @property
    def total(self) -> float:
        return self.long_usdt + self.short_usdt


class FlowHost(Protocol):
    """What ``FlowEndpoints`` uses of the market it is part of (``CcxtMarket`` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def exchange(self) -> Any: ...
    @property
    def timeframe_ms(self) -> int: ...
    @property
    def flow(self) -> frozenset[str]: ...
    @property
    def mark_cache(self) -> CandleSync: ...

    def _unified(self, symbol: str) -> str: ...
    def _mark_request(self, page: Page, server_ms: int) -> tuple[str, dict[str, Any]]: ...
    async def _ohlcv_page(self, fetch: Callable[..., Awaitable[Any]], endpoint: str,
                          params: Mapping[str, Any], symbol: str, page: Page, server_ms: int
                          ) -> tuple[np.ndarray, np.ndarray]: ...
    async def _call(self, endpoint: str, symbol: str | None, fn: Callable[[], Awaitable[T]],
                    validate: Callable[[T], R]) -> R: ...


class FlowEndpoints:
    """The flow requests of a ccxt market, each through its limiter, retries and check."""

    flow: ClassVar[frozenset[str]] = frozenset()  # liquidations, taker, oi_history, mark
    taker_symbols: ClassVar[int] = 8  # taker flow for this many symbols a cycle (slow endpoint)
    mark_page: ClassVar[int] = 100  # mark-price candles per request

    async def fetch_open_interest_history(self: FlowHost, symbol: str, since_ms: int,
                                          until_ms: int) -> StatSeries:
        """5-minute open interest (USDT) from ``since_ms`` to ``until_ms`` (one page)."""
        unified = self._unified(symbol)
        return await self._call(
            "open-interest-history", symbol,
            lambda: self.exchange.fetch_open_interest_history(unified, "5m", since_ms, 100),
            lambda rows: open_interest_history(rows, until_ms))

    def _mark_request(self, page: Page, server_ms: int) -> tuple[str, dict[str, Any]]:
        return "mark-price-candles", {}

    async def fetch_mark_page(self: FlowHost, symbol: str, page: Page, server_ms: int
                              ) -> tuple[np.ndarray, np.ndarray]:
        """One page of mark-price candles (closed bars only), for the basis."""
        endpoint, params = self._mark_request(page, server_ms)
        return await self._ohlcv_page(self.exchange.fetch_mark_ohlcv, endpoint, params, symbol,
                                      page, server_ms)

    async def fetch_liquidation_window(self: FlowHost, symbol: str, until_ms: int,
                                       window_ms: int) -> Liquidations:
        """USDT liquidated in ``(until − window, until]`` (exchanges in ``flow`` only)."""
        raise NotSupported(f"{self.name}: no public liquidation feed over REST")

    async def fetch_taker(self: FlowHost, symbol: str, until_ms: int) -> float | None:
        """Share of taker volume that sold in the bar before ``until_ms``."""
        raise NotSupported(f"{self.name}: no taker-volume statistics")

    def stored_mark(self: FlowHost, per_symbol: Mapping[str, Candles], start: int, end: int
                    ) -> StoredMark:
        """What the stored mark-price bars of ``[start, end)`` say of each symbol (none
        unless ``flow`` has mark prices): its basis, and each bar's low and high, which the
        exchange liquidates on."""
        out = StoredMark({}, {}, {})
        if "mark" in self.flow:
            for s, c in per_symbol.items():
                m = self.mark_cache.read(s, start, end)
                out.basis[s] = basis_series(c.times, c.close, m.times, m.close,
                                            self.timeframe_ms)
                closes = (m.times + self.timeframe_ms).astype(np.int64)
                ok = np.isfinite(m.low) & np.isfinite(m.high)
                out.low[s] = StatSeries(closes[ok], m.low[ok].astype(np.float64))
                out.high[s] = StatSeries(closes[ok], m.high[ok].astype(np.float64))
        return out


@dataclass(frozen=True)
class StoredMark:
    """Per symbol, from the stored mark-price bars: the basis (last / mark − 1) and each
    bar's low and high, all stamped at the bar's close."""

    basis: dict[str, StatSeries]
    low: dict[str, StatSeries]
    high: dict[str, StatSeries]


def liquidation_orders(resp: Any, contract_value: float, since_ms: int, until_ms: int
                       ) -> Liquidations:
    """Sum of the filled liquidation orders of one OKX answer with ``since < ts ≤ until``.

    Sizes are in contracts; notional is size × contract value × bankruptcy price. A
    position side of "long" (or a sell) is a long being liquidated.
    """
    if not isinstance(resp, Mapping) or not isinstance(resp.get("data"), list):
        raise BadPayload("liquidation orders: no data list")
    long_usdt = short_usdt = 0.0
    n = 0
    oldest: int | None = None
    for item in resp["data"]:
        details = item.get("details") if isinstance(item, Mapping) else None
        if not isinstance(details, list):
            raise BadPayload("liquidation orders: an entry without details")
        for d in details:
            if not isinstance(d, Mapping):
                raise BadPayload("liquidation orders: a detail is not an object")
            ts, sz, px = finite(d.get("ts")), finite(d.get("sz")), finite(d.get("bkPx"))
            if ts is None or sz is None or px is None or sz < 0 or px <= 0:
                raise BadPayload("liquidation orders: a detail without ts, sz or bkPx")
            oldest = int(ts) if oldest is None else min(oldest, int(ts))
            if not since_ms < ts <= until_ms:
                continue
            usdt = sz * contract_value * px
            if d.get("posSide") == "long" or (d.get("posSide") in (None, "", "net")
                                               and d.get("side") == "sell"):
                long_usdt += usdt
            else:
                short_usdt += usdt
            n += 1
    return Liquidations(long_usdt, short_usdt, n, oldest)


def taker_share(resp: Any, until_ms: int, periods: int) -> tuple[float, float, float] | None:
    """(sell, buy, sell share) over the last ``periods`` complete 5-minute buckets ending at
    or before ``until_ms`` (OKX rows are ``[ts, sellVol, buyVol]``, newest first, the newest
    still filling); None when the answer has none."""
    if not isinstance(resp, Mapping) or not isinstance(resp.get("data"), list):
        raise BadPayload("taker volume: no data list")
    rows = []
    for r in resp["data"]:
        if not isinstance(r, Sequence) or len(r) < 3:
            raise BadPayload("taker volume: a row is not [ts, sell, buy]")
        ts, sell, buy = (finite(x) for x in r[:3])
        if ts is None or sell is None or buy is None or sell < 0 or buy < 0:
            raise BadPayload("taker volume: a row with missing numbers")
        if ts + TAKER_PERIOD_MS <= until_ms:
            rows.append((ts, sell, buy))
    rows = sorted(rows)[-periods:]
    sell = sum(r[1] for r in rows)
    buy = sum(r[2] for r in rows)
    if not rows or sell + buy <= 0:
        return None
    return sell, buy, sell / (sell + buy)


def open_interest_history(rows: Any, until_ms: int) -> StatSeries:
    """USDT open interest at each of ccxt's open-interest-history rows up to ``until_ms``."""
    if rows is None:
        return StatSeries.empty()
    if not isinstance(rows, Sequence):
        raise BadPayload("open-interest history: not a list")
    got: dict[int, float] = {}
    for r in rows:
        if not isinstance(r, Mapping):
            raise BadPayload("open-interest history: a row is not an object")
        ts, value = finite(r.get("timestamp")), finite(r.get("openInterestValue"))
        if ts is None or value is None or value < 0:
            raise BadPayload("open-interest history: a row without time or value")
        if ts <= until_ms:
            got[int(ts)] = value
    t = sorted(got)
    return StatSeries(np.array(t, np.int64), np.array([got[k] for k in t], np.float64))


def basis_series(trade_times: np.ndarray, trade_close: np.ndarray, mark_times: np.ndarray,
                 mark_close: np.ndarray, timeframe_ms: int) -> StatSeries:
    """``close / mark − 1`` at every bar both candles have, stamped at the bar's close."""
    both, ti, mi = np.intersect1d(trade_times, mark_times, return_indices=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = trade_close[ti] / mark_close[mi] - 1.0
    ok = np.isfinite(b)
    return StatSeries((both[ok] + timeframe_ms).astype(np.int64), b[ok].astype(np.float64))
