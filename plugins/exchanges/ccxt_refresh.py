"""One cycle's work per symbol for ``CcxtMarket``, and reading the stored statistics back.

Each cycle brings a symbol's candles (into the candle cache) and its funding, open interest
and book depth (as ``storage.market_stats`` rows) up to date; the snapshot then reads the
statistics back from storage as series, so history builds up across cycles.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from core.types import DEPTH_BANDS, DepthSeries, StatSeries
from plugins.exchanges.candle_sync import CandleSync, Page
from plugins.exchanges.retry import describe
from plugins.exchanges.source import DepthSummary, FundingInfo
from storage import market_stats as stats


class RefreshedMarket(Protocol):
    """What ``refresh_symbol`` needs of a market (``CcxtMarket`` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def cache(self) -> CandleSync: ...
    @property
    def oi_needs_price(self) -> bool: ...

    async def fetch_candle_page(self, symbol: str, page: Page, server_ms: int) -> Any: ...
    async def fetch_funding(self, symbol: str) -> FundingInfo: ...
    async def fetch_open_interest(self, symbol: str) -> float: ...
    async def fetch_depth(self, symbol: str) -> DepthSummary: ...


async def refresh_symbol(market: RefreshedMarket, symbol: str, start: int, end: int,
                         server: int, missing: dict[str, str],
                         rows: list[stats.StatRow]) -> None:
    """Bring one symbol's candles and statistics up to date; failures are recorded,
    never raised: candles failing marks the symbol missing, the rest only count errors."""
    async def candles() -> None:
        await market.cache.sync(symbol, start, end, server,
                                lambda p: market.fetch_candle_page(symbol, p, server))

    async def funding() -> None:
        f = await market.fetch_funding(symbol)
        rows.append(stats.StatRow(market.name, symbol, stats.FUNDING, server, f.rate, {
            "time_ms": f.time_ms, "next_rate": f.next_rate, "next_time_ms": f.next_time_ms,
            "interval_hours": f.interval_hours}))

    async def open_interest() -> None:
        if market.oi_needs_price:  # OI comes in coins: value it at the fresh close
            await asyncio.wait([candle_task])
        oi = await market.fetch_open_interest(symbol)
        rows.append(stats.StatRow(market.name, symbol, stats.OPEN_INTEREST, server, oi))

    async def depth() -> None:
        d = await market.fetch_depth(symbol)
        rows.append(stats.StatRow(market.name, symbol, stats.DEPTH, server,
                                  sum(d.bid) + sum(d.ask),
                                  {"mid": d.mid, "bid": list(d.bid), "ask": list(d.ask)}))

    candle_task = asyncio.ensure_future(candles())
    results = await asyncio.gather(candle_task, funding(), open_interest(), depth(),
                                   return_exceptions=True)
    if isinstance(results[0], BaseException):
        if not isinstance(results[0], Exception):
            raise results[0]
        missing[symbol] = describe(results[0])
    for r in results[1:]:
        if isinstance(r, BaseException) and not isinstance(r, Exception):
            raise r


def stat_series(db: Any, source: str, symbol: str, kind: str, since: int,
                until: int) -> StatSeries:
    """A stored statistic (``stats.FUNDING``, ``stats.OPEN_INTEREST``) of one symbol."""
    t, v = stats.read_series(db, source, symbol, kind, since_ms=since, until_ms=until)
    return StatSeries(t, v)


def depth_series(db: Any, source: str, symbol: str, since: int, until: int) -> DepthSeries:
    """Stored book depth of one symbol, per ``DEPTH_BANDS`` band on each side."""
    t, b, a = stats.read_depth(db, source, symbol, len(DEPTH_BANDS),
                               since_ms=since, until_ms=until)
    return DepthSeries(t, b, a)
