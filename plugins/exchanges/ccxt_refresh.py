"""One cycle's work per symbol for ``CcxtMarket``, the one-minute watch's lighter round, and
reading the stored statistics back.

Each cycle brings a symbol's candles (into the candle cache) and its funding, open interest,
book depth, liquidations and taker flow (as ``storage.market_stats`` rows) up to date; the
snapshot then reads them back from storage as series, so history builds up across cycles
and a replay of the stored rows gives the live scores. A cycle stamps its samples with the
close of the bar it evaluates, the watch with the exchange's clock (``stamp``): the
reading at a moment uses exactly the samples stamped at or before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from core.types import DEPTH_BANDS, DepthSeries, StatSeries
from plugins.exchanges.candle_sync import CandleSync, Page
from plugins.exchanges.ccxt_flow import Liquidations
from plugins.exchanges.retry import describe
from plugins.exchanges.source import DepthSummary, FundingInfo
from storage import market_stats as stats

DAY_MS = 86_400_000
MARK_BARS = 8  # mark-price bars kept current: the basis needs only the latest
OI_BACKFILL_MS = 100 * 300_000  # one page of 5-minute open-interest history (8 h 20 min)


class RefreshedMarket(Protocol):
    """What ``refresh_symbol`` needs of a market (``CcxtMarket`` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def cache(self) -> CandleSync: ...
    @property
    def mark_cache(self) -> CandleSync: ...
    @property
    def oi_needs_price(self) -> bool: ...
    @property
    def flow(self) -> frozenset[str]: ...
    @property
    def timeframe_ms(self) -> int: ...
    @property
    def db(self) -> Any: ...

    async def fetch_candle_page(self, symbol: str, page: Page, server_ms: int) -> Any: ...
    async def fetch_mark_page(self, symbol: str, page: Page, server_ms: int) -> Any: ...
    async def fetch_funding(self, symbol: str) -> FundingInfo: ...
    async def fetch_open_interest(self, symbol: str) -> float: ...
    async def fetch_open_interest_history(self, symbol: str, since_ms: int,
                                          until_ms: int) -> StatSeries: ...
    async def fetch_depth(self, symbol: str) -> DepthSummary: ...
    async def fetch_liquidation_window(self, symbol: str, until_ms: int,
                                       window_ms: int) -> Liquidations: ...
    async def fetch_taker(self, symbol: str, until_ms: int) -> float | None: ...


def _depth_row(market: RefreshedMarket, symbol: str, stamp: int, d: DepthSummary
               ) -> stats.StatRow:
    return stats.StatRow(market.name, symbol, stats.DEPTH, stamp, sum(d.bid) + sum(d.ask),
                         {"mid": d.mid, "bid": list(d.bid), "ask": list(d.ask)})


def _flow_jobs(market: RefreshedMarket, symbol: str, stamp: int, rows: list[stats.StatRow],
               taker: bool) -> list[Callable[[], Awaitable[None]]]:
    """Depth, liquidations and taker flow: what both the cycle and the watch sample."""
    async def depth() -> None:
        rows.append(_depth_row(market, symbol, stamp, await market.fetch_depth(symbol)))

    async def liquidations() -> None:
        liq = await market.fetch_liquidation_window(symbol, stamp, market.timeframe_ms)
        rows.append(stats.StatRow(market.name, symbol, stats.LIQUIDATIONS, stamp, liq.total, {
            "long": liq.long_usdt, "short": liq.short_usdt, "orders": liq.orders}))

    async def taker_flow() -> None:
        share = await market.fetch_taker(symbol, stamp)
        if share is not None:
            rows.append(stats.StatRow(market.name, symbol, stats.TAKER, stamp, share))

    jobs: list[Callable[[], Awaitable[None]]] = [depth]
    if "liquidations" in market.flow:
        jobs.append(liquidations)
    if taker and "taker" in market.flow:
        jobs.append(taker_flow)
    return jobs


async def _run(jobs: list[Callable[[], Awaitable[None]]]) -> list[Any]:
    """Run every job; failures come back as values, only cancellation is raised."""
    results = await asyncio.gather(*(j() for j in jobs), return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, Exception):
            raise r
    return results


async def refresh_symbol(market: RefreshedMarket, symbol: str, start: int, end: int,
                         server: int, missing: dict[str, str],
                         rows: list[stats.StatRow], *, stamp: int | None = None,
                         taker: bool = True) -> None:
    """Bring one symbol's candles and statistics up to date; failures are recorded,
    never raised: candles failing marks the symbol missing, the rest only count errors."""
    stamp = end if stamp is None else stamp

    async def candles() -> None:
        await market.cache.sync(symbol, start, end, server,
                                lambda p: market.fetch_candle_page(symbol, p, server))

    async def funding() -> None:
        f = await market.fetch_funding(symbol)
        rows.append(stats.StatRow(market.name, symbol, stats.FUNDING, stamp, f.rate, {
            "time_ms": f.time_ms, "next_rate": f.next_rate, "next_time_ms": f.next_time_ms,
            "interval_hours": f.interval_hours}))

    async def open_interest() -> None:
        if market.oi_needs_price:  # OI comes in coins: value it at the fresh close
            await asyncio.wait([candle_task])
        if "oi_history" in market.flow:
            await _backfill_open_interest(market, symbol, stamp, rows)
        oi = await market.fetch_open_interest(symbol)
        rows.append(stats.StatRow(market.name, symbol, stats.OPEN_INTEREST, stamp, oi))

    async def mark() -> None:
        lo = max(start, end - MARK_BARS * market.timeframe_ms)
        await market.mark_cache.sync(symbol, lo, end, server,
                                     lambda p: market.fetch_mark_page(symbol, p, server))

    candle_task = asyncio.ensure_future(candles())
    jobs: list[Callable[[], Awaitable[None]]] = [funding, open_interest]
    jobs += _flow_jobs(market, symbol, stamp, rows, taker)
    if "mark" in market.flow:
        jobs.append(mark)
    results = await asyncio.gather(candle_task, *(j() for j in jobs), return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, Exception):
            raise r
    if isinstance(results[0], Exception):
        missing[symbol] = describe(results[0])


async def refresh_watch(market: RefreshedMarket, symbol: str, start: int, end: int,
                        server: int, stamp: int, rows: list[stats.StatRow]) -> None:
    """The one-minute watch's round: depth, liquidations, taker flow and open interest,
    stamped with the exchange's clock; candles only when a bar has closed since."""
    async def candles() -> None:
        await market.cache.sync(symbol, start, end, server,
                                lambda p: market.fetch_candle_page(symbol, p, server))

    async def open_interest() -> None:
        oi = await market.fetch_open_interest(symbol)
        rows.append(stats.StatRow(market.name, symbol, stats.OPEN_INTEREST, stamp, oi))

    await _run([candles, open_interest, *_flow_jobs(market, symbol, stamp, rows, True)])


async def _backfill_open_interest(market: RefreshedMarket, symbol: str, stamp: int,
                                  rows: list[stats.StatRow]) -> None:
    """On a first start (or after a long stop) too few open-interest samples cover the last
    day for its drop: one page of the exchange's 5-minute history fills the recent past
    (only periods complete before ``stamp``, so nothing a live reading saw changes)."""
    have, _ = stats.read_series(market.db, market.name, symbol, stats.OPEN_INTEREST,
                                since_ms=stamp - DAY_MS, until_ms=stamp)
    if have.size >= 3:
        return
    hist = await market.fetch_open_interest_history(symbol, stamp - OI_BACKFILL_MS,
                                                    stamp - 300_000)
    first = int(have[0]) if have.size else stamp
    rows += [stats.StatRow(market.name, symbol, stats.OPEN_INTEREST, int(t), float(v),
                           {"history": True})
             for t, v in zip(hist.times, hist.values, strict=True) if int(t) < first]


def stat_series(db: Any, source: str, symbol: str, kind: str, since: int,
                until: int) -> StatSeries:
    """A stored statistic (``stats.FUNDING``, ``stats.OPEN_INTEREST``, ...) of one symbol."""
    t, v = stats.read_series(db, source, symbol, kind, since_ms=since, until_ms=until)
    return StatSeries(t, v)


def depth_series(db: Any, source: str, symbol: str, since: int, until: int) -> DepthSeries:
    """Stored book depth of one symbol, per ``DEPTH_BANDS`` band on each side."""
    t, b, a = stats.read_depth(db, source, symbol, len(DEPTH_BANDS),
                               since_ms=since, until_ms=until)
    return DepthSeries(t, b, a)
