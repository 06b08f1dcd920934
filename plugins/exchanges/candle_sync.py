"""Keeping the candle cache current: what to ask the exchange for, page by page.

Given the bars a snapshot needs and what SQLite already holds, ``plan_pages`` lists the
requests: on the first start the whole window (newest page first, so an interrupted backfill
still has the recent bars), later only the bars since the last stored one, plus any gap. A gap
the exchange cannot fill (a real outage) is asked for a few times, then left alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np
from sqlite_utils import Database

from plugins.exchanges.retry import BadPayload
from plugins.exchanges.source import Candles
from storage.candles import missing_ranges, read_candles, write_candles

PAGE = 300  # OKX's candles limit
GAP_ATTEMPTS = 3


@dataclass(frozen=True)
class Page:
    since_ms: int  # first bar open time
    count: int  # bars asked for
    tail: bool  # holds the newest closed bar: an empty answer here means no data


def plan_pages(stored: np.ndarray, start_ms: int, end_ms: int, step_ms: int,
               skip: set[int] | None = None, page: int = PAGE) -> list[Page]:
    """Requests covering the bars of ``[start_ms, end_ms)`` not in ``stored``, newest first."""
    newest = end_ms - step_ms
    pages: list[Page] = []
    for first, last in missing_ranges(stored, start_ms, end_ms, step_ms):
        if skip and last != newest:
            run = np.arange(first, last + 1, step_ms)
            if np.isin(run, list(skip)).all():
                continue  # an old gap the exchange did not fill: do not ask forever
        hi = last
        while hi >= first:
            lo = max(first, hi - (page - 1) * step_ms)
            pages.append(Page(int(lo), int((hi - lo) // step_ms + 1), hi == newest))
            hi = lo - step_ms
    pages.sort(key=lambda p: -p.since_ms)
    return pages


@dataclass
class CandleSync:
    """The cache of one (exchange, timeframe): ``sync`` brings a symbol up to date."""

    db: Database
    exchange: str
    timeframe: str
    step_ms: int
    attempts: dict[str, dict[int, int]] = field(default_factory=dict)
    page: int = PAGE  # bars per request

    async def sync(self, symbol: str, start_ms: int, end_ms: int, server_ms: int,
                   fetch: Callable[[Page], Awaitable[tuple[np.ndarray, np.ndarray]]]) -> int:
        """Fetch and store the bars of ``[start_ms, end_ms)`` the cache lacks; returns how many
        requests were made. ``fetch`` returns closed, validated bars (times, ohlcv)."""
        stored, _ = read_candles(self.db, self.exchange, symbol, self.timeframe,
                                 since_ms=start_ms, until_ms=end_ms)
        tried = self.attempts.setdefault(symbol, {})
        skip = {t for t, n in tried.items() if n >= GAP_ATTEMPTS}
        pages = plan_pages(stored, start_ms, end_ms, self.step_ms, skip, self.page)
        for p in pages:
            times, ohlcv = await fetch(p)
            write_candles(self.db, self.exchange, symbol, self.timeframe, times, ohlcv)
            asked = np.arange(p.since_ms, p.since_ms + p.count * self.step_ms, self.step_ms)
            absent = asked[~np.isin(asked, times)]
            for t in absent:
                tried[int(t)] = tried.get(int(t), 0) + 1
            if p.tail and not times.size:
                raise BadPayload("no candles returned for the latest bars")
        return len(pages)

    def read(self, symbol: str, start_ms: int, end_ms: int) -> Candles:
        times, a = read_candles(self.db, self.exchange, symbol, self.timeframe,
                                since_ms=start_ms, until_ms=end_ms)
        return Candles(times, a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4])
